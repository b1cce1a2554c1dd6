"""Extras that match use: the base install runs `recommend`, `cohort`, `query` and `import-fhir`;
the other commands name the extra they need, in one line, and exit 2 when it is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from her2kg import cli
from her2kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "metastatic-first-line.ttl"
OPTIONAL = ("rdflib", "owlready2", "pyshacl", "starlette", "uvicorn", "pyspark")

# Runs command lines, one after the other in one process, with the optional dependencies made
# unimportable (as on a base install), and prints each exit code to stderr.
_BLOCKED_RUN = """
import sys
for name in {blocked!r}:
    sys.modules[name] = None
from her2kg.cli import main
for argv in {runs!r}:
    print("EXIT", argv[0], main(argv), file=sys.stderr, flush=True)
"""


def _run_blocked(tmp_path: Path, runs: list[list[str]], blocked: tuple[str, ...] = OPTIONAL) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "blocked.py"
    script.write_text(_BLOCKED_RUN.format(blocked=blocked, runs=runs), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_importing_the_fhir_importer_does_not_load_rdflib() -> None:
    code = f"import sys, her2kg.fhir, her2kg.pipeline; print(sorted(m for m in {OPTIONAL!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_recommend_query_and_cohort_run_without_any_extra(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "p.ttl").write_bytes(EXAMPLE.read_bytes())
    runs = [
        ["recommend", str(EXAMPLE), "--as-of", "2026-11-01", "--format", "json"],
        ["query", "ASK { ?s ?p ?o }"],
        ["cohort", str(folder), "--out", str(tmp_path / "out.jsonl"), "--as-of", "2026-11-01"],
    ]
    done = _run_blocked(tmp_path, runs)
    assert [line for line in done.stderr.splitlines() if line.startswith("EXIT")] == ["EXIT recommend 0", "EXIT query 0", "EXIT cohort 0"], done.stderr
    assert '"permitted"' in done.stdout
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1


def test_import_fhir_needs_only_the_base_install(tmp_path: Path) -> None:
    bundle = ROOT / "tests" / "data" / "fhir" / "therapy.json"
    done = _run_blocked(tmp_path, [["import-fhir", str(bundle)]], blocked=tuple(m for m in OPTIONAL if m != "rdflib"))
    assert "EXIT import-fhir 0" in done.stderr, done.stderr
    assert "@prefix h:" in done.stdout


@pytest.mark.parametrize(
    ("argv", "module", "extra"),
    [
        (["validate"], "owlready2", "kb"),
        (["fmt", "--check"], "pyshacl", "kb"),
        (["docs", "--out", "x"], "rdflib", "kb"),
        (["check"], "owlready2", "kb"),
        (["serve"], "starlette", "server"),
        (["serve"], "rdflib", "server"),
        (["spark-cohort", "in"], "pyspark", "spark"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(
    argv: list[str], module: str, extra: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if the package were not installed
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == f"her2kg {argv[0]}: needs the {extra} extra: pip install 'her2kg[{extra}]'\n"


def test_a_base_command_is_not_refused_for_a_missing_extra(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for module in ("owlready2", "pyshacl", "starlette"):
        monkeypatch.setitem(sys.modules, module, None)
    assert main(["recommend", str(EXAMPLE), "--as-of", "2026-11-01"]) == 0
    assert "extra" not in capsys.readouterr().err


def _fake_command(exc: Exception) -> SimpleNamespace:
    def run(_args: object) -> int:
        raise exc

    return SimpleNamespace(add_arguments=lambda parser: None, run=run)


def test_an_extra_module_missing_at_run_time_is_named(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_load", lambda name: _fake_command(ModuleNotFoundError("No module named 'pyshacl.x'", name="pyshacl.x")))
    monkeypatch.setattr(cli, "_importable", lambda name: True)  # present at the start, absent later
    assert main(["validate"]) == 2
    assert capsys.readouterr().err == "her2kg validate: needs the kb extra: pip install 'her2kg[kb]'\n"


def test_an_unrelated_missing_module_stays_an_internal_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli, "_load", lambda name: _fake_command(ModuleNotFoundError("No module named 'nope'", name="nope")))
    monkeypatch.setattr(cli, "_importable", lambda name: True)
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "internal error" in err and "extra" not in err
