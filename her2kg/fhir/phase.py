"""The phase of a past or current therapy, when the record does not state it.

Inferred from dates, in this order: a therapy that starts on or after the metastatic diagnosis
(the earliest dated distant metastasis, M1 category or stage IV) is metastatic; else one that
starts before the first breast cancer surgery is neoadjuvant; else one that starts after that
surgery is adjuvant; anything else is unknown. A therapy that starts before the breast cancer was
diagnosed (the earliest onset of a breast cancer condition) is not neoadjuvant treatment of it:
unknown. When the record shows metastatic disease but no date for it, nothing is inferred.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from her2kg.fhir import terms


@dataclass(frozen=True)
class Timeline:
    """The dates the phase inference needs, taken from the whole bundle."""

    metastatic_since: date | None
    metastatic_undated: bool  # metastatic evidence exists, but none of it has a date
    first_surgery: date | None
    diagnosed_since: date | None = None  # the earliest onset of a breast cancer condition


def infer_phase(start: date | None, end: date | None, timeline: Timeline) -> str | None:
    """The inferred phase IRI, or None when the dates do not settle it."""
    reference = start or end
    if reference is None or timeline.metastatic_undated:
        return None
    if timeline.metastatic_since is not None and reference >= timeline.metastatic_since:
        return terms.METASTATIC_PHASE
    if timeline.first_surgery is not None:
        if reference >= timeline.first_surgery:
            return terms.ADJUVANT_PHASE
        if timeline.diagnosed_since is not None and reference < timeline.diagnosed_since:
            return None  # before the diagnosis: not treatment of this cancer as far as the dates tell
        return terms.NEOADJUVANT_PHASE
    return None
