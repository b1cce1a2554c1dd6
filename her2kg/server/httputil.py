"""Small HTTP helpers shared by the endpoints: capped body reading and the media type."""

from __future__ import annotations

import anyio
from starlette.requests import Request


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the limit of {limit} bytes; send less, or raise the "
            "limit (max_body_bytes) in the server configuration"
        )
        self.limit = limit


class BodyTimeout(Exception):
    """The request body did not arrive within the body timeout (HTTP 408)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"the request body did not arrive within {seconds:g} s; send it at once (body_timeout_seconds)"
        )


async def read_body(request: Request, limit: int, *, timeout: float | None = None) -> bytes:
    """Read the whole body within `timeout` seconds, refusing it as soon as it exceeds `limit` bytes."""
    if timeout is None:
        timeout = getattr(request.app.state, "body_timeout", None) if "app" in request.scope else None
    if timeout is None:
        return await _read_body(request, limit)
    try:
        with anyio.fail_after(timeout):
            return await _read_body(request, limit)
    except TimeoutError:
        raise BodyTimeout(timeout) from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLarge(limit)
        except ValueError:
            pass
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    """The request's Content-Type without parameters, lower-cased ('' when absent)."""
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
