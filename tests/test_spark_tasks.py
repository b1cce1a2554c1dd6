"""The functions Spark ships to executors (no Spark needed): the same lines, Bundles and reports
as the single-process cohort."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from her2kg.bulk.export import read_export
from her2kg.bulk.generate import write_export
from her2kg.bulk.grouping import Grouping, read_lines
from her2kg.pipeline import recommend_texts
from her2kg.spark import tasks

AS_OF = date(2026, 11, 1)


def test_file_names_of_spark_uris() -> None:
    assert tasks.file_name("file:/data/export/Observation.000.ndjson.gz") == "Observation.000.ndjson.gz"
    assert tasks.file_name("s3a://bucket/export/Patient.ndjson") == "Patient.ndjson"
    assert tasks.file_name("hdfs://nn:8020/x/Condition.ndjson?versionId=3") == "Condition.ndjson"


def test_classified_lines_carry_what_the_job_groups_by() -> None:
    rows = [
        (json.dumps({"resourceType": "Observation", "id": "o", "subject": {"reference": "urn:uuid:p1"}}), "file:/e/Observation.ndjson"),
        ("   ", "file:/e/Observation.ndjson"),
        (json.dumps({"resourceType": "Condition", "id": "c"}), "file:/e/Observation.ndjson"),
    ]
    out = list(tasks.classify_lines(rows, {"Observation.ndjson": "Observation"}))
    assert [(r[0], r[1], r[6], r[7]) for r in out] == [
        ("resource", "p1", "Observation.ndjson", ""),
        ("unmatched", "", "Observation.ndjson", "wrong-type"),
    ]


@pytest.mark.slow
def test_executor_bundles_and_reports_equal_the_single_process_ones(tmp_path: Path) -> None:
    write_export(tmp_path / "export", 12, seed=3, as_of=AS_OF)
    export = read_export(tmp_path / "export")
    (tmp_path / "scratch").mkdir()
    grouping = Grouping(export, tmp_path / "scratch", partitions=3)
    single = dict(grouping.bundles())
    grouping.close()

    groups: dict[str, list[tuple[str, str, str]]] = {}
    medications: dict[str, tuple[str, str, str]] = {}
    links: dict[str, set[str]] = {}
    for export_file in export.files:
        rows = ((raw.decode("utf-8"), f"file:{export_file.path}") for _, raw in read_lines(export_file.path))
        for kind, key, rtype, rid, medication, text, *_ in tasks.classify_lines(rows, {f.path.name: f.resource_type for f in export.files}):
            if kind == "shared":
                medications[key] = (rtype, rid, text)
            elif kind in ("patient", "resource"):
                groups.setdefault(key, []).append((rtype, rid, text))
                if medication:
                    links.setdefault(key, set()).add(medication)
    for key, meds in links.items():
        groups[key].extend(medications[m] for m in meds if m in medications)
    assert {key: tasks.bundle_of(entries) for key, entries in groups.items()} == single

    rows = list(tasks.reason_groups(sorted(groups.items()), as_of=AS_OF, unavailable=(), chunk_size=5))
    expected = recommend_texts([(f"Patient/{k}", "fhir-json", single[k]) for k in sorted(single)], as_of=AS_OF)
    assert [json.loads(r[5]) for r in rows] == [r.to_json() for r in expected]
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in rows] == [
        (r.patient, r.source, "2026-11-01", len(r.errors), len(r.warnings)) for r in expected
    ]
