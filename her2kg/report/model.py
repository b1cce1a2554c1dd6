"""Frozen dataclasses of the report; `to_json` builds the JSON declared in `json_shape`.

`Report.build` is the one place where the safety rule of the report is applied: when a report
has errors, nothing is permitted, no proposed plan is judged and there is no monitoring for
regimens that are not permitted. `Report` refuses to exist otherwise, so the JSON, the text
report and the CDS cards only render what the model holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TypeVar, cast

from her2kg.knowledge_version import KnowledgeBaseVersion
from her2kg.notices import Notice
from her2kg.report.json_shape import (
    ComponentJson,
    DrugJson,
    EndedByValue,
    EpisodeJson,
    ErrorJson,
    EvidenceJson,
    FindingJson,
    HistoricalConditionJson,
    MonitoringJson,
    MonitoringTestJson,
    PhaseValue,
    PreferenceValue,
    ProposedJson,
    ReasonJson,
    RecurrenceIntervalJson,
    RegimenJson,
    ReportJson,
    SituationJson,
    SourceJson,
    VerdictValue,
    WarningJson,
)


class Verdict(StrEnum):
    """The verdict on a proposed plan (contract section 2, and `not-covered` of section 5)."""

    FORBIDDEN = "forbidden"
    NOT_RECOMMENDED = "not-recommended"
    NOT_COVERED = "not-covered"
    PERMITTED = "permitted"
    NOT_JUDGED = "not-judged"  # the report has errors: the plan was not judged


class Preference(StrEnum):
    PREFERRED = "preferred"
    ALTERNATIVE = "alternative"
    MAY_CONSIDER = "may-consider"


class EpisodePhase(StrEnum):
    NEOADJUVANT = "neoadjuvant"
    ADJUVANT = "adjuvant"
    METASTATIC = "metastatic"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


class EndedBy(StrEnum):
    COMPLETED = "completed"
    PROGRESSION = "progression"
    TOXICITY = "toxicity"
    ONGOING = "ongoing"
    UNKNOWN = "unknown"


HISTORY_INCOMPLETE = "therapy-history-incomplete"
PLAN_NOT_COVERED = "plan-not-covered"
TRUST_CODES = frozenset(
    {
        HISTORY_INCOMPLETE,
        "fhir-unmapped-known-drug",
        "fhir-unknown-code",
        "fhir-unknown-code-system",
        "fhir-no-code",
        "fhir-unreadable-entry",
        "fhir-unknown-phase",
        "ignored-triples",
    }
)
"""Warning codes that change how far the report can be trusted: listed first, after errors."""

_Shape = TypeVar("_Shape", RegimenJson, EpisodeJson, SituationJson, ReportJson)


@dataclass(frozen=True)
class Source:
    id: str
    label: str
    pmid: str = ""
    doi: str = ""
    url: str = ""

    def to_json(self) -> SourceJson:
        out: SourceJson = {"id": self.id, "label": self.label}
        if self.pmid:
            out["pmid"] = self.pmid
        if self.doi:
            out["doi"] = self.doi
        if self.url:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class Reason:
    rule: str
    text: str
    sources: tuple[Source, ...] = ()
    statements: tuple[str, ...] = ()
    basis: str = ""  # the knowledge-base term behind the reason, e.g. a recommendation CURIE

    def to_json(self) -> ReasonJson:
        out: ReasonJson = {"rule": self.rule, "text": self.text, "sources": [s.to_json() for s in self.sources]}
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

    def to_json(self) -> DrugJson:
        out: DrugJson = {"id": self.id, "label": self.label, "ncit": self.ncit}
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

    @property
    def drugs(self) -> tuple[Drug, ...]:
        return (self.drug,) if self.drug is not None else self.options

    def to_json(self) -> ComponentJson:
        out: ComponentJson
        if self.drug is not None:
            out = {"drug": self.drug.to_json(), "step": self.step}
        else:
            out = {"any_of": [d.to_json() for d in self.options], "label": self.label, "step": self.step}
        if self.dosing:
            out["dosing"] = self.dosing
        return out


@dataclass(frozen=True)
class Evidence:
    quality: str
    strength: str
    scheme: str
    quality_rank: int = 0  # 1 = best, from the knowledge base's h:rank
    strength_rank: int = 0

    def to_json(self) -> EvidenceJson:
        return {"quality": self.quality, "strength": self.strength, "scheme": self.scheme}


@dataclass(frozen=True)
class Regimen:
    id: str
    label: str
    components: tuple[Component, ...]
    preference: Preference | None = None  # permitted only
    preference_rank: int = 0  # permitted only: 1 = preferred, from the knowledge base
    evidence: Evidence | None = None
    sources: tuple[Source, ...] = ()
    because: tuple[Reason, ...] = ()  # permitted: why it is recommended here
    reasons: tuple[Reason, ...] = ()  # forbidden: why it is excluded here

    @property
    def drug_ids(self) -> frozenset[str]:
        return frozenset(d.id for c in self.components for d in c.drugs)

    @property
    def rank(self) -> tuple[int, int, int, str]:
        """Order of permitted regimens: preference, then evidence quality, then strength, then label."""
        ev = self.evidence
        return (self.preference_rank, ev.quality_rank if ev else 99, ev.strength_rank if ev else 99, self.label)

    def to_json(self, *, permitted: bool) -> RegimenJson:
        out: RegimenJson = {
            "id": self.id,
            "label": self.label,
            "components": [c.to_json() for c in self.components],
            "sources": [s.to_json() for s in self.sources],
        }
        if permitted:
            out["preference"] = cast(PreferenceValue, str(self.preference) if self.preference else "")
            if self.evidence is not None:
                out["evidence"] = self.evidence.to_json()
            out["because"] = [r.to_json() for r in self.because]
        else:
            out["reasons"] = [r.to_json() for r in self.reasons]
        return _declared_order(RegimenJson, out)


@dataclass(frozen=True)
class MonitoringNeed:
    """One monitoring requirement triggered by one drug (`drug` is the drug's id)."""

    drug: str
    schedule: str
    reason: Reason
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class MonitoringItem:
    test_label: str
    loinc: str
    needs: tuple[MonitoringNeed, ...]

    @property
    def schedule(self) -> str:
        return "; ".join(sorted({n.schedule for n in self.needs}))

    @property
    def because(self) -> tuple[Reason, ...]:
        return tuple(n.reason for n in self.needs)

    @property
    def sources(self) -> tuple[Source, ...]:
        seen: dict[str, Source] = {}
        for need in self.needs:
            for s in need.sources:
                seen.setdefault(s.id, s)
        return tuple(seen.values())

    def restricted_to(self, drugs: frozenset[str]) -> MonitoringItem | None:
        """The item with only the needs triggered by `drugs`, or None when none is left."""
        kept = tuple(n for n in self.needs if n.drug in drugs)
        return replace(self, needs=kept) if kept else None

    def to_json(self) -> MonitoringJson:
        test: MonitoringTestJson = {"label": self.test_label}
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
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    @property
    def drug_ids(self) -> frozenset[str]:
        return frozenset(d.id for c in self.components for d in c.drugs)

    @property
    def label(self) -> str:
        return " + ".join(c.drug.label if c.drug else c.label for c in self.components) or "the proposed plan"

    def not_judged(self) -> ProposedPlan:
        return replace(self, verdict=Verdict.NOT_JUDGED, reasons=())

    def to_json(self) -> ProposedJson:
        return {
            "id": self.id,
            "components": [c.to_json() for c in self.components],
            "verdict": cast(VerdictValue, str(self.verdict)),
            "reasons": [r.to_json() for r in self.reasons],
        }


@dataclass(frozen=True)
class Finding:
    code: str
    text: str
    rule: str = ""
    bears_on: tuple[str, ...] = ()  # decision-point phases it matters to; empty: every situation

    def relevant_at(self, phase: str) -> bool:
        return not self.bears_on or phase in self.bears_on

    def to_json(self) -> FindingJson:
        out: FindingJson = {"code": self.code, "text": self.text}
        if self.rule:
            out["rule"] = self.rule
        return out


@dataclass(frozen=True)
class Episode:
    """A treatment episode the rules derived from the record (contract section 5)."""

    drugs: tuple[Drug, ...]
    phase: EpisodePhase
    regimen: str | None = None  # her2kg id of the matching knowledge-base regimen
    line: int | None = None
    start: str | None = None
    end: str | None = None  # None: ongoing or not recorded
    ended_by: EndedBy = EndedBy.UNKNOWN
    rule: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "phase", EpisodePhase(self.phase))
        object.__setattr__(self, "ended_by", EndedBy(self.ended_by))

    def to_json(self) -> EpisodeJson:
        out: EpisodeJson = {
            "drugs": [d.to_json() for d in self.drugs],
            "regimen": self.regimen,
            "phase": cast(PhaseValue, str(self.phase)),
            "start": self.start,
            "end": self.end,
            "ended_by": cast(EndedByValue, str(self.ended_by)),
        }
        if self.line is not None:
            out["line"] = self.line
        if self.rule:
            out["rule"] = self.rule
        return _declared_order(EpisodeJson, out)


