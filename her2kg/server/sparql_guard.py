"""Refuse SPARQL requests that would make the server fetch a URL, and find a query's form.

pyoxigraph executes `SERVICE <url>` and `LOAD <url>` by making HTTP requests, so the endpoint
must never pass them on. A dataset clause (`FROM`, `FROM NAMED`, `USING`, `USING NAMED`) names
graphs to load in some engines; this endpoint serves one default graph, so those are refused
as well.

The check works on tokens, not on substrings: a lexer skips comments, string literals, IRIs,
variables, prefixed names and language tags, and looks at the remaining bare keywords, in any
letter case and at any nesting depth (a `SERVICE` inside a sub-query is a bare keyword like any
other). SPARQL allows `\\uXXXX` escapes anywhere in a request; the text is checked both as
given and with those escapes decoded, and refused if either reading has a forbidden keyword,
so neither interpretation of the escapes can hide one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

QUERY_FORMS: tuple[str, ...] = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS: frozenset[str] = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_FORBIDDEN: dict[str, str] = {
    "SERVICE": "SERVICE (federated query) is not allowed: this endpoint never fetches other endpoints; "
    "run the remote part against that endpoint yourself",
    "LOAD": "LOAD is not allowed: this endpoint never fetches documents from URLs; "
    "send the triples with INSERT DATA instead",
    "FROM": "FROM / FROM NAMED dataset clauses are not allowed: this endpoint answers over its one "
    "default graph (the knowledge base and the served patients); remove the FROM clause",
    "USING": "USING / USING NAMED dataset clauses are not allowed: this endpoint updates its one "
    "default graph; remove the USING clause",
}

_TOKEN = re.compile(
    r"""
      (?P<ws>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<lstring>\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|\\.))*\"\"\"|'''(?:(?:'|'')?(?:[^'\\]|\\.))*''')
    | (?P<string>"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$]\w+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<pname>(?:[^\W\d][\w.\-]*)?:(?:[\w.:%\-]|\\.)*)
    | (?P<word>[^\W\d]\w*)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class RefusedRequest(ValueError):
    """The request is well-formed enough to read but not allowed here (HTTP 400)."""


@dataclass(frozen=True)
class Inspection:
    """What the lexer found: the query form (SELECT, ASK, CONSTRUCT, DESCRIBE) or None."""

    form: str | None
    is_update: bool


def bare_keywords(text: str) -> list[str]:
    """The upper-cased bare words of a SPARQL text, in order (no strings, IRIs, names, comments)."""
    return [m.group("word").upper() for m in _TOKEN.finditer(text) if m.lastgroup == "word"]


def decode_escapes(text: str) -> str:
    """Replace SPARQL `\\uXXXX` / `\\UXXXXXXXX` escapes by the characters they stand for."""

    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(one, text)


def _readings(text: str) -> list[list[str]]:
    decoded = decode_escapes(text)
    return [bare_keywords(text)] if decoded == text else [bare_keywords(text), bare_keywords(decoded)]


def _refuse_forbidden(readings: list[list[str]]) -> None:
    for words in readings:
        for word in words:
            if word in _FORBIDDEN:
                raise RefusedRequest(_FORBIDDEN[word])


def inspect_query(text: str) -> Inspection:
    """Check a SPARQL query; return its form. Raises `RefusedRequest` for forbidden operations."""
    readings = _readings(text)
    _refuse_forbidden(readings)
    for word in readings[0]:
        if word in QUERY_FORMS:
            return Inspection(form=word, is_update=False)
        if word in UPDATE_KEYWORDS:
            raise RefusedRequest(
                "this is a SPARQL Update, not a query; send it as `update=` (form) or with "
                "Content-Type application/sparql-update, with the update token"
            )
    return Inspection(form=None, is_update=False)


def inspect_update(text: str) -> Inspection:
    """Check a SPARQL update request. Raises `RefusedRequest` for forbidden operations."""
    _refuse_forbidden(_readings(text))
    return Inspection(form=None, is_update=True)
