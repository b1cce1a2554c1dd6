"""Reading untrusted inputs safely: regular files only, with a size cap, and strict JSON.

- `read_regular_file` opens without blocking (a FIFO cannot hang the reader), refuses anything
  but a regular file (FIFOs, devices such as /dev/zero, sockets, folders) and files over the
  size cap, and reads at most the cap, so that no input can exhaust memory.
- `strict_json_loads` refuses duplicate object keys (JSON keeps the last one silently, so an
  LVEF of 60 then 20 would read as 20), nesting deeper than `MAX_JSON_DEPTH`, numbers that
  are not finite or have more digits than Python converts, and reports each as `JsonInputError`
  (a `ValueError`) with what to fix.
"""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path
from typing import Any

DEFAULT_MAX_INPUT_BYTES = 100_000_000
MAX_JSON_DEPTH = 200


class NotARegularFile(OSError):
    """The path names a FIFO, device, socket or folder, or a file larger than the cap."""


class JsonInputError(ValueError):
    """The text is not JSON this program accepts; the message says why and what to fix."""


def read_regular_file(path: str | Path, *, max_bytes: int = DEFAULT_MAX_INPUT_BYTES) -> bytes:
    """Read a regular file of at most `max_bytes`; raise `NotARegularFile` or `OSError` otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(f"{path} is not a regular file ({_kind(info.st_mode)}); give a file")
        if info.st_size > max_bytes:
            raise NotARegularFile(f"{path} is larger than the limit of {max_bytes} bytes; split it or give a smaller file")
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise NotARegularFile(f"{path} grew beyond the limit of {max_bytes} bytes while it was read")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a special file"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise JsonInputError(f"the JSON object has the key {key!r} twice; give each key once")
        result[key] = value
    return result


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonInputError(f"the JSON number {text[:40]!r} is out of range")
    return value


def _constant(name: str) -> Any:
    raise JsonInputError(f"{name} is not JSON; write a number")


def _depth_ok(value: Any) -> bool:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return False
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return True


def strict_json_loads(data: str | bytes) -> Any:
    """`json.loads` that refuses duplicate keys, deep nesting and out-of-range numbers."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise JsonInputError(f"the JSON text is not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(data, object_pairs_hook=_no_duplicates, parse_float=_finite, parse_constant=_constant)
    except RecursionError:
        raise JsonInputError(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep") from None
    except JsonInputError:
        raise
    except json.JSONDecodeError as exc:
        raise JsonInputError(f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise JsonInputError(f"the JSON has a value out of range ({type(exc).__name__}); use ordinary numbers") from None
    if not _depth_ok(value):
        raise JsonInputError(f"the JSON is nested more than {MAX_JSON_DEPTH} levels deep")
    return value
