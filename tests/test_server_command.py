"""`her2kg serve` as a command: start, answer, stop; usage and configuration errors."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from her2kg.cli import main


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_starts_answers_and_stops(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "server.toml"
    config.write_text("[sparql]\nworkers = 1\ntimeout_seconds = 5\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "her2kg", "serve", "--port", str(port), "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "her2kg serve did not become ready"
            time.sleep(0.2)
        response = httpx.get(
            f"http://127.0.0.1:{port}/sparql",
            params={"query": "ASK { <https://w3id.org/her2kg/ontology> ?p ?o }"},
        )
        assert response.json()["boolean"] is True
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert f"127.0.0.1:{port}/sparql" in stderr
    assert "ASK" not in stderr, "query text must not be logged"


def test_bad_configuration_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "server.toml"
    config.write_text("[sparql]\ntimeout = 3\n")
    assert main(["serve", "--config", str(config)]) == 2
    assert "unknown key `timeout`" in capsys.readouterr().err
    assert main(["serve", "--config", str(tmp_path / "missing.toml")]) == 2
    assert main(["serve", "--patients", str(tmp_path / "no-such-folder")]) == 2


def test_missing_server_extra_says_what_to_install(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["serve"]) == 2
    assert "pip install 'her2kg[server]'" in capsys.readouterr().err


def test_importing_the_package_needs_no_server_extra() -> None:
    code = (
        "import sys, her2kg.server, her2kg.server.config, her2kg.server.sparql_guard;"
        "bad = [m for m in ('starlette', 'uvicorn', 'jwt', 'httpx') if m in sys.modules];"
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], env={**os.environ}).returncode == 0
