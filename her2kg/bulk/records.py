"""One NDJSON line of a Bulk export: its resource type and id, and the patient it belongs to.

A resource belongs to the patient its `subject` or `patient` reference names, written as
`Patient/123`, `urn:uuid:123`, or an absolute URL ending in `Patient/123` (optionally followed by
`/_history/n`). A Patient belongs to itself. A Medication belongs to no patient: it is shared, and
joins the Bundle of every patient whose medication resources point to it. Every other line is
"unmatched", with the reason, so that the caller can count and list it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum

# FHIR R4 id: [A-Za-z0-9\-\.]{1,64}
_ID = r"[A-Za-z0-9\-.]{1,64}"
_PATIENT_REFERENCE = re.compile(rf"(?:^|/)Patient/(?P<id>{_ID})(?:/_history/[^/]+)?$")
_UUID_REFERENCE = re.compile(rf"^urn:uuid:(?P<id>{_ID})$")
_MEDICATION_REFERENCE = re.compile(rf"(?:^|/)Medication/(?P<id>{_ID})(?:/_history/[^/]+)?$")
_VALID_ID = re.compile(rf"^{_ID}$")

SHARED_TYPES = frozenset({"Medication"})
MEDICATION_USE_TYPES = frozenset({"MedicationRequest", "MedicationStatement", "MedicationAdministration"})


class LineKind(Enum):
    PATIENT = "patient"  # a Patient resource
    RESOURCE = "resource"  # a resource about a patient
    SHARED = "shared"  # a Medication, joined to the patients that point to it
    UNMATCHED = "unmatched"  # belongs to no patient: counted and listed


class Unmatched(Enum):
    """Why a line belongs to no patient."""

    INVALID_JSON = "invalid-json"
    NOT_A_RESOURCE = "not-a-resource"
    WRONG_TYPE = "wrong-type"  # its resourceType is not the type of its file
    NO_ID = "no-id"  # a Patient or Medication without a valid id
    NO_REFERENCE = "no-patient-reference"
    UNKNOWN_PATIENT = "unknown-patient"  # the patient is not in the export's Patient files
    DUPLICATE = "duplicate"  # a second Medication with the same id


@dataclass(frozen=True)
class Line:
    """What a line is. `key` is the patient id (or the Medication id for shared lines)."""

    kind: LineKind
    resource_type: str
    resource_id: str
    key: str = ""
    medication: str = ""  # the Medication id a medication resource points to
    reason: Unmatched | None = None
    reference: str = ""  # the reference that could not be resolved, for the listing


def patient_id_of_reference(reference: str) -> str | None:
    """The patient id a reference names, or None when it names no patient."""
    reference = reference.strip()
    match = _PATIENT_REFERENCE.search(reference) or _UUID_REFERENCE.match(reference)
    return match["id"] if match else None


def medication_id_of_reference(reference: str) -> str | None:
    match = _MEDICATION_REFERENCE.search(reference.strip())
    return match["id"] if match else None


def _reference(resource: dict[str, object], field: str) -> str | None:
    value = resource.get(field)
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str):
            return ref
    return None


def classify(text: str | bytes, file_type: str | None) -> Line:
    """Read one line; `file_type` is the resource type of its file (None: take the line's own)."""
    try:
        resource = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Line(LineKind.UNMATCHED, "", "", reason=Unmatched.INVALID_JSON)
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return Line(LineKind.UNMATCHED, "", "", reason=Unmatched.NOT_A_RESOURCE)
    return classify_resource(resource, file_type)


def classify_resource(resource: dict[str, object], file_type: str | None) -> Line:
    rtype = str(resource["resourceType"])
    raw_id = resource.get("id")
    rid = raw_id if isinstance(raw_id, str) else ""
    if file_type is not None and rtype != file_type:
        return Line(LineKind.UNMATCHED, rtype, rid, reason=Unmatched.WRONG_TYPE, reference=f"in a {file_type} file")
    if rtype == "Patient" or rtype in SHARED_TYPES:
        if not _VALID_ID.match(rid):
            return Line(LineKind.UNMATCHED, rtype, rid, reason=Unmatched.NO_ID)
        return Line(LineKind.PATIENT if rtype == "Patient" else LineKind.SHARED, rtype, rid, key=rid)
    reference = _reference(resource, "subject") or _reference(resource, "patient")
    if reference is None:
        return Line(LineKind.UNMATCHED, rtype, rid, reason=Unmatched.NO_REFERENCE)
    patient = patient_id_of_reference(reference)
    if patient is None:
        return Line(LineKind.UNMATCHED, rtype, rid, reason=Unmatched.NO_REFERENCE, reference=reference[:200])
    medication = ""
    if rtype in MEDICATION_USE_TYPES:
        medication = medication_id_of_reference(_reference(resource, "medicationReference") or "") or ""
    return Line(LineKind.RESOURCE, rtype, rid, key=patient, medication=medication, reference=reference[:200])
