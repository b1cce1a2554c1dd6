"""The format check: every Turtle file of ontology/ and shapes/ equals its canonical form."""

from __future__ import annotations

from collections.abc import Sequence

from her2kg.turtle_format import format_graph
from her2kg.validation.loading import LoadedFile
from her2kg.validation.model import Check, Finding, Severity


def check_format(files: Sequence[LoadedFile]) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for loaded in files:
        canonical = format_graph(loaded.parsed.graph, declared=dict(loaded.parsed.declared))
        if canonical == loaded.text:
            continue
        findings.append(
            Finding(
                check=str(Check.FORMAT),
                severity=Severity.ERROR,
                file=loaded.display,
                line=_first_difference(loaded.text, canonical),
                term="",
                message=f"not in canonical Turtle form; run `her2kg fmt {loaded.display}` (comments are not kept)",
            )
        )
    return tuple(findings)


def _first_difference(text: str, canonical: str) -> int:
    for number, (a, b) in enumerate(zip(text.splitlines(), canonical.splitlines(), strict=False), start=1):
        if a != b:
            return number
    return min(len(text.splitlines()), len(canonical.splitlines())) + 1
