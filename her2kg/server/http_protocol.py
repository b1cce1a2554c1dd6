"""uvicorn settings of `her2kg serve`: connection limits and a read timeout for request heads.

uvicorn's h11 protocol closes idle keep-alive connections (`timeout_keep_alive`) and caps the
size of a request head (`h11_max_incomplete_event_size`), but waits forever for a request
head that arrives a byte at a time. `BoundedH11Protocol` adds that deadline: from the moment a
connection opens, or the first byte of a next request arrives, the complete head must arrive
within `header_timeout_seconds`, else the connection is closed. (The body has its own deadline
in the application, `body_timeout_seconds`.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from her2kg.server.config import ServerConfig


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._waiting_for_head() and self._head_timer is None:
            self._arm_head_timer()
        super().data_received(data)
        if not self._waiting_for_head():
            self._cancel_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._waiting_for_head() and not self.transport.is_closing():
            self.transport.close()


def protocol_class(header_timeout: float) -> type[BoundedH11Protocol]:
    """A protocol class with its own head deadline (a class per server: no shared state)."""
    return type("BoundedH11Protocol", (BoundedH11Protocol,), {"header_timeout": header_timeout})


def uvicorn_config(app: Any, config: ServerConfig, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of `her2kg serve` (tests pass `log_level`, sockets are given to run)."""
    settings: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "http": protocol_class(config.header_timeout_seconds),
        "timeout_keep_alive": config.keep_alive_seconds,
        "h11_max_incomplete_event_size": config.max_header_bytes,
        "limit_concurrency": config.max_connections,
        "access_log": False,
        "lifespan": "on",
        "server_header": False,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)
