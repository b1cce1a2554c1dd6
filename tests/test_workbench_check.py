"""`her2kg check`: one command for CI; `--update` rewrites the generated files.

Each generated file is made stale on a copy of the checkout, `check` names it, `--update` fixes
it, and a second `--update` changes no byte (the committed form is one form).
"""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.resources import data_root, ontology_dir, queries_dir, shapes_dir


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(args))
    return code, out.getvalue()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    shutil.copytree(ontology_dir(), tmp_path / "ontology")
    shutil.copytree(shapes_dir(), tmp_path / "shapes")
    shutil.copytree(queries_dir(), tmp_path / "queries")
    (tmp_path / "docs").mkdir()
    shutil.copy(data_root() / "docs" / "traceability.tsv", tmp_path / "docs" / "traceability.tsv")
    shutil.copy(data_root() / "README.md", tmp_path / "README.md")
    code, _ = run("check", "--kb", str(tmp_path), "--no-owl", "--update")
    assert code == 0
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_update_is_idempotent_and_check_then_passes(checkout: Path) -> None:
    before = snapshot(checkout)
    assert run("check", "--kb", str(checkout), "--no-owl", "--update")[0] == 0
    assert snapshot(checkout) == before
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 0 and out.splitlines()[-1].startswith("ok: her2kg check")


@pytest.mark.slow
def test_stale_competency_answer_is_named_and_updated(checkout: Path) -> None:
    answer = checkout / "queries" / "cq" / "01-regimens-with-anthracycline.tsv"
    good = answer.read_text(encoding="utf-8")
    answer.write_text(good.splitlines()[0] + "\n", encoding="utf-8")
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 1 and "queries/cq/01-regimens-with-anthracycline.rq" in out and "unexpected row" in out
    assert run("check", "--kb", str(checkout), "--no-owl", "--update")[0] == 0
    assert answer.read_text(encoding="utf-8") == good


@pytest.mark.slow
def test_unsorted_answer_is_not_the_committed_form(checkout: Path) -> None:
    answer = checkout / "queries" / "cq" / "01-regimens-with-anthracycline.tsv"
    lines = answer.read_text(encoding="utf-8").splitlines()
    answer.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 1 and "committed form" in out


@pytest.mark.slow
def test_stale_traceability_table_is_named_and_updated(checkout: Path) -> None:
    table = checkout / "docs" / "traceability.tsv"
    good = table.read_text(encoding="utf-8")
    table.write_text(good.splitlines()[0] + "\n", encoding="utf-8")
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 1 and "docs/traceability.tsv is out of date" in out
    run("check", "--kb", str(checkout), "--no-owl", "--update")
    assert table.read_text(encoding="utf-8") == good


@pytest.mark.slow
def test_stale_readme_count_is_named_and_updated(checkout: Path) -> None:
    readme = checkout / "README.md"
    good = readme.read_text(encoding="utf-8")
    stated = good.replace("24 drugs with", "23 drugs with", 1)
    assert stated != good
    readme.write_text(stated, encoding="utf-8")
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 1 and "states 23 drugs" in out
    run("check", "--kb", str(checkout), "--no-owl", "--update")
    assert readme.read_text(encoding="utf-8") == good


@pytest.mark.slow
def test_a_validation_finding_fails_check(checkout: Path) -> None:
    module = checkout / "ontology" / "modules" / "safety.ttl"
    module.write_text(module.read_text(encoding="utf-8") + "\nh:Bare a owl:Class .\n", encoding="utf-8")
    code, out = run("check", "--kb", str(checkout), "--no-owl")
    assert code == 1 and "FAILED  validate" in out and "h:Bare" in out
