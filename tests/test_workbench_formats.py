"""Canonical files and imports: editors' syntaxes in, one Turtle byte form out, a catalog for
offline imports, and findings that say what a misplaced file is."""

from __future__ import annotations

import io
import shutil
import socket
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from rdflib import Graph

from her2kg.cli import main
from her2kg.resources import modules_dir, ontology_dir, ontology_files, queries_dir, shapes_dir
from her2kg.turtle_format import format_graph, parse_turtle
from her2kg.workbench.catalog import CATALOG, catalog_entries, load_owlready2, read_catalog
from her2kg.workbench.rdf_formats import Syntax, parse_any, sniff

pytestmark = pytest.mark.slow  # knowledge-engineering tooling (kb extra): format conversions through owlready2

OWL_XML = """<?xml version="1.0"?>
<Ontology xmlns="http://www.w3.org/2002/07/owl#" xml:base="https://w3id.org/her2kg/ontology/extra"
     ontologyIRI="https://w3id.org/her2kg/ontology/extra">
    <Prefix name="rdfs" IRI="http://www.w3.org/2000/01/rdf-schema#"/>
    <Declaration><Class IRI="https://w3id.org/her2kg/ExtraClass"/></Declaration>
    <SubClassOf><Class IRI="https://w3id.org/her2kg/ExtraClass"/><Class IRI="https://w3id.org/her2kg/Drug"/></SubClassOf>
    <AnnotationAssertion><AnnotationProperty abbreviatedIRI="rdfs:label"/><IRI>https://w3id.org/her2kg/ExtraClass</IRI><Literal xml:lang="en">extra class</Literal></AnnotationAssertion>
</Ontology>
"""


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def copy_kb(root: Path) -> Path:
    shutil.copytree(ontology_dir(), root / "ontology")
    shutil.copytree(shapes_dir(), root / "shapes")
    shutil.copytree(queries_dir(), root / "queries")
    return root


def rdfxml(path: Path) -> str:
    graph = Graph()
    graph.parse(path, format="turtle")
    return graph.serialize(format="xml")


@pytest.mark.slow
@pytest.mark.parametrize("path", ontology_files(), ids=lambda p: p.name)
def test_round_trip_through_rdflib_rdfxml_is_byte_identical_after_fmt(path: Path) -> None:
    parsed, syntax = parse_any(rdfxml(path))
    assert syntax is Syntax.RDF_XML
    assert format_graph(parsed.graph) == path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_round_trip_through_owlready2_is_byte_identical_after_fmt() -> None:
    world, _ = load_owlready2(ontology_dir())
    try:
        for path in ontology_files():
            iri = next(iri for iri, file in read_catalog(ontology_dir() / CATALOG).items() if file.resolve() == path.resolve())
            out = io.BytesIO()
            world.get_ontology(iri).save(file=out, format="rdfxml")
            parsed, _ = parse_any(out.getvalue().decode("utf-8"))
            original = parse_turtle(path.read_text(encoding="utf-8")).graph
            # owlready2 writes what it understood; every triple of the file comes back (imports included).
            assert format_graph(parsed.graph) == format_graph(original), path.name
    finally:
        world.close()


def test_owl_xml_is_read_and_converted(tmp_path: Path) -> None:
    source = tmp_path / "extra.owx"
    source.write_text(OWL_XML, encoding="utf-8")
    assert sniff(OWL_XML) is Syntax.OWL_XML
    code, out, _ = run("fmt", str(source))
    assert code == 0 and "delete extra.owx" in out
    text = (tmp_path / "extra.ttl").read_text(encoding="utf-8")
    assert "h:ExtraClass a owl:Class" in text and 'rdfs:label "extra class"@en' in text


def test_rdfxml_in_a_ttl_file_is_named_by_validate_and_fixed_by_fmt(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    module = root / "ontology" / "modules" / "parameters.ttl"
    good = module.read_text(encoding="utf-8")
    module.write_text(rdfxml(module), encoding="utf-8")
    code, out, _ = run("validate", "--kb", str(root), "--no-owl")
    assert code == 1 and "ontology/modules/parameters.ttl:1: [syntax] this file holds RDF/XML, not Turtle" in out
    assert "Invalid IRI code point" not in out
    code, out, _ = run("fmt", str(module))
    assert code == 0 and "holds RDF/XML" in out
    assert module.read_text(encoding="utf-8") == good


def test_protege_style_turtle_comes_back_canonical(tmp_path: Path) -> None:
    path = modules_dir() / "parameters.ttl"
    graph = parse_turtle(path.read_text(encoding="utf-8")).graph
    graph.bind("", "https://w3id.org/her2kg/ontology/parameters#")
    graph.bind("xml", "http://www.w3.org/XML/1998/namespace")
    protege = "#################\n# saved by an editor\n" + graph.serialize(format="turtle")
    target = tmp_path / "parameters.ttl"
    target.write_text(protege, encoding="utf-8")
    assert run("fmt", str(target))[0] == 0
    assert target.read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_owl_file_in_modules_is_an_error_and_fmt_says_why(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    (root / "ontology" / "modules" / "extra.owl").write_text(OWL_XML, encoding="utf-8")
    code, out, _ = run("validate", "--kb", str(root), "--no-owl")
    assert code == 1 and "ontology/modules/extra.owl: [imports] is not loaded" in out
    code, _, err = run("fmt", "--kb", str(root), "--check")
    assert code == 1 and "extra.owl: not loaded" in err


def test_fmt_refuses_what_the_engine_would_not_load(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_text('@prefix h: <https://w3id.org/her2kg/> .\nh:a h:b "x"^^<notanabsoluteiri> .\n', encoding="utf-8")
    code, _, err = run("fmt", str(path))
    assert code == 1 and f"{path}:2: refused" in err


@pytest.mark.slow
def test_catalog_maps_every_import_and_is_checked(tmp_path: Path) -> None:
    mapping = read_catalog(ontology_dir() / CATALOG)
    assert sorted(mapping) == [iri for iri, _ in catalog_entries(ontology_dir())]
    assert all(path.is_file() for path in mapping.values())
    root = copy_kb(tmp_path)
    (root / "ontology" / CATALOG).write_text("<catalog/>\n", encoding="utf-8")
    code, out, _ = run("validate", "--kb", str(root), "--no-owl")
    assert code == 1 and "catalog-v001.xml: [imports] does not map every import IRI" in out
    assert run("fmt", "--kb", str(root))[0] == 0
    assert (root / "ontology" / CATALOG).read_bytes() == (ontology_dir() / CATALOG).read_bytes()


def test_owlready2_loads_offline_through_the_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the network was used")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    world, header = load_owlready2(ontology_dir())
    try:
        assert len(header.imported_ontologies) == len(ontology_files()) - 1
        assert world["https://w3id.org/her2kg/Drug"] is not None
    finally:
        world.close()


@pytest.mark.slow
def test_undefined_term_finding_gives_file_and_line(tmp_path: Path) -> None:
    root = copy_kb(tmp_path)
    module = root / "ontology" / "modules" / "recommendations.ttl"
    lines = module.read_text(encoding="utf-8").count("\n")
    module.write_text(module.read_text(encoding="utf-8") + "\nh:rec-met-l1-thp h:requiresPatientClass h:NoSuchPatientClass .\n", encoding="utf-8")
    _, out, _ = run("validate", "--kb", str(root), "--no-owl")
    assert f"ontology/modules/recommendations.ttl:{lines + 2}: [qc] h:NoSuchPatientClass: undefined-term-violation" in out
