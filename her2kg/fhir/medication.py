"""MedicationRequest / MedicationAdministration / MedicationStatement -> therapy exposures
(h:hasTherapy) or orders of the one proposed plan (h:hasProposedPlan).

The drug comes from medicationCodeableConcept, or from the Medication a medicationReference
points to (contained `#id`, or an entry of the bundle). A drug product maps to its active
ingredients through h:hasActiveIngredient: a product with several ingredients gives one
exposure (or order) per ingredient. The phase of an exposure is taken from the her2kg
therapy-phase extension here; when absent it is inferred from dates at bundle level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from her2kg.fhir import terms
from her2kg.fhir.codes import Resolution, describe, drugs_of, is_drug_or_product, is_therapy_phase, resolve
from her2kg.fhir.common import DateRead, date_notice, read_date, status_code, unknown_code_warnings
from her2kg.fhir.jsonpath import Coding, JsonObject, codings, items, obj, text
from her2kg.fhir.mapping import Concept
from her2kg.fhir.model import EntryContext, EntryResult, Exposure, Fact, ProposedOrder
from her2kg.notices import Notice

VOID_STATUS = frozenset({"cancelled", "entered-in-error", "not-done", "not-taken", "revoked"})
ENDED_STATUS = frozenset({"completed", "stopped"})
ONGOING_STATUS = frozenset({"active", "on-hold", "in-progress"})
ORDER_INTENTS = frozenset({"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"})

_NO_DATE = DateRead(day=None, problem="missing")


@dataclass(frozen=True)
class _Kind:
    """What a medication resource is: a past or current exposure, a proposal, or nothing."""

    kind: str  # "exposure", "proposal", "ignore"
    status: str = ""  # h:ended-status / h:ongoing-status for exposures
    reason: str = ""
    warn: bool = False


def map_medication_use(ctx: EntryContext) -> EntryResult:
    kind = _classify(ctx)
    if kind.kind == "ignore":
        warnings = (ctx.warning("fhir-status", f"{kind.reason}; the entry was ignored"),) if kind.warn else ()
        return EntryResult(warnings=warnings, ignored=(ctx.ignore(kind.reason),))

    concept, problem = _medication_concept(ctx)
    if concept is None:
        warning = ctx.warning("fhir-no-code", f"{problem}; it was ignored — give the drug's RxNorm code")
        return EntryResult(warnings=(warning,), ignored=(ctx.ignore(problem),))
    resolution = _resolve_medication(ctx, concept)
    drugs = drugs_of(resolution)
    if not drugs:
        unknown = unknown_code_warnings(ctx, "medication", resolution.unmapped)
        if not resolution.codings:
            warning = ctx.warning(
                "fhir-no-code", "the medication has no coded code; it was ignored — give the drug's RxNorm code"
            )
            return EntryResult(warnings=(warning,), ignored=(ctx.ignore("no coded medication"),))
        shown = ", ".join(describe(c, ctx.mapping) for c in resolution.codings)
        return EntryResult(warnings=unknown, ignored=(ctx.ignore(f"medication not known to her2kg: {shown}"),))
    # codes that name a known drug next to codes that do not (an NDC beside an RxNorm code) are fine

    if kind.kind == "proposal":
        return _proposal(ctx, drugs)
    return _exposure(ctx, drugs, kind.status)


def map_medication_resource(_ctx: EntryContext) -> EntryResult:
    """A Medication entry is read through the references to it; it is no fact by itself."""
    return EntryResult()


def _classify(ctx: EntryContext) -> _Kind:
    resource = ctx.resource
    status = status_code(resource)
    if status is None:
        return _Kind("ignore", reason="no status", warn=True)
    if status in VOID_STATUS:
        return _Kind("ignore", reason=f"status is {status}")
    if ctx.resource_type == "MedicationRequest":
        if resource.get("doNotPerform") is True:
            return _Kind("ignore", reason="doNotPerform is true (an order not to give the drug)")
        intent = (text(resource, "intent") or "").lower()
        if status == "draft" or intent == "proposal":
            return _Kind("proposal")
        if status in ENDED_STATUS:
            return _Kind("exposure", status=terms.ENDED)
        if status in ONGOING_STATUS and (intent in ORDER_INTENTS or not intent):
            return _Kind("exposure", status=terms.ONGOING)
        return _Kind(
            "ignore",
            reason=f"status {status} with intent {intent or '(none)'} is neither given nor proposed",
            warn=True,
        )
    if status in ENDED_STATUS:
        return _Kind("exposure", status=terms.ENDED)
    if status in ONGOING_STATUS:
        return _Kind("exposure", status=terms.ONGOING)
    if status == "intended":
        return _Kind("ignore", reason="status is intended: not given yet (propose it as a draft MedicationRequest)")
    return _Kind("ignore", reason=f"status is {status}", warn=True)


def _medication_concept(ctx: EntryContext) -> tuple[object | None, str]:
    """The CodeableConcept that names the drug, or None with the reason."""
    concept = obj(ctx.resource, "medicationCodeableConcept")
    if concept is not None:
        return concept, ""
    reference = text(obj(ctx.resource, "medicationReference"), "reference")
    if reference is None:
        return None, "the entry names no medication (no medicationCodeableConcept or medicationReference)"
    medication = _find_medication(ctx, reference)
    if medication is None:
        return None, f"its medicationReference '{reference[:80]}' points to no Medication in the bundle"
    return medication, ""


def _find_medication(ctx: EntryContext, reference: str) -> JsonObject | None:
    if reference.startswith("#"):
        wanted = reference[1:]
        for contained in items(ctx.resource, "contained"):
            if text(contained, "resourceType") == "Medication" and text(contained, "id") == wanted:
                return contained
        return None
    return ctx.medications.get(reference)


def _resolve_medication(ctx: EntryContext, concept_or_medication: object) -> Resolution:
    """Resolve a CodeableConcept, or a Medication by its code then by its ingredients."""
    if isinstance(concept_or_medication, Mapping) and text(concept_or_medication, "resourceType") == "Medication":
        medication = concept_or_medication
        by_code = resolve(obj(medication, "code"), ctx.mapping, is_drug_or_product)
        if by_code.found:
            return by_code
        ingredient_codings: list[Coding] = []
        found: list[Concept] = []
        unmapped = list(by_code.unmapped)
        for ingredient in items(medication, "ingredient"):
            part = resolve(obj(ingredient, "itemCodeableConcept"), ctx.mapping, is_drug_or_product)
            found.extend(c for c in part.concepts if c not in found)
            unmapped.extend(part.unmapped)
            ingredient_codings.extend(part.codings)
        return Resolution(
            concepts=tuple(found), unmapped=tuple(unmapped), codings=(*by_code.codings, *ingredient_codings)
        )
    return resolve(concept_or_medication, ctx.mapping, is_drug_or_product)


def _phase(ctx: EntryContext) -> tuple[str | None, Notice | None]:
    """The phase stated by the her2kg therapy-phase extension (None when absent)."""
    for extension in items(ctx.resource, "extension"):
        if text(extension, "url") != terms.THERAPY_PHASE_EXTENSION:
            continue
        code = text(extension, "valueCode")
        if code is None:
            found = codings(obj(extension, "valueCodeableConcept")) or codings(
                {"coding": [obj(extension, "valueCoding")]}
            )
            code = found[0].code if found else None
        if code is None:
            return None, ctx.warning(
                "fhir-unknown-phase", "the therapy-phase extension has no valueCode; the phase was inferred from dates"
            )
        matches = [c for c in ctx.mapping.lookup(terms.HER2KG_CODE_SYSTEM, code) if is_therapy_phase(c)]
        if len(matches) != 1:
            return None, ctx.warning(
                "fhir-unknown-phase",
                f"therapy-phase '{code[:40]}' is not neoadjuvant, adjuvant or metastatic; the phase was inferred from dates",
            )
        return matches[0].iri, None
    return None, None


def _exposure_dates(ctx: EntryContext) -> tuple[DateRead, DateRead, bool]:
    """(start, end, single): single is True when the record gives one point in time."""
    resource = ctx.resource
    if ctx.resource_type == "MedicationRequest":
        start, end = _bounds(resource)
        if start.problem == "missing" and end.problem == "missing":
            validity = obj(obj(resource, "dispenseRequest"), "validityPeriod")
            start, end = read_date(validity, ("start",)), read_date(validity, ("end",))
        if start.problem == "missing" and end.problem == "missing":
            return read_date(resource, ("authoredOn",)), _NO_DATE, False
        return start, end, False
    period = obj(resource, "effectivePeriod")
    if period is not None:
        return read_date(period, ("start",)), read_date(period, ("end",)), False
    single = read_date(resource, ("effectiveDateTime",))
    return single, single, single.problem != "missing"


def _bounds(resource: JsonObject) -> tuple[DateRead, DateRead]:
    """The earliest start and latest end of dosageInstruction[].timing.repeat.boundsPeriod."""
    starts: list[DateRead] = []
    ends: list[DateRead] = []
    for dosage in items(resource, "dosageInstruction"):
        bounds = obj(obj(obj(dosage, "timing"), "repeat"), "boundsPeriod")
        if bounds is None:
            continue
        starts.append(read_date(bounds, ("start",)))
        ends.append(read_date(bounds, ("end",)))
    return _pick(starts, earliest=True, element="boundsPeriod.start"), _pick(
        ends, earliest=False, element="boundsPeriod.end"
    )


def _pick(reads: list[DateRead], *, earliest: bool, element: str) -> DateRead:
    bad = [r for r in reads if r.problem in ("partial", "invalid")]
    if bad:
        return DateRead(
            day=None, problem=bad[0].problem, element=f"dosageInstruction.timing.repeat.{element}", raw=bad[0].raw
        )
    days = [r.day for r in reads if r.day is not None]
    if not days:
        return _NO_DATE
    day = min(days) if earliest else max(days)
    return DateRead(day=day, problem="", element=f"dosageInstruction.timing.repeat.{element}", raw=day.isoformat())


def _exposure(ctx: EntryContext, drugs: tuple[str, ...], status: str) -> EntryResult:
    warnings: list[Notice] = []
    errors: list[Notice] = []
    phase, phase_notice = _phase(ctx)
    if phase_notice is not None:
        warnings.append(phase_notice)
    start, end, single = _exposure_dates(ctx)
    for read, what in ((start, "start date"), (end, "end date")):
        notice = date_notice(ctx, read, what=f"therapy {what}", needed=True)
        if notice is not None and notice not in errors:
            errors.append(notice)
    if start.problem == "missing" and end.problem == "missing":
        errors.append(
            ctx.error(
                "fhir-missing-date",
                "the therapy has no dates (effective[x], dosageInstruction.timing.repeat.boundsPeriod or authoredOn); "
                "its phase and line cannot be known — add when it was given",
            )
        )
    end_day = end.day
    if status == terms.ONGOING:
        end_day = None
    elif single and start.day is not None:
        end_day = start.day
    elif end.problem == "missing" and start.day is not None:
        warnings.append(
            ctx.warning(
                "fhir-missing-date",
                "the therapy is completed or stopped but has no end date; intervals since its last dose cannot be computed",
            )
        )
    if start.problem == "missing" and end.day is not None:
        warnings.append(ctx.warning("fhir-missing-date", "the therapy has an end date but no start date"))
    facts: list[Fact] = []
    for k, drug in enumerate(drugs, start=1):
        suffix = "" if len(drugs) == 1 else f"-{k}"
        facts.append(
            Exposure(
                iri=ctx.node_iri("therapy", suffix),
                drug=drug,
                status=status,
                start=start.day,
                end=end_day,
                phase=phase,
                field=ctx.field,
                reference=ctx.reference,
            )
        )
    return EntryResult(facts=tuple(facts), warnings=tuple(warnings), errors=tuple(errors))


def _proposal(ctx: EntryContext, drugs: tuple[str, ...]) -> EntryResult:
    start, end = _bounds(ctx.resource)
    errors = [
        n
        for n in (
            date_notice(ctx, start, what="proposed start", needed=True),
            date_notice(ctx, end, what="proposed end", needed=True),
        )
        if n
    ]
    facts = tuple(
        ProposedOrder(
            iri_suffix=f"order/{ctx.index}" + ("" if len(drugs) == 1 else f"-{k}"),
            drug=drug,
            start=start.day,
            end=end.day,
            reference=ctx.source_reference,
        )
        for k, drug in enumerate(drugs, start=1)
    )
    return EntryResult(facts=facts, errors=tuple(errors))
