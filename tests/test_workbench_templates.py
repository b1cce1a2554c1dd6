"""Template authoring (`her2kg build`): TSV rows in ROBOT conventions become canonical Turtle."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from her2kg.cli import main
from her2kg.resources import modules_dir
from her2kg.workbench.templates import TemplateError, build_module, export_module, read_template

REGIMENS = (
    "id\ttype\tlabel\tdefinition\tcomponents\n"
    "ID\tTYPE SPLIT=|\tAL rdfs:label@en\tAL skos:definition@en\tI h:hasComponent SPLIT=|\n"
    "h:regimen-test-sc\th:Regimen|owl:NamedIndividual\ttest subcutaneous regimen\tA regimen written for a test.\th:regimen-test-sc-c1\n"
)
COMPONENTS = (
    "id\ttype\tlabel\tdefinition\tdrug\tstep\tdose\n"
    "ID\tTYPE SPLIT=|\tAL rdfs:label@en\tAL skos:definition@en\tI h:drug\tAT h:step^^xsd:integer\tI h:hasDose\n"
    "h:regimen-test-sc-c1\th:RegimenComponent|owl:NamedIndividual\ttrastuzumab in test subcutaneous regimen\tA component written for a test.\th:trastuzumab\t1\th:regimen-test-sc-c1-dose\n"
)
DOSES = (
    "id\ttype\tlabel\tdefinition\tdrug\tamount\tunit\tinterval\troute\n"
    "ID\tTYPE SPLIT=|\tAL rdfs:label@en\tAL skos:definition@en\tI h:drug\tAT h:doseAmount^^xsd:decimal\tI h:doseUnit\tAT h:intervalDays^^xsd:integer\tI h:route\n"
    "h:regimen-test-sc-c1-dose\th:DoseSpecification|owl:NamedIndividual\ttrastuzumab dose in test subcutaneous regimen\tA dose written for a test.\th:trastuzumab\t600.0\th:unit-mg\t21\th:route-subcutaneous\n"
)
MODULE = (
    "id\ttype\tlabel\tdefinition\n"
    "ID\tTYPE\tAL rdfs:label@en\tAL skos:definition@en\n"
    "<https://w3id.org/her2kg/ontology/test-sc>\towl:Ontology\ther2kg test module\tA module built from templates in a test.\n"
)
EXPECTED = """@prefix h: <https://w3id.org/her2kg/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .

<https://w3id.org/her2kg/ontology/test-sc> a owl:Ontology ;
    rdfs:label "her2kg test module"@en ;
    skos:definition "A module built from templates in a test."@en .

h:regimen-test-sc a h:Regimen,
        owl:NamedIndividual ;
    h:hasComponent h:regimen-test-sc-c1 ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/test-sc> ;
    rdfs:label "test subcutaneous regimen"@en ;
    skos:definition "A regimen written for a test."@en .

h:regimen-test-sc-c1 a h:RegimenComponent,
        owl:NamedIndividual ;
    h:drug h:trastuzumab ;
    h:hasDose h:regimen-test-sc-c1-dose ;
    h:step 1 ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/test-sc> ;
    rdfs:label "trastuzumab in test subcutaneous regimen"@en ;
    skos:definition "A component written for a test."@en .

h:regimen-test-sc-c1-dose a h:DoseSpecification,
        owl:NamedIndividual ;
    h:doseAmount 600.0 ;
    h:doseUnit h:unit-mg ;
    h:drug h:trastuzumab ;
    h:intervalDays 21 ;
    h:route h:route-subcutaneous ;
    rdfs:isDefinedBy <https://w3id.org/her2kg/ontology/test-sc> ;
    rdfs:label "trastuzumab dose in test subcutaneous regimen"@en ;
    skos:definition "A dose written for a test."@en .
"""


def write_templates(folder: Path) -> Path:
    module = folder / "test-sc"
    module.mkdir(parents=True)
    for name, text in (("module.tsv", MODULE), ("regimens.tsv", REGIMENS), ("components.tsv", COMPONENTS), ("doses.tsv", DOSES)):
        (module / name).write_text(text, encoding="utf-8")
    return module


def test_a_module_built_from_templates_is_the_expected_turtle(tmp_path: Path) -> None:
    assert build_module(write_templates(tmp_path)) == EXPECTED


def test_build_command_writes_then_checks(tmp_path: Path) -> None:
    write_templates(tmp_path / "templates")
    out = tmp_path / "modules"
    with redirect_stdout(io.StringIO()):
        assert main(["build", "--templates", str(tmp_path / "templates"), "--out", str(out)]) == 0
    assert (out / "test-sc.ttl").read_text(encoding="utf-8") == EXPECTED
    assert main(["build", "--templates", str(tmp_path / "templates"), "--out", str(out), "--check"]) == 0
    (out / "test-sc.ttl").write_text(EXPECTED.replace("600.0", "6000.0"), encoding="utf-8")
    with redirect_stdout(io.StringIO()) as printed:
        assert main(["build", "--templates", str(tmp_path / "templates"), "--out", str(out), "--check"]) == 1
    assert "differs" in printed.getvalue()


@pytest.mark.parametrize("module", ["regimens", "recommendations", "evidence"])
def test_hand_written_modules_export_and_build_back_byte_for_byte(module: str, tmp_path: Path) -> None:
    text = (modules_dir() / f"{module}.ttl").read_text(encoding="utf-8")
    folder = tmp_path / module
    folder.mkdir()
    for name, tsv in export_module(text, module).items():
        (folder / name).write_text(tsv, encoding="utf-8")
    assert build_module(folder) == text


def test_modules_with_class_expressions_are_refused_for_export() -> None:
    with pytest.raises(TemplateError, match="blank nodes"):
        export_module((modules_dir() / "drugs.ttl").read_text(encoding="utf-8"), "drugs")


def test_bad_template_string_names_file_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("id\tlabel\nID\tLABEL rdfs:label\nh:x\ty\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"bad.tsv:2:2.*'LABEL rdfs:label' is not a template string"):
        read_template(path)


def test_unknown_prefix_names_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("id\tdrug\nID\tI h:drug\nh:x\tfoo:bar\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"bad.tsv:3 \(drug\).*'foo:bar'"):
        read_template(path)


def test_template_error_exit_code(tmp_path: Path) -> None:
    module = tmp_path / "templates" / "broken"
    module.mkdir(parents=True)
    (module / "bad.tsv").write_text("id\nID\n<not closed\n", encoding="utf-8")
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        assert main(["build", "--templates", str(tmp_path / "templates"), "--out", str(tmp_path / "out")]) == 1
    assert "bad.tsv:3" in err.getvalue()
