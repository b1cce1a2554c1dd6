"""Warnings and errors about an input, shared by the importers, the rules and the report."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """An error rejects the report (exit code 1); a warning keeps it."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Notice:
    """One warning or error. `field` names the input field concerned ('' when none).

    `severity` may be given as the string "error" or "warning"; anything else is refused.
    """

    severity: Severity
    code: str
    message: str
    field: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "severity", Severity(self.severity))

    def as_warning(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


INPUT_CONSTRAINTS = frozenset({"her2-contradictory", "end-before-start", "lvef-out-of-range", "invalid-date"})
"""Error codes of notice rules that say a record contradicts itself or holds an impossible value
(not merely that it is incomplete): `her2kg validate PATIENT` reports these, from the same rules
that `recommend` runs."""
