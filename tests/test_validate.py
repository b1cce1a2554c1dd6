"""`her2kg validate` on the real knowledge base and on copies broken on purpose.

Copies live in tmp_path; the real ontology/ and shapes/ are only read. HermiT runs twice per
session at most: once on the real knowledge base, once on a broken copy.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from her2kg.cli import main
from her2kg.resources import ontology_dir, queries_dir, shapes_dir
from her2kg.validation import CheckResult, Finding, Severity, ValidationReport, validate_knowledge_base

pytestmark = pytest.mark.slow  # validates the real knowledge base (OWL reasoning, SHACL) in every fixture

CHECKS = ["syntax", "imports", "shacl", "profile", "owl", "qc", "format"]
MODULE = "<https://w3id.org/her2kg/ontology/drugs>"


def run_json(*args: str) -> tuple[int, dict[str, Any]]:
    """Run the CLI in process (usable from session fixtures, where capsys is not)."""
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["validate", "--format", "json", *args])
    return code, json.loads(buffer.getvalue())


def copy_knowledge_base(root: Path) -> Path:
    shutil.copytree(ontology_dir(), root / "ontology")
    shutil.copytree(shapes_dir(), root / "shapes")
    shutil.copytree(queries_dir() / "qc", root / "queries" / "qc")
    return root


def append(path: Path, text: str) -> int:
    """Append Turtle to a file; return the 1-based line where the addition starts."""
    existing = path.read_text(encoding="utf-8")
    path.write_text(existing.rstrip("\n") + "\n\n" + text, encoding="utf-8")
    return existing.rstrip("\n").count("\n") + 3


def findings(report: dict[str, Any], check: str) -> list[dict[str, Any]]:
    return [f for c in report["checks"] if c["check"] == check for f in c["findings"]]


# --- the real knowledge base --------------------------------------------------------------


@pytest.fixture(scope="session")
def real_report() -> tuple[int, dict[str, Any]]:
    return run_json()


@pytest.mark.slow
def test_real_knowledge_base_runs_every_check(real_report: tuple[int, dict[str, Any]]) -> None:
    _, report = real_report
    assert [c["check"] for c in report["checks"]] == CHECKS
    assert report["knowledge_base"]["iri"] == "https://w3id.org/her2kg/ontology"
    assert report["knowledge_base"]["version"]
    for check in report["checks"]:
        assert isinstance(check["seconds"], float)
        for finding in check["findings"]:
            assert set(finding) == {"check", "severity", "file", "line", "term", "message"}


def test_real_knowledge_base_parses_imports_and_is_consistent(real_report: tuple[int, dict[str, Any]]) -> None:
    _, report = real_report
    assert findings(report, "syntax") == []
    assert findings(report, "imports") == []
    assert findings(report, "owl") == [], "HermiT finds the knowledge base inconsistent or a class unsatisfiable"


def test_real_knowledge_base_is_clean(real_report: tuple[int, dict[str, Any]]) -> None:
    code, report = real_report
    problems = [
        f"{f['file']}:{f['line']}: [{f['check']}] {f['term']}: {f['message']}"
        for c in report["checks"]
        for f in c["findings"]
    ]
    assert problems == []
    assert code == 0 and report["ok"] is True


# --- copies broken on purpose ---------------------------------------------------------------

BROKEN_DRUG = """h:test-drug-without-code a owl:NamedIndividual, h:Taxane ;
    rdfs:label "test drug without a code"@en ;
    skos:definition "A taxane written for a test, with an RxNorm code and no NCIt code."@en ;
    skos:notation "999999"^^h:RxNorm ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/drugs> .

h:ImpossibleAntibody a owl:Class ;
    rdfs:subClassOf h:AntiHER2MonoclonalAntibody, h:AntiHER2AntibodyDrugConjugate ;
    rdfs:label "impossible antibody"@en ;
    skos:definition "A class written for a test, below two disjoint classes."@en ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/drugs> .

h:UnlabelledThing a owl:Class ;
    skos:definition "A class written for a test, without a label."@en ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/drugs> .

h:TestSubclassOfNothingDeclared a owl:Class ;
    rdfs:subClassOf h:NoSuchClass ;
    rdfs:label "test subclass of an undeclared class"@en ;
    skos:definition "A class written for a test, below a class that is declared nowhere."@en ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/drugs> .
"""

BROKEN_REGIMEN = """h:test-regimen a owl:NamedIndividual, h:Regimen ;
    rdfs:label "test regimen"@en ;
    skos:definition "A regimen written for a test."@en ;
    h:hasComponent h:test-regimen-c1 ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/regimens> .

