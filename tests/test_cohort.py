"""`her2kg cohort`: chunked, resumable runs of a folder of patients to JSON Lines."""

from __future__ import annotations

import io
import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from remote_fixtures import StandardServer, graph_iri, standard_server, virtuoso  # noqa: F401 - fixtures
from shared_files import SHARED_DIR

from her2kg.cli import main
from her2kg.cohort import ChunkDone, CohortOptions, Progress, prepare_output, run_cohort
from her2kg.errors import UsageError
from her2kg.pipeline import recommend_files
from virtuoso_server import VirtuosoServer
from synthetic import random_patient

AS_OF = date(2026, 11, 1)
VIGNETTE = SHARED_DIR / "vignettes" / "p05-early-recurrence.json"


def canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if k != "source"}
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


@pytest.fixture
def cohort_dir(tmp_path: Path) -> Path:
    """23 generated patients, one unreadable file, one FHIR vignette and a file that is not a patient."""
    folder = tmp_path / "patients"
    folder.mkdir()
    rng = random.Random(11)
    for index in range(23):
        (folder / f"gen-{index:03d}.ttl").write_text(random_patient(rng, f"gen-{index:03d}").to_turtle(), encoding="utf-8")
    (folder / "broken.ttl").write_text("this is not Turtle", encoding="utf-8")
    if VIGNETTE.is_file():
        (folder / VIGNETTE.name).write_bytes(VIGNETTE.read_bytes())
    (folder / "notes.txt").write_text("not a patient", encoding="utf-8")
    return folder


def patient_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix in (".ttl", ".json"))


def sources(output: Path) -> list[str]:
    return [Path(json.loads(line)["source"]).name for line in output.read_text(encoding="utf-8").splitlines()]


class Stop(Exception):
    pass


@pytest.mark.slow
def test_every_file_once_in_chunks(cohort_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    done: list[ChunkDone] = []
    summary = run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=10), after_chunk=done.append)
    names = patient_names(cohort_dir)
    assert sorted(sources(output)) == names
    assert [len(c.files) for c in done] == [10, 10, len(names) - 20]
    assert summary.files_total == summary.files_processed == summary.reports_written == len(names)
    assert summary.chunks == 3 and summary.files_skipped == 0
    assert summary.reports_with_errors >= 1  # broken.ttl is reported, not fatal
    broken = [r for r in map(json.loads, output.read_text().splitlines()) if Path(r["source"]).name == "broken.ttl"]
    assert broken[0]["errors"][0]["code"] == "unreadable-input"


@pytest.mark.slow
def test_lines_equal_the_reports_of_recommend_files(cohort_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=7))
    lines = {Path(r["source"]).name: r for r in map(json.loads, output.read_text().splitlines())}
    for name in ("gen-000.ttl", "gen-019.ttl", VIGNETTE.name):
        if name in lines:
            alone = recommend_files([str(cohort_dir / name)], as_of=AS_OF)[0].to_json()
            assert canonical(lines[name]) == canonical(alone)


def test_interrupted_run_resumes_without_duplicates(cohort_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"

    def stop_after_first(chunk: ChunkDone) -> None:
        raise Stop

    with pytest.raises(Stop):
        run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=10), after_chunk=stop_after_first)
    assert len(sources(output)) == 10
    summary = run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=10))
    assert summary.files_skipped == 10 and summary.files_processed == len(patient_names(cohort_dir)) - 10
    assert sorted(sources(output)) == patient_names(cohort_dir)


@pytest.mark.slow
@pytest.mark.parametrize("into", ["newline", "last-line", "line-before"])
def test_cut_off_last_line_is_removed_and_redone(cohort_dir: Path, tmp_path: Path, into: str) -> None:
    output = tmp_path / "out.jsonl"
    run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=10))
    data = output.read_bytes()
    last = len(data.splitlines(keepends=True)[-1])
    cut = {"newline": 1, "last-line": last // 2, "line-before": last + 40}[into]
    output.write_bytes(data[: len(data) - cut])
    summary = run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF, chunk_size=10))
    assert sorted(sources(output)) == patient_names(cohort_dir)
    redone = 2 if into != "line-before" else 3
    assert summary.truncated_bytes > 0 and summary.files_processed == redone  # the cut line's file and the one before
    assert output.read_bytes().endswith(b"\n")


