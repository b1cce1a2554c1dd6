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
from her2kg.fhir.codes import (
    Resolution,
    describe,
    drugs_of,
    is_drug_or_product,
    is_therapy_phase,
    products_of,
    resolve,
    routes_of,
)
from her2kg.fhir.common import DateRead, date_notice, read_date, status_code, unknown_code_warnings
from her2kg.fhir.drug_names import find_drug_names
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
    resolution = _resolve_medication(ctx, concept) if concept is not None else None
    drugs = drugs_of(resolution) if resolution is not None else ()
    # codes that name a known drug next to codes that do not (an NDC beside an RxNorm code) are fine
    if drugs:
        if kind.kind == "proposal":
            return _proposal(ctx, drugs, resolution)
        return _exposure(ctx, drugs, kind.status)
    if kind.kind == "proposal":
        return _unidentified_proposal(ctx, resolution, problem)
    return _unidentified_exposure(ctx, concept, resolution, problem, kind.status)


def _unidentified_proposal(ctx: EntryContext, resolution: Resolution | None, problem: str) -> EntryResult:
    """A draft order her2kg cannot identify: left out with a warning, as it is not history."""
    if resolution is None:
        warning = ctx.warning("fhir-no-code", f"{problem}; it was ignored — give the drug's RxNorm code")
        return EntryResult(warnings=(warning,), ignored=(ctx.ignore(problem),))
    if not resolution.codings:
        warning = ctx.warning(
            "fhir-no-code", "the medication has no coded code; it was ignored — give the drug's RxNorm code"
        )
        return EntryResult(warnings=(warning,), ignored=(ctx.ignore("no coded medication"),))
    unknown = unknown_code_warnings(ctx, "medication", resolution.unmapped)
    shown = ", ".join(describe(c, ctx.mapping) for c in resolution.codings)
    return EntryResult(warnings=unknown, ignored=(ctx.ignore(f"medication not known to her2kg: {shown}"),))


def _unidentified_exposure(
    ctx: EntryContext, concept: object | None, resolution: Resolution | None, problem: str, status: str
) -> EntryResult:
    """A given medication whose drug her2kg cannot identify.

    When its text names a drug of the knowledge base, the history would be silently wrong: an
    error that says which code to add. Otherwise the entry is kept as an
    h:UnidentifiedTherapyExposure, and the therapy history is reported as incomplete.
    """
    texts = medication_texts(concept)
    named = find_drug_names(texts, ctx.mapping)
    codings_ = resolution.codings if resolution is not None else ()
    shown_codes = ", ".join(describe(c, ctx.mapping) for c in codings_) or "no code"
    if named:
        drugs = sorted({d for n in named for d in n.drugs})
        names = ", ".join(sorted({f"'{n.name}'" for n in named}))
        keys = ", ".join(f"h:{d.rsplit('/', 1)[-1]}" for d in drugs)
        notice = ctx.error(
            "fhir-unmapped-known-drug",
            f"the medication ({shown_codes}) names {names}, a drug of the knowledge base ({keys}), but its code is not "
            f"in the FHIR mapping, so the therapy history would be wrong; add the code to "
            f"ontology/modules/fhir-mapping.ttl: {_notation_hint(ctx, codings_, drugs)}, with its source",
        )
        return EntryResult(errors=(notice,), ignored=(ctx.ignore(f"medication not identified, names {keys}"),))

    warnings: list[Notice] = []
    phase, phase_notice = _phase(ctx)
    if phase_notice is not None:
        warnings.append(phase_notice)
    start, end, single = _exposure_dates(ctx)
    for read, what in ((start, "start date"), (end, "end date")):
        date_warning = date_notice(ctx, read, what=f"therapy {what}", needed=False)
        if date_warning is not None:
            warnings.append(date_warning)
    end_day = None if status == terms.ONGOING else (start.day if single else end.day)
    reason, reason_errors = end_reason(ctx, status)
    warnings.append(
        ctx.warning(
            "therapy-history-incomplete",
            "the medication could not be identified (no code her2kg knows, and no name of a drug of the knowledge "
            "base); it was kept as an unidentified therapy, so the therapy history is incomplete",
        )
    )
    bare_codes = ", ".join(describe(Coding(c.system, c.code), ctx.mapping) for c in codings_)
    recorded = "; ".join(texts)
    recorded = f"{recorded} ({bare_codes})" if recorded and bare_codes else (recorded or bare_codes or problem)
    exposure = Exposure(
        iri=ctx.node_iri("therapy"),
        drug=None,
        status=status,
        start=start.day,
        end=end_day,
        phase=phase,
        field=ctx.field,
        reference=ctx.where,
        end_reason=reason,
        recorded_text=recorded,
    )
    return EntryResult(facts=(exposure,), warnings=tuple(warnings), errors=reason_errors)


def _notation_hint(ctx: EntryContext, codings_: tuple[Coding, ...], drugs: list[str]) -> str:
    drug = f"h:{drugs[0].rsplit('/', 1)[-1]}"
    for coding in codings_:
        datatype = ctx.mapping.system_datatypes.get(coding.system)
        if datatype is not None:
            return (
                f'{drug} skos:notation "{coding.code}"^^h:{datatype} (an ingredient code), or a h:DrugProduct with '
                f'h:hasActiveIngredient {drug} and that notation (a product code)'
            )
    return f"an RxNorm code of the drug as a skos:notation of {drug} (or of a h:DrugProduct), and code the entry with it"


