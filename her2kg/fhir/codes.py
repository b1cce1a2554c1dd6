"""Reading a CodeableConcept against the code mapping, for one kind of concept at a time.

A code only counts where its concept fits: a SNOMED CT code that names a drug does not classify
a Condition. Codings of a system the knowledge base does not know, and known systems' codes that
are not mapped, are reported back so that the caller can warn; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from her2kg.fhir import terms
from her2kg.fhir.jsonpath import Coding, codings
from her2kg.fhir.mapping import CodeMapping, Concept

ConceptFilter = Callable[[Concept], bool]


@dataclass(frozen=True)
class Resolution:
    """The concepts a CodeableConcept's codings map to (in coding order, without repeats)."""

    concepts: tuple[Concept, ...]
    unmapped: tuple[Coding, ...]  # codings whose code is not mapped (known or unknown system)
    codings: tuple[Coding, ...]

    @property
    def found(self) -> bool:
        return bool(self.concepts)

    @property
    def iris(self) -> tuple[str, ...]:
        return tuple(c.iri for c in self.concepts)


def resolve(concept: object, mapping: CodeMapping, accept: ConceptFilter) -> Resolution:
    """Map every coding of `concept` and keep the concepts that `accept` admits."""
    found: list[Concept] = []
    unmapped: list[Coding] = []
    all_codings = codings(concept)
    for coding in all_codings:
        matches = [c for c in mapping.lookup(coding.system, coding.code) if accept(c)]
        if not matches:
            unmapped.append(coding)
        for match in matches:
            if match not in found:
                found.append(match)
    return Resolution(concepts=tuple(found), unmapped=tuple(unmapped), codings=all_codings)


def is_observation_class(concept: Concept) -> bool:
    return concept.is_subclass_of(terms.OBSERVATION)


def is_observation_property(concept: Concept) -> bool:
    """A datatype property of an observation class, such as h:her2CopyNumber (74860-8)."""
    return concept.is_a(terms.OWL_DATATYPE_PROPERTY) and bool(concept.domain)


def is_patient_property(concept: Concept) -> bool:
    """An object property of the patient, such as h:drugUnavailable (her2kg drug-unavailable)."""
    return concept.is_a(terms.OWL_OBJECT_PROPERTY) and concept.domain == terms.PATIENT


def is_condition_class(concept: Concept) -> bool:
    return concept.is_subclass_of(terms.CONDITION)


def is_procedure_class(concept: Concept) -> bool:
    return concept.is_subclass_of(terms.PROCEDURE)


def is_result_value(concept: Concept) -> bool:
    return concept.is_a(terms.RESULT_VALUE)


def is_drug_or_product(concept: Concept) -> bool:
    return concept.is_a(terms.DRUG) or (concept.is_a(terms.DRUG_PRODUCT) and bool(concept.ingredients))


def is_therapy_phase(concept: Concept) -> bool:
    return concept.is_a(terms.THERAPY_PHASE)


def drugs_of(resolution: Resolution) -> tuple[str, ...]:
    """The drug IRIs a medication's codings name: drugs directly, products by their ingredients."""
    drugs: list[str] = []
    for concept in resolution.concepts:
        named = concept.ingredients if concept.is_a(terms.DRUG_PRODUCT) else (concept.iri,)
        for drug in named:
            if drug not in drugs:
                drugs.append(drug)
    return tuple(sorted(drugs))


def products_of(resolution: Resolution) -> tuple[str, ...]:
    """The drug products (not ingredients) a medication's codings name."""
    return tuple(sorted({c.iri for c in resolution.concepts if c.is_a(terms.DRUG_PRODUCT)}))


def routes_of(resolution: Resolution) -> tuple[str, ...]:
    """The routes of administration of the drug products a medication's codings name."""
    return tuple(sorted({c.route for c in resolution.concepts if c.is_a(terms.DRUG_PRODUCT) and c.route}))


def describe(coding: Coding, mapping: CodeMapping) -> str:
    """ "SNOMED CT 12345 'Display'" for messages."""
    label = mapping.system_label(coding.system).removesuffix(" code").removesuffix(" identifier")
    shown = f"{label} {coding.code}"
    return f"{shown} '{coding.display}'" if coding.display else shown
