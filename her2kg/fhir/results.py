"""Reading Observation values: coded answers, IHC scores, ISH ratios, percentages and sizes.

Each reader returns a `ValueRead`: the statements to add to the observation node, or a problem
that says what is missing. Whether a problem is an error or a warning is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from her2kg.fhir import terms
from her2kg.fhir.codes import Resolution, is_result_value, resolve
from her2kg.fhir.jsonpath import Coding, JsonObject, items, number, obj, text
from her2kg.fhir.mapping import CodeMapping
from her2kg.fhir.model import Object, TypedLiteral
from her2kg.fhir.units import LENGTH_MM, NUMBER, PERCENT, Dimension, convert
from her2kg.fhir.values import (
    FHIR_COMPARATORS,
    decimal_lexical,
    parse_ihc_score,
    parse_percent_text,
    parse_qualitative,
    parse_ratio_text,
    to_decimal,
)

_VALUE_KEYS = (
    "valueCodeableConcept",
    "valueString",
    "valueQuantity",
    "valueRatio",
    "valueInteger",
    "valueBoolean",
    "valueRange",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
    "valueCode",
)


@dataclass(frozen=True)
class ValueRead:
    statements: tuple[tuple[str, Object], ...] = ()
    problem: str = ""  # why no value could be read ('' when statements were read)
    missing: bool = False  # True when the record has no value at all (as opposed to an unreadable one)
    unmapped: tuple[Coding, ...] = ()  # answer codes that are not mapped
    conflict: bool = False
    bad_unit: bool = False  # a quantity in a unit the rules cannot use (always an error)

    @property
    def ok(self) -> bool:
        return bool(self.statements)


def decimal_literal(value: Decimal) -> TypedLiteral:
    return TypedLiteral(decimal_lexical(value), terms.XSD_DECIMAL)


def has_value(resource: JsonObject) -> bool:
    return any(key in resource and resource.get(key) is not None for key in _VALUE_KEYS)


def _absent(resource: JsonObject) -> ValueRead:
    reason = text(obj(resource, "dataAbsentReason"), "text")
    codes = [c for c in items(obj(resource, "dataAbsentReason"), "coding") if text(c, "code")]
    if codes:
        reason = text(codes[0], "code")
    suffix = f" (dataAbsentReason: {reason})" if reason else ""
    return ValueRead(problem=f"it has no value{suffix}", missing=True)


def read_coded(resource: JsonObject, mapping: CodeMapping, families: frozenset[str]) -> ValueRead:
    """A coded answer of one of `families` (h:result), from valueCodeableConcept.

    valueString and valueCode are read as codes of the her2kg code system (for `low`/`high`).
    """
    concept = obj(resource, "valueCodeableConcept")
    if concept is not None:
        resolution = resolve(concept, mapping, lambda c: is_result_value(c) and bool(c.types & families))
        return _from_resolution(resolution, text(concept, "text"))
    for key in ("valueString", "valueCode"):
        word = text(resource, key)
        if word is not None:
            matches = [
                c
                for c in mapping.lookup(terms.HER2KG_CODE_SYSTEM, word.lower())
                if is_result_value(c) and c.types & families
            ]
            if len(matches) == 1:
                return ValueRead(statements=((terms.RESULT, matches[0].iri),))
            return ValueRead(problem=f"its {key} '{word[:40]}' is not a coded answer her2kg knows")
    if has_value(resource):
        return ValueRead(problem="its value is not a CodeableConcept")
    return _absent(resource)


def _from_resolution(resolution: Resolution, fallback_text: str | None) -> ValueRead:
    if len(resolution.concepts) > 1:
        shown = ", ".join(sorted(resolution.iris))
        return ValueRead(problem=f"its codes give conflicting answers ({shown})", conflict=True)
    if resolution.concepts:
        return ValueRead(statements=((terms.RESULT, resolution.concepts[0].iri),))
    if not resolution.codings:
        shown = f" (text '{fallback_text[:40]}')" if fallback_text else ""
        return ValueRead(problem=f"its valueCodeableConcept has no code{shown}")
    return ValueRead(problem="its answer code is not one her2kg knows", unmapped=resolution.unmapped)


def read_ihc(resource: JsonObject, mapping: CodeMapping, families: frozenset[str]) -> ValueRead:
    """HER2 IHC: a coded answer, or an IHC score "0"/"1+"/"2+"/"3+" (string, text or integer)."""
    from_concept = _coded_or_its_text(resource, mapping, families, _ihc_from_text)
    if from_concept is not None:
        return from_concept
    string = text(resource, "valueString")
    if string is not None:
        return _ihc_from_text(string) or ValueRead(
            problem=f"its valueString '{string[:40]}' is neither an IHC score (0, 1+, 2+, 3+) nor positive/negative/equivocal"
        )
    integer = resource.get("valueInteger")
    if number(integer) is not None and isinstance(integer, int) and 0 <= integer <= 3:
        return ValueRead(
            statements=((terms.RESULT, {0: terms.IHC_0, 1: terms.IHC_1, 2: terms.IHC_2, 3: terms.IHC_3}[integer]),)
        )
    if has_value(resource):
        return ValueRead(problem="its value is neither a coded answer nor an IHC score")
    return _absent(resource)


def _coded_or_its_text(
    resource: JsonObject, mapping: CodeMapping, families: frozenset[str], parse_text: Callable[[str], ValueRead | None]
) -> ValueRead | None:
    """A valueCodeableConcept read by its codes, else by its text; None when there is no concept."""
    concept = obj(resource, "valueCodeableConcept")
    if concept is None:
        return None
    coded = read_coded(resource, mapping, families)
    if coded.ok or coded.conflict:
        return coded
    words = text(concept, "text")
    return (parse_text(words) if words else None) or coded


def _qualitative_from_text(words: str) -> ValueRead | None:
    word = parse_qualitative(words)
    return ValueRead(statements=((terms.RESULT, word),)) if word is not None else None


def _ihc_from_text(words: str) -> ValueRead | None:
    score = parse_ihc_score(words) or parse_qualitative(words)
    if score is None:
        return None
    return ValueRead(statements=((terms.RESULT, score),))


def read_ish(resource: JsonObject, mapping: CodeMapping, families: frozenset[str]) -> ValueRead:
    """HER2 ISH: a ratio (Quantity, Ratio or text such as "greater than 2.2") or a coded answer."""
    quantity = obj(resource, "valueQuantity")
    if quantity is not None:
        converted = convert(quantity, NUMBER)
        if converted.value is None:
            return _unit_problem(converted.problem)
        value = converted.value
        if value < 0:
            return ValueRead(problem="its valueQuantity has no usable number")
        comparator = converted.comparator
        return _ratio_statements(value, comparator if comparator in FHIR_COMPARATORS else "")
    ratio = obj(resource, "valueRatio")
    if ratio is not None:
        numerator_obj = obj(ratio, "numerator")
        numerator = to_decimal(numerator_obj.get("value")) if numerator_obj else None
        denominator_obj = obj(ratio, "denominator")
        denominator = to_decimal(denominator_obj.get("value")) if denominator_obj else Decimal(1)
        if numerator is None or denominator is None or denominator <= 0 or numerator < 0:
            return ValueRead(problem="its valueRatio has no usable numerator and denominator")
        comparator = text(numerator_obj, "comparator") or ""
        ratio_value = to_decimal(numerator / denominator) if denominator != 1 else numerator
        if ratio_value is None:
            return ValueRead(problem="its valueRatio is not a plausible HER2/CEP17 ratio")
        if denominator != 1 and ratio_value.adjusted() > -3:
            ratio_value = ratio_value.quantize(Decimal("0.01"))
        return _ratio_statements(ratio_value, comparator if comparator in FHIR_COMPARATORS else "")
    string = text(resource, "valueString")
    if string is not None:
        return _ish_from_text(string) or ValueRead(
            problem=f"its valueString '{string[:40]}' is neither a ratio (such as 2.3 or 'greater than 2.2') nor positive/negative/equivocal"
        )
    concept = obj(resource, "valueCodeableConcept")
    if concept is not None:
        coded = read_coded(resource, mapping, families)
        if coded.ok or coded.conflict:
            return coded
        words = text(concept, "text")
        return (_ish_from_text(words) if words else None) or coded
    if has_value(resource):
        return ValueRead(problem="its value is neither a ratio nor a coded answer")
    return _absent(resource)


def _ish_from_text(words: str) -> ValueRead | None:
    ratio = parse_ratio_text(words)
    if ratio is not None:
        return _ratio_statements(ratio.value, ratio.comparator)
    word = parse_qualitative(words)
    if word is not None:
        return ValueRead(statements=((terms.RESULT, word),))
    return None


def _ratio_statements(value: Decimal, comparator: str) -> ValueRead:
    statements: list[tuple[str, Object]] = [(terms.ISH_RATIO, decimal_literal(value))]
    if comparator:
        statements.append((terms.RATIO_COMPARATOR, TypedLiteral(comparator, terms.XSD_STRING)))
    return ValueRead(statements=tuple(statements))


def read_qualitative(resource: JsonObject, mapping: CodeMapping, families: frozenset[str]) -> ValueRead:
    """ER, PR, HER2 interpretation: a coded answer, or exactly 'positive'/'negative'/'equivocal'."""
    from_concept = _coded_or_its_text(resource, mapping, families, _qualitative_from_text)
    if from_concept is not None:
        return from_concept
    string = text(resource, "valueString")
    if string is not None:
        return _qualitative_from_text(string) or ValueRead(problem=f"its valueString '{string[:40]}' is not positive, negative or equivocal")
    if obj(resource, "valueQuantity") is not None:
        return ValueRead(
            problem="its value is a number, which her2kg does not interpret; add the coded interpretation (positive or negative)"
        )
    if has_value(resource):
        return ValueRead(problem="its value is not a coded answer")
    return _absent(resource)


def read_percent(resource: JsonObject) -> ValueRead:
    """LVEF: a valueQuantity in % (UCUM '%'), or a string such as '55%'. Nothing else is converted."""
    quantity = obj(resource, "valueQuantity")
    if quantity is not None:
        converted = convert(quantity, PERCENT)
        if converted.value is None:
            return _unit_problem(converted.problem)
        if converted.comparator:
            return ValueRead(
                problem="its value has a comparator (such as '<'), so it is not a measured LVEF; record the measured value"
            )
        return _percent(converted.value)
    string = text(resource, "valueString")
    if string is not None:
        value = parse_percent_text(string)
        if value is None:
            return ValueRead(
                problem=f"its valueString '{string[:40]}' is not a percentage; record the LVEF as a valueQuantity in %"
            )
        return _percent(value)
    if has_value(resource):
        return ValueRead(problem="its value is not a Quantity in %")
    return _absent(resource)


def _unit_problem(problem: str) -> ValueRead:
    if problem.startswith("its Quantity has no usable number"):
        return ValueRead(problem=problem)
    return ValueRead(problem=f"{problem}; it was not converted", bad_unit=True)


def _percent(value: Decimal) -> ValueRead:
    if not Decimal(0) <= value <= Decimal(100):
        return ValueRead(problem=f"its value {decimal_lexical(value)} % is outside 0-100")
    return ValueRead(statements=((terms.PERCENT_VALUE, decimal_literal(value)),))


def read_size(resource: JsonObject, mapping: CodeMapping) -> ValueRead:
    """Tumour size in mm from valueQuantity (mm or cm) or from a component mapped to h:sizeMillimetres."""
    quantity = obj(resource, "valueQuantity")
    if quantity is None:
        for component in items(resource, "component"):
            resolution = resolve(obj(component, "code"), mapping, lambda c: c.iri == terms.SIZE_MM)
            if resolution.found and obj(component, "valueQuantity") is not None:
                quantity = obj(component, "valueQuantity")
                break
    if quantity is None:
        if has_value(resource):
            return ValueRead(problem="its value is not a Quantity in mm or cm")
        return _absent(resource)
    return _size(quantity)


def _size(quantity: JsonObject) -> ValueRead:
    converted = convert(quantity, LENGTH_MM)
    if converted.value is None:
        return _unit_problem(converted.problem)
    if converted.value < 0:
        return ValueRead(problem="its size has no usable number")
    return ValueRead(statements=((terms.SIZE_MM, decimal_literal(converted.value)),))


# the unit each number-valued property is kept in (default: a plain number)
_PROPERTY_DIMENSIONS: dict[str, Dimension] = {terms.SIZE_MM: LENGTH_MM}


def read_number(resource: JsonObject, predicate: str) -> ValueRead:
    """A number for a datatype property such as h:her2CopyNumber (valueQuantity or valueInteger),
    converted to the property's unit (h:sizeMillimetres from mm or cm)."""
    quantity = obj(resource, "valueQuantity")
    dimension = _PROPERTY_DIMENSIONS.get(predicate, NUMBER)
    if quantity is not None:
        if dimension is LENGTH_MM:
            return _size(quantity)
        converted = convert(quantity, dimension)
        if converted.value is None:
            return _unit_problem(converted.problem)
        value: Decimal | None = converted.value
    elif dimension is NUMBER:
        value = to_decimal(resource.get("valueInteger"))
    else:
        value = None
    if value is None or value < 0:
        if has_value(resource):
            return ValueRead(problem=f"its value is not a usable {'Quantity in mm or cm' if dimension is LENGTH_MM else 'number'}")
        return _absent(resource)
    return ValueRead(statements=((predicate, decimal_literal(value)),))
