"""Quantities read with their units: UCUM codes converted to the unit the rules use.

A small table, not a general UCUM engine: the rules use lengths in millimetres (tumour size),
percentages (LVEF) and plain numbers (HER2/CEP17 ratio, HER2 copy number). A Quantity's UCUM
`code` decides (UCUM is case-sensitive); only when it has no code is its human-readable `unit`
read, as a UCUM code or a spelled-out unit name. Anything else is not converted: the caller
reports it as an error naming the entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from her2kg.fhir import terms
from her2kg.fhir.jsonpath import JsonObject, text
from her2kg.fhir.values import to_decimal


@dataclass(frozen=True)
class Dimension:
    """What a quantity measures, in the unit the rules use, and the UCUM codes converted to it."""

    name: str  # "length", for messages
    unit: str  # the unit the rules use, "mm"
    factors: Mapping[str, Decimal]  # UCUM code -> factor to `unit`
    words: Mapping[str, str]  # a spelled-out unit (lower case) -> its UCUM code
    unitless: bool = False  # a pure number: no unit, "1", or UCUM annotations such as "{ratio}"


LENGTH_MM = Dimension(
    "length",
    "mm",
    MappingProxyType({"mm": Decimal(1), "cm": Decimal(10)}),
    MappingProxyType(
        {
            "millimeter": "mm",
            "millimeters": "mm",
            "millimetre": "mm",
            "millimetres": "mm",
            "centimeter": "cm",
            "centimeters": "cm",
            "centimetre": "cm",
            "centimetres": "cm",
        }
    ),
)
PERCENT = Dimension("percentage", "%", MappingProxyType({"%": Decimal(1)}), MappingProxyType({"percent": "%"}))
NUMBER = Dimension(
    "number",
    "1",
    MappingProxyType({"1": Decimal(1)}),
    # spelled-out units of a count per cell (HER2 copy number), written as text without a code
    MappingProxyType({f"{per}{where}": "1" for per in ("/", "per ", "copies/", "copies per ", "signals/", "signals per ") for where in ("cell", "nucleus")}),
    unitless=True,
)

# UCUM annotations ("{copies}/{cell}", "/{nucleus}", "{ratio}") are unity: a count or a ratio
_ANNOTATION_ONLY = re.compile(r"^(?:\{[^{}]*\})?(?:/\{[^{}]*\})?$")


@dataclass(frozen=True)
class Converted:
    """A quantity in the unit the rules use, or why it could not be converted."""

    value: Decimal | None
    problem: str = ""
    comparator: str = ""


def convert(quantity: JsonObject, dimension: Dimension) -> Converted:
    """The quantity's value in `dimension.unit`, or a problem ('its unit ... is not ...')."""
    value = to_decimal(quantity.get("value"))
    if value is None:
        return Converted(None, "its Quantity has no usable number")
    system = text(quantity, "system")
    code = text(quantity, "code")
    unit = text(quantity, "unit")
    if code is not None and system not in (None, terms.UCUM):
        return Converted(None, f"its unit {code!r} is of system {system}, not UCUM; record the {dimension.name} in {_expected(dimension)}")
    factor = _factor(code, dimension) if code is not None else _factor_from_unit(unit, dimension)
    if factor is None:
        shown = code if code is not None else (unit or "no unit")
        return Converted(
            None, f"its unit {shown!r} is not a unit of {dimension.name} the rules can use; record it in {_expected(dimension)}"
        )
    return Converted(value * factor, comparator=text(quantity, "comparator") or "")


def _factor(code: str, dimension: Dimension) -> Decimal | None:
    if code in dimension.factors:
        return dimension.factors[code]
    if dimension.unitless and code and _ANNOTATION_ONLY.match(code):
        return Decimal(1)
    return None


def _factor_from_unit(unit: str | None, dimension: Dimension) -> Decimal | None:
    if unit is None:
        return Decimal(1) if dimension.unitless else None
    found = _factor(unit, dimension)
    if found is not None:
        return found
    word = dimension.words.get(" ".join(unit.lower().split()))
    return dimension.factors[word] if word is not None else None


def _expected(dimension: Dimension) -> str:
    if dimension.unitless:
        return "a plain number (no unit, UCUM '1' or an annotation such as '{ratio}')"
    codes = ", ".join(f"'{c}'" for c in dimension.factors)
    return f"UCUM {codes}"