def medication_texts(concept: object | None) -> tuple[str, ...]:
    """The human-readable names of a medication: CodeableConcept text and coding displays, or
    those of a Medication's code and ingredients."""
    if concept is None:
        return ()
    found: list[str] = []
    if isinstance(concept, Mapping) and text(concept, "resourceType") == "Medication":
        parts: list[object] = [obj(concept, "code")]
        parts.extend(obj(i, "itemCodeableConcept") for i in items(concept, "ingredient"))
    else:
        parts = [concept]
    for part in parts:
        words = text(part, "text")
        if words:
            found.append(words)
        found.extend(c.display for c in codings(part) if c.display)
        for coding in items(part, "coding"):  # a display without a code is still a name
            display = text(coding, "display")
            if display and text(coding, "code") is None:
                found.append(display)
    return tuple(dict.fromkeys(found))


def end_reason(ctx: EntryContext, status: str) -> tuple[str | None, tuple[Notice, ...]]:
    """Why an ended therapy ended (an h:TherapyEndReason), or None when the record does not say.

    Read from statusReason (MedicationRequest, MedicationStatement) and the mCODE
    treatment-termination-reason extension, by their codes through the mapping; a request or
    statement whose status is `completed` (every planned dose given) ended by completion unless a
    reason says otherwise. Reasons that disagree are an error.
    """
    if status != terms.ENDED:
        return None, ()
    resource = ctx.resource
    concepts: list[object] = []
    if ctx.resource_type in ("MedicationRequest", "MedicationStatement"):
        reason = resource.get("statusReason")
        concepts.extend(reason if isinstance(reason, list) else [reason])
    for extension in items(resource, "extension"):
        if text(extension, "url") == terms.TERMINATION_REASON_EXTENSION:
            concepts.append(obj(extension, "valueCodeableConcept"))
    found: list[str] = []
    for concept in concepts:
        for match in resolve(concept, ctx.mapping, _is_end_reason).concepts:
            if match.iri not in found:
                found.append(match.iri)
    if len(found) > 1:
        shown = ", ".join(sorted(f"h:{iri.rsplit('/', 1)[-1]}" for iri in found))
        return None, (
            ctx.error(
                "fhir-conflicting-codes",
                f"the reasons given for the end of the therapy disagree ({shown}); keep the one that holds",
            ),
        )
    if found:
        return found[0], ()
    if ctx.resource_type in ("MedicationRequest", "MedicationStatement") and status_code(resource) == "completed":
        return terms.ENDED_BY_COMPLETION, ()
    return None, ()


def _is_end_reason(concept: Concept) -> bool:
    return concept.is_a(terms.THERAPY_END_REASON)


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
    reason, reason_errors = end_reason(ctx, status)
    errors.extend(n for n in reason_errors if n not in errors)
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
                reference=ctx.where,
                end_reason=reason,
            )
        )
    return EntryResult(facts=tuple(facts), warnings=tuple(warnings), errors=tuple(errors))


def _proposal(ctx: EntryContext, drugs: tuple[str, ...], resolution: Resolution | None) -> EntryResult:
    start, end = _bounds(ctx.resource)
    errors = [
        n
        for n in (
            date_notice(ctx, start, what="proposed start", needed=True),
            date_notice(ctx, end, what="proposed end", needed=True),
        )
        if n
    ]
    products = products_of(resolution) if resolution is not None else ()
    routes = set(routes_of(resolution) if resolution is not None else ()) | set(_dosage_routes(ctx))
    if len(routes) > 1:
        errors.append(
            ctx.error(
                "fhir-conflicting-route",
                "the order names more than one route of administration (through its product and its dosage "
                "instruction); state one route so the plan can be matched to a regimen",
            )
        )
    route = next(iter(routes)) if len(routes) == 1 else ""
    facts = tuple(
        ProposedOrder(
            iri_suffix=f"order/{ctx.index}" + ("" if len(drugs) == 1 else f"-{k}"),
            drug=drug,
            start=start.day,
            end=end.day,
            reference=ctx.source_reference,
            route=route,
            product=products[0] if len(products) == 1 else "",
        )
        for k, drug in enumerate(drugs, start=1)
    )
    return EntryResult(facts=facts, errors=tuple(errors))


def _dosage_routes(ctx: EntryContext) -> tuple[str, ...]:
    """The routes the order's dosage instructions name, where their codes are mapped."""
    found: set[str] = set()
    for dosage in _dosages(ctx.resource):
        route = dosage.get("route") if isinstance(dosage, dict) else None
        if route is not None:
            found.update(c.iri for c in resolve(route, ctx.mapping, lambda c: c.is_a(terms.ROUTE)).concepts)
    return tuple(sorted(found))


def _dosages(resource: Mapping[str, object]) -> list[object]:
    dosages = resource.get("dosageInstruction") or resource.get("dosage") or []
    return dosages if isinstance(dosages, list) else []
