"""The imports check: the header imports every module once, and every import is a local file.

Module IRI `https://w3id.org/her2kg/ontology/<name>` <-> file `ontology/modules/<name>.ttl`.
Nothing is fetched: an import without a local file is a finding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from her2kg.validation.loading import LoadedFile
from her2kg.validation.locate import curie
from her2kg.validation.model import Check, Finding, Severity
from her2kg.vocabulary import ONTOLOGY_IRI, PREFIXES

_OWL = PREFIXES["owl"]
MODULE_BASE = ONTOLOGY_IRI + "/"


def module_iri(path: Path) -> str:
    return MODULE_BASE + path.stem


def check_imports(
    header: Path, modules: Sequence[Path], files: Sequence[LoadedFile], display: str
) -> tuple[Finding, ...]:
    """Compare the header's owl:imports with the module files; `display` names the header."""
    from rdflib import RDF, URIRef

    by_path = {loaded.path: loaded for loaded in files}
    header_file = by_path.get(header)
    if header_file is None:
        return (_finding(display, 0, "", "the ontology header did not parse; fix its syntax first"),)
    findings: list[Finding] = []
    graph = header_file.parsed.graph
    imports_predicate = URIRef(_OWL + "imports")
    ontology_class = URIRef(_OWL + "Ontology")
    if (URIRef(ONTOLOGY_IRI), RDF.type, ontology_class) not in graph:
        findings.append(
            _finding(display, 1, ONTOLOGY_IRI, f"the header does not declare <{ONTOLOGY_IRI}> a owl:Ontology")
        )
    imported = [str(o) for o in graph.objects(URIRef(ONTOLOGY_IRI), imports_predicate)]
    imported_lines = _import_lines(header_file.text)
    expected = {module_iri(path): path for path in modules}
    for iri in sorted(set(imported)):
        if iri not in expected:
            findings.append(
                _finding(
                    display,
                    imported_lines.get(iri, 0),
                    iri,
                    f"imports <{iri}>, which has no local file ontology/modules/{iri.rsplit('/', 1)[-1]}.ttl; "
                    "add the module file or remove the import (imports are never fetched)",
                )
            )
    for iri, count in sorted(_textual_counts(header_file.text, expected).items()):
        if count > 1:
            findings.append(
                _finding(display, imported_lines.get(iri, 0), iri, f"imports <{iri}> {count} times; keep one")
            )
    for iri, path in sorted(expected.items()):
        if iri not in imported:
            findings.append(
                _finding(
                    display,
                    0,
                    iri,
                    f"does not import the module file {path.name}; add `owl:imports <{iri}>` to the header",
                )
            )
    seen: dict[str, str] = {}
    for path in modules:
        loaded = by_path.get(path)
        if loaded is None:
            continue
        declared = sorted(str(s) for s in loaded.parsed.graph.subjects(RDF.type, ontology_class))
        iri = module_iri(path)
        if declared != [iri]:
            names = ", ".join(f"<{d}>" for d in declared) or "no owl:Ontology"
            findings.append(
                _finding(
                    loaded.display,
                    0,
                    iri,
                    f"declares {names}; a module file declares exactly one owl:Ontology, <{iri}>, named after the file",
                )
            )
        for other in loaded.parsed.graph.objects(None, imports_predicate):
            if str(other) not in expected:
                findings.append(
                    _finding(
                        loaded.display,
                        0,
                        str(other),
                        f"imports <{other}>, which has no local module file; remove the import",
                    )
                )
        for d in declared:
            if d in seen and seen[d] != loaded.display:
                findings.append(
                    _finding(
                        loaded.display,
                        0,
                        d,
                        f"<{d}> is also declared in {seen[d]}; each module IRI belongs to one file",
                    )
                )
            seen.setdefault(d, loaded.display)
    return tuple(findings)


def _import_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        start = line.find("<" + MODULE_BASE)
        if start >= 0:
            iri = line[start + 1 : line.index(">", start)]
            lines.setdefault(iri, number)
    return lines


def _textual_counts(text: str, expected: dict[str, Path]) -> dict[str, int]:
    """How often each module IRI is written in the header (RDF would merge duplicates silently)."""
    return {iri: text.count("<" + iri + ">") for iri in expected}


def _finding(file: str, line: int, iri: str, message: str) -> Finding:
    return Finding(
        check=str(Check.IMPORTS),
        severity=Severity.ERROR,
        file=file,
        line=line,
        term=curie(iri) if iri else "",
        message=message,
    )
