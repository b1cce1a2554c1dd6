"""A loopback HTTP server that records every request it receives: a request that reaches it is one
that left the SPARQL endpoint (SERVICE, LOAD), which must never happen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMPTY_RESULT = b'{"head":{"vars":["s"]},"results":{"bindings":[]}}'


@dataclass(frozen=True)
class Canary:
    url: str
    hits: list[str]


@contextmanager
def canary_server() -> Iterator[Canary]:
    """Serve an empty SPARQL result to any GET or POST on loopback, recording the paths asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(EMPTY_RESULT)))
            self.end_headers()
            self.wfile.write(EMPTY_RESULT)

        do_GET = do_POST = _answer  # noqa: N815

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Canary(f"http://127.0.0.1:{server.server_address[1]}/", hits)
    finally:
        server.shutdown()
