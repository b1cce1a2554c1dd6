"""Render a ValidationReport as text lines or as the JSON document of `--format json`."""

from __future__ import annotations

import json

from her2kg.validation.model import Finding, Severity, ValidationReport


def finding_line(finding: Finding) -> str:
    """`file:line: [check] term: message` (the place and the term are left out when unknown)."""
    place = ""
    if finding.file:
        place = f"{finding.file}:{finding.line}: " if finding.line else f"{finding.file}: "
    level = "" if finding.severity is Severity.ERROR else f"{finding.severity} "
    term = f"{finding.term}: " if finding.term else ""
    return f"{place}[{finding.check}] {level}{term}{finding.message}"


def render_text(report: ValidationReport) -> str:
    lines = [finding_line(f) for f in report.findings]
    errors = report.count(Severity.ERROR)
    warnings = report.count(Severity.WARNING)
    timings = ", ".join(f"{c.check} {c.seconds:.2f} s" for c in report.checks)
    version = (
        f"her2kg {report.knowledge_base.version}; " if report.knowledge_base and report.knowledge_base.version else ""
    )
    verdict = "ok" if report.ok else "failed"
    counts = f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"
    where = ""
    if report.knowledge_base is not None and report.knowledge_base.folder:
        where = f"; knowledge base {report.knowledge_base.folder} ({report.knowledge_base.digest})"
    lines.append(f"{verdict}: {version}{counts} ({timings}){where}")
    if report.skipped:
        lines.append(f"skipped: {', '.join(report.skipped)} ({report.skipped_reason})")
    return "\n".join(lines) + "\n"


def render_json(report: ValidationReport) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
