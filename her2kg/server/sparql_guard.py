"""Decide what a SPARQL request does from its parse, and refuse what would make the server fetch a URL.

pyoxigraph executes `SERVICE <url>` and `LOAD <url>` by making HTTP requests, so the endpoint
must never pass them on. A dataset clause (`FROM`, `FROM NAMED`, `USING`, `USING NAMED`) names
graphs to load in some engines; this endpoint serves one default graph, so those are refused
as well, and so is any update sent to the query side.

The decision is taken on the parse tree of rdflib's SPARQL 1.1 parser, never on tokens: a
request that does not parse is refused (400) rather than passed on, and a parsed request is
refused when any node of its tree, at any depth, is a SERVICE pattern, a LOAD, a dataset
clause or (on the query side) an update operation. Spelling cannot hide one: case, comments,
keywords glued to the next token (`SERVICESILENT<url>`, `SERVICEex:x`, `FROMNAMED<iri>`),
prefixed names and nesting all either parse into the same tree or do not parse at all.

SPARQL allows `\\uXXXX` escapes anywhere; rdflib decodes them before parsing, pyoxigraph only
inside strings and IRIs. The text is therefore parsed in both readings (escapes decoded, and
escapes replaced by a plain letter, which keeps the token structure pyoxigraph sees) and must
be clean in both.

A cheap token scan (`precheck_query`, `precheck_update`) runs first in the server process; it
refuses bare forbidden keywords without waiting for a worker, and never lets anything through
that the parse would refuse, because the parse runs in the worker regardless.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

QUERY_FORMS: tuple[str, ...] = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS: frozenset[str] = frozenset(
    {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
)
_SERVICE_MESSAGE = (
    "SERVICE (federated query) is not allowed: this endpoint never fetches other endpoints; "
    "run the remote part against that endpoint yourself"
)
_LOAD_MESSAGE = (
    "LOAD is not allowed: this endpoint never fetches documents from URLs (and is read-only)"
)
_FROM_MESSAGE = (
    "FROM / FROM NAMED dataset clauses are not allowed: this endpoint answers over its one "
    "default graph (the knowledge base and the served patients); remove the FROM clause"
)
_USING_MESSAGE = (
    "USING / USING NAMED dataset clauses are not allowed: this endpoint updates its one "
    "default graph; remove the USING clause"
)
_UPDATE_ON_QUERY_MESSAGE = (
    "this is a SPARQL Update, not a query; this endpoint is read-only and does not offer "
    "SPARQL Update (application/sparql-update)"
)
_FORBIDDEN_WORDS: dict[str, str] = {
    "SERVICE": _SERVICE_MESSAGE,
    "LOAD": _LOAD_MESSAGE,
    "FROM": _FROM_MESSAGE,
    "USING": _USING_MESSAGE,
}
_FORBIDDEN_NODES: dict[str, str] = {
    "ServiceGraphPattern": _SERVICE_MESSAGE,
    "Load": _LOAD_MESSAGE,
    "DatasetClause": _FROM_MESSAGE,
    "UsingClause": _USING_MESSAGE,
}
_FORM_NODES: dict[str, str] = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
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
_PREFIX_DECLARATION = re.compile(r"\bPREFIX\s+([^\W\d][\w.\-]*)?:", re.IGNORECASE)
_ANY_ESCAPE = re.compile(r"\\[uU]")


class RefusedRequest(ValueError):
    """The request is not allowed here, or cannot be read well enough to allow it (HTTP 400)."""


@dataclass(frozen=True)
class Inspection:
    """What the parse found: the query form (SELECT, ASK, CONSTRUCT, DESCRIBE) or None for an update."""

    form: str | None
    is_update: bool


# -- the cheap pre-check (tokens) -----------------------------------------------------------


def bare_keywords(text: str) -> list[str]:
    """The upper-cased bare words of a SPARQL text, in order (no strings, IRIs, names, comments)."""
    return [m.group("word").upper() for m in _TOKEN.finditer(text) if m.lastgroup == "word"]


def decode_escapes(text: str) -> str:
    """Replace SPARQL `\\uXXXX` / `\\UXXXXXXXX` escapes by the characters they stand for."""

    def one(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(one, text)


def _token_readings(text: str) -> list[list[str]]:
    decoded = decode_escapes(text)
    return [bare_keywords(text)] if decoded == text else [bare_keywords(text), bare_keywords(decoded)]


def _refuse_words(readings: list[list[str]]) -> None:
    for words in readings:
        for word in words:
            if word in _FORBIDDEN_WORDS:
                raise RefusedRequest(_FORBIDDEN_WORDS[word])


def glued_keywords(text: str) -> list[str]:
    """Names and bare words that begin with a forbidden keyword glued to more text (`FROMex:g`,
    `SERVICESILENT`, an undeclared prefix `service:`): SPARQL engines split such a token differently
    (one reads a prefixed name, another the keyword and a name), so the parse of one engine cannot
    vouch for another. A prefixed name whose prefix the text declares is read alike and is kept.
    Returns the keywords found."""
    found: list[str] = []
    for reading in {text, decode_escapes(text)}:
        declared = {(m.group(1) or "").upper() for m in _PREFIX_DECLARATION.finditer(reading)}
        for match in _TOKEN.finditer(reading):
            if match.lastgroup == "word":
                head = match.group("word").upper()
            elif match.lastgroup == "pname":
                prefix = match.group("pname").split(":", 1)[0].upper()
                if prefix in declared:
                    continue  # a declared prefix: every engine reads a prefixed name
                head = prefix + ":"
            else:
                continue
            for keyword in _FORBIDDEN_WORDS:
                if head.startswith(keyword) and head != keyword:
                    found.append(keyword)
    return found


def _refuse_glued(text: str) -> None:
    glued = glued_keywords(text)
    if glued:
        raise RefusedRequest(
            f"{_FORBIDDEN_WORDS[glued[0]]} (a name or word that starts with {glued[0]} glued to more text is read "
            "differently by different SPARQL engines: put a space after the keyword, or rename the prefix)"
        )


def precheck_query(text: str) -> None:
    """Refuse a query whose tokens alone show a forbidden keyword or an update (no parse)."""
    readings = _token_readings(text)
    _refuse_words(readings)
    _refuse_glued(text)
    for word in readings[0]:
        if word in QUERY_FORMS:
            return
        if word in UPDATE_KEYWORDS:
            raise RefusedRequest(_UPDATE_ON_QUERY_MESSAGE)


def precheck_update(text: str) -> None:
    """Refuse an update whose tokens alone show a forbidden keyword (no parse)."""
    _refuse_words(_token_readings(text))
    _refuse_glued(text)


# -- the decision (parse) -------------------------------------------------------------------


def inspect_query(text: str) -> Inspection:
    """Check a SPARQL query by its parse; return its form. Raises `RefusedRequest`."""
    precheck_query(text)
    return _inspect_query_cached(text)


def inspect_update(text: str) -> Inspection:
    """Check a SPARQL update request by its parse. Raises `RefusedRequest`."""
    precheck_update(text)
    return _inspect_update_cached(text)


@lru_cache(maxsize=512)
def _inspect_query_cached(text: str) -> Inspection:
    from rdflib.plugins.sparql.parser import Query, UpdateUnit

    forms: set[str] = set()
    for reading in _parse_readings(text):
        try:
            tree = Query.parse_string(reading, parse_all=True)
        except Exception as exc:
            if _parses(UpdateUnit, reading):
                raise RefusedRequest(_UPDATE_ON_QUERY_MESSAGE) from None
            raise RefusedRequest(_parse_failure(exc)) from None
        names = _node_names(tree)
        _refuse_nodes(names)
        forms |= {_FORM_NODES[n] for n in names if n in _FORM_NODES}
    if len(forms) != 1:
        raise RefusedRequest("the query has no single form (SELECT, ASK, CONSTRUCT or DESCRIBE); send one query")
    return Inspection(form=forms.pop(), is_update=False)


@lru_cache(maxsize=128)
def _inspect_update_cached(text: str) -> Inspection:
    from rdflib.plugins.sparql.parser import UpdateUnit

    for reading in _parse_readings(text):
        try:
            tree = UpdateUnit.parse_string(reading, parse_all=True)
        except Exception as exc:
            raise RefusedRequest(_parse_failure(exc)) from None
        _refuse_nodes(_node_names(tree))
    return Inspection(form=None, is_update=True)


def _parse_readings(text: str) -> list[str]:
    """The texts to parse: escapes decoded (rdflib's reading), and escapes neutralised (pyoxigraph's)."""
    if not _ANY_ESCAPE.search(text):
        return [text]
    return [decode_escapes(text), _ESCAPE.sub("a", text)]


def _parses(element: Any, text: str) -> bool:
    try:
        element.parse_string(text, parse_all=True)
    except Exception:
        return False
    return True


def _parse_failure(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the SPARQL text is nested too deeply to check; simplify it"
    where = ""
    line, column = getattr(exc, "lineno", None), getattr(exc, "col", None)
    if line is not None and column is not None:
        where = f" at line {line}, column {column}"
    return (
        f"the SPARQL text does not parse{where}; this endpoint runs only SPARQL 1.1 it can check "
        "(write keywords apart from the next token, and characters directly rather than as \\u escapes "
        "outside strings)"
    )


def _refuse_nodes(names: set[str]) -> None:
    for name, message in _FORBIDDEN_NODES.items():
        if name in names:
            raise RefusedRequest(message)


def _node_names(tree: Any) -> set[str]:
    """The names of every parse node (`CompValue.name`) anywhere in an rdflib parse tree."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    names: set[str] = set()
    seen: set[int] = set()
    stack: list[Any] = [tree]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, CompValue):
            names.add(node.name)
            stack.extend(node.values())
        elif isinstance(node, ParseResults):
            stack.extend(_children(node))
        elif isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
    return names


def _children(results: Any) -> Iterator[Any]:
    yield from list(results)
    for _, value in results.items():
        yield value