@dataclass(frozen=True)
class HistoricalCondition:
    condition: str  # label of the condition's class in the knowledge base
    status: str  # clinical status code: resolved, inactive, remission
    onset: str | None = None
    abated: str | None = None

    def to_json(self) -> HistoricalConditionJson:
        return {"condition": self.condition, "status": self.status, "onset": self.onset, "abated": self.abated}


@dataclass(frozen=True)
class RecurrenceInterval:
    """Whole calendar months from the end of (neo)adjuvant therapy to metastatic recurrence."""

    months: int
    threshold_months: int
    early: bool

    @property
    def phrase(self) -> str:
        """The interval in words that agree with the comparison the rule made at the boundary."""
        m, t = self.months, self.threshold_months
        unit = "month" if m == 1 else "months"
        if self.early and m < t:
            return f"{m} {unit} to recurrence, under the {t}-month threshold: early"
        if self.early and m == t:
            return f"{m} months to the day, at most the {t}-month threshold: early"
        if not self.early and m == t:
            return f"{m} whole months and some days, over the {t}-month threshold: late"
        if not self.early and m > t:
            return f"{m} months to recurrence, over the {t}-month threshold: late"
        return f"{m} whole {unit} to recurrence, threshold {t} months: {'early' if self.early else 'late'}"

    def to_json(self) -> RecurrenceIntervalJson:
        return {"months": self.months, "threshold_months": self.threshold_months, "early": self.early}


