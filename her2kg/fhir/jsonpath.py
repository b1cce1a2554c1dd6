"""Defensive readers for parsed FHIR JSON: every accessor checks the type it gets.

Input bundles come from elsewhere and may hold any JSON value in any field; these helpers return
`None` (or an empty tuple) instead of raising when a field is absent or of the wrong type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

JsonObject = Mapping[str, Any]


@dataclass(frozen=True)
class Coding:
    """One `Coding` of a `CodeableConcept` (blank strings when a part is missing)."""

    system: str
    code: str
    display: str = ""

    def label(self) -> str:
        shown = f"{self.system or '(no system)'}|{self.code or '(no code)'}"
        return f"{shown} '{self.display}'" if self.display else shown


def obj(value: object, key: str) -> JsonObject | None:
    """The JSON object at `value[key]`, or None."""
    if isinstance(value, Mapping):
        found = value.get(key)
        if isinstance(found, Mapping):
            return found
    return None


def text(value: object, key: str) -> str | None:
    """The non-blank string at `value[key]`, stripped, or None."""
    if isinstance(value, Mapping):
        found = value.get(key)
        if isinstance(found, str) and found.strip():
            return found.strip()
    return None


def items(value: object, key: str) -> tuple[JsonObject, ...]:
    """The JSON objects of the array at `value[key]` (other members are skipped)."""
    if isinstance(value, Mapping):
        found = value.get(key)
        if isinstance(found, list):
            return tuple(member for member in found if isinstance(member, Mapping))
    return ()


def codings(concept: object) -> tuple[Coding, ...]:
    """The codings of a CodeableConcept that carry a code."""
    found: list[Coding] = []
    for coding in items(concept, "coding"):
        code = text(coding, "code")
        if code is None:
            continue
        found.append(Coding(system=text(coding, "system") or "", code=code, display=text(coding, "display") or ""))
    return tuple(found)


def first_coding_code(concept: object) -> str | None:
    """The first code of a CodeableConcept, whatever its system (used for FHIR status codes)."""
    for coding in codings(concept):
        return coding.code
    return None


def number(value: object) -> float | int | Decimal | None:
    """A JSON number that is not a boolean, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, Decimal)):
        return value
    return None
