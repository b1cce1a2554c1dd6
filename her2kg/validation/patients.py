"""`validate_patient_files`: patient Turtle files against `shapes/patient.ttl`.

Each file is checked on its own, over its triples plus the knowledge base (so that `sh:class
h:Drug` and subclass targets see the drug and observation hierarchies).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from her2kg.validation.knowledge_base import read_version
from her2kg.validation.layout import layout
from her2kg.validation.loading import load_turtle_files, merge
from her2kg.validation.locate import Locator
from her2kg.validation.model import Check, CheckResult, Finding, Severity, ValidationReport

PATIENT_SHAPES = "patient.ttl"


def validate_patient_files(paths: Iterable[Path], *, root: Path | None = None) -> ValidationReport:
    """Check patient files: syntax first, then the patient shapes over file + knowledge base."""
    from rdflib import Graph

    from her2kg.turtle_format import TurtleSyntaxError, parse_turtle
    from her2kg.validation.shacl import run_shapes

    where = layout(root)
    files = list(paths)
    started = time.perf_counter()
    patients = load_turtle_files(files, str)
    syntax = CheckResult.of(Check.SYNTAX, time.perf_counter() - started, patients.findings)

    started = time.perf_counter()
    knowledge = load_turtle_files(where.ontology_files(), where.display, strict=False)
    by_path = {f.path: f for f in knowledge.files}
    version = read_version(by_path.get(where.header), where.root)
    if knowledge.findings:
        broken = tuple(
            Finding(f.check, f.severity, f.file, f.line, f.term, f"the knowledge base does not load: {f.message}")
            for f in knowledge.findings
        )
        return ValidationReport(
            checks=(syntax, CheckResult.of(Check.SHACL, time.perf_counter() - started, broken)), knowledge_base=version
        )
    kb = merge(list(knowledge.files))
    shapes_path = where.shapes_dir / PATIENT_SHAPES
    try:
        shapes = parse_turtle(shapes_path.read_text(encoding="utf-8"), source=where.display(shapes_path)).graph
    except (OSError, TurtleSyntaxError) as exc:
        problem = Finding(
            str(Check.SHACL),
            Severity.ERROR,
            where.display(shapes_path),
            0,
            "",
            f"cannot read the patient shapes: {exc}",
        )
        return ValidationReport(checks=(syntax, CheckResult.of(Check.SHACL, 0.0, (problem,))), knowledge_base=version)

    findings: list[Finding] = []
    for loaded in patients.files:
        data = Graph(bind_namespaces="none")
        data += kb
        data += loaded.parsed.graph
        locator = Locator([(loaded.display, loaded.text)])
        for finding in run_shapes(data, shapes, locator.find):
            findings.append(finding if finding.file else _in_file(finding, loaded.display))
    shacl = CheckResult.of(Check.SHACL, time.perf_counter() - started, tuple(findings))
    return ValidationReport(checks=(syntax, shacl), knowledge_base=version)


def _in_file(finding: Finding, file: str) -> Finding:
    return Finding(finding.check, finding.severity, file, finding.line, finding.term, finding.message)
