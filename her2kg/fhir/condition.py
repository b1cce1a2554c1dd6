"""Condition -> a condition node (h:hasCondition), typed by the classes its codes map to.

Past conditions are history, not absence: a condition whose clinicalStatus is inactive,
remission or resolved is written with that h:clinicalStatus and its h:abatementDate (from
abatementDateTime or abatementPeriod.end), so that rules reading "history of" see it. Only
verificationStatus refuted or entered-in-error removes a condition (listed as ignored). A
current distant metastasis also records the date of metastatic diagnosis for the phase inference.
"""

from __future__ import annotations

from her2kg.fhir import terms
from her2kg.fhir.codes import Resolution, describe, is_condition_class, resolve
from her2kg.fhir.common import date_literal, date_notice, read_date, status_code, unknown_code_warnings
from her2kg.fhir.jsonpath import codings, items, obj
from her2kg.fhir.mapping import Concept
from her2kg.fhir.model import (
    DiagnosisEvidence,
    EntryContext,
    EntryResult,
    Fact,
    MetastasisEvidence,
    Node,
    Object,
    TypedLiteral,
)
from her2kg.notices import Notice

NOT_CURRENT = frozenset({"inactive", "remission", "resolved"})
CURRENT = frozenset({"active", "recurrence", "relapse"})
VOID_VERIFICATION = frozenset({"refuted", "entered-in-error"})
UNCONFIRMED = frozenset({"unconfirmed", "provisional", "differential"})

ONSET_PATHS = ("onsetDateTime", "onsetPeriod.start", "recordedDate")
ABATEMENT_PATHS = ("abatementDateTime", "abatementPeriod.end")


def map_condition(ctx: EntryContext) -> EntryResult:
    resource = ctx.resource
    verification = status_code(resource, "verificationStatus")
    if verification in VOID_VERIFICATION:
        return EntryResult(ignored=(ctx.ignore(f"verificationStatus is {verification}"),))
    clinical = status_code(resource, "clinicalStatus")

    code = obj(resource, "code")
    resolution = resolve(code, ctx.mapping, is_condition_class)
    if not resolution.found:
        resolution = _post_coordinated(ctx, resolution)
    if not resolution.found:
        if not resolution.codings:
            warning = ctx.warning(
                "fhir-no-code", "Condition has no coded code; it was ignored — code it with SNOMED CT or ICD-10-CM"
            )
            return EntryResult(warnings=(warning,), ignored=(ctx.ignore("no coded Condition.code"),))
        unknown = unknown_code_warnings(ctx, "Condition code", resolution.unmapped)
        shown = ", ".join(describe(c, ctx.mapping) for c in resolution.codings)
        return EntryResult(warnings=unknown, ignored=(ctx.ignore(f"code not known to her2kg: {shown}"),))

    warnings: list[Notice] = []
    if clinical is not None and clinical not in CURRENT | NOT_CURRENT:
        warnings.append(
            ctx.warning(
                "fhir-status",
                f"clinicalStatus '{clinical}' is not a FHIR condition status; the condition was taken as current",
            )
        )
    if verification in UNCONFIRMED:
        warnings.append(
            ctx.warning(
                "fhir-unconfirmed-condition",
                f"the condition is {verification}, not confirmed; it was imported as current — confirm it or mark it refuted",
            )
        )

    statements: list[tuple[str, Object]] = [
        (terms.SOURCE_REFERENCE, TypedLiteral(ctx.source_reference, terms.XSD_STRING))
    ]
    status_iri = terms.CONDITION_STATUS.get(clinical or "")
    if status_iri is not None:
        statements.append((terms.CLINICAL_STATUS, status_iri))
    history = clinical in NOT_CURRENT
    if history:
        abatement = read_date(resource, ABATEMENT_PATHS)
        if abatement.day is not None:
            statements.append((terms.ABATEMENT_DATE, date_literal(abatement.day)))
        else:
            notice = date_notice(ctx, abatement, what="abatement", needed=False)
            if notice is not None:
                warnings.append(notice)
    onset = read_date(resource, ONSET_PATHS)
    # a metastasis that has resolved still dates the metastatic diagnosis
    is_metastasis = any(c.is_subclass_of(terms.DISTANT_METASTASIS) for c in resolution.concepts)
    if onset.day is not None:
        statements.append((terms.ONSET_DATE, date_literal(onset.day)))
    elif not is_metastasis:
        # a metastasis date problem is judged at bundle level (it is needed only when therapy is recorded)
        notice = date_notice(ctx, onset, what="onset", needed=False)
        if notice is not None:
            warnings.append(notice)

    types = tuple(sorted(c.iri for c in resolution.concepts))
    facts: list[Fact] = [
        Node(iri=ctx.node_iri("condition"), link=terms.HAS_CONDITION, types=types, statements=tuple(statements))
    ]
    if onset.day is not None and any(c.is_subclass_of(terms.BREAST_CANCER) for c in resolution.concepts):
        facts.append(DiagnosisEvidence(day=onset.day))
    if is_metastasis:
        problem = "" if onset.day is not None else _problem_text(onset.problem, onset.element, onset.raw)
        facts.append(MetastasisEvidence(field=ctx.field, reference=ctx.where, day=onset.day, date_problem=problem))
    return EntryResult(facts=tuple(facts), warnings=tuple(warnings))


def _post_coordinated(ctx: EntryContext, resolution: Resolution) -> Resolution:
    """A code refined by the Condition's bodySite (malignant neoplasm + breast -> breast cancer),
    through the mapping's `focus:attribute=value` notations."""
    found: list[Concept] = []
    for coding in resolution.codings:
        for site in (s for concept in items(ctx.resource, "bodySite") for s in codings(concept)):
            if site.system != coding.system:
                continue
            for concept in ctx.mapping.lookup_refined(coding.system, coding.code, site.code):
                if is_condition_class(concept) and concept not in found:
                    found.append(concept)
    if not found:
        return resolution
    return Resolution(concepts=tuple(found), unmapped=(), codings=resolution.codings)


def _problem_text(problem: str, element: str, raw: str) -> str:
    if problem == "partial":
        return f"its {element} '{raw}' gives no day"
    if problem == "invalid":
        return f"its {element} {raw} is not a FHIR date"
    return "it has no onsetDateTime, onsetPeriod.start or recordedDate"
