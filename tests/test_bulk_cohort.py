"""`her2kg cohort` on a FHIR Bulk Data export: grouped by patient on disk, same reports as bundles."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from bulk_helpers import bundles_to_export, read_reports, vignette_bundles

from her2kg.bulk.cohort_input import BulkInput, unmatched_listing_path
from her2kg.bulk.export import read_export
from her2kg.bulk.generate import write_export
from her2kg.bulk.grouping import Grouping, partition_count
from her2kg.cli import main
from her2kg.cohort import ChunkDone, CohortOptions, run_cohort

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """60 generated patients as a gzipped, split Bulk export with a manifest, and as bundle files."""
    root = tmp_path_factory.mktemp("generated")
    write_export(root / "export", 60, seed=7, as_of=AS_OF, compress=True, split=400, manifest=True, unmatched=3, bundles=root / "bundles")
    return root / "export", root / "bundles"


@pytest.mark.slow
def test_bulk_reports_equal_bundle_reports(generated: tuple[Path, Path], tmp_path: Path) -> None:
    export, bundles = generated
    summary = run_cohort(export, tmp_path / "bulk.jsonl", CohortOptions(as_of=AS_OF, chunk_size=25))
    run_cohort(bundles, tmp_path / "bundles.jsonl", CohortOptions(as_of=AS_OF, chunk_size=25))
    bulk, folder = read_reports(tmp_path / "bulk.jsonl"), read_reports(tmp_path / "bundles.jsonl")
    assert len(bulk) == 60 and bulk == folder
    assert summary.files_total == summary.reports_written == 60 and summary.chunks == 3
    sources = [json.loads(line)["source"] for line in (tmp_path / "bulk.jsonl").read_text().splitlines()]
    assert all(s.startswith("Patient/") for s in sources)


def test_the_export_has_what_the_generator_promises(generated: tuple[Path, Path], tmp_path: Path) -> None:
    export, _ = generated
    run_cohort(export, tmp_path / "bulk.jsonl", CohortOptions(as_of=AS_OF))
    reports = read_reports(tmp_path / "bulk.jsonl").values()
    situations = {(r["situation"].get("her2"), r["situation"].get("setting")) for r in reports}
    assert {("positive", "metastatic"), ("negative", "metastatic"), ("positive", "early")} <= situations
    assert max(r["situation"].get("line") or 0 for r in reports) >= 3
    names = [f.path.name for f in read_export(export).files]
    assert "Observation.000.ndjson.gz" in names and "Observation.001.ndjson.gz" in names and "Medication.000.ndjson.gz" in names


@pytest.mark.slow
@pytest.mark.skipif(not vignette_bundles(), reason="the shared vignettes (../shared/vignettes) are not there")
def test_vignettes_as_an_export_give_the_reports_of_their_bundles(tmp_path: Path) -> None:
    bundles = vignette_bundles()
    folder = tmp_path / "bundles"
    folder.mkdir()
    for path in bundles:
        (folder / path.name).write_bytes(path.read_bytes())
    bundles_to_export(bundles, tmp_path / "export")
    run_cohort(tmp_path / "export", tmp_path / "bulk.jsonl", CohortOptions(as_of=AS_OF))
    run_cohort(folder, tmp_path / "bundles.jsonl", CohortOptions(as_of=AS_OF))
    bulk, by_file = read_reports(tmp_path / "bulk.jsonl"), read_reports(tmp_path / "bundles.jsonl")
    assert len(bulk) == len(bundles) and bulk == by_file


@pytest.mark.slow
def test_unmatched_resources_are_counted_and_listed(generated: tuple[Path, Path], tmp_path: Path) -> None:
    export, _ = generated
    output = tmp_path / "bulk.jsonl"
    summary = run_cohort(export, output, CohortOptions(as_of=AS_OF))
    listing = [json.loads(line) for line in unmatched_listing_path(output).read_text().splitlines()]
    assert sorted(item["reason"] for item in listing) == ["no-patient-reference", "no-patient-reference", "unknown-patient"]
    assert all(item["file"].startswith("Observation.") and item["line"] > 0 for item in listing)
    assert any("3 resources belong to no patient (2 no-patient-reference, 1 unknown-patient)" in note for note in summary.notes)


def test_a_medication_joins_every_patient_that_points_to_it(tmp_path: Path) -> None:
    rows = {
        "Patient.ndjson": [{"resourceType": "Patient", "id": "a"}, {"resourceType": "Patient", "id": "b"}],
        "Medication.ndjson": [{"resourceType": "Medication", "id": "k", "code": {"text": "x"}}],
        "MedicationStatement.ndjson": [
            {"resourceType": "MedicationStatement", "id": f"s-{p}", "status": "active", "subject": {"reference": f"Patient/{p}"},
             "medicationReference": {"reference": "Medication/k"}} for p in ("a", "b")
        ],
    }
    for name, resources in rows.items():
        (tmp_path / name).write_text("".join(json.dumps(r) + "\n" for r in resources), encoding="utf-8")
    (tmp_path / "scratch").mkdir()
    grouping = Grouping(read_export(tmp_path), tmp_path / "scratch", partitions=2)
    bundles = {key: json.loads(text) for key, text in grouping.bundles()}
    grouping.close()
    for key in ("a", "b"):
        types = [e["resource"]["resourceType"] for e in bundles[key]["entry"]]
        assert types == ["Patient", "Medication", "MedicationStatement"]
    assert grouping.unmatched.total == 0


def test_resources_are_spilled_to_disk_before_grouping(generated: tuple[Path, Path], tmp_path: Path) -> None:
    export, _ = generated
    grouping = Grouping(read_export(export), tmp_path, partitions=5)
    parts = sorted(tmp_path.glob("part-*.tsv"))
    assert len(parts) == 5 and all(p.stat().st_size > 0 for p in parts)
    assert sum(len(p.read_text().splitlines()) for p in parts) == grouping.resources
    keys = [key for key, _ in grouping.bundles()]
    assert keys == grouping.patient_ids and len(set(keys)) == 60
    assert not list(tmp_path.glob("part-*.tsv"))  # each partition is removed once grouped
    grouping.close()
    assert partition_count(0) == 1 and partition_count(50 * 1024 * 1024) == 4 and partition_count(10**15) == 512


@pytest.mark.slow
def test_an_interrupted_bulk_run_resumes_without_duplicates(generated: tuple[Path, Path], tmp_path: Path) -> None:
    export, _ = generated
    output = tmp_path / "bulk.jsonl"

    class Stop(Exception):
        pass

    def stop(_chunk: ChunkDone) -> None:
        raise Stop

    with pytest.raises(Stop):
        run_cohort(export, output, CohortOptions(as_of=AS_OF, chunk_size=20), after_chunk=stop)
    assert len(output.read_text().splitlines()) == 20
    summary = run_cohort(export, output, CohortOptions(as_of=AS_OF, chunk_size=20))
    assert summary.files_skipped == 20 and summary.files_processed == 40
    assert len(read_reports(output)) == 60  # read_reports fails on a patient reported twice


def test_documents_must_be_asked_for_in_order(generated: tuple[Path, Path]) -> None:
    export, _ = generated
    bulk = BulkInput(export)
    try:
        first, second = bulk.names[0], bulk.names[1]
        assert [name for name, _, _ in bulk.documents([second])] == ["Patient/" + second]
        with pytest.raises(Exception, match="out of order"):
            bulk.documents([first])
    finally:
        bulk.close()


@pytest.mark.slow
def test_command_on_an_export(generated: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, _ = generated
    output = tmp_path / "out.jsonl"
    assert main(["cohort", str(export), "--out", str(output), "--as-of", "2026-11-01"]) == 0
    err = capsys.readouterr().err
    assert "60 of 60 files processed" in err and "3 resources belong to no patient" in err and "out.jsonl.unmatched.jsonl" in err
    assert main(["cohort", str(export), "--out", str(output), "--as-of", "2026-11-01"]) == 0
    assert "60 already done" in capsys.readouterr().err
    assert len(read_reports(output)) == 60