def test_cut_off_first_line_starts_over(cohort_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_bytes(b'{"patient":"gen-000","sour')
    state = prepare_output(output)
    assert state.done == frozenset() and output.read_bytes() == b""


def test_foreign_line_in_the_middle_is_refused(cohort_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    output.write_text('{"source": "a.ttl"}\nnot json\n{"source": "b.ttl"}\n', encoding="utf-8")
    with pytest.raises(UsageError, match="line 2 is not a report"):
        run_cohort(cohort_dir, output, CohortOptions(as_of=AS_OF))


def test_progress_on_a_terminal_and_in_a_log() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        progress = Progress(stream, every=3600)
        progress.start(total=4, done=1)
        progress.advance(1)
        progress.advance(2)
        progress.finish()
    assert "\r[" in terminal.getvalue() and "4/4 files (100%)" in terminal.getvalue()
    lines = log.getvalue().splitlines()
    assert lines[0].startswith("cohort: 1/4 files") and lines[-1].startswith("cohort: 4/4 files (100%)")
    assert len(lines) == 2  # the middle step falls inside the `every` interval


# -- the command ------------------------------------------------------------------------------------
@pytest.mark.slow
def test_command_runs_resumes_and_summarises(cohort_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.jsonl"
    args = ["cohort", str(cohort_dir), "--out", str(output), "--chunk-size", "8", "--as-of", "2026-11-01"]
    assert main(args) == 0
    first = capsys.readouterr().err
    files = len(patient_names(cohort_dir))  # 24, or 25 with the shared vignette
    assert f"{files} of {files} files processed in {-(-files // 8)} chunks" in first
    assert main(args) == 0
    assert "0 of" in capsys.readouterr().err
    assert sorted(sources(output)) == patient_names(cohort_dir)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--chunk-size", "0"], "--chunk-size must be at least 1"),
        (["--as-of", "1 Nov"], "--as-of must be a date"),
        (["--graph", "urn:x"], "only work with --store"),
        (["--unavailable", "no-such-drug"], "unknown drug 'no-such-drug'"),
    ],
)
def test_command_usage_errors(cohort_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str) -> None:
    output = tmp_path / "out.jsonl"
    assert main(["cohort", str(cohort_dir), "--out", str(output), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not output.exists() or output.read_text() == ""


def test_command_refuses_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cohort", str(tmp_path / "nope"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_command_on_a_remote_store_equals_the_embedded_run(
    cohort_dir: Path, tmp_path: Path, standard_server: StandardServer, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    common = ["--chunk-size", "9", "--as-of", "2026-11-01"]
    assert main(["cohort", str(cohort_dir), "--out", str(local), *common]) == 0
    monkeypatch.setenv("HER2KG_STORE_PASSWORD", standard_server.password)
    remote_args = ["--store", standard_server.url, "--user", standard_server.username]
    assert main(["cohort", str(cohort_dir), "--out", str(remote), *common, *remote_args]) == 0
    assert [canonical(json.loads(x)) for x in remote.read_text().splitlines()] == [canonical(json.loads(x)) for x in local.read_text().splitlines()]
    # The run's own graph was removed at the end.
    assert sum(1 for _ in standard_server.store.quads_for_pattern(None, None, None)) == 0


def test_command_reports_an_unreachable_store(cohort_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from virtuoso_server import free_port

    url = f"http://127.0.0.1:{free_port()}/sparql"
    assert main(["cohort", str(cohort_dir), "--out", str(tmp_path / "o.jsonl"), "--store", url, "--timeout", "5"]) == 1
    err = capsys.readouterr().err
    assert url in err and "rerun the same command to resume" in err


@pytest.mark.virtuoso
def test_command_on_virtuoso_resumes(
    cohort_dir: Path, tmp_path: Path, virtuoso: VirtuosoServer, graph_iri: str, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    output = tmp_path / "out.jsonl"
    monkeypatch.setenv("HER2KG_STORE_PASSWORD", virtuoso.password)
    args = ["cohort", str(cohort_dir), "--out", str(output), "--chunk-size", "10", "--as-of", "2026-11-01",
            "--store", virtuoso.sparql_url, "--user", virtuoso.username, "--graph", graph_iri,
            "--graph-store-url", virtuoso.graph_store_url]
    assert main(args) == 0
    data = output.read_bytes()
    output.write_bytes(data[: len(data) - 500])
    assert main(args) == 0
    assert sorted(sources(output)) == patient_names(cohort_dir)
    local = tmp_path / "local.jsonl"
    run_cohort(cohort_dir, local, CohortOptions(as_of=AS_OF, chunk_size=10))
    by_name = {Path(r["source"]).name: canonical(r) for r in map(json.loads, local.read_text().splitlines())}
    assert {Path(r["source"]).name: canonical(r) for r in map(json.loads, output.read_text().splitlines())} == by_name
