"""The importer's data: its result (`FhirImport`), what one entry maps to, and the context a
resource mapper gets. All frozen; mappers return new values and share no state."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from her2kg.fhir.jsonpath import JsonObject
from her2kg.fhir.mapping import CodeMapping
from her2kg.notices import Notice, Severity


@dataclass(frozen=True)
class IgnoredEntry:
    """A bundle entry that did not become a fact, and why."""

    field: str  # "Bundle.entry[3]", a hint ('' in a bundle her2kg assembled)
    resource: str  # "Observation/abc", how the sending system knows it ('' when the entry has no resource)
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "resource": self.resource, "reason": self.reason}


@dataclass(frozen=True)
class FhirImport:
    """The patient graph mapped from one bundle, with what was left out and why."""

    patient_id: str
    patient_iri: str
    ntriples: str
    ignored: tuple[IgnoredEntry, ...]
    warnings: tuple[Notice, ...]
    errors: tuple[Notice, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


# --- facts: what one entry says, before the bundle-level pass turns it into triples -----------


@dataclass(frozen=True)
class TypedLiteral:
    lexical: str
    datatype: str


Object = str | TypedLiteral  # an IRI or a literal


@dataclass(frozen=True)
class Node:
    """A record node linked to the patient by `link`, with its types and statements."""

    iri: str
    link: str
    types: tuple[str, ...]
    statements: tuple[tuple[str, Object], ...] = ()


@dataclass(frozen=True)
class PatientStatement:
    """A statement about the patient node itself, such as h:drugUnavailable."""

    predicate: str
    object: Object


@dataclass(frozen=True)
class MetastasisEvidence:
    """An entry that says the cancer has spread to distant organs, with its date when known."""

    field: str
    reference: str  # how messages name the entry ('Condition/abc (Bundle.entry[3])')
    day: date | None
    date_problem: str = ""  # why there is no day ('' when there is one)


@dataclass(frozen=True)
class SurgeryEvidence:
    day: date | None


@dataclass(frozen=True)
class DiagnosisEvidence:
    """The onset of a breast cancer condition: therapy before it is not neoadjuvant."""

    day: date


@dataclass(frozen=True)
class Exposure:
    """One drug given in one period; its phase may still have to be inferred from dates.

    `drug` is None for a medication that could not be identified (an
    h:UnidentifiedTherapyExposure, described by `recorded_text`)."""

    iri: str
    drug: str | None
    status: str
    start: date | None
    end: date | None
    phase: str | None  # the phase stated by the record, else None
    field: str
    reference: str  # how messages and h:sourceReference name the entry
    end_reason: str | None = None  # an h:TherapyEndReason; None when the record does not say
    recorded_text: str = ""


@dataclass(frozen=True)
class ProposedOrder:
    iri_suffix: str  # "order/<n>" (under the plan IRI)
    drug: str
    start: date | None
    end: date | None
    reference: str
    route: str = ""  # route IRI, from the ordered product or the dosage instruction ("" when not stated)
    product: str = ""  # drug product IRI when a product was ordered


Fact = Node | PatientStatement | MetastasisEvidence | SurgeryEvidence | DiagnosisEvidence | Exposure | ProposedOrder


@dataclass(frozen=True)
class EntryResult:
    facts: tuple[Fact, ...] = ()
    warnings: tuple[Notice, ...] = ()
    errors: tuple[Notice, ...] = ()
    ignored: tuple[IgnoredEntry, ...] = ()


@dataclass(frozen=True)
class EntryContext:
    """What a resource mapper gets: the resource, where it sits, and how to read codes."""

    index: int
    resource: JsonObject
    resource_type: str
    resource_id: str
    patient_iri: str
    mapping: CodeMapping
    medications: Mapping[str, JsonObject] = field(default_factory=dict)  # reference -> Medication
    assembled: bool = False  # the bundle was put together by her2kg (CDS Hooks prefetch): no entry index

    @property
    def reference(self) -> str:
        return f"{self.resource_type}/{self.resource_id}" if self.resource_id else self.resource_type

    @property
    def field(self) -> str:
        """The field notices name: the entry's position in a real bundle, its own reference otherwise."""
        return entry_field(self.index, self.reference, assembled=self.assembled)

    @property
    def where(self) -> str:
        """'Observation/abc (Bundle.entry[3])', the prefix of every message about this entry."""
        return entry_where(self.index, self.reference, assembled=self.assembled)

    @property
    def source_reference(self) -> str:
        return self.where

    def node_iri(self, kind: str, suffix: str = "") -> str:
        return f"{self.patient_iri}/{kind}/{self.index}{suffix}"

    def warning(self, code: str, message: str) -> Notice:
        return Notice(severity=Severity.WARNING, code=code, message=f"{self.where}: {message}", field=self.field)

    def error(self, code: str, message: str) -> Notice:
        return Notice(severity=Severity.ERROR, code=code, message=f"{self.where}: {message}", field=self.field)

    def ignore(self, reason: str) -> IgnoredEntry:
        field_ = "" if self.assembled else self.field
        return IgnoredEntry(field=field_, resource=self.reference, reason=reason)


def entry_field(index: int, reference: str, *, assembled: bool) -> str:
    return (reference or f"entry {index + 1}") if assembled else f"Bundle.entry[{index}]"


def entry_where(index: int, reference: str, *, assembled: bool) -> str:
    """How messages name an entry: by the resource's own type and id, with the index of a real
    bundle as a hint ('MedicationStatement/abc (Bundle.entry[3])'); an entry of a bundle her2kg
    assembled has no meaningful index."""
    if assembled:
        return reference or f"entry {index + 1}"
    return f"{reference} (Bundle.entry[{index}])" if reference else f"Bundle.entry[{index}]"


Mapper = Callable[[EntryContext], EntryResult]
