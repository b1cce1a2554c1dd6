"""`her2kg spark-cohort` on Spark in local[2] mode: the same reports as the single-process cohort,
Parquet and JSON lines, unmatched resources listed, and a killed job rerun gives every patient once."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'her2kg[spark]'): the Spark tests are skipped")
if shutil.which("java") is None:
    pytest.skip("no java on PATH: Spark needs Java 17 or later", allow_module_level=True)

from bulk_helpers import bundles_to_export, read_reports, reports_by_patient, vignette_bundles  # noqa: E402
from pyspark.sql import SparkSession  # noqa: E402

from her2kg.bulk.generate import write_export  # noqa: E402
from her2kg.cli import main  # noqa: E402
from her2kg.cohort import CohortOptions, run_cohort  # noqa: E402
from her2kg.errors import UsageError  # noqa: E402
from her2kg.spark.job import InputKind, JobOptions, OutputFormat, run_job, unmatched_path  # noqa: E402
from her2kg.spark.session import spark_session  # noqa: E402

pytestmark = pytest.mark.spark
AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    with spark_session("local[2]", {"spark.ui.enabled": "false"}) as session:
        yield session


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("spark-generated") / "export"
    write_export(folder, 60, seed=5, as_of=AS_OF, compress=True, split=700, manifest=True, unmatched=4)
    return folder


def part_lines(folder: Path) -> list[str]:
    return [line for part in sorted(folder.glob("part-*")) for line in part.read_text(encoding="utf-8").splitlines()]


@pytest.mark.skipif(not vignette_bundles(), reason="the shared vignettes (../shared/vignettes) are not there")
def test_vignettes_on_spark_equal_the_single_process_cohort(spark: SparkSession, tmp_path: Path) -> None:
    bundles = tmp_path / "bundles"
    bundles.mkdir()
    for path in vignette_bundles():
        shutil.copy(path, bundles / path.name)
    bundles_to_export(vignette_bundles(), tmp_path / "export")
    run_cohort(bundles, tmp_path / "single.jsonl", CohortOptions(as_of=AS_OF))
    single = read_reports(tmp_path / "single.jsonl")

    summary = run_job(spark, str(tmp_path / "export"), str(tmp_path / "bulk-out"), JobOptions(as_of=AS_OF, partitions=3))
    assert summary.input_kind is InputKind.BULK and summary.reports == len(single)
    assert reports_by_patient(part_lines(tmp_path / "bulk-out")) == single

    summary = run_job(spark, str(bundles), str(tmp_path / "files-out"), JobOptions(as_of=AS_OF, partitions=3, chunk_size=4))
    assert summary.input_kind is InputKind.FILES
    assert reports_by_patient(part_lines(tmp_path / "files-out")) == single


def test_generated_export_on_spark_equals_the_single_process_cohort(spark: SparkSession, generated: Path, tmp_path: Path) -> None:
    run_cohort(generated, tmp_path / "single.jsonl", CohortOptions(as_of=AS_OF))
    single = read_reports(tmp_path / "single.jsonl")
    output = tmp_path / "out"
    summary = run_job(spark, str(generated), str(output), JobOptions(as_of=AS_OF, chunk_size=16, partitions=4))
    lines = part_lines(output)
    assert len(lines) == 60 and reports_by_patient(lines) == single
    assert all(json.loads(line)["source"].startswith("Patient/") for line in lines)
    assert (output / "_SUCCESS").exists()
    assert summary.reports == 60 and summary.unmatched == {"no-patient-reference": 2, "unknown-patient": 2}
    listed = [json.loads(line) for line in part_lines(Path(unmatched_path(str(output))))]
    assert sorted(item["reason"] for item in listed) == ["no-patient-reference"] * 2 + ["unknown-patient"] * 2

    parquet = tmp_path / "parquet"
    run_job(spark, str(generated), str(parquet), JobOptions(as_of=AS_OF, output_format=OutputFormat.PARQUET, partitions=2))
    rows = spark.read.parquet(str(parquet)).collect()
    assert reports_by_patient([r["report"] for r in rows]) == single
    first: dict[str, Any] = rows[0].asDict()
    report = json.loads(first["report"])
    assert (first["patient"], first["source"], first["as_of"]) == (report["patient"], report["source"], "2026-11-01")
    assert first["errors"] == len(report["errors"]) and first["warnings"] == len(report["warnings"])


def test_a_repeated_job_replaces_its_output(spark: SparkSession, generated: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    for _ in range(2):
        run_job(spark, str(generated), str(output), JobOptions(as_of=AS_OF, partitions=2))
    assert len(reports_by_patient(part_lines(output))) == 60


def test_an_input_that_is_no_folder_is_a_usage_error(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a folder"):
        run_job(spark, str(tmp_path / "missing"), str(tmp_path / "out"), JobOptions(as_of=AS_OF))
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "output.ndjson").write_text("{}\n")
    with pytest.raises(UsageError, match="cannot tell the resource type"):
        run_job(spark, str(tmp_path / "odd"), str(tmp_path / "out"), JobOptions(as_of=AS_OF))


def test_bad_options_stop_before_spark_starts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["spark-cohort", str(tmp_path), str(tmp_path / "o"), "--conf", "novalue"]) == 2
    assert "--conf takes KEY=VALUE" in capsys.readouterr().err
    assert main(["spark-cohort", str(tmp_path), str(tmp_path / "o"), "--chunk-size", "0"]) == 2


def test_a_killed_job_rerun_gives_every_patient_once(generated: Path, tmp_path: Path) -> None:
    output = tmp_path / "out"
    command = [sys.executable, "-m", "her2kg", "spark-cohort", str(generated), str(output), "--master", "local[2]",
               "--as-of", "2026-11-01", "--chunk-size", "5", "--partitions", "8", "--conf", "spark.ui.enabled=false"]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 240
    try:
        while not (output / "_temporary").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        mid_write = (output / "_temporary").exists()
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the driver and its JVM: nothing gets to clean up
        first.wait()
    assert mid_write, "the first job ended before its output was being written; the kill came too late"
    assert not (output / "_SUCCESS").exists()
    assert part_lines(output) == []  # nothing was committed

    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-2000:]
    reports = reports_by_patient(part_lines(output))  # fails on a patient reported twice
    assert len(reports) == 60 and not (output / "_temporary").exists()
