"""Observation -> an observation node (h:hasObservation), or h:drugUnavailable on the patient.

The node's class comes from Observation.code through the knowledge base; how its value is read
depends on that class (IHC score, ISH ratio, percentage, size, coded answer). A HER2, ER, PR or
LVEF observation whose value is missing or unreadable is an error: leaving it out silently could
change the answer. Other unreadable observations are left out with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

from her2kg.fhir import terms
from her2kg.fhir.codes import (
    Resolution,
    describe,
    drugs_of,
    is_drug_or_product,
    is_observation_class,
    is_observation_property,
    is_patient_property,
    resolve,
)
from her2kg.fhir.common import DateRead, date_literal, date_notice, read_date, status_code, unknown_code_warnings
from her2kg.fhir.jsonpath import JsonObject, obj
from her2kg.fhir.mapping import CodeMapping, Concept
from her2kg.fhir.model import (
    EntryContext,
    EntryResult,
    Fact,
    MetastasisEvidence,
    Node,
    Object,
    PatientStatement,
    TypedLiteral,
)
from her2kg.fhir.results import (
    ValueRead,
    read_coded,
    read_ihc,
    read_ish,
    read_number,
    read_percent,
    read_qualitative,
    read_size,
)
from her2kg.notices import Notice

ACCEPTED_STATUS = frozenset({"final", "amended", "corrected", "preliminary"})
VOID_STATUS = frozenset({"cancelled", "entered-in-error"})
NO_RESULT_STATUS = frozenset({"registered"})

EFFECTIVE_PATHS = ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued")

Reader = Callable[[JsonObject, CodeMapping, frozenset[str]], ValueRead]

_READERS: Mapping[str, Reader] = MappingProxyType(
    {
        terms.HER2_IHC_TEST: read_ihc,
        terms.HER2_ISH_TEST: read_ish,
        terms.HER2_INTERPRETATION: read_qualitative,
        terms.ER_TEST: read_qualitative,
        terms.PR_TEST: read_qualitative,
        terms.HR_TEST: read_qualitative,
        terms.LVEF: lambda resource, _mapping, _families: read_percent(resource),
        terms.TUMOUR_SIZE: lambda resource, mapping, _families: read_size(resource, mapping),
    }
)


def _accept_code(concept: Concept) -> bool:
    return is_observation_class(concept) or is_observation_property(concept) or is_patient_property(concept)


def map_observation(ctx: EntryContext) -> EntryResult:
    resource = ctx.resource
    status = status_code(resource)
    warnings: list[Notice] = []
    if status in VOID_STATUS:
        return EntryResult(ignored=(ctx.ignore(f"status is {status}"),))
    if status in NO_RESULT_STATUS:
        return EntryResult(ignored=(ctx.ignore(f"status is {status}: no result yet"),))
    if status is None:
        warnings.append(ctx.warning("fhir-status", "Observation has no status; it was read as final"))
    elif status not in ACCEPTED_STATUS:
        warning = ctx.warning(
            "fhir-status",
            f"status '{status}' is not final, amended, corrected or preliminary; the observation was ignored",
        )
        return EntryResult(warnings=(warning,), ignored=(ctx.ignore(f"status is {status}"),))

    resolution = resolve(obj(resource, "code"), ctx.mapping, _accept_code)
    if not resolution.found:
        return _not_classified(ctx, resolution, warnings)

    patient_properties = [c for c in resolution.concepts if is_patient_property(c)]
    if patient_properties:
        return _patient_statement(ctx, patient_properties[0], warnings)

    chosen = _most_specific(resolution.concepts)
    if chosen is not None and is_observation_property(chosen):
        return _property_observation(ctx, chosen, warnings)
    if chosen is not None:
        return _class_observation(ctx, (chosen,), warnings)
    classes = tuple(c for c in resolution.concepts if is_observation_class(c))
    one_analyte = any(all(c.is_subclass_of(group) for c in classes) for group in terms.ONE_ANALYTE_CLASSES)
    if len(classes) == len(resolution.concepts) and one_analyte:
        # the codings of one CodeableConcept are alternative codes of one observation (HER2 coded
        # both as an interpretation and as an IHC test): accepted when the value reads the same
        return _class_observation(ctx, _least_general(classes), warnings)
    return _conflicting_codes(ctx, resolution.concepts, warnings)


def _conflicting_codes(ctx: EntryContext, concepts: tuple[Concept, ...], warnings: list[Notice]) -> EntryResult:
    shown = ", ".join(sorted(c.iri for c in concepts))
    critical = any(c.iri in terms.SAFETY_CRITICAL_OBSERVATIONS for c in concepts)
    notice = (ctx.error if critical else ctx.warning)(
        "fhir-conflicting-codes", f"its codes name different observations ({shown}); keep one code per meaning"
    )
    return _with(EntryResult(ignored=(ctx.ignore("conflicting codes"),)), warnings, notice)


def _least_general(classes: tuple[Concept, ...]) -> tuple[Concept, ...]:
    """The classes without those that another of them is a subclass of."""
    return tuple(
        c for c in classes if not any(o is not c and o.is_subclass_of(c.iri) and o.iri != c.iri for o in classes)
    )


def _not_classified(ctx: EntryContext, resolution: Resolution, warnings: list[Notice]) -> EntryResult:
    if not resolution.codings:
        warnings.append(
            ctx.warning(
                "fhir-no-code", "Observation has no coded code; it was ignored — code it with LOINC or SNOMED CT"
            )
        )
        return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore("no coded Observation.code"),))
    warnings.extend(unknown_code_warnings(ctx, "Observation code", resolution.unmapped))
    shown = ", ".join(describe(c, ctx.mapping) for c in resolution.codings)
    return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore(f"code not known to her2kg: {shown}"),))


def _most_specific(concepts: tuple[Concept, ...]) -> Concept | None:
    """The one concept that is a subclass of every other, or None when they disagree."""
    for candidate in concepts:
        if all(candidate.is_subclass_of(other.iri) for other in concepts):
            return candidate
    return None


def _with(result: EntryResult, warnings: list[Notice], notice: Notice | None = None) -> EntryResult:
    extra_warnings = list(warnings)
    extra_errors: list[Notice] = []
    if notice is not None:
        (extra_errors if notice.severity == "error" else extra_warnings).append(notice)
    return EntryResult(
        facts=result.facts,
        warnings=(*result.warnings, *extra_warnings),
        errors=(*result.errors, *extra_errors),
        ignored=result.ignored,
    )


def _read_value(ctx: EntryContext, cls: Concept) -> ValueRead:
    families = terms.VALUE_FAMILIES.get(cls.iri)
    reader = _READERS.get(cls.iri)
    if reader is None:
        reader = read_coded
        if families is None:  # a class the importer has no value table for: any coded result value
            families = frozenset({terms.RESULT_VALUE})
    return reader(ctx.resource, ctx.mapping, families or frozenset())


def _class_observation(ctx: EntryContext, classes: tuple[Concept, ...], warnings: list[Notice]) -> EntryResult:
    """An observation node of `classes` (one, or several that alternative codings name)."""
    resource = ctx.resource
    reads = [(cls, _read_value(ctx, cls)) for cls in classes]
    critical = any(cls.iri in terms.SAFETY_CRITICAL_OBSERVATIONS for cls in classes)
    read_ok = [(cls, value) for cls, value in reads if value.ok]
    label = " / ".join(_label(cls) for cls, _ in (read_ok or reads))
    if not read_ok:
        return _unreadable(ctx, label, reads[0][1], critical, warnings)
    readings = {frozenset(value.statements) for _, value in read_ok}
    if len(readings) > 1:
        shown = "; ".join(
            f"{_label(cls)}: {', '.join(sorted(_shown(o) for _, o in value.statements))}" for cls, value in read_ok
        )
        notice = (ctx.error if critical else ctx.warning)(
            "fhir-conflicting-codes",
            f"its codes name different observations that read its value differently ({shown}); keep one code per meaning",
        )
        return _with(EntryResult(ignored=(ctx.ignore("conflicting codes"),)), warnings, notice)
    value = read_ok[0][1]
    types = tuple(sorted(cls.iri for cls, _ in read_ok))

    statements: list[tuple[str, Object]] = [
        (terms.SOURCE_REFERENCE, TypedLiteral(ctx.source_reference, terms.XSD_STRING))
    ]
    statements.extend(value.statements)
    results = {obj_ for pred, obj_ in value.statements if pred == terms.RESULT}
    effective = read_date(resource, EFFECTIVE_PATHS)
    if effective.day is not None:
        statements.append((terms.EFFECTIVE_DATE, date_literal(effective.day)))

    facts: list[Fact] = [
        Node(iri=ctx.node_iri("observation"), link=terms.HAS_OBSERVATION, types=types, statements=tuple(statements))
    ]
    errors: list[Notice] = []
    metastatic = (terms.M_CATEGORY_OBS in types and terms.M1 in results) or (
        terms.STAGE_GROUP_OBS in types and terms.STAGE_4 in results
    )
    if metastatic:
        facts.append(
            MetastasisEvidence(
                field=ctx.field, reference=ctx.where, day=effective.day, date_problem=_date_problem(effective)
            )
        )
    elif effective.day is None:
        needed_for = next((why for why in (_date_needed_for(t, results) for t in types) if why), "")
        if needed_for:
            errors.append(_needed_date_error(ctx, effective, label, needed_for))
        else:
            date_warning = date_notice(ctx, effective, what=f"{label} date", needed=False)
            if date_warning is not None:
                warnings.append(date_warning)
    return EntryResult(facts=tuple(facts), warnings=tuple(warnings), errors=tuple(errors))


def _shown(value: Object) -> str:
    return value.lexical if isinstance(value, TypedLiteral) else f"h:{value.rsplit('/', 1)[-1]}"


def _date_needed_for(cls: str, results: set[Object]) -> str:
    """Why the rules need this observation's date ('' when they do not)."""
    if cls == terms.LVEF:
        return "the latest LVEF is chosen by date"
    if cls == terms.DISEASE_STATUS and terms.DISEASE_PROGRESSION in results:
        return "progression dates mark the lines of metastatic therapy"
    return ""


