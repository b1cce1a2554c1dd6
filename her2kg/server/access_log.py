"""An access log without patient data: method, path (never the query string), status, time.

Query strings can hold SPARQL text naming patients and bodies hold records, so neither is
logged; uvicorn's own access log is switched off by `her2kg serve`. The path is written with
every control or non-ASCII character escaped (`\\x0a`), so a request cannot forge log lines
(`%0A` in a path). A client that goes away while sending its body gives one line (status 499),
not a traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("her2kg.server.access")


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ClientDisconnect:
            status["code"] = status["code"] or 499  # nobody is left to answer
        finally:
            log.info(
                "%s %s %s %.1f ms",
                safe_text(str(scope.get("method", "-"))),
                safe_text(str(scope.get("path", "-"))),
                status["code"] or 500,
                (time.perf_counter() - started) * 1000,
            )


def safe_text(text: str, limit: int = 300) -> str:
    """`text` with control, non-ASCII and backslash characters escaped, cut at `limit` characters."""
    escaped = "".join(c if " " <= c <= "~" and c != "\\" else f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}" for c in text[:limit])
    return escaped + ("..." if len(text) > limit else "")


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected failure with its type and stack frames, but not its message.

    Exception messages can quote the input (a code, a name, a date of the record), so only the
    exception's type and where it was raised are written.
    """
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames)
