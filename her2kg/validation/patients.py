"""`validate_patient_files`: patient Turtle files against `shapes/patient.ttl` and the input rules.

Two checks, each with one definition shared with `recommend`:

- `shacl`: the structure of each file (identifiers, datatypes, cardinalities, classes), over its
  triples plus the knowledge base (so that `sh:class h:Drug` and subclass targets see the drug
  and observation hierarchies);
- `rules`: the input-constraint errors (`her2kg.notices.INPUT_CONSTRAINTS`: contradictory HER2
  results, an end before a start, an LVEF outside 0-100 %, an ill-formed date) that `her2kg
  recommend` gives for the same files, from the same notice rules of `queries/rules`, run
  set-at-a-time over all files. Missing input (no HER2 result, say) is not a constraint of a
  file: `recommend` reports it.
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
from her2kg.vocabulary import patient_iri

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
    started = time.perf_counter()
    found = rule_findings([loaded.path for loaded in patients.files], root=where.root)
    locators = {loaded.display: Locator([(loaded.display, loaded.text)]) for loaded in patients.files}
    located = tuple(_at_patient_line(f, locators.get(f.file)) for f in found)
    rules = CheckResult.of(Check.RULES, time.perf_counter() - started, located)
    return ValidationReport(checks=(syntax, shacl, rules), knowledge_base=version)


def _at_patient_line(finding: Finding, locator: Locator | None) -> Finding:
    """The finding placed on the line where its patient is described (when found)."""
    if locator is None:
        return finding
    line = locator.find(patient_iri(finding.term)).line
    return Finding(finding.check, finding.severity, finding.file, line, finding.term, finding.message)


def rule_findings(paths: Iterable[Path], *, root: Path | None = None) -> tuple[Finding, ...]:
    """The input-constraint errors `recommend` reports for these files, as findings (one run for all)."""
    from datetime import date

    from her2kg.api import KnowledgeBase, Patient, recommend_many
    from her2kg.notices import INPUT_CONSTRAINTS

    files = list(paths)
    if not files:
        return ()
    kb = KnowledgeBase(root) if root is not None else None
    reports = recommend_many([Patient.from_path(f) for f in files], as_of=date.today(), kb=kb)
    findings: list[Finding] = []
    for report in reports:
        for notice in report.errors:
            if notice.code not in INPUT_CONSTRAINTS:
                continue
            findings.append(
                Finding(
                    check=str(Check.RULES),
                    severity=notice.severity,
                    file=report.source,
                    line=0,
                    term=report.patient,
                    message=f"{notice.code}" + (f" ({notice.field})" if notice.field else "") + f": {notice.message}",
                )
            )
    return tuple(findings)


def _in_file(finding: Finding, file: str) -> Finding:
    return Finding(finding.check, finding.severity, file, finding.line, finding.term, finding.message)
