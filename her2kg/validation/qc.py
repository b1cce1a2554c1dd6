"""The QC check: every `queries/qc/*-violation.rq` over the knowledge base, with pyoxigraph.

Each query starts with a header of `# key: value` lines (id, title, kind: qc, source,
severity: error|warning) and selects `?entity ?property ?value`; every row is a finding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.query_header import HeaderError, read_header
from her2kg.validation.locate import Location, curie
from her2kg.validation.model import Check, Finding, Severity

if TYPE_CHECKING:
    import pyoxigraph as ox

REQUIRED_KEYS = ("id", "title", "kind", "source", "severity")
_SUFFIX = "-violation"


class QcHeaderError(HeaderError):
    """A QC query's header is malformed."""


@dataclass(frozen=True)
class QcQuery:
    id: str
    title: str
    source: str
    severity: Severity
    path: Path
    text: str


def parse_qc_query(path: Path) -> QcQuery:
    """Read one QC query; raise QcHeaderError saying what to fix in its header."""
    try:
        header = read_header(path, strict=False)
        header.require(REQUIRED_KEYS, hint=f"start the file with `# id: {path.stem}` and the other keys")
        header.check_id(path)
    except HeaderError as exc:
        raise QcHeaderError(str(exc)) from None
    fields = header.fields
    if not path.stem.endswith(_SUFFIX):
        raise QcHeaderError(f"a QC query's id ends in '{_SUFFIX}'")
    if fields["kind"] != "qc":
        raise QcHeaderError(f"kind is '{fields['kind']}'; QC queries have `# kind: qc`")
    try:
        severity = Severity(fields["severity"])
    except ValueError:
        raise QcHeaderError(f"severity '{fields['severity']}' is neither 'error' nor 'warning'") from None
    return QcQuery(
        id=fields["id"], title=fields["title"], source=fields["source"], severity=severity, path=path, text=header.text
    )


def qc_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*" + _SUFFIX + ".rq")) if folder.is_dir() else []


def knowledge_store(texts: Sequence[str]) -> ox.Store:
    """An in-memory pyoxigraph store holding the given Turtle documents in its default graph."""
    import pyoxigraph as ox

    store = ox.Store()
    for text in texts:
        store.load(text.encode("utf-8"), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
    return store


def run_qc(
    store: ox.Store,
    paths: Sequence[Path],
    locate: Callable[[str], Location],
    display: Callable[[Path], str],
) -> tuple[Finding, ...]:
    """Run every QC query; a malformed query is itself a finding."""
    import pyoxigraph as ox

    findings: list[Finding] = []
    for path in paths:
        try:
            query = parse_qc_query(path)
            solutions = store.query(query.text)
        except (QcHeaderError, SyntaxError, OSError) as exc:
            findings.append(
                Finding(str(Check.QC), Severity.ERROR, display(path), 1, path.stem, f"cannot run this QC query: {exc}")
            )
            continue
        if not isinstance(solutions, ox.QuerySolutions):
            findings.append(
                Finding(
                    str(Check.QC),
                    Severity.ERROR,
                    display(path),
                    1,
                    path.stem,
                    "a QC query must be a SELECT of ?entity ?property ?value",
                )
            )
            continue
        rows = sorted(
            {
                (_text(row["entity"]), _text(row["property"]), _text(row["value"]), _iri(row["entity"]))
                for row in solutions
            }
        )
        for entity, prop, value, iri in rows:
            where = locate(iri) if iri else Location("", 0)
            detail = " ".join(part for part in (prop, value) if part)
            findings.append(
                Finding(
                    check=str(Check.QC),
                    severity=query.severity,
                    file=where.file,
                    line=where.line,
                    term=entity,
                    message=f"{query.id}: {query.title}" + (f" ({detail})" if detail else ""),
                )
            )
    return tuple(findings)


def _iri(term: object) -> str:
    import pyoxigraph as ox

    return term.value if isinstance(term, ox.NamedNode) else ""


def _text(term: object) -> str:
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return curie(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return f'"{term.value}"@{term.language}'
        return f'"{term.value}"'
    return str(term)
