"""Property test: whatever a bundle holds, import_bundle returns a result and never raises.

Valid bundles (the vignettes, the real examples, the hand-written test bundles) are mutated:
fields dropped, values replaced by other JSON types, codes and systems made unknown, resource
types and statuses swapped, dates broken, the Patient duplicated. The importer must answer every
one with a FhirImport whose triples parse, without reaching its last-resort guard.

HER2KG_FUZZ_EXAMPLES sets the number of examples (default 300; CI runs 2000 or more).
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2kg.fhir import CodeMapping, FhirImport, import_bundle, load_code_mapping
from shared_files import SHARED_DIR, SHARED_PRESENT

SHARED = SHARED_DIR
DATA = Path(__file__).resolve().parent / "data" / "fhir"
EXAMPLES = int(os.environ.get("HER2KG_FUZZ_EXAMPLES", "300"))

RESOURCE_TYPES = [
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Medication",
    "Encounter",
    "",
    "Bundle",
]
STATUSES = [
    "final",
    "amended",
    "preliminary",
    "registered",
    "cancelled",
    "entered-in-error",
    "completed",
    "stopped",
    "active",
    "on-hold",
    "draft",
    "intended",
    "not-taken",
    "unknown",
    "in-progress",
    "",
]
BROKEN_DATES = [
    "2024",
    "2024-02",
    "2024-13-01",
    "2023-02-30",
    "2024-02-20T25:61:00Z",
    "",
    "yesterday",
    "02/20/2024",
    "0000-01-01",
    "9999-12-31",
]
FIELDS = [
    "valueQuantity",
    "valueRatio",
    "valueString",
    "valueCodeableConcept",
    "valueInteger",
    "valueCode",
    "component",
    "effectivePeriod",
    "effectiveDateTime",
    "issued",
    "onsetPeriod",
    "performedPeriod",
    "contained",
    "medicationReference",
    "medicationCodeableConcept",
    "dosageInstruction",
    "dispenseRequest",
    "extension",
    "subject",
    "clinicalStatus",
    "verificationStatus",
    "intent",
    "doNotPerform",
    "id",
    "code",
    "dataAbsentReason",
    "ingredient",
    "birthDate",
    "authoredOn",
]
SHAPED = [
    {"value": 1e20},
    {"numerator": {"value": 0}, "denominator": {"value": 0}},
    {"numerator": {"value": "x"}, "denominator": {}},
    {"value": -1, "unit": "%", "code": "%", "comparator": "<"},
    [{"url": "https://w3id.org/her2kg/fhir/StructureDefinition/therapy-phase", "valueCode": "palliative"}],
    [{"url": "https://w3id.org/her2kg/fhir/StructureDefinition/therapy-phase", "valueCoding": {"code": "metastatic"}}],
    {"reference": "#missing"},
    {"reference": "Medication/none"},
    [
        {
            "resourceType": "Medication",
            "id": "missing",
            "ingredient": [
                {
                    "itemCodeableConcept": {
                        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "224905"}]
                    }
                }
            ],
        }
    ],
    [{"timing": {"repeat": {"boundsPeriod": {"start": "2024-02", "end": 5}}}}, {"timing": []}],
    {"validityPeriod": {"start": "2024-01-01", "end": "2023-01-01"}},
    [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "33728-7"}]},
            "valueQuantity": {"value": 1, "unit": "km"},
        }
    ],
    {"coding": [{"system": "http://loinc.org", "code": "85319-2"}, {"system": "http://loinc.org", "code": "10230-1"}]},
    {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "10828004"},
            {"system": "http://snomed.info/sct", "code": "260385009"},
        ]
    },
    {"coding": [{"system": "https://w3id.org/her2kg/fhir/CodeSystem/her2kg", "code": "drug-unavailable"}]},
    {"start": "2024-02-30"},
    {"reference": "Patient/someone-else"},
]
SYSTEMS = [
    "http://loinc.org",
    "http://snomed.info/sct",
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://example.org/x",
    "",
    "urn:oid:1.2.3",
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["\ud800", "a\udfffb"])
    | st.sampled_from(["3+", "2.3", "greater than 2.2", "55", "%", "cm", "Patient/x", "#med", "2024-02-20"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)


@cache
def _base_texts() -> tuple[tuple[str, str], ...]:
    """The project's own bundles, and the shared vignettes and examples when ../shared is there."""
    paths = sorted(p for p in (SHARED / "vignettes").glob("p*.json") if not p.name.endswith(".expect.json"))
    if SHARED_PRESENT:
        paths += [
            SHARED / "fhir-examples" / "mcode-ctm-app_TrialMatching_Patient01_metastatic-HR+HER2-.json",
            SHARED / "fhir-examples" / "synthea-via-mcode-pathways_T0_patient_breast-HER2neg_trimmed.json",
        ]
    paths += [
        DATA / "values.json",
        DATA / "therapy.json",
        DATA / "problems.json",
    ]
    return tuple((p.name, p.read_text(encoding="utf-8")) for p in paths)


