"""The OWL check: consistency and unsatisfiable classes, with HermiT through owlready2.

Owlready2 keeps global state (`owlready2.default_world`); this module is the only place that
imports it, and it never touches that default world. Each run writes an N-Triples copy of the
knowledge base (without `owl:imports`, so nothing is fetched) to a temporary folder and loads it
into a fresh `owlready2.World()`, which is closed afterwards.

HermiT runs in Java (a JVM starts per run, about a second) and is not told to ignore any
datatype: the profile check (`owl_profile`) keeps every datatype of a logical axiom inside the OWL 2
datatype map, and dates are annotations (see docs/knowledge-engineering.md).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.validation.locate import Location, curie
from her2kg.validation.model import Check, Finding, Severity
from her2kg.vocabulary import PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

_OWL = PREFIXES["owl"]
_RDFS = PREFIXES["rdfs"]
JAVA_HINT = (
    "install a Java runtime, version 11 or later (for example `apt-get install default-jre-headless`), "
    "so that `java` is on the PATH; or skip this check with `her2kg validate --no-owl`"
)


class JavaMissingError(RuntimeError):
    """No Java runtime to run HermiT."""


@dataclass(frozen=True)
class OwlOutcome:
    consistent: bool
    unsatisfiable: tuple[str, ...]
    seconds: float


def java_executable() -> str | None:
    """The Java command owlready2 will run, if it is installed."""
    import owlready2  # type: ignore[import-untyped, unused-ignore]

    command: str = owlready2.JAVA_EXE
    return shutil.which(command)


def reason(graph: Graph, *, java: Callable[[], str | None] = java_executable) -> OwlOutcome:
    """Classify a copy of `graph` with HermiT; report consistency and unsatisfiable classes."""
    if java() is None:
        raise JavaMissingError(f"HermiT needs Java, which is not installed: {JAVA_HINT}")
    import owlready2  # type: ignore[import-untyped, unused-ignore]

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="her2kg-owl-") as folder:
        copy = Path(folder) / "knowledge-base.nt"
        copy.write_bytes(_ntriples_without_imports(graph))
        world = owlready2.World()
        try:
            world.get_ontology(copy.as_uri()).load()
            try:
                owlready2.sync_reasoner_hermit(
                    world, infer_property_values=False, debug=0, ignore_unsupported_datatypes=False
                )
            except owlready2.OwlReadyInconsistentOntologyError:
                return OwlOutcome(consistent=False, unsatisfiable=(), seconds=time.perf_counter() - started)
            nothing = _OWL + "Nothing"
            unsatisfiable = tuple(sorted(c.iri for c in world.inconsistent_classes() if c.iri != nothing))
        finally:
            world.close()
    return OwlOutcome(consistent=True, unsatisfiable=unsatisfiable, seconds=time.perf_counter() - started)


def check_owl(
    graph: Graph, locate: Callable[[str], Location], *, java: Callable[[], str | None] = java_executable
) -> tuple[Finding, ...]:
    """Findings for an inconsistent knowledge base and for each unsatisfiable class."""
    import owlready2  # type: ignore[import-untyped, unused-ignore]

    try:
        outcome = reason(graph, java=java)
    except JavaMissingError as exc:
        return (_finding(Location("", 0), "", str(exc)),)
    except owlready2.OwlReadyJavaError as exc:
        detail = " ".join(str(exc).split())[:400]
        return (
            _finding(Location("", 0), "", f"HermiT failed: {detail}; check the Java installation or run with --no-owl"),
        )
    if not outcome.consistent:
        findings = [
            _finding(
                Location("", 0),
                "",
                "the knowledge base is inconsistent (HermiT): no model satisfies its axioms; "
                "look for an individual typed with two disjoint classes or a value outside a property's range",
            )
        ]
        for individual, first, second in disjoint_memberships(graph):
            findings.append(
                _finding(
                    locate(individual),
                    curie(individual),
                    f"is an instance of both {curie(first)} and {curie(second)}, which are disjoint: the axioms "
                    f"ClassAssertion({curie(first)} {curie(individual)}) (directly or through subclass axioms), "
                    f"ClassAssertion({curie(second)} {curie(individual)}) and DisjointClasses({curie(first)} {curie(second)}) "
                    "cannot all hold; remove one",
                )
            )
        for individual, prop, value, range_ in range_clashes(graph):
            findings.append(
                _finding(
                    locate(individual),
                    curie(individual),
                    f"DataPropertyAssertion({curie(prop)} {curie(individual)} {value}) has a value outside "
                    f"DataPropertyRange({curie(prop)} {curie(range_)}); fix the value or the range",
                )
            )
        return tuple(findings)
    return tuple(
        _finding(
            locate(iri),
            curie(iri),
            "unsatisfiable class (HermiT): it can have no instances; check its superclasses and disjointness axioms",
        )
        for iri in outcome.unsatisfiable
    )


def disjoint_memberships(graph: Graph) -> list[tuple[str, str, str]]:
    """Named individuals whose asserted types fall, through rdfs:subClassOf, under two disjoint classes."""
    from rdflib import RDF, URIRef
    from rdflib.collection import Collection

    sub_class_of = URIRef(_RDFS + "subClassOf")
    pairs: set[tuple[str, str]] = set()
    for a, b in graph.subject_objects(URIRef(_OWL + "disjointWith")):
        pairs.add((str(a), str(b)))
    for axiom in graph.subjects(RDF.type, URIRef(_OWL + "AllDisjointClasses")):
        members_node = graph.value(axiom, URIRef(_OWL + "members"))
        if members_node is None:
            continue
        members = [str(m) for m in Collection(graph, members_node)]
        pairs.update((m, n) for i, m in enumerate(members) for n in members[i + 1 :])

    def ancestors(cls: URIRef) -> set[str]:
        seen = {str(cls)}
        stack = [cls]
        while stack:
            for parent in graph.objects(stack.pop(), sub_class_of):
                if isinstance(parent, URIRef) and str(parent) not in seen:
                    seen.add(str(parent))
                    stack.append(parent)
        return seen

    found: list[tuple[str, str, str]] = []
    for individual in sorted({s for s in graph.subjects(RDF.type, None) if isinstance(s, URIRef)}):
        types: set[str] = set()
        for cls in graph.objects(individual, RDF.type):
            if isinstance(cls, URIRef):
                types |= ancestors(cls)
        for first, second in sorted(pairs):
            if first in types and second in types:
                found.append((str(individual), first, second))
    return found


def range_clashes(graph: Graph) -> list[tuple[str, str, str, str]]:
    """Data property values whose literal cannot be in the property's declared datatype range."""
    from rdflib import RDF, Literal, URIRef

    xsd = PREFIXES["xsd"]
    numeric = {xsd + n for n in ("decimal", "integer", "double", "float", "int", "long", "nonNegativeInteger", "positiveInteger")}
    found: list[tuple[str, str, str, str]] = []
    for prop in sorted(graph.subjects(RDF.type, URIRef(_OWL + "DatatypeProperty")), key=str):
        for range_ in graph.objects(prop, URIRef(_RDFS + "range")):
            wanted = str(range_)
            if not wanted.startswith(xsd):
                continue
            for subject, value in sorted(graph.subject_objects(prop)):
                if not isinstance(value, Literal):
                    continue
                actual = str(value.datatype) if value.datatype is not None else xsd + "string"
                compatible = actual == wanted or (actual in numeric and wanted in numeric and (wanted != xsd + "integer" or actual == xsd + "integer"))
                if not compatible:
                    found.append((str(subject), str(prop), f'"{value}"^^{curie(actual)}', wanted))
    return found


def _ntriples_without_imports(graph: Graph) -> bytes:
    from rdflib import Graph, URIRef

    imports = URIRef(_OWL + "imports")
    copy = Graph(bind_namespaces="none")
    for triple in graph:
        if triple[1] != imports:
            copy.add(triple)
    return copy.serialize(format="nt", encoding="utf-8")


def _finding(where: Location, term: str, message: str) -> Finding:
    return Finding(
        check=str(Check.OWL), severity=Severity.ERROR, file=where.file, line=where.line, term=term, message=message
    )
