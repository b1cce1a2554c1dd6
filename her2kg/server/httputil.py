"""Small HTTP helpers shared by the endpoints: capped body reading and JSON error bodies."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class BodyTooLarge(Exception):
    """The request body is larger than the configured limit (HTTP 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the request body is larger than the limit of {limit} bytes; send less, or raise the "
            "limit (max_body_bytes) in the server configuration"
        )
        self.limit = limit


async def read_body(request: Request, limit: int) -> bytes:
    """Read the whole body, refusing it as soon as it exceeds `limit` bytes."""
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


def json_error(status: int, code: str, message: str, *, field: str = "", headers: dict[str, str] | None = None) -> JSONResponse:
    """`{"errors": [{"code", "field", "message"}]}`, the error shape of the JSON endpoints."""
    body: dict[str, Any] = {"errors": [{"code": code, "field": field, "message": message}]}
    return JSONResponse(body, status_code=status, headers=headers)
