"""Untrusted inputs on the command line: regular files only, strict JSON, no secrets in messages."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.pipeline import recommend_files
from her2kg.safe_io import JsonInputError, NotARegularFile, read_regular_file, strict_json_loads

FHIR_LVEF = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [{"resource": {"resourceType": "Patient", "id": "dup"}}],
}


def _finishes_quickly(call: Callable[[], object], seconds: float = 10.0) -> object:
    """Run `call` in a thread; fail (rather than hang the suite) if it does not return in time."""
    result: list[object] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            failure.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: a FIFO or device input blocks"
    assert time.monotonic() - started < seconds
    if failure:
        raise failure[0]
    return result[0] if result else None


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "input.json"
    os.mkfifo(path)
    return path


def test_special_files_are_refused_at_once(fifo: Path) -> None:
    with pytest.raises(NotARegularFile, match="FIFO"):
        _finishes_quickly(lambda: read_regular_file(fifo))
    with pytest.raises(NotARegularFile, match="device"):
        read_regular_file("/dev/zero")
    with pytest.raises(NotARegularFile, match="folder"):
        read_regular_file(fifo.parent)


def test_files_over_the_cap_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.ttl"
    path.write_bytes(b"x" * 2000)
    with pytest.raises(NotARegularFile, match="larger than the limit"):
        read_regular_file(path, max_bytes=1000)
    assert read_regular_file(path, max_bytes=2000) == b"x" * 2000


def test_import_fhir_refuses_fifo_and_dev_zero(fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _finishes_quickly(lambda: main(["import-fhir", str(fifo)])) == 2
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    assert _finishes_quickly(lambda: main(["import-fhir", str(zero)])) == 2
    err = capsys.readouterr().err
    assert "FIFO" in err and "device" in err


def test_recommend_and_query_refuse_fifo_patients(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pipe = tmp_path / "patient.ttl"
    os.mkfifo(pipe)
    reports = _finishes_quickly(lambda: recommend_files([str(pipe)], as_of=date(2026, 11, 1)))
    assert isinstance(reports, list) and reports[0].errors[0].code == "unreadable-input"
    assert "FIFO" in reports[0].errors[0].message
    status = _finishes_quickly(lambda: main(["query", "ASK { ?s ?p ?o }", "--patients", str(pipe), "--as-of", "2026-11-01"]))
    assert status in (0, 1)


def test_duplicate_json_keys_are_an_error_in_bundles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = json.dumps(FHIR_LVEF)[:-1] + ', "type": "searchset"}'
    path = tmp_path / "dup.json"
    path.write_text(text, encoding="utf-8")
    assert main(["import-fhir", str(path)]) == 2
    assert "twice" in capsys.readouterr().err
    reports = recommend_files([str(path)], as_of=date(2026, 11, 1))
    assert reports[0].errors and "twice" in reports[0].errors[0].message


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('{"a": 1, "a": 2}', "twice"),
        ('{"a": {"b": 60, "b": 20}}', "twice"),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ("[" * 250 + "]" * 250, "nested"),
        ("1" * 10_000, "out of range"),
        ("1e400", "out of range"),
        ("NaN", "not JSON"),
        ('{"a": 1', "not valid JSON"),
    ],
)
def test_strict_json(text: str, what: str) -> None:
    with pytest.raises(JsonInputError, match=what):
        strict_json_loads(text)


def test_strict_json_near_misses() -> None:
    assert strict_json_loads('{"a": {"a": 1}}') == {"a": {"a": 1}}
    assert strict_json_loads("[" * 150 + "]" * 150) is not None
    assert strict_json_loads(b"\xef\xbb\xbf{\"x\": 1.5e10}") == {"x": 1.5e10}


def test_a_password_in_a_store_url_is_never_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    from her2kg.stores.remote import RemoteSparqlStore, RemoteStoreError, redact_url

    assert redact_url("http://alice:s3cret@127.0.0.1:9/sparql?x=1") == "http://***@127.0.0.1:9/sparql?x=1"
    assert redact_url("http://127.0.0.1:9/sparql") == "http://127.0.0.1:9/sparql"
    store = RemoteSparqlStore("http://alice:s3cret@127.0.0.1:9/sparql", graph="urn:g", retries=0, timeout=2)
    with pytest.raises(RemoteStoreError) as caught:
        store.ask("ASK {}")
    assert "s3cret" not in str(caught.value) and "s3cret" not in caught.value.url
    assert "s3cret" not in repr(store)
    status = main(["recommend", "--store", "http://alice:s3cret@127.0.0.1:9/sparql", "examples/metastatic-first-line.ttl"])
    assert status != 0
    captured = capsys.readouterr()
    assert "s3cret" not in captured.err + captured.out
