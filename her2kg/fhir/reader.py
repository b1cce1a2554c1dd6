"""Reading a bundle file: JSON in, a parsed object out, or an InputError that says what to fix."""

from __future__ import annotations

import json
import os
from pathlib import Path

from her2kg.errors import InputError


def read_bundle_file(path: str | os.PathLike[str]) -> object:
    """Parse a FHIR JSON file. Raises InputError when it cannot be read or is not JSON."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except IsADirectoryError:
        raise InputError(name, "is a directory; give a FHIR Bundle .json file") from None
    except FileNotFoundError:
        raise InputError(name, "no such file") from None
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror or exc}); check the path and its permissions") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(name, f"is not UTF-8 text (byte {exc.start}); save the bundle as UTF-8 JSON") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(
            name, f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the JSON"
        ) from None
    except ValueError as exc:
        raise InputError(name, f"is not valid JSON ({exc}); fix the JSON") from None
    except RecursionError:
        raise InputError(name, "is nested too deeply to be a FHIR bundle") from None


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")
