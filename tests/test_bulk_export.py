"""Bulk export folders: files and their types, and what each NDJSON line belongs to."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from her2kg.bulk.export import is_bulk_export, read_export, type_from_name
from her2kg.bulk.records import LineKind, Unmatched, classify, patient_id_of_reference
from her2kg.errors import UsageError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Patient.ndjson", "Patient"),
        ("Observation.000.ndjson", "Observation"),
        ("1.Observation.ndjson", "Observation"),
        ("Observation_2.ndjson.gz", "Observation"),
        ("MedicationRequest-10.ndjson", "MedicationRequest"),
        ("output.ndjson", None),  # no type named
        ("Patient.Observation.ndjson", None),  # two
    ],
)
def test_type_from_the_file_name(name: str, expected: str | None) -> None:
    assert type_from_name(name) == expected


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("Patient/p1", "p1"),
        ("urn:uuid:5f1c7b4e-0b7e-4c43-9e3e-0c4c1b1a2f10", "5f1c7b4e-0b7e-4c43-9e3e-0c4c1b1a2f10"),
        ("https://ehr.example.org/fhir/Patient/p1", "p1"),
        ("https://ehr.example.org/fhir/Patient/p1/_history/3", "p1"),
        ("Group/g1", None),
        ("Patient/", None),
        ("https://ehr.example.org/fhir/Patient/p1/extra", None),
    ],
)
def test_patient_of_a_reference(reference: str, expected: str | None) -> None:
    assert patient_id_of_reference(reference) == expected


def test_lines_are_classified() -> None:
    observation = {"resourceType": "Observation", "id": "o1", "subject": {"reference": "Patient/p1"}}
    assert classify(json.dumps(observation), "Observation").key == "p1"
    statement = {"resourceType": "MedicationStatement", "id": "m", "patient": {"reference": "Patient/p2"},
                 "medicationReference": {"reference": "Medication/kadcyla"}}
    line = classify(json.dumps(statement), None)
    assert (line.kind, line.key, line.medication) == (LineKind.RESOURCE, "p2", "kadcyla")
    assert classify(json.dumps({"resourceType": "Patient", "id": "p1"}), "Patient").kind is LineKind.PATIENT
    assert classify(json.dumps({"resourceType": "Medication", "id": "k"}), "Medication").kind is LineKind.SHARED
    assert classify("{not json", "Observation").reason is Unmatched.INVALID_JSON
    assert classify("[1, 2]", "Observation").reason is Unmatched.NOT_A_RESOURCE
    assert classify(json.dumps(observation), "Condition").reason is Unmatched.WRONG_TYPE
    assert classify(json.dumps({"resourceType": "Practitioner", "id": "d"}), None).reason is Unmatched.NO_REFERENCE
    group = {**observation, "subject": {"reference": "Group/g1"}}
    assert classify(json.dumps(group), None).reason is Unmatched.NO_REFERENCE
    assert classify(json.dumps({"resourceType": "Patient", "id": "bad id"}), None).reason is Unmatched.NO_ID


def _write(folder: Path, name: str, text: str = '{"resourceType":"Patient","id":"p1"}\n') -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_types_from_names_without_a_manifest(tmp_path: Path) -> None:
    _write(tmp_path, "Patient.ndjson")
    _write(tmp_path, "Observation.001.ndjson", "")
    export = read_export(tmp_path)
    assert [(f.path.name, f.resource_type) for f in export.files] == [("Observation.001.ndjson", "Observation"), ("Patient.ndjson", "Patient")]
    assert export.manifest is None and is_bulk_export(tmp_path)


def test_types_from_the_manifest(tmp_path: Path) -> None:
    _write(tmp_path, "file_1.ndjson")
    manifest = {"transactionTime": "2026-11-01T00:00:00Z", "request": "https://x/$export",
                "output": [{"type": "Patient", "url": "https://x/files/file_1.ndjson"}], "error": []}
    _write(tmp_path, "manifest.json", json.dumps(manifest))
    export = read_export(tmp_path)
    assert export.files[0].resource_type == "Patient" and export.manifest == tmp_path / "manifest.json"


def test_a_file_the_manifest_lists_must_be_there(tmp_path: Path) -> None:
    _write(tmp_path, "Patient.ndjson")
    manifest = {"output": [{"type": "Patient", "url": "https://x/Patient.ndjson"}, {"type": "Condition", "url": "https://x/Condition.ndjson"}]}
    _write(tmp_path, "manifest.json", json.dumps(manifest))
    with pytest.raises(UsageError, match=r"lists Condition.ndjson, which is not in"):
        read_export(tmp_path)


def test_a_file_the_manifest_does_not_list_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Patient.ndjson")
    _write(tmp_path, "Extra.ndjson")
    _write(tmp_path, "manifest.json", json.dumps({"output": [{"type": "Patient", "url": "https://x/Patient.ndjson"}]}))
    with pytest.raises(UsageError, match="Extra.ndjson is not listed in the manifest"):
        read_export(tmp_path)


def test_a_file_without_a_type_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "output.ndjson")
    with pytest.raises(UsageError, match="cannot tell the resource type"):
        read_export(tmp_path)


def test_bundles_beside_ndjson_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "Patient.ndjson")
    _write(tmp_path, "p01.json", json.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}))
    with pytest.raises(UsageError, match="not an export manifest"):
        read_export(tmp_path)


def test_a_folder_of_bundles_is_no_export(tmp_path: Path) -> None:
    _write(tmp_path, "p01.json", "{}")
    assert not is_bulk_export(tmp_path)