h:test-regimen-c1 a owl:NamedIndividual, h:RegimenComponent ;
    rdfs:label "test regimen component"@en ;
    skos:definition "A regimen component written for a test."@en ;
    h:drug h:trastuzumab ;
    h:hasDose h:test-dose-zero ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/regimens> .

h:test-dose-zero a owl:NamedIndividual, h:DoseSpecification ;
    rdfs:label "test dose of zero"@en ;
    skos:definition "A dose specification written for a test, with a dose of 0."@en ;
    h:doseAmount 0.0 ;
    h:doseUnit h:unit-mg ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/regimens> .

h:unit-mg a owl:NamedIndividual, h:DoseUnit .
"""

BROKEN_RECOMMENDATION = """h:rec-test-without-source a owl:NamedIndividual, h:Recommendation ;
    rdfs:label "test recommendation without a source"@en ;
    skos:definition "A recommendation written for a test, which cites no source."@en ;
    h:recommendsRegimen h:test-regimen ;
    h:forDecisionPoint h:dp-metastatic-line-1 ;
    h:preference h:preferred ;
    h:evidenceQuality h:asco-quality-high ;
    h:recommendationStrength h:asco-strength-strong ;
    h:validFrom "2022-05-31"^^xsd:date ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/recommendations> .
"""


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any], dict[str, int]]:
    """One copy with several independent breakages, validated once (with HermiT)."""
    root = copy_knowledge_base(tmp_path_factory.mktemp("broken"))
    modules = root / "ontology" / "modules"
    lines = {
        "drugs": append(modules / "drugs.ttl", BROKEN_DRUG),
        "regimens": append(modules / "regimens.ttl", BROKEN_REGIMEN),
        "recommendations": append(modules / "recommendations.ttl", BROKEN_RECOMMENDATION),
    }
    code, report = run_json("--root", str(root))
    return code, report, lines


@pytest.mark.slow
def test_broken_copy_exits_1(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    code, report, _ = broken
    assert code == 1 and report["ok"] is False


def test_recommendation_without_source(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, lines = broken
    hits = [f for f in findings(report, "shacl") if f["term"] == "h:rec-test-without-source"]
    assert len(hits) == 1, findings(report, "shacl")
    assert hits[0]["file"] == "ontology/modules/recommendations.ttl"
    assert hits[0]["line"] == lines["recommendations"]
    assert hits[0]["message"].startswith("dcterms:source: ")


def test_drug_without_ncit_code(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, lines = broken
    hits = [f for f in findings(report, "shacl") if f["term"] == "h:test-drug-without-code"]
    assert [(h["file"], h["line"]) for h in hits] == [("ontology/modules/drugs.ttl", lines["drugs"])]
    assert "skos:notation" in hits[0]["message"] and "NCIt" in hits[0]["message"]


def test_dose_of_zero(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, _ = broken
    hits = [f for f in findings(report, "shacl") if f["term"] == "h:test-dose-zero"]
    assert len(hits) == 1 and hits[0]["message"].startswith("h:doseAmount: ")
    assert hits[0]["file"] == "ontology/modules/regimens.ttl"


def test_unsatisfiable_class(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, _ = broken
    hits = findings(report, "owl")
    assert [h["term"] for h in hits] == ["h:ImpossibleAntibody"]
    assert hits[0]["file"] == "ontology/modules/drugs.ttl" and hits[0]["line"] > 0
    assert "unsatisfiable" in hits[0]["message"]


def test_term_without_label(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, _ = broken
    hits = [f for f in findings(report, "qc") if f["term"] == "h:UnlabelledThing"]
    assert [h["message"].split(":")[0] for h in hits] == ["missing-label-violation"]
    assert hits[0]["file"] == "ontology/modules/drugs.ttl"


def test_undefined_term(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    _, report, _ = broken
    hits = [f for f in findings(report, "qc") if f["term"] == "h:NoSuchClass"]
    assert [h["message"].split(":")[0] for h in hits] == ["undefined-term-violation"]
    assert "rdfs:subClassOf" in hits[0]["message"]


def test_added_terms_are_otherwise_clean(broken: tuple[int, dict[str, Any], dict[str, int]]) -> None:
    """The breakages find exactly what they break: nothing else about the added terms."""
    _, report, _ = broken
    expected = {
        ("shacl", "h:rec-test-without-source"),
        ("shacl", "h:test-drug-without-code"),
        ("shacl", "h:test-dose-zero"),
        ("owl", "h:ImpossibleAntibody"),
        ("qc", "h:UnlabelledThing"),
        ("qc", "h:NoSuchClass"),
        ("qc", "h:unit-mg"),  # declared without label, definition or module: also found
    }
    added = {
        "h:test-drug-without-code",
        "h:ImpossibleAntibody",
        "h:UnlabelledThing",
        "h:TestSubclassOfNothingDeclared",
        "h:NoSuchClass",
        "h:test-regimen",
        "h:test-regimen-c1",
        "h:test-dose-zero",
        "h:unit-mg",
        "h:rec-test-without-source",
    }
    ours = {(f["check"], f["term"]) for c in report["checks"] for f in c["findings"] if f["term"] in added}
    assert ours <= expected
    assert expected - {("qc", "h:unit-mg")} <= ours


@pytest.mark.slow
def test_syntax_error_names_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_knowledge_base(tmp_path)
    line = append(root / "ontology" / "modules" / "safety.ttl", "h:oops a owl:Class , .\n")
    assert main(["validate", "--root", str(root), "--no-owl"]) == 1
    out = capsys.readouterr().out
    assert f"ontology/modules/safety.ttl:{line}: [syntax] Turtle syntax error" in out
    assert "skipped: shacl, profile, qc, format (fix the syntax errors first)" in out


@pytest.mark.slow
def test_non_canonical_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_knowledge_base(tmp_path)
    turtle = [str(p) for p in sorted(root.rglob("*.ttl"))]
    assert main(["fmt", *turtle]) == 0
    capsys.readouterr()
    header = root / "ontology" / "her2kg.ttl"
    header.write_text("# a comment the formatter would drop\n" + header.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["validate", "--root", str(root), "--no-owl"]) == 1
    out = capsys.readouterr().out
    format_lines = [line for line in out.splitlines() if "[format]" in line]
    assert format_lines == [
        "ontology/her2kg.ttl:1: [format] not in canonical Turtle form; "
        "run `her2kg fmt ontology/her2kg.ttl` (comments are not kept)"
    ]


@pytest.mark.slow
def test_module_not_imported_and_import_without_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_knowledge_base(tmp_path)
    (root / "ontology" / "modules" / "extra.ttl").write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n\n"
        "<https://w3id.org/her2kg/ontology/extra> a owl:Ontology .\n",
        encoding="utf-8",
    )
    (root / "ontology" / "modules" / "safety.ttl").unlink()
    assert main(["validate", "--root", str(root), "--no-owl", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    messages = [f["message"] for f in findings(report, "imports")]
    assert any("does not import the module file extra.ttl" in m for m in messages), messages
    assert any("ontology/modules/safety.ttl" in m and "no local file" in m for m in messages), messages


def test_java_missing_is_a_clear_finding() -> None:
    from rdflib import Graph

    from her2kg.validation.locate import Location
    from her2kg.validation.owl_check import check_owl

    [finding] = check_owl(Graph(), lambda iri: Location("", 0), java=lambda: None)
    assert finding.check == "owl" and finding.severity is Severity.ERROR
    assert "install a Java runtime" in finding.message and "--no-owl" in finding.message


@pytest.mark.slow
def test_library_api_returns_frozen_records(tmp_path: Path) -> None:
    root = copy_knowledge_base(tmp_path)
    append(root / "ontology" / "modules" / "drugs.ttl", "h:Bare a owl:Class .\n")
    report = validate_knowledge_base(owl=False, root=root)
    assert isinstance(report, ValidationReport)
    assert [c.check for c in report.checks] == ["syntax", "imports", "shacl", "profile", "qc", "format"]
    assert all(isinstance(c, CheckResult) for c in report.checks)
    bare = [f for f in report.findings if f.term == "h:Bare"]
    assert bare and all(isinstance(f, Finding) for f in bare)
    with pytest.raises(AttributeError):
        bare[0].term = "changed"  # type: ignore[misc]
    assert not report.ok


@pytest.mark.slow
def test_text_output_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = copy_knowledge_base(tmp_path)
    line = append(root / "ontology" / "modules" / "drugs.ttl", "h:Bare a owl:Class .\n")
    assert main(["validate", "--root", str(root), "--no-owl"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert (
        f"ontology/modules/drugs.ttl:{line}: [qc] h:Bare: "
        "missing-label-violation: A her2kg term has no English label (rdfs:label)" in out
    )
    assert out[-1].startswith("failed: her2kg ") and "syntax " in out[-1] and " s" in out[-1]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--format", "xml"]) == 2
    assert main(["validate", str(tmp_path / "missing.ttl")]) == 2
    assert main(["validate", "--root", str(tmp_path), "--no-owl"]) == 2
    assert "does not hold ontology/her2kg.ttl" in capsys.readouterr().err
