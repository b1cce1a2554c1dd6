"""Run pySHACL over a data graph and turn its report into findings (focus node, path, message)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from her2kg.validation.locate import Location, curie
from her2kg.validation.model import Check, Finding, Severity

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

_SH = "http://www.w3.org/ns/shacl#"


def run_shapes(data: Graph, shapes: Graph, locate: Callable[[str], Location]) -> tuple[Finding, ...]:
    """Validate `data` against `shapes` (no inference; subclass targets come from the data)."""
    import pyshacl

    from her2kg.validation.loading import quiet_literal_warnings

    with quiet_literal_warnings():
        _, results, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            inplace=True,
            allow_warnings=True,
            advanced=False,
        )
    return findings_from_report(results, locate)


def findings_from_report(results: Graph, locate: Callable[[str], Location]) -> tuple[Finding, ...]:
    """Findings from a SHACL validation report graph, sorted by file, line and message."""
    from rdflib import RDF, BNode, URIRef

    sh = _SH
    findings: list[Finding] = []
    for result in results.subjects(RDF.type, URIRef(sh + "ValidationResult")):
        focus = results.value(result, URIRef(sh + "focusNode"))
        path = results.value(result, URIRef(sh + "resultPath"))
        value = results.value(result, URIRef(sh + "value"))
        severity = results.value(result, URIRef(sh + "resultSeverity"))
        messages = sorted(str(m) for m in results.objects(result, URIRef(sh + "resultMessage")))
        message = messages[0] if messages else "violates a shape"
        focus_text = _node_text(focus)
        path_text = "" if path is None else ("(complex path)" if isinstance(path, BNode) else curie(str(path)))
        detail = f"{path_text}: {message}" if path_text else message
        if value is not None and value != focus and _worth_showing(value, message):
            detail += f" (value: {_node_text(value)})"
        where = locate(str(focus)) if isinstance(focus, URIRef) else Location("", 0)
        findings.append(
            Finding(
                check=str(Check.SHACL),
                severity=Severity.ERROR if str(severity) == sh + "Violation" else Severity.WARNING,
                file=where.file,
                line=where.line,
                term=focus_text,
                message=detail,
            )
        )
    return tuple(sorted(findings, key=lambda f: (f.file, f.line, f.term, f.message)))


def _node_text(node: Node | None) -> str:
    from rdflib import BNode, Literal, URIRef

    if isinstance(node, URIRef):
        return curie(str(node))
    if isinstance(node, Literal):
        datatype = f"^^{curie(str(node.datatype))}" if node.datatype is not None else ""
        return f'"{node}"{datatype}'
    if isinstance(node, BNode):
        return "[blank node]"
    return ""


def _worth_showing(value: Node, message: str) -> bool:
    return _node_text(value) not in message


def undeclared_terms(shapes: Graph, data: Graph, base: str, exempt: tuple[str, ...]) -> list[str]:
    """IRIs under `base` that the shapes mention but the data never types: typos in the shapes.

    A shape that targets a misspelt class validates nothing and fails silently; this finds it.
    """
    from rdflib import RDF, URIRef

    mentioned = {
        str(term)
        for triple in shapes
        for term in triple
        if isinstance(term, URIRef) and str(term).startswith(base) and not str(term).startswith(exempt)
    }
    return sorted(iri for iri in mentioned if (URIRef(iri), RDF.type, None) not in data)
