"""An access log without patient data: method, path (never the query string), status, time.

Query strings can hold SPARQL text naming patients and bodies hold records, so neither is
logged; uvicorn's own access log is switched off by `her2kg serve`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

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
        finally:
            log.info(
                "%s %s %s %.1f ms",
                scope.get("method", "-"),
                scope.get("path", "-"),
                status["code"] or 500,
                (time.perf_counter() - started) * 1000,
            )


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """Log an unexpected failure with its type and stack frames, but not its message.

    Exception messages can quote the input (a code, a name, a date of the record), so only the
    exception's type and where it was raised are written.
    """
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames)
