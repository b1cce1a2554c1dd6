"""Hardening of `her2kg serve`: bounded work, timeouts, strict JSON, logs without forgery, safe defaults."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
from canary import canary_server
from outcome import outcome_error
from server_harness import RunningServer, _wait_until_ready

from her2kg.resources import examples_dir
from her2kg.server.config import (
    CdsHooksSettings,
    ConfigError,
    Issuer,
    RecommendSettings,
    ServerConfig,
    SparqlSettings,
    config_from_mapping,
    load_config,
)
from her2kg.server.dataset import knowledge_only

pytestmark = pytest.mark.slow  # multi-process server limits: worker time-outs, memory caps, queues

AS_OF = "2026-11-01"


@contextmanager
def serving(config: ServerConfig) -> Iterator[RunningServer]:
    """Run the app with the same uvicorn settings as `her2kg serve` (head timeout, limits)."""
    import uvicorn

    from her2kg.server.app import create_app
    from her2kg.server.http_protocol import uvicorn_config

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(config, served=knowledge_only())
    server = uvicorn.Server(uvicorn_config(app, config.model_copy(update={"port": port}), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    _wait_until_ready(f"http://127.0.0.1:{port}/healthz", deadline)
    try:
        yield RunningServer(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[tuple[str, list[str]]]:
    with canary_server() as running:
        yield running.url, running.hits


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    config = ServerConfig(
        as_of=date(2026, 11, 1),
        sparql=SparqlSettings(workers=1, max_memory_bytes=200_000_000, max_response_bytes=100_000),
        recommend=RecommendSettings(concurrency=1, timeout_seconds=3.0, max_queue=0, max_body_bytes=20_000_000),  # room for a slow body
        header_timeout_seconds=1.0,  # short enough for the slow-client tests, long enough to read a large body on a busy machine
        body_timeout_seconds=2.0,
    )
    with serving(config) as running:
        yield running


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60.0) as http:
        yield http


def _turtle() -> str:
    return (examples_dir() / "metastatic-first-line.ttl").read_text(encoding="utf-8")


# Enough patients to outlast the 3-second limit several times over on a fast idle machine (about
# 9 s of work, an 18 MB body under the 20 MB limit): the limit must stop the work, not the end of it.
SLOW_BODY_PATIENTS = 10_000


def _many_patients(count: int) -> str:
    text = _turtle()
    return "\n".join(text.replace("example-met-1l", f"p{i}") for i in range(count))


# -- SPARQL -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "template",
    [
        "SELECT * WHERE { SERVICESILENT<{url}> { ?s ?p ?o } }",
        "PREFIX ex: <{url}> SELECT * WHERE { SERVICEex:x { ?s ?p ?o } }",
        "PREFIX : <{url}> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
        "SELECT * FROMNAMED<{url}> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT * WHERE { ?s ?p ?o } this does not parse",
    ],
)
def test_sparql_endpoint_refuses_by_parse(
    server: RunningServer, client: httpx.Client, canary: tuple[str, list[str]], template: str
) -> None:
    url, hits = canary
    before = len(hits)
    text = template.replace("{url}", url)
    for response in (
        client.post(server.url("/sparql"), data={"query": text}),
        client.post(server.url("/sparql"), content=text, headers={"Content-Type": "application/sparql-query"}),
    ):
        assert response.status_code == 400, response.text
    assert len(hits) == before


def test_sparql_response_is_capped_in_bytes(server: RunningServer, client: httpx.Client) -> None:
    doubling = " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(14))
    query = f'SELECT ?v14 WHERE {{ VALUES ?n {{ 1 2 3 4 5 6 7 8 9 10 }} BIND("x" AS ?v0) {doubling} }}'
    response = client.post(server.url("/sparql"), data={"query": query})
    assert response.status_code == 200
    assert len(response.content) <= 100_000
    assert response.headers["X-Her2kg-Truncated"] == "true"
    assert response.headers["X-Her2kg-Max-Bytes"] == "100000"


@pytest.mark.slow
def test_sparql_memory_is_capped_and_the_crash_logged(
    server: RunningServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    values = " ".join(str(i) for i in range(400))
    query = (
        f"SELECT ?x WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ {values} }} "
        "BIND(CONCAT(STR(?a), STR(?b), STR(?c)) AS ?x) } ORDER BY ?x LIMIT 1"
    )
    with caplog.at_level(logging.INFO, logger="her2kg.server"):
        started = time.monotonic()
        response = client.post(server.url("/sparql"), data={"query": query})
    assert response.status_code == 503, response.text
    assert "max_memory_bytes" in response.text
    assert time.monotonic() - started < 9, "stopped by the memory limit, not by the time limit"
    assert any("stopped during a request" in r.getMessage() for r in caplog.records)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the worker is replaced
        answer = client.post(server.url("/sparql"), data={"query": "ASK {}"})
        if answer.status_code == 200:
            break
        time.sleep(0.2)
    assert answer.status_code == 200


# -- /recommend --------------------------------------------------------------------------------


def test_recommend_gives_one_report_per_patient(server: RunningServer, client: httpx.Client) -> None:
    two = _turtle() + "\n" + _turtle().replace("example-met-1l", "second-patient")
    response = client.post(
        server.url("/recommend"), params={"as_of": AS_OF}, content=two, headers={"Content-Type": "text/turtle"}
    )
    assert response.status_code == 200, response.text
    assert sorted(r["patient"] for r in response.json()["reports"]) == ["example-met-1l", "second-patient"]


@pytest.mark.slow
def test_recommend_time_limit_stops_the_work(server: RunningServer, client: httpx.Client) -> None:
    started = time.monotonic()
    response = client.post(
        server.url("/recommend"),
        params={"as_of": AS_OF},
        content=_many_patients(SLOW_BODY_PATIENTS),
        headers={"Content-Type": "text/turtle"},
    )
    assert response.status_code == 503, response.status_code
    assert "time limit" in outcome_error(response)[1]
    assert response.headers.get("Retry-After")
    assert time.monotonic() - started < 20
    ok = client.post(server.url("/recommend"), params={"as_of": AS_OF}, content=_turtle(), headers={"Content-Type": "text/turtle"})
    assert ok.status_code == 200, "a fresh worker answers the next request"


@pytest.mark.slow
def test_recommend_queue_is_bounded(server: RunningServer) -> None:
    results: list[int] = []

    def send(body: str) -> None:
        with httpx.Client(timeout=60.0) as http:
            response = http.post(
                server.url("/recommend"), params={"as_of": AS_OF}, content=body, headers={"Content-Type": "text/turtle"}
            )
            results.append(response.status_code)

    slow = threading.Thread(target=send, args=(_many_patients(SLOW_BODY_PATIENTS),))
    slow.start()
    time.sleep(0.5)  # the slow request holds the only worker; the queue holds no more
    started = time.monotonic()
    with httpx.Client(timeout=60.0) as http:
        busy = http.post(server.url("/recommend"), params={"as_of": AS_OF}, content=_turtle(), headers={"Content-Type": "text/turtle"})
    assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert time.monotonic() - started < 2, "refused at once, not after waiting"
    slow.join()


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('{"resourceType": "Bundle", "type": "collection", "entry": []' + ', "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
        ('{"resourceType": "Bundle", "type": "collection", "total": 1' + "0" * 5000 + "}", "out of range"),
        ('{"resourceType": "Bundle", "type": "collection", "type": "searchset"}', "twice"),
    ],
)
def test_recommend_refuses_hostile_json_with_400(server: RunningServer, client: httpx.Client, body: str, what: str) -> None:
    response = client.post(server.url("/recommend"), content=body, headers={"Content-Type": "application/fhir+json"})
    assert response.status_code == 400, response.text
    assert what in outcome_error(response)[1]


# -- slow clients, logs --------------------------------------------------------------------------


def _port(server: RunningServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1])


@pytest.mark.slow
def test_a_slow_request_head_is_cut_off(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finishes the head
        started = time.monotonic()
        data = sock.recv(1024)
        assert data == b"", "the server closes the connection"
        assert time.monotonic() - started < 5


@pytest.mark.slow
def test_a_slow_body_gets_408(server: RunningServer) -> None:
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
        sock.sendall(
            b"POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 1000\r\n\r\n@prefix"
        )
        started = time.monotonic()
        data = sock.recv(4096)
        assert data.startswith(b"HTTP/1.1 408"), data[:100]
        assert time.monotonic() - started < 5


def test_log_lines_cannot_be_forged_and_aborted_bodies_log_one_line(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        httpx.get(server.url("/nothing%0A2026-11-29 INFO her2kg.server.access: GET /forged 200"))
        with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as sock:
            sock.sendall(b"POST /recommend HTTP/1.1\r\nHost: x\r\nContent-Type: text/turtle\r\nContent-Length: 1000\r\n\r\n@pre")
            time.sleep(0.1)
        time.sleep(0.3)
    access = [r.getMessage() for r in caplog.records if r.name == "her2kg.server.access"]
    assert any("/nothing\\x0a2026" in line for line in access)
    assert not any("\n" in line for line in access)
    assert any(line.startswith("POST /recommend 499") for line in access)
    assert not any(r.exc_info or "Traceback" in r.getMessage() for r in caplog.records)


# -- configuration --------------------------------------------------------------------------------


def test_cds_hooks_refuse_to_start_without_an_audience() -> None:
    jwks = {"keys": [{"kty": "EC", "crv": "P-384", "kid": "k", "x": "x", "y": "y"}]}
    with pytest.raises(ConfigError, match="audience"):
        config_from_mapping({"cdshooks": {"issuers": [{"iss": "https://ehr.example.org", "jwks": jwks}]}}, base_dir=Path("."))
    with pytest.raises(ConfigError, match="audience"):
        CdsHooksSettings(issuers=(Issuer(iss="https://ehr.example.org", jwks=jwks),))
    config = config_from_mapping(
        {"cdshooks": {"audience": "https://cds.example.org/", "issuers": [{"iss": "https://ehr.example.org", "jwks": jwks}]}},
        base_dir=Path("."),
    )
    assert config.cdshooks.audience == "https://cds.example.org"


def test_cds_calls_never_take_the_audience_from_the_host_header(server: RunningServer, client: httpx.Client) -> None:
    response = client.post(
        server.url("/cds-services/her2kg-patient-view"), json={}, headers={"Host": "evil.example", "Authorization": "Bearer x.y.z"}
    )
    assert response.status_code == 401
    assert "audience" in outcome_error(response)[1]


def test_limits_are_settings_with_safe_defaults(tmp_path: Path) -> None:
    config = load_config(None)
    assert config.sparql.max_memory_bytes == 1_073_741_824 and config.sparql.max_response_bytes == 20_000_000
    assert config.recommend.timeout_seconds == 30.0 and config.recommend.max_queue == 8
    assert config.header_timeout_seconds == 10.0 and config.body_timeout_seconds == 30.0
    assert config.keep_alive_seconds == 5.0 and config.max_connections == 200 and config.max_header_bytes == 16_384
    path = tmp_path / "server.toml"
    path.write_text(
        "[server]\nheader_timeout_seconds = 2\nbody_timeout_seconds = 3\nmax_connections = 10\n"
        "[sparql]\nmax_memory_bytes = 500000000\nmax_response_bytes = 5000\n"
        "[recommend]\ntimeout_seconds = 4\nmax_queue = 1\n",
        encoding="utf-8",
    )
    read = load_config(path)
    assert (read.header_timeout_seconds, read.body_timeout_seconds, read.max_connections) == (2.0, 3.0, 10)
    assert (read.sparql.max_memory_bytes, read.sparql.max_response_bytes) == (500_000_000, 5000)
    assert (read.recommend.timeout_seconds, read.recommend.max_queue) == (4.0, 1)


def test_empty_host_is_refused(tmp_path: Path) -> None:
    from her2kg.cli import main

    assert main(["serve", "--host", ""]) == 2
    path = tmp_path / "server.toml"
    path.write_text('[server]\nhost = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="host"):
        load_config(path)


@pytest.mark.slow
def test_config_and_jwks_files_must_be_regular_files(tmp_path: Path) -> None:
    fifo = tmp_path / "server.toml"
    import os

    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(ConfigError, match="FIFO"):
        load_config(fifo)
    assert time.monotonic() - started < 2
    with pytest.raises(ConfigError):
        load_config(Path("/dev/zero"))
    jwks = tmp_path / "keys.json"
    jwks.write_text('{"keys": [], "keys": [{"kty": "EC", "kid": "k"}]}', encoding="utf-8")
    with pytest.raises(ConfigError, match="twice"):
        config_from_mapping(
            {"cdshooks": {"audience": "https://a", "issuers": [{"iss": "https://i", "jwks_file": str(jwks)}]}},
            base_dir=tmp_path,
        )
