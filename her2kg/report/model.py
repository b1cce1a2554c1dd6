"""Frozen dataclasses of the report, mirroring the JSON contract (`to_json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from her2kg.notices import Notice


@dataclass(frozen=True)
class Source:
    id: str
    label: str
    pmid: str = ""
    doi: str = ""
    url: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"id": self.id, "label": self.label}
        for key in ("pmid", "doi", "url"):
            value = getattr(self, key)
            if value:
                out[key] = value
        return out


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    sources: tuple[Source, ...] = ()
    statements: tuple[str, ...] = ()
    basis: str = ""  # the knowledge-base term behind the reason, e.g. a recommendation CURIE

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "text": self.text, "sources": [s.to_json() for s in self.sources]}
        if self.statements:
            out["statements"] = list(self.statements)
        if self.basis:
            out["basis"] = self.basis
        return out


@dataclass(frozen=True)
class Drug:
    id: str
    label: str
    ncit: str
    rxnorm: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"id": self.id, "label": self.label, "ncit": self.ncit}
        if self.rxnorm:
            out["rxnorm"] = self.rxnorm
        return out


@dataclass(frozen=True)
class Component:
    """One drug, or a choice between drugs (`options` with a `label` such as 'taxane')."""

    drug: Drug | None = None
    options: tuple[Drug, ...] = ()
    label: str = ""
    step: int = 1
    dosing: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any]
        if self.drug is not None:
            out = {"drug": self.drug.to_json()}
        else:
            out = {"any_of": [d.to_json() for d in self.options], "label": self.label}
        out["step"] = self.step
        if self.dosing:
            out["dosing"] = self.dosing
        return out


@dataclass(frozen=True)
class Evidence:
    quality: str
    strength: str
    scheme: str

    def to_json(self) -> dict[str, str]:
        return {"quality": self.quality, "strength": self.strength, "scheme": self.scheme}


@dataclass(frozen=True)
class Regimen:
    id: str
    label: str
    components: tuple[Component, ...]
    preference: str = ""  # permitted only
    evidence: Evidence | None = None
    sources: tuple[Source, ...] = ()
    because: tuple[Reason, ...] = ()  # permitted: why it is recommended here
    reasons: tuple[Reason, ...] = ()  # forbidden: why it is excluded here

    def to_json(self, *, permitted: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "label": self.label,
            "components": [c.to_json() for c in self.components],
        }
        if permitted:
            out["preference"] = self.preference
            if self.evidence is not None:
                out["evidence"] = self.evidence.to_json()
            out["sources"] = [s.to_json() for s in self.sources]
            out["because"] = [r.to_json() for r in self.because]
        else:
            out["sources"] = [s.to_json() for s in self.sources]
            out["reasons"] = [r.to_json() for r in self.reasons]
        return out


@dataclass(frozen=True)
class MonitoringItem:
    test_label: str
    loinc: str
    schedule: str
    because: tuple[Reason, ...] = ()
    sources: tuple[Source, ...] = ()

    def to_json(self) -> dict[str, Any]:
        test: dict[str, str] = {"label": self.test_label}
        if self.loinc:
            test["loinc"] = self.loinc
        return {
            "test": test,
            "schedule": self.schedule,
            "because": [r.to_json() for r in self.because],
            "sources": [s.to_json() for s in self.sources],
        }


@dataclass(frozen=True)
class ProposedPlan:
    id: str
    components: tuple[Component, ...]
    verdict: str  # permitted | forbidden | not-recommended
    reasons: tuple[Reason, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "components": [c.to_json() for c in self.components],
            "verdict": self.verdict,
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    text: str
    rule: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"code": self.code, "text": self.text}
        if self.rule:
            out["rule"] = self.rule
        return out


@dataclass(frozen=True)
class Situation:
    her2: str = "unknown"
    hormone_receptor: str = "unknown"
    setting: str = "unknown"
    phase: str = "unknown"
    line: int | None = None
    findings: tuple[Finding, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "her2": self.her2,
            "hormone_receptor": self.hormone_receptor,
            "setting": self.setting,
            "phase": self.phase,
        }
        if self.line is not None:
            out["line"] = self.line
        out["findings"] = [f.to_json() for f in self.findings]
        return out


@dataclass(frozen=True)
class KnowledgeBaseRef:
    version: str
    iri: str

    def to_json(self) -> dict[str, str]:
        return {"version": self.version, "iri": self.iri}


@dataclass(frozen=True)
class Report:
    """Everything her2kg concludes about one patient. `ok` is False when there are errors."""

    patient: str
    knowledge_base: KnowledgeBaseRef
    as_of: str
    source: str = ""
    situation: Situation = field(default_factory=Situation)
    permitted: tuple[Regimen, ...] = ()
    forbidden: tuple[Regimen, ...] = ()
    monitoring: tuple[MonitoringItem, ...] = ()
    proposed: tuple[ProposedPlan, ...] = ()
    warnings: tuple[Notice, ...] = ()
    errors: tuple[Notice, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "patient": self.patient,
            "knowledge_base": self.knowledge_base.to_json(),
            "as_of": self.as_of,
        }
        if self.source:
            out["source"] = self.source
        out["situation"] = self.situation.to_json()
        out["permitted"] = [] if self.errors else [r.to_json(permitted=True) for r in self.permitted]
        out["forbidden"] = [r.to_json(permitted=False) for r in self.forbidden]
        out["monitoring"] = [m.to_json() for m in self.monitoring]
        out["proposed"] = [p.to_json() for p in self.proposed]
        out["warnings"] = [w.as_warning() for w in self.warnings]
        out["errors"] = [e.as_error() for e in self.errors]
        return out
