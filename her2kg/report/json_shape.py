"""The JSON report of the contract, declared once.

Each `TypedDict` below is the one definition of the keys of one part of the JSON report:
`her2kg.report.model` builds its JSON through them (so a type checker holds every `to_json` to
them), and the server generates the OpenAPI document and its JSON Schema from them with
pydantic (`her2kg.server.openapi`). Keys marked `NotRequired` are left out when they have no
value. Declared without pydantic, so reading or writing a report does not import it.
"""

from __future__ import annotations

import sys
from typing import Literal

if sys.version_info >= (3, 12):
    from typing import NotRequired, TypedDict
else:  # before 3.12 pydantic reads only typing_extensions' TypedDict, installed with pydantic
    try:
        from typing import NotRequired

        from typing_extensions import TypedDict
    except ImportError:  # without the server extra the standard ones serve: nothing reads the schema
        from typing import NotRequired, TypedDict

PreferenceValue = Literal["preferred", "alternative", "may-consider", ""]
VerdictValue = Literal["forbidden", "not-recommended", "not-covered", "permitted", "not-judged"]
PhaseValue = Literal["neoadjuvant", "adjuvant", "metastatic", "maintenance", "unknown"]
EndedByValue = Literal["completed", "progression", "toxicity", "ongoing", "unknown"]


class SourceJson(TypedDict):
    id: str
    label: str
    pmid: NotRequired[str]
    doi: NotRequired[str]
    url: NotRequired[str]


class ReasonJson(TypedDict):
    rule: str
    text: str
    sources: list[SourceJson]
    statements: NotRequired[list[str]]
    basis: NotRequired[str]


class DrugJson(TypedDict):
    id: str
    label: str
    ncit: str
    rxnorm: NotRequired[str]


class ComponentJson(TypedDict):
    """One drug (`drug`) or a choice between drugs (`any_of` with a `label` such as 'taxane')."""

    drug: NotRequired[DrugJson]
    any_of: NotRequired[list[DrugJson]]
    label: NotRequired[str]
    step: int
    dosing: NotRequired[str]


class EvidenceJson(TypedDict):
    quality: str
    strength: str
    scheme: str


class RegimenJson(TypedDict):
    """A permitted regimen (`preference`, `evidence`, `because`) or a forbidden one (`reasons`)."""

    id: str
    label: str
    components: list[ComponentJson]
    preference: NotRequired[PreferenceValue]
    evidence: NotRequired[EvidenceJson]
    sources: list[SourceJson]
    because: NotRequired[list[ReasonJson]]
    reasons: NotRequired[list[ReasonJson]]


class MonitoringTestJson(TypedDict):
    label: str
    loinc: NotRequired[str]


class MonitoringJson(TypedDict):
    test: MonitoringTestJson
    schedule: str
    because: list[ReasonJson]
    sources: list[SourceJson]


class ProposedJson(TypedDict):
    id: str
    components: list[ComponentJson]
    verdict: VerdictValue
    reasons: list[ReasonJson]


class FindingJson(TypedDict):
    code: str
    text: str
    rule: NotRequired[str]


class EpisodeJson(TypedDict):
    drugs: list[DrugJson]
    regimen: str | None
    phase: PhaseValue
    line: NotRequired[int]
    start: str | None
    end: str | None
    ended_by: EndedByValue
    rule: NotRequired[str]


class HistoricalConditionJson(TypedDict):
    condition: str
    status: str
    onset: str | None
    abated: str | None


class RecurrenceIntervalJson(TypedDict):
    months: int
    threshold_months: int
    early: bool


class SituationJson(TypedDict):
    her2: str
    hormone_receptor: str
    setting: str
    phase: str
    line: NotRequired[int]
    findings: list[FindingJson]
    history: list[EpisodeJson]
    history_complete: NotRequired[bool]
    condition_history: list[HistoricalConditionJson]
    recurrence_interval: NotRequired[RecurrenceIntervalJson]


class KnowledgeBaseJson(TypedDict):
    version: str
    iri: str
    folder: NotRequired[str]
    digest: NotRequired[str]


class WarningJson(TypedDict):
    code: str
    message: str


class ErrorJson(TypedDict):
    code: str
    field: str
    message: str


class ReportJson(TypedDict):
    """One patient's report (contract section 2)."""

    patient: str
    knowledge_base: KnowledgeBaseJson
    as_of: str
    source: NotRequired[str]
    situation: SituationJson
    permitted: list[RegimenJson]
    forbidden: list[RegimenJson]
    monitoring: list[MonitoringJson]
    proposed: list[ProposedJson]
    warnings: list[WarningJson]
    errors: list[ErrorJson]


class ReportsJson(TypedDict):
    """A Turtle document with several patients: one report per patient."""

    reports: list[ReportJson]


JSON_SHAPES: tuple[type, ...] = (
    SourceJson,
    ReasonJson,
    DrugJson,
    ComponentJson,
    EvidenceJson,
    RegimenJson,
    MonitoringTestJson,
    MonitoringJson,
    ProposedJson,
    FindingJson,
    EpisodeJson,
    HistoricalConditionJson,
    RecurrenceIntervalJson,
    SituationJson,
    KnowledgeBaseJson,
    WarningJson,
    ErrorJson,
    ReportJson,
    ReportsJson,
)
"""Every part of the report; a key that is not declared in its part is refused by the schema."""
