"""The results of validation: frozen records, no behaviour beyond summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from her2kg.knowledge_version import KnowledgeBaseVersion
from her2kg.notices import Severity

__all__ = ["Check", "CheckResult", "Finding", "KnowledgeBaseVersion", "Severity", "ValidationReport"]


class Check(StrEnum):
    """The checks, in the order they run."""

    SYNTAX = "syntax"
    IMPORTS = "imports"
    SHACL = "shacl"
    PROFILE = "profile"
    OWL = "owl"
    QC = "qc"
    FORMAT = "format"
    RULES = "rules"  # patient files: the input notice rules that `recommend` runs


@dataclass(frozen=True)
class Finding:
    """One problem: where it is (file, 1-based line, 0 when unknown), which term, and what to do."""

    check: str
    severity: Severity
    file: str
    line: int
    term: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": str(self.severity),
            "file": self.file,
            "line": self.line,
            "term": self.term,
            "message": self.message,
        }


@dataclass(frozen=True)
class CheckResult:
    """One check: whether it passed (no error findings), how long it took, what it found."""

    check: str
    ok: bool
    seconds: float
    findings: tuple[Finding, ...]

    @classmethod
    def of(cls, check: Check, seconds: float, findings: tuple[Finding, ...]) -> CheckResult:
        ok = not any(f.severity is Severity.ERROR for f in findings)
        return cls(check=str(check), ok=ok, seconds=seconds, findings=findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class ValidationReport:
    """Every check that ran, the knowledge-base version, and the checks skipped (with why)."""

    checks: tuple[CheckResult, ...]
    knowledge_base: KnowledgeBaseVersion | None = None
    skipped: tuple[str, ...] = field(default=())
    skipped_reason: str = ""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for c in self.checks for f in c.findings)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": self.ok,
            "knowledge_base": self.knowledge_base.to_dict() if self.knowledge_base else None,
            "checks": [c.to_dict() for c in self.checks],
        }
        if self.skipped:
            data["skipped"] = {"checks": list(self.skipped), "reason": self.skipped_reason}
        return data
