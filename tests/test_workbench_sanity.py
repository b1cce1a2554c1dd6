"""The clinical sanity checks and the OWL 2 DL profile check, each on a copy broken on purpose.

The real knowledge base passing them all (tests/test_validate.py) is the near miss of each: its
label doses, validity dates equal to approval dates and linked components are accepted.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from rdflib import Literal, URIRef

from her2kg.cli import main
from her2kg.resources import ontology_dir, queries_dir, shapes_dir
from her2kg.turtle_format import format_graph, parse_turtle
from her2kg.validation.derivable import derived_classes, insert_templates
from her2kg.vocabulary import BASE, PREFIXES

H = BASE
OWL = PREFIXES["owl"]
RDF_TYPE = URIRef(PREFIXES["rdf"] + "type")


def copy_kb(root: Path) -> Path:
    shutil.copytree(ontology_dir(), root / "ontology")
    shutil.copytree(shapes_dir(), root / "shapes")
    shutil.copytree(queries_dir(), root / "queries")
    return root


def edit(root: Path, module: str, *, remove: tuple = (), add: tuple = ()) -> None:
    """Remove and add triples (IRIs as strings, literals as Literal) in one module, canonically."""
    path = root / "ontology" / "modules" / f"{module}.ttl"
    parsed = parse_turtle(path.read_text(encoding="utf-8"))

    def node(value: object) -> object:
        return value if isinstance(value, Literal) else URIRef(str(value))

    for s, p, o in remove:
        triple = (node(s), node(p), node(o))
        assert triple in parsed.graph, f"{triple} is not in {module}"
        parsed.graph.remove(triple)
    for s, p, o in add:
        parsed.graph.add((node(s), node(p), node(o)))
    path.write_text(format_graph(parsed.graph, declared=dict(parsed.declared)), encoding="utf-8")


def validate(root: Path) -> tuple[int, list[dict[str, Any]]]:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["validate", "--kb", str(root), "--no-owl", "--format", "json"])
    report = json.loads(buffer.getvalue())
    return code, [f for c in report["checks"] for f in c["findings"]]


def messages(found: list[dict[str, Any]], term: str) -> list[str]:
    return [f["message"] for f in found if f["term"] == term]


@pytest.mark.slow
def test_dose_far_above_the_label_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    dose = H + "regimen-thp-c1-dose"
    edit(root, "regimens", remove=[(dose, H + "doseAmount", Literal("6.0", datatype=URIRef(PREFIXES["xsd"] + "decimal")))],
         add=[(dose, H + "doseAmount", Literal("600.0", datatype=URIRef(PREFIXES["xsd"] + "decimal")))])
    code, found = validate(root)
    assert code == 1
    assert any("dose-out-of-range-violation" in m and "600" in m for m in messages(found, "h:regimen-thp-c1-dose"))


@pytest.mark.slow
def test_loading_dose_where_the_label_has_none_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    dose = H + "regimen-tdxd-pertuzumab-c1-dose"
    edit(root, "regimens", add=[(dose, H + "loadingDoseAmount", Literal("8.0", datatype=URIRef(PREFIXES["xsd"] + "decimal")))])
    _, found = validate(root)
    assert any("dose-out-of-range-violation" in m for m in messages(found, "h:regimen-tdxd-pertuzumab-c1-dose"))


@pytest.mark.slow
def test_dose_of_a_drug_without_a_range_is_a_warning(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "dose-ranges", remove=[(H + "dose-range-neratinib-with-capecitabine", RDF_TYPE, H + "DoseRange")])
    code, found = validate(root)
    hits = [f for f in found if "dose-range-missing-violation" in f["message"]]
    assert hits and all(f["severity"] == "warning" for f in hits)


@pytest.mark.slow
def test_valid_from_before_the_cited_approval_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    rec = H + "rec-met-l1-tdxd-pertuzumab"
    date = URIRef(PREFIXES["xsd"] + "date")
    edit(root, "recommendations", remove=[(rec, H + "validFrom", Literal("2025-12-15", datatype=date))],
         add=[(rec, H + "validFrom", Literal("2019-01-01", datatype=date))])
    code, found = validate(root)
    assert code == 1
    assert any("valid-before-approval-violation" in m and "2019-01-01" in m for m in messages(found, "h:rec-met-l1-tdxd-pertuzumab"))


@pytest.mark.slow
def test_unlinked_pertuzumab_component_is_an_orphan_and_breaks_first_line_dual(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    regimen = H + "regimen-tdxd-pertuzumab"
    edit(root, "regimens", remove=[(regimen, H + "hasComponent", H + "regimen-tdxd-pertuzumab-c2")])
    code, found = validate(root)
    assert code == 1
    assert any("orphan-component-violation" in m for m in messages(found, "h:regimen-tdxd-pertuzumab-c2"))
    assert any("first-line-dual-without-pertuzumab-violation" in m for m in messages(found, "h:regimen-tdxd-pertuzumab"))


@pytest.mark.slow
def test_dose_on_a_component_of_another_drug_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "regimens", add=[(H + "regimen-tdxd-pertuzumab-c1", H + "hasDose", H + "regimen-tdxd-pertuzumab-c2-dose")])
    _, found = validate(root)
    assert any("dose-on-other-drug-violation" in m for m in messages(found, "h:regimen-tdxd-pertuzumab-c2-dose"))


@pytest.mark.slow
def test_orphan_regimen_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "recommendations", remove=[(H + "rec-met-l1-tdxd-pertuzumab", H + "recommendsRegimen", H + "regimen-tdxd-pertuzumab")])
    _, found = validate(root)
    assert any("orphan-regimen-violation" in m for m in messages(found, "h:regimen-tdxd-pertuzumab"))


@pytest.mark.slow
def test_recommendation_for_a_class_no_rule_derives_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    rec = H + "rec-met-l1-thp"
    edit(root, "recommendations", add=[(rec, H + "requiresPatientClass", H + "HER2PositiveObservation")])
    code, found = validate(root)
    assert code == 1
    assert any("h:HER2PositiveObservation" in m and "no rule" in m for m in messages(found, "h:rec-met-l1-thp"))


@pytest.mark.slow
def test_http_variant_of_the_namespace_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "recommendations", add=[(H + "rec-met-l1-thp", "http://purl.org/dc/terms/source", "http://w3id.org/her2kg/src-asco-2022")])
    _, found = validate(root)
    assert any("http-namespace-violation" in f["message"] and "http://w3id.org/her2kg/src-asco-2022" in f["message"] for f in found)


@pytest.mark.slow
def test_date_as_data_property_breaks_the_owl2_dl_profile(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    prop = H + "validFrom"
    edit(root, "recommendations", remove=[(prop, RDF_TYPE, OWL + "AnnotationProperty")], add=[(prop, RDF_TYPE, OWL + "DatatypeProperty")])
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["validate", "--kb", str(root), "--format", "json"])
    report = json.loads(buffer.getvalue())
    profile = [f for c in report["checks"] if c["check"] == "profile" for f in c["findings"]]
    assert code == 1
    assert any(f["term"] == "h:validFrom" and "xsd:date" in f["message"] and f["line"] > 0 for f in profile)
    assert report["skipped"]["checks"] == ["owl"], "HermiT must not run on an ontology outside OWL 2 DL"


@pytest.mark.slow
def test_annotation_property_with_a_characteristic_breaks_the_profile(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "recommendations", add=[(H + "validFrom", RDF_TYPE, OWL + "FunctionalProperty")])
    _, found = validate(root)
    assert any(f["check"] == "profile" and "owl:FunctionalProperty" in f["message"] for f in found)


def test_insert_templates_read_object_lists_and_nested_braces() -> None:
    text = "INSERT { ?p a h:A, h:B . ?p h:x [ a h:C ] } WHERE { ?p a h:NotDerived . { ?p a h:AlsoNot } }"
    assert list(insert_templates(text)) == [" ?p a h:A, h:B . ?p h:x [ a h:C ] "]


def test_every_rule_folder_class_is_found(tmp_path: Path) -> None:
    (tmp_path / "r.rq").write_text("INSERT { ?p a h:One , <https://w3id.org/her2kg/Two> } WHERE { ?p a h:Three }", encoding="utf-8")
    assert set(derived_classes([tmp_path / "r.rq"])) == {H + "One", H + "Two"}


@pytest.mark.slow
def test_near_miss_a_derived_class_passes(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    edit(root, "recommendations", add=[(H + "rec-met-l1-thp", H + "requiresPatientClass", H + "MetastaticDiseasePatient")])
    _, found = validate(root)
    assert not [m for m in messages(found, "h:rec-met-l1-thp") if "no rule" in m]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("java") is None, reason="HermiT needs Java")
def test_inconsistency_names_the_axioms_involved(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    dose = H + "regimen-tdxd-c1-dose"
    edit(root, "regimens", remove=[(dose, H + "doseAmount", Literal("5.4", datatype=URIRef(PREFIXES["xsd"] + "decimal")))],
         add=[(dose, H + "doseAmount", Literal("five"))])
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["validate", "--kb", str(root), "--format", "json"])
    report = json.loads(buffer.getvalue())
    owl = [f for c in report["checks"] if c["check"] == "owl" for f in c["findings"]]
    assert code == 1
    assert any(f["term"] == "h:regimen-tdxd-c1-dose" and "DataPropertyAssertion(h:doseAmount" in f["message"]
               and "DataPropertyRange(h:doseAmount xsd:decimal)" in f["message"] and f["line"] > 0 for f in owl)


ROBOT_CASES = [
    ("annotation-whitespace-violation", "drugs", [(H + "trastuzumab", PREFIXES["rdfs"] + "comment", Literal("two  spaces", lang="en"))], "h:trastuzumab"),
    ("duplicate-definition-violation", "drugs", [(H + "trastuzumab", PREFIXES["skos"] + "definition", Literal("Copied.", lang="en")),
                                                 (H + "pertuzumab", PREFIXES["skos"] + "definition", Literal("copied.", lang="en"))], "h:pertuzumab"),
    ("built-in-vocabulary-violation", "drugs", [(PREFIXES["owl"] + "Thing", PREFIXES["rdfs"] + "subClassOf", H + "Drug")], "owl:Thing"),
    ("equivalent-pair-violation", "drugs", [(H + "Drug", OWL + "equivalentClass", H + "Regimen")], "h:Drug"),
    ("misused-replaced-by-violation", "drugs", [(H + "trastuzumab", "http://purl.org/dc/terms/isReplacedBy", H + "pertuzumab")], "h:trastuzumab"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("query", "module", "add", "term"), ROBOT_CASES, ids=[c[0] for c in ROBOT_CASES])
def test_robot_report_equivalents(tmp_path: Path, query: str, module: str, add: list, term: str) -> None:
    root = copy_kb(tmp_path)
    edit(root, module, add=add)
    _, found = validate(root)
    assert any(query in f["message"] and f["term"] == term for f in found), [f["message"] for f in found if query in f["message"]]


@pytest.mark.slow
def test_missing_ontology_license_is_an_error(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    header = root / "ontology" / "her2kg.ttl"
    parsed = parse_turtle(header.read_text(encoding="utf-8"))
    parsed.graph.remove((URIRef(BASE + "ontology"), URIRef("http://purl.org/dc/terms/license"), None))
    header.write_text(format_graph(parsed.graph, declared=dict(parsed.declared)), encoding="utf-8")
    code, found = validate(root)
    assert code == 1 and any("ontology-metadata-violation" in f["message"] and "dcterms:license" in f["message"] for f in found)