@dataclass(frozen=True)
class Situation:
    her2: str = "unknown"
    hormone_receptor: str = "unknown"
    setting: str = "unknown"
    phase: str = "unknown"
    line: int | None = None
    findings: tuple[Finding, ...] = ()
    history: tuple[Episode, ...] = ()
    history_complete: bool | None = None  # None: the record was not reasoned over (unreadable input)
    condition_history: tuple[HistoricalCondition, ...] = ()
    recurrence: RecurrenceInterval | None = None

    def to_json(self) -> SituationJson:
        out: SituationJson = {
            "her2": self.her2,
            "hormone_receptor": self.hormone_receptor,
            "setting": self.setting,
            "phase": self.phase,
            "findings": [f.to_json() for f in self.findings],
            "history": [e.to_json() for e in self.history],
            "condition_history": [c.to_json() for c in self.condition_history],
        }
        if self.line is not None:
            out["line"] = self.line
        if self.history_complete is not None:
            out["history_complete"] = self.history_complete
        if self.recurrence is not None:
            out["recurrence_interval"] = self.recurrence.to_json()
        return _declared_order(SituationJson, out)


KnowledgeBaseRef = KnowledgeBaseVersion  # the one knowledge-base version record (her2kg.knowledge_version)


def _warning_rank(notice: Notice) -> int:
    if notice.code == HISTORY_INCOMPLETE:
        return 0
    return 1 if notice.code in TRUST_CODES else 2


class UnsafeReportError(ValueError):
    """A report that breaks the safety rule of the report model (a programming error)."""


