"""`her2kg diff OLD NEW`: terms added, removed and changed with labels, and the conclusions that change."""

from __future__ import annotations

import io
import shutil
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.resources import data_root, examples_dir, ontology_dir, queries_dir, shapes_dir

EXAMPLE = "metastatic-first-line.ttl"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def copy_kb(root: Path) -> Path:
    shutil.copytree(ontology_dir(), root / "ontology")
    shutil.copytree(shapes_dir(), root / "shapes")
    shutil.copytree(queries_dir(), root / "queries")
    shutil.copytree(examples_dir(), root / "examples")
    return root


@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    old = copy_kb(tmp_path_factory.mktemp("old"))
    new = copy_kb(tmp_path_factory.mktemp("new"))
    recommendations = new / "ontology" / "modules" / "recommendations.ttl"
    text = recommendations.read_text(encoding="utf-8")
    assert 'h:validFrom "2012-06-08"^^xsd:date' in text
    recommendations.write_text(text.replace('h:validFrom "2012-06-08"^^xsd:date', 'h:validFrom "2027-06-08"^^xsd:date'), encoding="utf-8")
    drugs = new / "ontology" / "modules" / "drugs.ttl"
    drugs.write_text(
        drugs.read_text(encoding="utf-8")
        + '\nh:TestAddedClass a owl:Class ; rdfs:label "test added class"@en ; rdfs:subClassOf h:Drug .\n',
        encoding="utf-8",
    )
    return old, new


@pytest.mark.slow
def test_text_lists_changed_and_added_terms_with_labels(versions: tuple[Path, Path]) -> None:
    old, new = versions
    code, out, _ = run("diff", str(old), str(new), "--patients", str(old / "examples" / EXAMPLE), "--as-of", "2026-11-01")
    assert code == 0
    assert "changed  h:rec-met-l1-thp (" in out
    assert '    + h:validFrom "2027-06-08"^^xsd:date' in out and '    - h:validFrom "2012-06-08"^^xsd:date' in out
    assert "added    h:TestAddedClass (test added class)" in out
    assert "    + rdfs:subClassOf h:Drug" in out


@pytest.mark.slow
def test_consequences_name_the_patient_and_the_conclusion(versions: tuple[Path, Path]) -> None:
    old, new = versions
    _, out, _ = run("diff", str(old), str(new), "--patients", str(old / "examples" / EXAMPLE), "--as-of", "2026-11-01")
    line = next(line for line in out.splitlines() if "example-met-1l: permitted:" in line)
    before, after = line.split(": permitted: ")[1].split(" -> ")
    assert "h:regimen-thp" in before and "h:regimen-thp" not in after


@pytest.mark.slow
def test_markdown_for_a_pull_request(versions: tuple[Path, Path]) -> None:
    old, new = versions
    _, out, _ = run("diff", str(old), str(new), "--format", "markdown", "--patients", str(old / "examples" / EXAMPLE), "--as-of", "2026-11-01")
    assert out.startswith("## her2kg diff ")
    assert "### Consequences" in out and "| patient | what | before | after |" in out
    assert "- **added** `h:TestAddedClass` (test added class)" in out


@pytest.mark.slow
def test_removed_terms_are_listed(versions: tuple[Path, Path]) -> None:
    old, new = versions
    _, out, _ = run("diff", str(new), str(old), "--patients")
    assert "removed  h:TestAddedClass (test added class)" in out
    assert "consequences: none" in out


@pytest.mark.slow
def test_same_folder_has_no_differences(versions: tuple[Path, Path]) -> None:
    old, _ = versions
    _, out, _ = run("diff", str(old), str(old), "--patients", str(old / "examples" / EXAMPLE), "--as-of", "2026-11-01")
    assert "0 added, 0 removed, 0 changed terms; 0 changed conclusions over 1 patients" in out


@pytest.mark.slow
@pytest.mark.skipif(not (data_root() / ".git").exists(), reason="needs a git checkout")
def test_git_revisions_are_read_with_git_archive() -> None:
    head = subprocess.run(["git", "-C", str(data_root()), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    code, out, _ = run("diff", head, "HEAD", "--patients")
    assert code == 0 and "0 added, 0 removed, 0 changed terms" in out


def test_unknown_revision_is_a_usage_error() -> None:
    code, _, err = run("diff", "no-such-revision-xyz", "HEAD", "--patients")
    assert code == 2 and "neither a folder nor a git revision" in err