def _needed_date_error(ctx: EntryContext, read: DateRead, label: str, why: str) -> Notice:
    notice = date_notice(ctx, read, what=f"{label} date", needed=True)
    if notice is not None:
        return notice
    return ctx.error(
        "fhir-missing-date",
        f"{label} has no effectiveDateTime, effectivePeriod.start or issued, and {why}; add the date",
    )


def _date_problem(read: DateRead) -> str:
    if read.day is not None:
        return ""
    if read.problem == "partial":
        return f"its {read.element} '{read.raw}' gives no day"
    if read.problem == "invalid":
        return f"its {read.element} {read.raw} is not a FHIR date"
    return "it has no effectiveDateTime, effectivePeriod.start or issued"


def _unreadable(ctx: EntryContext, label: str, value: ValueRead, critical: bool, warnings: list[Notice]) -> EntryResult:
    if value.bad_unit:  # a number in a unit the rules cannot use must never be read as another unit
        notice = ctx.error("fhir-unit", f"{label}: {value.problem}")
        return EntryResult(warnings=tuple(warnings), errors=(notice,), ignored=(ctx.ignore(f"{label}: {value.problem}"),))
    if value.unmapped and not critical:
        warnings.extend(unknown_code_warnings(ctx, f"{label} answer", value.unmapped))
        return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore(f"{label}: answer code not known to her2kg"),))
    if value.unmapped:
        shown = ", ".join(describe(c, ctx.mapping) for c in value.unmapped)
        problem = f"its answer ({shown}) is not one her2kg knows"
    else:
        problem = value.problem
    if critical:
        notice = ctx.error(
            "fhir-missing-value" if value.missing else "fhir-unreadable-value",
            f"{label}: {problem}; without it the answer could be unsafe — record the result, or remove the entry",
        )
        return EntryResult(warnings=tuple(warnings), errors=(notice,), ignored=(ctx.ignore(f"{label}: {problem}"),))
    warnings.append(
        ctx.warning(
            "fhir-missing-value" if value.missing else "fhir-unreadable-value", f"{label}: {problem}; it was ignored"
        )
    )
    return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore(f"{label}: {problem}"),))


