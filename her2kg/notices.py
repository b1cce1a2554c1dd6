"""Warnings and errors about an input, shared by the importers, the rules and the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Notice:
    """One warning or error. `field` names the input field concerned ('' when none)."""

    severity: Severity
    code: str
    message: str
    field: str = ""

    def as_warning(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    def as_error(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}
