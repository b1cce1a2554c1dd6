"""`--kb DIR`: every command that reads the knowledge base reads the folder given, and says so.

A copy of the knowledge base is edited (its version and one recommendation's label) and each
command is shown to see the edit; reports name the folder and a content digest that changes
with the content.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from her2kg.cli import main
from her2kg.resources import data_root, examples_dir, folder_label, knowledge_digest, ontology_dir, queries_dir, shapes_dir

pytestmark = pytest.mark.slow  # knowledge-engineering tooling (kb extra): validates copies of the knowledge base

EDITED_VERSION = "9.9.9-edited"
EXAMPLE = "metastatic-first-line.ttl"


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kb")
    shutil.copytree(ontology_dir(), root / "ontology")
    shutil.copytree(shapes_dir(), root / "shapes")
    shutil.copytree(queries_dir(), root / "queries")
    shutil.copytree(examples_dir(), root / "examples")
    header = root / "ontology" / "her2kg.ttl"
    text = header.read_text(encoding="utf-8")
    assert 'owl:versionInfo "0.1.0"' in text
    header.write_text(text.replace('owl:versionInfo "0.1.0"', f'owl:versionInfo "{EDITED_VERSION}"'), encoding="utf-8")
    return root


def test_info_reads_the_copy(edited: Path) -> None:
    code, out, _ = run("info", "--kb", str(edited), "--format", "json")
    info = json.loads(out)
    assert code == 0 and info["version"] == EDITED_VERSION
    assert info["folder"] == str(edited.resolve())
    assert info["digest"] == knowledge_digest(edited) != knowledge_digest(data_root())


@pytest.mark.slow
def test_validate_reads_the_copy_and_names_it(edited: Path) -> None:
    code, out, _ = run("validate", "--kb", str(edited), "--no-owl", "--format", "json")
    report = json.loads(out)
    assert report["knowledge_base"]["version"] == EDITED_VERSION
    assert report["knowledge_base"]["folder"] == str(edited.resolve())
    assert report["knowledge_base"]["digest"].startswith("sha256:")
    code, out, _ = run("validate", "--kb", str(edited), "--no-owl")
    assert f"; knowledge base {edited.resolve()} (sha256:" in out


@pytest.mark.slow
def test_validate_sees_a_broken_module_in_the_copy(tmp_path: Path) -> None:
    shutil.copytree(ontology_dir(), tmp_path / "ontology")
    shutil.copytree(shapes_dir(), tmp_path / "shapes")
    shutil.copytree(queries_dir(), tmp_path / "queries")
    (tmp_path / "ontology" / "modules" / "safety.ttl").open("a", encoding="utf-8").write("\nh:oops a owl:Class , .\n")
    code, out, _ = run("validate", "--kb", str(tmp_path), "--no-owl")
    assert code == 1 and "safety.ttl" in out


def test_recommend_report_names_folder_digest_and_edited_version(edited: Path) -> None:
    code, out, _ = run("recommend", "--kb", str(edited), str(edited / "examples" / EXAMPLE), "--as-of", "2026-11-01", "--format", "json")
    report = json.loads(out)
    report = report[0] if isinstance(report, list) else report
    kb: dict[str, Any] = report["knowledge_base"]
    assert code == 0
    assert kb["version"] == EDITED_VERSION
    assert kb["folder"] == str(edited.resolve())
    assert kb["digest"] == knowledge_digest(edited)


def test_recommend_without_kb_reads_the_checkout() -> None:
    code, out, _ = run("recommend", str(examples_dir() / EXAMPLE), "--as-of", "2026-11-01", "--format", "json")
    report = json.loads(out)
    report = report[0] if isinstance(report, list) else report
    assert report["knowledge_base"]["folder"] == folder_label()
    assert report["knowledge_base"]["version"] != EDITED_VERSION


def test_query_reads_the_copy(edited: Path) -> None:
    query = "SELECT ?v WHERE { <https://w3id.org/her2kg/ontology> <http://www.w3.org/2002/07/owl#versionInfo> ?v }"
    code, out, _ = run("query", "--kb", str(edited), query, "--format", "json")
    assert code == 0 and EDITED_VERSION in out


def test_cohort_reads_the_copy(edited: Path, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(edited / "examples" / EXAMPLE, folder / EXAMPLE)
    code, _, _ = run("cohort", "--kb", str(edited), str(folder), "--out", str(tmp_path / "out.jsonl"), "--as-of", "2026-11-01")
    line = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()[0])
    report = line.get("report", line)
    assert code == 0 and report["knowledge_base"]["version"] == EDITED_VERSION


@pytest.mark.slow
def test_fmt_check_reads_the_copy(edited: Path, tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(edited, root)
    module = root / "ontology" / "modules" / "safety.ttl"
    module.write_text(module.read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    code, out, _ = run("fmt", "--kb", str(root), "--check")
    assert code == 1 and str(module) in out


def test_kb_that_is_not_a_knowledge_base_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("info", "--kb", str(tmp_path))
    assert code == 2 and "ontology/her2kg.ttl" in err


def test_digest_is_stable_and_content_sensitive(tmp_path: Path) -> None:
    shutil.copytree(ontology_dir(), tmp_path / "ontology")
    first = knowledge_digest(tmp_path)
    assert knowledge_digest(tmp_path) == first
    (tmp_path / "ontology" / "her2kg.ttl").write_text("changed", encoding="utf-8")
    assert knowledge_digest(tmp_path) != first


@pytest.mark.slow
def test_import_fhir_reads_the_mapping_of_the_copy(tmp_path: Path) -> None:
    from rdflib import URIRef

    from her2kg.turtle_format import format_graph, parse_turtle
    from her2kg.vocabulary import BASE, PREFIXES

    bundle = str(data_root() / "tests" / "data" / "vignettes" / "h02-maintenance-hp.json")
    code, out, _ = run("import-fhir", bundle)
    assert code == 0 and "a h:BoneMetastasis" in out
    shutil.copytree(ontology_dir(), tmp_path / "ontology")
    shutil.copytree(shapes_dir(), tmp_path / "shapes")
    shutil.copytree(queries_dir(), tmp_path / "queries")
    removed = 0
    for module in (tmp_path / "ontology" / "modules").glob("*.ttl"):
        parsed = parse_turtle(module.read_text(encoding="utf-8"))
        codes = list(parsed.graph.triples((URIRef(BASE + "BoneMetastasis"), URIRef(PREFIXES["skos"] + "notation"), None)))
        if codes:
            for triple in codes:
                parsed.graph.remove(triple)
            removed += len(codes)
            module.write_text(format_graph(parsed.graph, declared=dict(parsed.declared)), encoding="utf-8")
    assert removed
    code, out, _ = run("import-fhir", "--kb", str(tmp_path), bundle)
    assert "a h:BoneMetastasis" not in out
