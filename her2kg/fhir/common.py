"""Helpers shared by the resource mappers: reading dates and FHIR status codes, building facts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from her2kg.fhir import terms
from her2kg.fhir.codes import describe
from her2kg.fhir.dates import DateFormatError, parse_fhir_date
from her2kg.fhir.jsonpath import Coding, first_coding_code, obj, text
from her2kg.fhir.model import EntryContext, TypedLiteral
from her2kg.notices import Notice

DateProblem = Literal["", "missing", "partial", "invalid"]


@dataclass(frozen=True)
class DateRead:
    """A date read from the first of several elements that is present."""

    day: date | None
    problem: DateProblem
    element: str = ""  # e.g. "effectivePeriod.start"
    raw: str = ""


def read_date(resource: object, paths: Sequence[str]) -> DateRead:
    """Read the first present element of `paths` ("effectiveDateTime", "effectivePeriod.start")."""
    for path in paths:
        value = _at(resource, path)
        if value is None:
            continue
        if not isinstance(value, str):
            return DateRead(day=None, problem="invalid", element=path, raw=repr(value)[:40])
        if not value.strip():
            continue
        try:
            parsed = parse_fhir_date(value)
        except DateFormatError:
            return DateRead(day=None, problem="invalid", element=path, raw=value[:40])
        if parsed.day is None:
            return DateRead(day=None, problem="partial", element=path, raw=parsed.raw)
        return DateRead(day=parsed.day, problem="", element=path, raw=parsed.raw)
    return DateRead(day=None, problem="missing")


def _at(resource: object, path: str) -> object:
    current: object = resource
    for part in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    return current


def date_notice(ctx: EntryContext, read: DateRead, *, what: str, needed: bool) -> Notice | None:
    """A notice for a partial or malformed date (None when the date is fine or absent).

    `needed`: the rules use this date, so an imprecise one is an error; otherwise it is left out
    with a warning.
    """
    if read.problem == "partial":
        if needed:
            return ctx.error(
                "fhir-partial-date",
                f"{what} {read.element} '{read.raw}' gives no day, and the rules need the exact date; "
                "record it as YYYY-MM-DD",
            )
        return ctx.warning("fhir-partial-date", f"{what} {read.element} '{read.raw}' gives no day and was left out")
    if read.problem == "invalid":
        if needed:
            return ctx.error(
                "fhir-invalid-date",
                f"{what} {read.element} {read.raw} is not a FHIR date; write it as YYYY-MM-DD",
            )
        return ctx.warning("fhir-invalid-date", f"{what} {read.element} {read.raw} is not a FHIR date and was left out")
    return None


def date_literal(day: date) -> TypedLiteral:
    return TypedLiteral(day.isoformat(), terms.XSD_DATE)


def status_code(resource: object, key: str = "status") -> str | None:
    """A FHIR status: a plain code (`status`) or a CodeableConcept (`clinicalStatus`)."""
    plain = text(resource, key)
    if plain is not None:
        return plain.lower()
    concept = obj(resource, key)
    if concept is not None:
        code = first_coding_code(concept)
        if code is not None:
            return code.lower()
    return None


def unknown_code_warnings(ctx: EntryContext, element: str, codings: Iterable[Coding]) -> tuple[Notice, ...]:
    """One warning per code that the knowledge base does not map (the entry is left out).

    `element` names what the code is, such as "code", "answer" or "medication". Warnings that
    say the same about several entries are merged at bundle level.
    """
    notices: list[Notice] = []
    for coding in codings:
        if ctx.mapping.knows_system(coding.system):
            notices.append(
                ctx.warning(
                    "fhir-unknown-code",
                    f"{element} {describe(coding, ctx.mapping)} is not known to her2kg, so the entry was ignored",
                )
            )
        else:
            system = coding.system or "(no system)"
            notices.append(
                ctx.warning(
                    "fhir-unknown-code-system",
                    f"{element} {coding.code} is of code system {system}, which her2kg does not know, so the entry was ignored",
                )
            )
    return tuple(notices)
