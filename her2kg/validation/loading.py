"""The syntax check: read Turtle files with both parsers her2kg uses, keep what parsed.

pyoxigraph (the rule engine's store) is strict and reads first; rdflib (SHACL, formatting)
reads second. A file either parser rejects is a finding `file:line: Turtle syntax error`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.turtle_format import ParsedTurtle, TurtleSyntaxError, parse_turtle
from her2kg.validation.model import Check, Finding, Severity

if TYPE_CHECKING:
    from rdflib import Graph


@dataclass(frozen=True)
class LoadedFile:
    path: Path
    display: str
    text: str
    parsed: ParsedTurtle


@dataclass(frozen=True)
class LoadOutcome:
    files: tuple[LoadedFile, ...]
    findings: tuple[Finding, ...]


def load_turtle_files(paths: Iterable[Path], display: Callable[[Path], str], *, strict: bool = True) -> LoadOutcome:
    """Parse every file; return the files that parsed and a finding for each that did not.

    `strict` reads each file with pyoxigraph as well as rdflib (the syntax check); without it,
    rdflib alone reads (for files another check has already read strictly).
    """
    loaded: list[LoadedFile] = []
    findings: list[Finding] = []
    for path in paths:
        shown = display(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(_finding(shown, 0, f"cannot read the file ({exc}); check that it exists and is UTF-8"))
            continue
        from her2kg.workbench.rdf_formats import Syntax, sniff

        syntax = sniff(text)
        if syntax is not Syntax.TURTLE:
            findings.append(
                _finding(shown, 1, f"this file holds {syntax}, not Turtle (saved by an editor?); convert it with `her2kg fmt {shown}`")
            )
            continue
        problem = _oxigraph_problem(text) if strict else None
        if problem is not None:
            line, message = problem
            findings.append(_finding(shown, line, f"Turtle syntax error: {message}"))
            continue
        try:
            with quiet_literal_warnings():
                parsed = parse_turtle(text, source=shown)
        except TurtleSyntaxError as exc:
            findings.append(_finding(shown, exc.line, exc.reason))
            continue
        loaded.append(LoadedFile(path=path, display=shown, text=text, parsed=parsed))
    return LoadOutcome(files=tuple(loaded), findings=tuple(findings))


def merge(files: Sequence[LoadedFile]) -> Graph:
    """One rdflib graph holding the triples of every file."""
    from rdflib import Graph

    merged = Graph(bind_namespaces="none")
    for loaded in files:
        merged += loaded.parsed.graph
    return merged


def _oxigraph_problem(text: str) -> tuple[int, str] | None:
    import pyoxigraph as ox

    try:
        for _ in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.TURTLE):
            pass
    except SyntaxError as exc:
        message = (exc.msg or str(exc)).strip()
        return (exc.lineno or 0), message
    return None


def _finding(file: str, line: int, message: str) -> Finding:
    return Finding(
        check=str(Check.SYNTAX),
        severity=Severity.ERROR,
        file=file,
        line=line,
        term="",
        message=message + ("" if "fix" in message else "; fix the file and run `her2kg validate` again"),
    )


class _DropLiteralWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to convert Literal lexical form")


@contextmanager
def quiet_literal_warnings() -> Iterator[None]:
    """Silence rdflib's traceback for ill-typed literals; the SHACL check reports them instead."""
    logger = logging.getLogger("rdflib.term")
    dropper = _DropLiteralWarnings()
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)
