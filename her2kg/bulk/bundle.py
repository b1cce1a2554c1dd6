"""A patient's resources as one FHIR collection Bundle, in a canonical order.

The order does not depend on how the export was split into files, or on which machine grouped
it: the Patient first, then every other resource by (resourceType, id, text). One process
(`her2kg cohort`) and the Spark job therefore give the importer the same Bundle. The resources
are pasted in as they were exported (no parse and re-serialisation).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Entry:
    rank: int  # 0 for the Patient, 1 for everything else
    resource_type: str
    resource_id: str
    text: str


def entry(resource_type: str, resource_id: str, text: str) -> Entry:
    return Entry(0 if resource_type == "Patient" else 1, resource_type, resource_id, text.strip())


def bundle_text(entries: Iterable[Entry]) -> str:
    """The collection Bundle of these entries (duplicates by text are kept once)."""
    unique = sorted(set(entries))
    body = ",".join('{"resource":' + e.text + "}" for e in unique)
    return '{"resourceType":"Bundle","type":"collection","entry":[' + body + "]}"


def source_of(patient_id: str) -> str:
    """The `source` a Bulk report carries: the Patient's reference."""
    return f"Patient/{patient_id}"