@dataclass(frozen=True)
class Report:
    """Everything her2kg concludes about one patient. `ok` is False when there are errors.

    Build it with `Report.build`, which applies the safety rule; constructing a report that
    breaks it raises `UnsafeReportError`.
    """

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

    def __post_init__(self) -> None:
        if not self.errors:
            return
        if self.permitted:
            raise UnsafeReportError("a report with errors cannot permit a regimen; build it with Report.build")
        judged = [p.id for p in self.proposed if p.verdict is not Verdict.NOT_JUDGED]
        if judged:
            raise UnsafeReportError(f"a report with errors cannot judge plans {judged}; build it with Report.build")
        if self.monitoring:
            raise UnsafeReportError("a report with errors cannot ask for monitoring; build it with Report.build")

    @classmethod
    def build(
        cls,
        *,
        patient: str,
        knowledge_base: KnowledgeBaseRef,
        as_of: str,
        source: str = "",
        situation: Situation | None = None,
        permitted: Iterable[Regimen] = (),
        forbidden: Iterable[Regimen] = (),
        monitoring: Iterable[MonitoringItem] = (),
        proposed: Iterable[ProposedPlan] = (),
        warnings: Iterable[Notice] = (),
        errors: Iterable[Notice] = (),
    ) -> Report:
        """The report, with the safety rule applied once, here.

        - errors: nothing permitted; no proposed plan judged (verdict `not-judged`, no reasons);
        - monitoring only for drugs of permitted regimens and of judged plans that are not
          forbidden;
        - findings only when they bear on the decision point found;
        - permitted regimens ordered by preference, evidence quality, strength, then label;
        - warnings that change how far the report can be trusted first.
        """
        situation = situation or Situation()
        errors = tuple(errors)
        permitted = tuple(sorted(permitted, key=lambda r: r.rank))
        plans = tuple(proposed)
        if errors:
            permitted = ()
            plans = tuple(p.not_judged() for p in plans)
        allowed: set[str] = set()
        for regimen in permitted:
            allowed |= regimen.drug_ids
        for plan in plans:
            if plan.verdict in (Verdict.PERMITTED, Verdict.NOT_RECOMMENDED, Verdict.NOT_COVERED):
                allowed |= plan.drug_ids
        kept = (m.restricted_to(frozenset(allowed)) for m in monitoring)
        situation = replace(situation, findings=tuple(f for f in situation.findings if f.relevant_at(situation.phase)))
        return cls(
            patient=patient,
            knowledge_base=knowledge_base,
            as_of=as_of,
            source=source,
            situation=situation,
            permitted=permitted,
            forbidden=tuple(forbidden),
            monitoring=tuple(m for m in kept if m is not None),
            proposed=plans,
            warnings=tuple(sorted(warnings, key=_warning_rank)),
            errors=errors,
        )

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> ReportJson:
        """The JSON report; its keys are declared once, in `her2kg.report.json_shape`."""
        out: ReportJson = {
            "patient": self.patient,
            "knowledge_base": self.knowledge_base.to_json(),
            "as_of": self.as_of,
            "situation": self.situation.to_json(),
            "permitted": [r.to_json(permitted=True) for r in self.permitted],
            "forbidden": [r.to_json(permitted=False) for r in self.forbidden],
            "monitoring": [m.to_json() for m in self.monitoring],
            "proposed": [p.to_json() for p in self.proposed],
            "warnings": [_warning(w) for w in self.warnings],
            "errors": [_error(e) for e in self.errors],
        }
        if self.source:
            out["source"] = self.source
        return _declared_order(ReportJson, out)


def _declared_order(shape: type[_Shape], out: _Shape) -> _Shape:
    """`out` with its keys in the order of their declaration (the order of the JSON)."""
    return cast(_Shape, {key: out[key] for key in shape.__annotations__ if key in out})  # type: ignore[literal-required]


def _warning(notice: Notice) -> WarningJson:
    return {"code": notice.code, "message": notice.message}


def _error(notice: Notice) -> ErrorJson:
    return {"code": notice.code, "field": notice.field, "message": notice.message}
