"""Parsers for the observation values the importer reads: IHC scores, ISH ratios, quantities.

Each parser returns None when the text does not have the expected form; it never guesses a
value from text it does not fully understand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from her2kg.fhir import terms

_IHC = re.compile(
    r"^(?:her-?2\s*)?(?:\(?ihc\)?\s*)?(?:score\s*)?[:=]?\s*"
    r"(?P<digit>[0-3])\s*(?P<plus>\+)?\s*(?:\((?:positive|negative|equivocal)\))?$"
)

_IHC_SCORES = {"0": terms.IHC_0, "1": terms.IHC_1, "2": terms.IHC_2, "3": terms.IHC_3}

_QUALITATIVE_WORDS = {
    "positive": terms.POSITIVE,
    "pos": terms.POSITIVE,
    "negative": terms.NEGATIVE,
    "neg": terms.NEGATIVE,
    "equivocal": terms.EQUIVOCAL,
    "indeterminate": terms.INDETERMINATE,
}

_COMPARATOR_WORDS = (
    ("greater than or equal to", ">="),
    ("less than or equal to", "<="),
    ("greater than", ">"),
    ("more than", ">"),
    ("at least", ">="),
    ("less than", "<"),
    ("at most", "<="),
    (">=", ">="),
    ("≥", ">="),
    ("<=", "<="),
    ("≤", "<="),
    (">", ">"),
    ("<", "<"),
)

_NUMBER = re.compile(r"^(?P<num>\d+(?:[.,]\d+)?|[.,]\d+)$")
_PERCENT = re.compile(r"^(?P<num>\d+(?:[.,]\d+)?)\s*%$")

FHIR_COMPARATORS = frozenset({"<", "<=", ">=", ">"})


@dataclass(frozen=True)
class Ratio:
    """A HER2/CEP17 ratio, with the comparator it was reported with ('' when exact)."""

    value: Decimal
    comparator: str = ""


def parse_ihc_score(text: str) -> str | None:
    """The IHC score individual for text such as "0", "1+", "2+", "3+", "3 +", "Score 3+".

    "1", "2" and "3" without a plus sign are not accepted (they could be anything); "0" is.
    """
    cleaned = " ".join(text.strip().lower().split())
    match = _IHC.match(cleaned)
    if match is None:
        return None
    digit = match["digit"]
    if digit != "0" and match["plus"] is None:
        return None
    return _IHC_SCORES[digit]


def parse_qualitative(text: str) -> str | None:
    """h:positive / h:negative / h:equivocal / h:indeterminate for exactly that word."""
    return _QUALITATIVE_WORDS.get(" ".join(text.strip().lower().split()))


def parse_ratio_text(text: str) -> Ratio | None:
    """An ISH ratio from text: "2.3", "greater than 2.2", "> 2.2", "<2.0", "less than 1.8"."""
    cleaned = " ".join(text.strip().lower().split())
    if cleaned.startswith("ratio"):
        cleaned = cleaned[len("ratio") :].lstrip(" :=")
    comparator = ""
    for word, symbol in _COMPARATOR_WORDS:
        if cleaned.startswith(word):
            comparator = symbol
            cleaned = cleaned[len(word) :].strip()
            break
    match = _NUMBER.match(cleaned)
    if match is None:
        return None
    value = to_decimal(match["num"].replace(",", "."))
    if value is None:
        return None
    return Ratio(value=value, comparator=comparator)


def parse_percent_text(text: str) -> Decimal | None:
    """A percentage written as text with its sign, such as "55%" or "55 %"."""
    match = _PERCENT.match(text.strip())
    if match is None:
        return None
    return to_decimal(match["num"].replace(",", "."))


def to_decimal(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or a numeric string (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        number = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
    else:
        return None
    if not number.is_finite():
        return None
    if number != 0 and not -20 <= number.adjusted() <= 20:
        return None  # no clinical value is this large or small; refuse rather than print 10**400 digits
    return number


def decimal_lexical(value: Decimal) -> str:
    """The xsd:decimal lexical form of a Decimal: plain digits, always with a fraction part."""
    text = format(value, "f")
    if "." not in text:
        text += ".0"
    if text.startswith("-0.") and value == 0:
        text = text[1:]
    return text
