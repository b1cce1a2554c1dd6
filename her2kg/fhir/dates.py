"""FHIR `date` and `dateTime` values read as calendar dates.

A dateTime keeps the calendar date as written, whatever its time zone: "2024-02-20T23:30:00-05:00"
is 2024-02-20 (the date the record shows), not the UTC date. Partial dates ("2024", "2024-02")
are recognised as such and never completed to a day: the caller decides whether an imprecise
date is acceptable where it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

Precision = Literal["day", "month", "year"]

_DATE = re.compile(
    r"^(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class FhirDate:
    """A parsed FHIR date: the day when known, else only its precision and the text."""

    raw: str
    precision: Precision
    day: date | None  # set only when precision == "day"

    @property
    def is_full(self) -> bool:
        return self.day is not None


class DateFormatError(ValueError):
    """The text is not a FHIR date or dateTime."""


def parse_fhir_date(value: str) -> FhirDate:
    """Parse a FHIR date/dateTime string.

    Raises DateFormatError (with a message that says what is wrong) for text that is not a
    FHIR date, including impossible calendar dates such as 2023-02-30.
    """
    text = value.strip()
    match = _DATE.match(text)
    if match is None:
        raise DateFormatError(f"'{value}' is not a FHIR date (expected YYYY-MM-DD, optionally with a time)")
    year = int(match["year"])
    if match["month"] is None:
        _check_year(year, value)
        return FhirDate(raw=text, precision="year", day=None)
    month = int(match["month"])
    if not 1 <= month <= 12:
        raise DateFormatError(f"'{value}' has month {month:02d}, which does not exist")
    if match["day"] is None:
        _check_year(year, value)
        return FhirDate(raw=text, precision="month", day=None)
    if match["hour"] is not None:
        hour, minute = int(match["hour"]), int(match["minute"])
        second = int(match["second"] or 0)
        if hour > 24 or minute > 59 or second > 60:
            raise DateFormatError(f"'{value}' has an impossible time of day")
    try:
        day = date(year, month, int(match["day"]))
    except ValueError as exc:
        raise DateFormatError(f"'{value}' is not a calendar date ({exc})") from None
    return FhirDate(raw=text, precision="day", day=day)


def _check_year(year: int, value: str) -> None:
    if year < 1:
        raise DateFormatError(f"'{value}' has year 0000, which does not exist")
