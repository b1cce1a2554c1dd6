"""Cohort runs: locked output, only produced reports count as done, special files skipped, write failures."""

from __future__ import annotations

import errno
import json
import os
import random
from datetime import date
from pathlib import Path

import pytest

import her2kg.cohort as cohort
from her2kg.cli import main
from her2kg.cohort import CohortOptions, OutputError, lock_output, run_cohort
from synthetic import random_patient

AS_OF = date(2026, 11, 1)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "patients"
    folder.mkdir()
    rng = random.Random(5)
    for index in range(6):
        (folder / f"gen-{index}.ttl").write_text(random_patient(rng, f"gen-{index}").to_turtle(), encoding="utf-8")
    return folder


def _sources(output: Path) -> list[str]:
    return [Path(json.loads(line)["source"]).name for line in output.read_text(encoding="utf-8").splitlines()]


def test_a_second_run_on_the_same_output_exits_1(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "out.jsonl"
    held = lock_output(output)  # another run holds the lock
    try:
        with pytest.raises(OutputError, match="another `her2kg cohort` run"):
            run_cohort(folder, output, CohortOptions(as_of=AS_OF))
        assert main(["cohort", str(folder), "--out", str(output), "--as-of", "2026-11-01"]) == 1
        assert "another `her2kg cohort` run is writing" in capsys.readouterr().err
        assert not output.exists() or output.read_text() == ""
    finally:
        os.close(held)
    run_cohort(folder, output, CohortOptions(as_of=AS_OF))  # once released, the run goes ahead
    assert sorted(_sources(output)) == sorted(p.name for p in folder.iterdir())


@pytest.mark.slow
def test_an_unreadable_file_is_not_done_and_is_retried(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "out.jsonl"
    real = cohort._readable_now
    monkeypatch.setattr(cohort, "_readable_now", lambda path: "Permission denied" if path.name == "gen-3.ttl" else real(path))
    summary = run_cohort(folder, output, CohortOptions(as_of=AS_OF, chunk_size=4))
    assert summary.files_unreadable == ("gen-3.ttl",)
    assert "gen-3.ttl" not in _sources(output)
    assert main(["cohort", str(folder), "--out", str(tmp_path / "cli.jsonl"), "--as-of", "2026-11-01"]) == 1
    monkeypatch.setattr(cohort, "_readable_now", real)  # the file is readable again
    again = run_cohort(folder, output, CohortOptions(as_of=AS_OF, chunk_size=4))
    assert again.files_processed == 1 and again.files_skipped == 5
    assert sorted(_sources(output)) == sorted(p.name for p in folder.iterdir())


def test_symlink_loops_fifos_and_broken_links_are_skipped(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.symlink(folder / "loop-b.ttl", folder / "loop-a.ttl")
    os.symlink(folder / "loop-a.ttl", folder / "loop-b.ttl")
    os.symlink(folder / "missing.ttl", folder / "broken.ttl")
    os.mkfifo(folder / "pipe.ttl")
    os.symlink("/dev/zero", folder / "zero.json")
    output = tmp_path / "out.jsonl"
    summary = run_cohort(folder, output, CohortOptions(as_of=AS_OF))
    assert summary.files_total == 6
    assert sorted(_sources(output)) == [f"gen-{i}.ttl" for i in range(6)]
    err = capsys.readouterr().err
    assert "loop-a.ttl: a symbolic link loop" in err and "broken.ttl: a broken symbolic link" in err
    assert "pipe.ttl: not a regular file" in err and "zero.json: not a regular file" in err


@pytest.mark.slow
@pytest.mark.parametrize(("code", "advice"), [(errno.ENOSPC, "disk is full"), (errno.EACCES, "permissions")])
def test_write_failures_exit_1_and_leave_a_resumable_output(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int, advice: str
) -> None:
    output = tmp_path / "out.jsonl"
    with pytest.raises(_Stop):
        run_cohort(folder, output, CohortOptions(as_of=AS_OF, chunk_size=2), after_chunk=_stop_after_first)
    complete = output.read_bytes()
    assert len(_sources(output)) == 2
    real_write = os.write
    calls = {"n": 0}

    def failing_write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:17]))  # a part of a line reaches the disk
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(cohort.os, "write", failing_write)
    status = main(["cohort", str(folder), "--out", str(output), "--chunk-size", "2", "--as-of", "2026-11-01"])
    assert status == 1
    err = capsys.readouterr().err
    assert advice in err and "rerun the same command" in err
    assert output.read_bytes() == complete, "the output is cut back to its last complete chunk"
    monkeypatch.setattr(cohort.os, "write", real_write)
    run_cohort(folder, output, CohortOptions(as_of=AS_OF, chunk_size=2))
    names = _sources(output)
    assert sorted(set(names)) == sorted(names) == sorted(p.name for p in folder.iterdir())


def test_an_output_that_cannot_be_created_exits_1(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["cohort", str(folder), "--out", str(blocker / "out.jsonl"), "--as-of", "2026-11-01"]) == 1
    assert "choose a writable --out" in capsys.readouterr().err


class _Stop(Exception):
    pass


def _stop_after_first(_chunk: object) -> None:
    raise _Stop
