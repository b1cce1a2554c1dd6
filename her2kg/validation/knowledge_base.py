"""`validate_knowledge_base`: run the checks on ontology/ and shapes/, in order, each timed.

syntax -> imports -> shacl -> profile (OWL 2 DL) -> owl -> qc -> format. When a file does not parse, only the syntax
and imports checks run: the others would report the gaps the broken file leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from her2kg.validation.layout import Layout, layout
from her2kg.validation.loading import LoadedFile, load_turtle_files, merge
from her2kg.validation.locate import Locator
from her2kg.validation.model import Check, CheckResult, Finding, KnowledgeBaseVersion, Severity, ValidationReport
from her2kg.vocabulary import ONTOLOGY_IRI, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

KNOWLEDGE_SHAPES = "knowledge.ttl"
T = TypeVar("T")


def validate_knowledge_base(*, owl: bool = True, root: Path | None = None) -> ValidationReport:
    """Check the knowledge base (or a copy of it under `root`); see the module docstring."""
    where = layout(root)
    checks: list[CheckResult] = []

    loaded, seconds = _timed(lambda: load_turtle_files(where.turtle_files(), where.display))
    checks.append(CheckResult.of(Check.SYNTAX, seconds, loaded.findings))
    by_path = {f.path: f for f in loaded.files}
    ontology = [by_path[p] for p in where.ontology_files() if p in by_path]
    version = read_version(by_path.get(where.header), where.root)

    imports, seconds = _timed(
        lambda: _check_imports(where, list(loaded.files)),
    )
    checks.append(CheckResult.of(Check.IMPORTS, seconds, imports))

    later = [Check.SHACL, Check.PROFILE, *([Check.OWL] if owl else []), Check.QC, Check.FORMAT]
    if loaded.findings:
        return ValidationReport(
            checks=tuple(checks),
            knowledge_base=version,
            skipped=tuple(str(c) for c in later),
            skipped_reason="fix the syntax errors first",
        )

    locator = Locator((f.display, f.text) for f in ontology)
    graph, merge_seconds = _timed(lambda: merge(ontology))

    shacl, seconds = _timed(lambda: _check_shacl(where, graph, locator))
    checks.append(CheckResult.of(Check.SHACL, seconds + merge_seconds, shacl))

    from her2kg.validation.owl_profile import check_owl_profile

    profile, seconds = _timed(lambda: check_owl_profile(graph, locator.find))
    checks.append(CheckResult.of(Check.PROFILE, seconds, profile))

    skipped: tuple[str, ...] = ()
    if owl and any(f.severity is Severity.ERROR for f in profile):
        skipped = (str(Check.OWL),)
    elif owl:
        from her2kg.validation.owl_check import check_owl

        found, seconds = _timed(lambda: check_owl(graph, locator.find))
        checks.append(CheckResult.of(Check.OWL, seconds, found))

    qc, seconds = _timed(lambda: _check_qc(where, ontology, locator))
    checks.append(CheckResult.of(Check.QC, seconds, qc))

    formatting, seconds = _timed(lambda: _check_format(loaded.files))
    checks.append(CheckResult.of(Check.FORMAT, seconds, formatting))
    return ValidationReport(
        checks=tuple(checks),
        knowledge_base=version,
        skipped=skipped,
        skipped_reason="HermiT reasons only over OWL 2 DL: fix the profile findings first" if skipped else "",
    )


def _check_imports(where: Layout, files: list[LoadedFile]) -> tuple[Finding, ...]:
    from her2kg.validation.imports import check_imports
    from her2kg.validation.model import Severity
    from her2kg.workbench.catalog import CATALOG, catalog_xml

    modules = where.ontology_files()[1:]
    found = list(check_imports(where.header, modules, files, where.display(where.header)))
    for path in sorted(where.modules_dir.iterdir()):
        if path.is_file() and path.suffix in (".owl", ".owx", ".rdf", ".xml"):
            found.append(Finding(str(Check.IMPORTS), Severity.ERROR, where.display(path), 0, "",
                                 f"is not loaded: the knowledge base reads only .ttl modules; convert it with "
                                 f"`her2kg fmt {where.display(path)}` and import it in the header"))
    catalog = where.ontology_dir / CATALOG
    if not catalog.is_file() or catalog.read_text(encoding="utf-8") != catalog_xml(where.ontology_dir):
        found.append(Finding(str(Check.IMPORTS), Severity.ERROR, where.display(catalog), 0, "",
                             "does not map every import IRI to its module file (Protégé and owlready2 would try the "
                             "network); run `her2kg fmt` to regenerate it"))
    return tuple(found)


def _check_shacl(where: Layout, graph: Graph, locator: Locator) -> tuple[Finding, ...]:
    """The knowledge shapes over the merged graph, and every shapes file's her2kg terms declared."""
    from her2kg.turtle_format import TurtleSyntaxError, parse_turtle
    from her2kg.validation.locate import SHAPES_BASE, curie
    from her2kg.validation.model import Severity
    from her2kg.validation.shacl import run_shapes, undeclared_terms
    from her2kg.vocabulary import BASE, PATIENT_BASE, RULE_BASE

    findings: list[Finding] = []
    knowledge_shapes: Graph | None = None
    for path in where.shape_files():
        shown = where.display(path)
        try:
            text = path.read_text(encoding="utf-8")
            shapes = parse_turtle(text, source=shown).graph
        except (OSError, TurtleSyntaxError) as exc:
            findings.append(Finding(str(Check.SHACL), Severity.ERROR, shown, 0, "", f"cannot read the shapes: {exc}"))
            continue
        if path.name == KNOWLEDGE_SHAPES:
            knowledge_shapes = shapes
        for iri in undeclared_terms(shapes, graph, BASE, (SHAPES_BASE, PATIENT_BASE, RULE_BASE)):
            line = next((n for n, row in enumerate(text.splitlines(), 1) if curie(iri) in row or iri in row), 0)
            findings.append(
                Finding(
                    str(Check.SHACL),
                    Severity.ERROR,
                    shown,
                    line,
                    curie(iri),
                    "the shapes name a her2kg term that the knowledge base does not declare; "
                    "fix the spelling or declare the term",
                )
            )
    if knowledge_shapes is None:
        shown = where.display(where.shapes_dir / KNOWLEDGE_SHAPES)
        findings.append(
            Finding(
                str(Check.SHACL), Severity.ERROR, shown, 0, "", f"{shown} is missing; restore it from the repository"
            )
        )
        return tuple(findings)
    return tuple(findings) + run_shapes(graph, knowledge_shapes, locator.find)


