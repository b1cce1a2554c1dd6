"""The one reader of query-file headers (rules, QC queries, competency questions, report queries).

A query file starts with a block of `# key: value` lines; a value may continue on following
lines indented by at least two spaces after the `#`; a bare `#` line is allowed. The block ends
at the first line that does not start with `#`.

>>> header = parse_header('''# id: a
... # title: A rule
... # description: first part,
... #   second part
... SELECT * WHERE { ?s ?p ?o }''')
>>> header.fields["description"]
'first part, second part'
>>> header.get("source", "none")
'none'
>>> parse_header("# id: a\\n# id: b\\n")
Traceback (most recent call last):
...
her2kg.query_header.HeaderError: header key 'id' appears twice
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

_HEADER_LINE = re.compile(r"^#\s*([a-z_]+):\s*(.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(\S.*)$")


class HeaderError(ValueError):
    """A query file's header is malformed; the message says what to fix."""


@dataclass(frozen=True)
class QueryHeader:
    """The `# key: value` fields of a query file, in file order, and the whole text."""

    fields: Mapping[str, str]
    text: str

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    def require(self, keys: Collection[str], *, hint: str = "") -> None:
        """Raise HeaderError naming every key of `keys` that is missing or empty."""
        missing = [k for k in keys if not self.fields.get(k)]
        if missing:
            raise HeaderError(f"header lacks {', '.join(missing)}" + (f"; {hint}" if hint else ""))

    def check_id(self, path: Path) -> None:
        """Raise HeaderError unless the `id` field equals the file name without `.rq`."""
        if self.fields.get("id") != path.stem:
            raise HeaderError(f"id '{self.fields.get('id', '')}' differs from the file name '{path.stem}'")


def parse_header(text: str, *, allowed: Collection[str] | None = None, strict: bool = True) -> QueryHeader:
    """Read the header block of a query text.

    `allowed`: the keys a file of this kind may use (None: any key). `strict`: a comment line
    in the block that is neither a field, a continuation nor a bare `#` is an error (otherwise
    it is skipped, for files whose header is followed by free comments).
    """
    fields: dict[str, str] = {}
    last_key: str | None = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _HEADER_LINE.match(line)
        if match:
            key, value = match.group(1), match.group(2).strip()
            if allowed is not None and key not in allowed:
                raise HeaderError(f"unknown header key '{key}'; the keys are {', '.join(allowed)}")
            if key in fields:
                raise HeaderError(f"header key '{key}' appears twice")
            fields[key] = value
            last_key = key
            continue
        continuation = _CONTINUATION.match(line)
        if continuation and last_key is not None:
            fields[last_key] += " " + continuation.group(1).strip()
            continue
        if line.strip() == "#" or not strict:
            continue
        raise HeaderError(f"cannot read header line {line!r}")
    return QueryHeader(fields=fields, text=text)


def read_header(path: Path, *, allowed: Collection[str] | None = None, strict: bool = True) -> QueryHeader:
    """`parse_header` of a file (UTF-8)."""
    return parse_header(path.read_text(encoding="utf-8"), allowed=allowed, strict=strict)
