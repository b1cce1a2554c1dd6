"""Fixtures for the remote-store tests: a private Virtuoso server and a standards-only SPARQL server.

Import the fixtures into a test module (`from remote_fixtures import virtuoso, graph_iri`).

- `virtuoso`: a private Virtuoso Open Source server, started once per module in a temporary
  folder on free loopback ports and stopped at teardown. Tests that need it are marked
  `virtuoso`; they are skipped only when Virtuoso is not installed (CI installs it with
  `scripts/ci-virtuoso.sh`).
- `standard_server`: a small SPARQL 1.1 Protocol server over pyoxigraph that follows the
  specifications to the letter (an INSERT without GRAPH/WITH writes into the unnamed default
  graph; `default-graph-uri` selects the query's default graph; basic authentication). It shows
  that what the remote store sends works on a standard server, not only on Virtuoso.
"""

from __future__ import annotations

import base64
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest

from virtuoso_server import INSTALL_HINT, VirtuosoServer, VirtuosoSettings, start_virtuoso, virtuoso_binary

# Small buffers: the test cohorts are a few hundred patients.
TEST_SETTINGS = VirtuosoSettings(buffers=30_000, max_dirty_buffers=20_000)


def require_virtuoso() -> None:
    if virtuoso_binary() is None:
        pytest.skip(f"Virtuoso is not installed (`virtuoso-t` not on the PATH); {INSTALL_HINT}")


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A running private Virtuoso server for the tests of one module."""
    require_virtuoso()
    directory: Path = tmp_path_factory.mktemp("virtuoso")
    server = start_virtuoso(directory, settings=TEST_SETTINGS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def graph_iri() -> str:
    """A graph IRI of its own for each test."""
    return f"urn:her2kg:test:{uuid.uuid4()}"


# -- a standards-only SPARQL 1.1 server ------------------------------------------------------------
@dataclass
class StandardServer:
    """What the tests see of the stub server: its URLs, credentials, store and request log."""

    url: str
    graph_store_url: str
    username: str
    password: str
    store: ox.Store
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)  # HTTP statuses to answer the next updates with, as Virtuoso does on a deadlock

    def default_graph_size(self) -> int:
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.DefaultGraph()))

    def graph_size(self, graph: str) -> int:
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))


def _handler(server: StandardServer) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()
    expected = "Basic " + base64.b64encode(f"{server.username}:{server.password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

        def _reply(self, status: int, body: bytes, content_type: str = "text/plain", extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.headers.get("Authorization") != expected:
                self._reply(401, b"authentication required", extra={"WWW-Authenticate": 'Basic realm="stub"'})
                return
            parts = urllib.parse.urlsplit(self.path)
            params = urllib.parse.parse_qs(parts.query)
            content_type = self.headers.get("Content-Type", "").split(";")[0].strip()
            server.requests.append((parts.path, content_type, params))
            try:
                with lock:
                    if parts.path == "/graph-store":
                        server.store.load(body, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(params["graph"][0]))
                        self._reply(204, b"")
                        return
                    if content_type == "application/x-www-form-urlencoded":
                        form = urllib.parse.parse_qs(body.decode("utf-8"))
                        params = {**params, **{k: v for k, v in form.items() if k not in ("query", "update")}}
                        server.requests[-1] = (parts.path, content_type, params)
                        query, update = form.get("query", [None])[0], form.get("update", [None])[0]
                    elif content_type == "application/sparql-query":
                        query, update = body.decode("utf-8"), None
                    elif content_type == "application/sparql-update":
                        query, update = None, body.decode("utf-8")
                    else:
                        self._reply(415, b"unsupported content type")
                        return
                    if update is not None and server.conflicts:
                        self._reply(server.conflicts.pop(0), b"Virtuoso 40001 Error SR172: Transaction deadlocked")
                        return
                    if update is not None:
                        if params.get("using-graph-uri") or params.get("using-named-graph-uri"):
                            self._reply(400, b"this stub does not take using-graph-uri")
                            return
                        server.store.update(update)
                        self._reply(204, b"")
                        return
                    graphs = [ox.NamedNode(g) for g in params.get("default-graph-uri", [])]
                    results = server.store.query(query or "", default_graph=graphs or None)
                    payload = results.serialize(format=ox.QueryResultsFormat.JSON)
                    self._reply(200, payload, "application/sparql-results+json")
            except SyntaxError as exc:
                self._reply(400, str(exc).encode())

    return Handler


@pytest.fixture
def standard_server() -> Iterator[StandardServer]:
    """A standards-only SPARQL 1.1 server on a free loopback port (user `reader`, basic auth)."""
    state = StandardServer("", "", "reader", uuid.uuid4().hex, ox.Store())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    state.url = f"http://127.0.0.1:{port}/sparql"
    state.graph_store_url = f"http://127.0.0.1:{port}/graph-store"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)