def _property_observation(ctx: EntryContext, prop: Concept, warnings: list[Notice]) -> EntryResult:
    """An observation whose code maps to a datatype property (h:her2CopyNumber): a node of the
    property's domain class holding the number."""
    value = read_number(ctx.resource, prop.iri)
    label = _label(prop)
    critical = prop.domain in terms.SAFETY_CRITICAL_OBSERVATIONS
    if not value.ok:
        return _unreadable(ctx, label, value, critical, warnings)
    statements: list[tuple[str, Object]] = [
        (terms.SOURCE_REFERENCE, TypedLiteral(ctx.source_reference, terms.XSD_STRING))
    ]
    statements.extend(value.statements)
    effective = read_date(ctx.resource, EFFECTIVE_PATHS)
    if effective.day is not None:
        statements.append((terms.EFFECTIVE_DATE, date_literal(effective.day)))
    else:
        notice = date_notice(ctx, effective, what=f"{label} date", needed=False)
        if notice is not None:
            warnings.append(notice)
    node = Node(
        iri=ctx.node_iri("observation"), link=terms.HAS_OBSERVATION, types=(prop.domain,), statements=tuple(statements)
    )
    return EntryResult(facts=(node,), warnings=tuple(warnings))


def _patient_statement(ctx: EntryContext, prop: Concept, warnings: list[Notice]) -> EntryResult:
    """h:drugUnavailable and the like: the value names a drug (RxNorm ingredient or product)."""
    concept = obj(ctx.resource, "valueCodeableConcept")
    resolution = resolve(concept, ctx.mapping, is_drug_or_product)
    drugs = drugs_of(resolution)
    if not drugs:
        if resolution.unmapped:
            warnings.extend(unknown_code_warnings(ctx, "unavailable drug", resolution.unmapped))
            return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore("drug not known to her2kg"),))
        warnings.append(
            ctx.warning(
                "fhir-missing-value",
                "the drug-unavailable observation names no coded drug; it was ignored — give the RxNorm code",
            )
        )
        return EntryResult(warnings=tuple(warnings), ignored=(ctx.ignore("no coded drug"),))
    facts = tuple(PatientStatement(predicate=prop.iri, object=drug) for drug in drugs)
    return EntryResult(facts=facts, warnings=tuple(warnings))


def _label(concept: Concept) -> str:
    """A short name for messages: the local name of the class or property."""
    return concept.iri.rsplit("/", 1)[-1]
