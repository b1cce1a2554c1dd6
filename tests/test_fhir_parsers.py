"""Unit tests of the FHIR importer's value parsers: dates, IHC scores, ratios, units, phases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from her2kg.fhir import terms
from her2kg.fhir.dates import DateFormatError, parse_fhir_date
from her2kg.fhir.phase import Timeline, infer_phase
from her2kg.fhir.units import LENGTH_MM, NUMBER, PERCENT, Dimension, convert
from her2kg.fhir.values import (
    Ratio,
    decimal_lexical,
    parse_ihc_score,
    parse_percent_text,
    parse_qualitative,
    parse_ratio_text,
    to_decimal,
)

# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2024-02-20", date(2024, 2, 20)),
        ("2024-02-20T10:00:00+02:00", date(2024, 2, 20)),
        ("2024-02-20T23:30:00-05:00", date(2024, 2, 20)),  # the local calendar date, not UTC
        ("2024-02-20T00:30:00+14:00", date(2024, 2, 20)),
        ("2014-11-06T09:27:09.556-05:00", date(2014, 11, 6)),
        ("2024-02-29T12:00:00Z", date(2024, 2, 29)),
        (" 2024-02-20 ", date(2024, 2, 20)),
    ],
)
def test_full_dates_keep_the_date_as_written(text: str, day: date) -> None:
    parsed = parse_fhir_date(text)
    assert parsed.precision == "day"
    assert parsed.day == day


@pytest.mark.parametrize(("text", "precision"), [("2024-02", "month"), ("2024", "year")])
def test_partial_dates_are_never_completed(text: str, precision: str) -> None:
    parsed = parse_fhir_date(text)
    assert parsed.precision == precision
    assert parsed.day is None
    assert not parsed.is_full


@pytest.mark.parametrize(
    "text",
    ["2023-02-30", "2024-13-01", "24-02-20", "20/02/2024", "2024-02-20T25:00:00Z", "yesterday", "", "2024-2-3", "0000"],
)
def test_malformed_dates_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(DateFormatError) as info:
        parse_fhir_date(text)
    assert str(info.value)


# --- IHC scores and qualitative words ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", terms.IHC_0),
        ("0+", terms.IHC_0),
        ("1+", terms.IHC_1),
        ("2+", terms.IHC_2),
        ("3+", terms.IHC_3),
        ("3 +", terms.IHC_3),
        ("Score 3+", terms.IHC_3),
        ("score: 2+", terms.IHC_2),
        ("IHC 1+", terms.IHC_1),
        ("HER2 IHC 3+", terms.IHC_3),
        ("  2+  ", terms.IHC_2),
        ("3+ (positive)", terms.IHC_3),
    ],
)
def test_ihc_scores(text: str, expected: str) -> None:
    assert parse_ihc_score(text) == expected


@pytest.mark.parametrize("text", ["3", "4+", "2.3", "positive", "+", "", "3++", "score", "1-2+", "greater than 2.2"])
def test_text_that_is_not_an_ihc_score(text: str) -> None:
    assert parse_ihc_score(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Positive", terms.POSITIVE),
        ("NEGATIVE", terms.NEGATIVE),
        ("equivocal", terms.EQUIVOCAL),
        ("indeterminate", terms.INDETERMINATE),
        ("not positive", None),
        ("positive?", None),
        ("", None),
    ],
)
def test_qualitative_words_must_match_exactly(text: str, expected: str | None) -> None:
    assert parse_qualitative(text) == expected


# --- ISH ratios ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("greater than 2.2", Ratio(Decimal("2.2"), ">")),
        ("Greater than 2.2", Ratio(Decimal("2.2"), ">")),
        ("> 2.2", Ratio(Decimal("2.2"), ">")),
        ("<2.0", Ratio(Decimal("2.0"), "<")),
        ("less than 1.8", Ratio(Decimal("1.8"), "<")),
        ("2.3", Ratio(Decimal("2.3"), "")),
        ("2,3", Ratio(Decimal("2.3"), "")),
        (">= 2.0", Ratio(Decimal("2.0"), ">=")),
        ("≥2.0", Ratio(Decimal("2.0"), ">=")),
        ("at least 2", Ratio(Decimal("2"), ">=")),
        ("ratio: 4.1", Ratio(Decimal("4.1"), "")),
    ],
)
def test_ratio_strings(text: str, expected: Ratio) -> None:
    assert parse_ratio_text(text) == expected


@pytest.mark.parametrize("text", ["see report", "2.3 copies", "greater than", "-2.3", "2.3.4", "", "amplified"])
def test_text_that_is_not_a_ratio(text: str) -> None:
    assert parse_ratio_text(text) is None


# --- numbers and units -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (55, Decimal(55)),
        (4.2, Decimal("4.2")),
        ("61.5", Decimal("61.5")),
        (Decimal("2.25"), Decimal("2.25")),
        (True, None),
        (float("nan"), None),
        (float("inf"), None),
        ("NaN", None),
        ("1e400", None),
        (1e300, None),
        (None, None),
        ([1], None),
        ("abc", None),
    ],
)
def test_to_decimal(value: object, expected: Decimal | None) -> None:
    assert to_decimal(value) == expected


@pytest.mark.parametrize(
    ("value", "lexical"),
    [
        (Decimal("60"), "60.0"),
        (Decimal("4.2") * 10, "42.0"),
        (Decimal("2.60"), "2.60"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-0"), "0.0"),
    ],
)
def test_decimal_lexical_is_an_xsd_decimal(value: Decimal, lexical: str) -> None:
    assert decimal_lexical(value) == lexical


@pytest.mark.parametrize(
    ("quantity", "dimension", "expected"),
    [
        ({"value": 4.2, "system": "http://unitsofmeasure.org", "code": "cm"}, LENGTH_MM, Decimal("42.0")),
        ({"value": 3.47, "unit": "cm", "system": "http://unitsofmeasure.org", "code": "cm"}, LENGTH_MM, Decimal("34.70")),
        ({"value": 18, "code": "mm"}, LENGTH_MM, Decimal("18")),
        ({"value": 2.5, "unit": "centimeters"}, LENGTH_MM, Decimal("25.0")),  # no code: the unit text
        ({"value": 2.5, "unit": "centimeters", "code": "cm"}, LENGTH_MM, Decimal("25.0")),  # the code decides
        ({"value": 3, "code": "[in_i]"}, LENGTH_MM, None),
        ({"value": 3}, LENGTH_MM, None),  # a size without a unit is not a size
        ({"value": 3, "code": "m"}, LENGTH_MM, None),
        ({"value": 3, "code": "CM"}, LENGTH_MM, None),  # UCUM is case-sensitive
        ({"value": 3, "system": "http://snomed.info/sct", "code": "cm"}, LENGTH_MM, None),  # not UCUM
        ({"value": 55, "code": "%"}, PERCENT, Decimal("55")),
        ({"value": 55, "unit": "%"}, PERCENT, Decimal("55")),
        ({"value": 0.55, "code": "1"}, PERCENT, None),  # a fraction is not converted to a percentage
        ({"value": 2.3}, NUMBER, Decimal("2.3")),
        ({"value": 2.3, "code": "{ratio}"}, NUMBER, Decimal("2.3")),
        ({"value": 6.1, "code": "{copies}/{cell}"}, NUMBER, Decimal("6.1")),
        ({"value": 2.3, "code": "%"}, NUMBER, None),
        ({"value": "x", "code": "mm"}, LENGTH_MM, None),
    ],
)
def test_quantities_convert_only_the_ucum_units_the_rules_use(
    quantity: dict[str, object], dimension: Dimension, expected: Decimal | None
) -> None:
    converted = convert(quantity, dimension)
    assert converted.value == expected
    assert bool(converted.problem) == (expected is None)


@pytest.mark.parametrize(
    ("text", "expected"), [("55%", Decimal("55")), ("55 %", Decimal("55")), ("55", None), ("0.55", None), ("%", None)]
)
def test_percent_strings_need_the_percent_sign(text: str, expected: Decimal | None) -> None:
    assert parse_percent_text(text) == expected


# --- phase inference -------------------------------------------------------------------------

SURGERY = date(2020, 4, 1)
METASTASIS = date(2023, 5, 10)


@pytest.mark.parametrize(
    ("start", "timeline", "phase"),
    [
        (date(2020, 2, 1), Timeline(None, False, SURGERY), terms.NEOADJUVANT_PHASE),
        (date(2020, 5, 1), Timeline(None, False, SURGERY), terms.ADJUVANT_PHASE),
        (SURGERY, Timeline(None, False, SURGERY), terms.ADJUVANT_PHASE),
        (date(2020, 5, 1), Timeline(METASTASIS, False, SURGERY), terms.ADJUVANT_PHASE),
        (METASTASIS, Timeline(METASTASIS, False, SURGERY), terms.METASTATIC_PHASE),
        (date(2024, 1, 1), Timeline(METASTASIS, False, None), terms.METASTATIC_PHASE),
        (date(2022, 1, 1), Timeline(METASTASIS, False, None), None),  # before metastasis, no surgery
        (date(2020, 5, 1), Timeline(None, False, None), None),
        (date(2020, 5, 1), Timeline(None, True, SURGERY), None),  # metastatic, but undated: nothing inferred
        (None, Timeline(METASTASIS, False, SURGERY), None),
        # before surgery but also before the diagnosis: not neoadjuvant; on the day of diagnosis: neoadjuvant
        (date(2019, 6, 1), Timeline(None, False, SURGERY, date(2020, 1, 10)), None),
        (date(2020, 1, 10), Timeline(None, False, SURGERY, date(2020, 1, 10)), terms.NEOADJUVANT_PHASE),
        (date(2020, 5, 1), Timeline(None, False, SURGERY, date(2020, 1, 10)), terms.ADJUVANT_PHASE),
    ],
)
def test_phase_inference(start: date | None, timeline: Timeline, phase: str | None) -> None:
    assert infer_phase(start, None, timeline) == phase


def test_phase_inference_falls_back_to_the_end_date() -> None:
    assert infer_phase(None, date(2024, 1, 1), Timeline(METASTASIS, False, None)) == terms.METASTATIC_PHASE
