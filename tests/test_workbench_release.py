"""`her2kg release`: merged and reasoned ontology, shapes, docs and changelog under the version path."""

from __future__ import annotations

import io
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.resources import examples_dir, ontology_dir, queries_dir, shapes_dir

pytestmark = pytest.mark.slow  # knowledge-engineering tooling (kb extra): reasoned releases


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def copy_kb(root: Path) -> Path:
    for source, name in ((ontology_dir(), "ontology"), (shapes_dir(), "shapes"), (queries_dir(), "queries"), (examples_dir(), "examples")):
        shutil.copytree(source, root / name)
    return root


def bump(root: Path, version: str) -> None:
    header = root / "ontology" / "her2kg.ttl"
    text = header.read_text(encoding="utf-8")
    header.write_text(text.replace('"0.1.0"', f'"{version}"').replace("releases/0.1.0/", f"releases/{version}/"), encoding="utf-8")


@pytest.mark.slow
def test_first_then_second_release(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path / "kb")
    out = tmp_path / "site"
    code, printed, _ = run("release", "--kb", str(kb), "--out", str(out), "--no-reason")
    assert code == 0 and "first release" in printed
    first = out / "releases" / "0.1.0"
    merged = (first / "her2kg-merged.ttl").read_text(encoding="utf-8")
    assert "owl:imports" not in merged and merged.count("a owl:Ontology") == 1
    assert "owl:versionIRI <https://w3id.org/her2kg/releases/0.1.0/ontology>" in merged
    assert "sh:NodeShape" in (first / "shapes.ttl").read_text(encoding="utf-8")
    assert (first / "docs" / "index.html").is_file() and (first / "her2kg-reasoned.ttl").is_file()
    assert (first / "CHANGELOG.md").read_text(encoding="utf-8") == "# her2kg 0.1.0\n\nFirst release.\n"

    code, _, err = run("release", "--kb", str(kb), "--out", str(out), "--no-reason")
    assert code == 2 and "exists" in err

    bump(kb, "0.2.0")
    recommendations = kb / "ontology" / "modules" / "recommendations.ttl"
    recommendations.write_text(recommendations.read_text(encoding="utf-8").replace('"2012-06-08"^^xsd:date', '"2013-06-08"^^xsd:date'), encoding="utf-8")
    code, printed, _ = run("release", "--kb", str(kb), "--out", str(out), "--no-reason")
    assert code == 0 and "changelog against" in printed
    changelog = (out / "releases" / "0.2.0" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# her2kg 0.2.0\n")
    assert "`h:rec-met-l1-thp`" in changelog and '+ h:validFrom "2013-06-08"^^xsd:date' in changelog


def test_version_iri_must_name_the_version(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path / "kb")
    header = kb / "ontology" / "her2kg.ttl"
    header.write_text(header.read_text(encoding="utf-8").replace('owl:versionInfo "0.1.0"', 'owl:versionInfo "0.3.0"'), encoding="utf-8")
    code, _, err = run("release", "--kb", str(kb), "--out", str(tmp_path / "out"), "--no-reason")
    assert code == 2 and "does not name owl:versionInfo 0.3.0" in err


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
def test_reasoned_ontology_holds_the_inferred_subclass_axiom(tmp_path: Path) -> None:
    kb = copy_kb(tmp_path / "kb")
    drugs = kb / "ontology" / "modules" / "drugs.ttl"
    drugs.write_text(
        drugs.read_text(encoding="utf-8")
        + "\nh:TestAnyDrugGiver a owl:Class ; owl:equivalentClass [ a owl:Restriction ; owl:onProperty h:drug ; owl:someValuesFrom h:Drug ] .\n"
        + "h:TestAntibodyGiver a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty h:drug ; owl:someValuesFrom h:AntiHER2MonoclonalAntibody ] .\n",
        encoding="utf-8",
    )
    assert run("release", "--kb", str(kb), "--out", str(tmp_path / "out"))[0] == 0
    folder = tmp_path / "out" / "releases" / "0.1.0"
    assert "https://w3id.org/her2kg/TestAntibodyGiver\thttps://w3id.org/her2kg/TestAnyDrugGiver" in (folder / "her2kg-inferred.tsv").read_text(encoding="utf-8")
    reasoned = (folder / "her2kg-reasoned.ttl").read_text(encoding="utf-8")
    merged = (folder / "her2kg-merged.ttl").read_text(encoding="utf-8")
    assert "h:TestAnyDrugGiver" in reasoned.split("h:TestAntibodyGiver a owl:Class", 1)[1].split("\n\n", 1)[0]
    assert "h:TestAnyDrugGiver" not in merged.split("h:TestAntibodyGiver a owl:Class", 1)[1].split("\n\n", 1)[0]