def _check_qc(where: Layout, ontology: list[LoadedFile], locator: Locator) -> tuple[Finding, ...]:
    from her2kg.resources import queries_dir
    from her2kg.validation.derivable import check_derivable
    from her2kg.validation.qc import knowledge_store, qc_files, run_qc

    store = knowledge_store([f.text for f in ontology])
    rules_dir = where.qc_dir.parent / "rules"
    if not rules_dir.is_dir():
        rules_dir = queries_dir() / "rules"
    qc = run_qc(store, qc_files(where.qc_dir), locator.find, where.display)
    return qc + check_derivable(store, rules_dir, locator.find)


def _check_format(files: tuple[LoadedFile, ...]) -> tuple[Finding, ...]:
    from her2kg.validation.formatting import check_format

    return check_format(files)


def read_version(header: LoadedFile | None, root: Path | None = None) -> KnowledgeBaseVersion | None:
    """The version the header declares, with the folder read and the digest of its files."""
    if header is None:
        return None
    from rdflib import URIRef

    from her2kg.resources import knowledge_base_identity

    graph = header.parsed.graph
    subject = URIRef(ONTOLOGY_IRI)
    owl = PREFIXES["owl"]
    version = graph.value(subject, URIRef(owl + "versionInfo"))
    version_iri = graph.value(subject, URIRef(owl + "versionIRI"))
    identity = knowledge_base_identity(root)
    return KnowledgeBaseVersion(
        iri=ONTOLOGY_IRI,
        version=str(version) if version is not None else "",
        version_iri=str(version_iri) if version_iri is not None else "",
        folder=identity.folder,
        digest=identity.digest,
    )


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = work()
    return result, time.perf_counter() - started