@cache
def _mapping() -> CodeMapping:
    return load_code_mapping()


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair of a JSON document, depth first."""
    found: list[tuple[Any, Any]] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            for key, value in current.items():
                found.append((current, key))
                stack.append(value)
        elif isinstance(current, list):
            for index, value in enumerate(current):
                found.append((current, index))
                stack.append(value)
    return found


def _dicts_with(doc: Any, key: str) -> list[dict[str, Any]]:
    return [c[k] for c, k in _slots(doc) if isinstance(c[k], dict) and key in c[k]]


def _mutate(doc: Any, data: st.DataObject) -> None:
    operation = data.draw(
        st.sampled_from(
            [
                "drop",
                "replace",
                "swap_type",
                "unknown_code",
                "duplicate_patient",
                "break_date",
                "resource_type",
                "status",
                "set_field",
            ]
        )
    )
    slots = _slots(doc)
    if operation in {"drop", "replace", "swap_type"} and slots:
        container, key = data.draw(st.sampled_from(slots))
        if operation == "drop":
            del container[key]
        elif operation == "replace":
            container[key] = data.draw(json_values)
        else:
            value = container[key]
            swapped = {dict: [], list: {}, str: 0, int: "0", float: [1.5], bool: "true", type(None): {}}
            container[key] = swapped.get(type(value))
    elif operation == "unknown_code":
        codings = _dicts_with(doc, "code")
        if codings:
            coding = data.draw(st.sampled_from(codings))
            if data.draw(st.booleans()):
                coding["code"] = data.draw(st.text(max_size=10) | st.integers())
            else:
                coding["system"] = data.draw(st.sampled_from(SYSTEMS))
    elif operation == "duplicate_patient":
        entries = doc.get("entry") if isinstance(doc, dict) else None
        if isinstance(entries, list):
            patients = [
                e
                for e in entries
                if isinstance(e, dict)
                and isinstance(e.get("resource"), dict)
                and e["resource"].get("resourceType") == "Patient"
            ]
            if patients:
                copy = json.loads(json.dumps(patients[0]))
                if data.draw(st.booleans()):
                    copy["resource"]["id"] = data.draw(st.text(max_size=6))
                entries.insert(data.draw(st.integers(0, len(entries))), copy)
    elif operation == "break_date":
        dated = [
            (c, k)
            for c, k in slots
            if isinstance(c[k], str) and len(c[k]) >= 7 and c[k][:4].isdigit() and c[k][4:5] == "-"
        ]
        if dated:
            container, key = data.draw(st.sampled_from(dated))
            container[key] = data.draw(st.sampled_from(BROKEN_DATES))
    elif operation == "resource_type":
        resources = _dicts_with(doc, "resourceType")
        if resources:
            data.draw(st.sampled_from(resources))["resourceType"] = data.draw(st.sampled_from(RESOURCE_TYPES))
    elif operation == "set_field":
        resources = _dicts_with(doc, "resourceType")
        if resources:
            resource = data.draw(st.sampled_from(resources))
            resource[data.draw(st.sampled_from(FIELDS))] = json.loads(
                json.dumps(data.draw(st.sampled_from(SHAPED) | json_values))
            )
    elif operation == "status":
        resources = _dicts_with(doc, "status")
        if resources:
            data.draw(st.sampled_from(resources))["status"] = data.draw(st.sampled_from(STATUSES) | json_values)


def _check(result: FhirImport) -> None:
    assert isinstance(result, FhirImport)
    for notice in (*result.warnings, *result.errors):
        assert notice.message and notice.code
        notice.message.encode("utf-8")  # printable as it stands
    for item in result.ignored:
        item.reason.encode("utf-8")
        item.resource.encode("utf-8")
    assert all(n.severity == "error" for n in result.errors)
    assert all(n.severity == "warning" for n in result.warnings)
    codes = {n.code for n in result.errors}
    assert "fhir-import-failed" not in codes, [n.message for n in result.errors]
    assert "fhir-unreadable-entry" not in codes, [n.message for n in result.errors]
    if result.ntriples:
        store = ox.Store()
        store.bulk_load(result.ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
        assert len(store) > 0
        assert result.patient_iri and f"<{result.patient_iri}>" in result.ntriples


@pytest.mark.slow
@settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_import_bundle_never_raises_on_mutated_bundles(data: st.DataObject) -> None:
    name, text = data.draw(st.sampled_from(_base_texts()), label="base bundle")
    doc = json.loads(text)
    for _ in range(data.draw(st.integers(min_value=1, max_value=6), label="mutations")):
        _mutate(doc, data)
    _check(import_bundle(doc, mapping=_mapping(), source=name))


@settings(max_examples=max(50, EXAMPLES // 3), deadline=None)
@given(doc=json_values)
def test_import_bundle_never_raises_on_arbitrary_json(doc: object) -> None:
    _check(import_bundle(doc, mapping=_mapping(), source="random.json"))


@pytest.mark.parametrize("name", [n for n, _ in _base_texts()])
def test_unmutated_bases_import(name: str) -> None:
    text = dict(_base_texts())[name]
    _check(import_bundle(json.loads(text), mapping=_mapping(), source=name))


@pytest.mark.slow
@settings(
    max_examples=max(50, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(data=st.data())
def test_recommend_command_always_answers_with_a_report(data: st.DataObject) -> None:
    """Through the command line, a mutated bundle ends with exit 0 or 1 and a JSON report, never a crash."""
    import contextlib
    import io
    import tempfile

    from her2kg.cli import main

    name, text = data.draw(st.sampled_from(_base_texts()), label="base bundle")
    doc = json.loads(text)
    for _ in range(data.draw(st.integers(min_value=1, max_value=6), label="mutations")):
        _mutate(doc, data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.json"
        path.write_text(json.dumps(doc))
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["recommend", str(path), "--format", "json", "--as-of", "2026-11-01"])
    assert code in (0, 1), (code, err.getvalue())
    report = json.loads(out.getvalue())
    assert isinstance(report, dict) and "permitted" in report and "errors" in report
    if code == 1:
        assert report["errors"] and report["permitted"] == []
    assert "internal error" not in err.getvalue()
