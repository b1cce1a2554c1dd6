"""The canonical Turtle writer and `her2kg fmt`: stable, isomorphic, deterministic.

Every test writes only into tmp_path; the real ontology/ and shapes/ files are read, never
rewritten.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic

from her2kg.cli import main
from her2kg.resources import ontology_dir, shapes_dir
from her2kg.turtle_format import TurtleSyntaxError, format_graph, format_turtle, parse_turtle
from her2kg.vocabulary import BASE, PREFIXES

KNOWLEDGE_FILES = sorted(ontology_dir().rglob("*.ttl")) + sorted(shapes_dir().rglob("*.ttl"))

HEADER = """@prefix h: <https://w3id.org/her2kg/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def graph_of(text: str) -> Graph:
    """The graph of a text, with "x"^^xsd:string read as "x" (the same literal in RDF 1.1)."""
    graph = parse_turtle(text).graph
    string = URIRef(PREFIXES["xsd"] + "string")
    for s, p, o in list(graph):
        if isinstance(o, Literal) and o.datatype == string:
            graph.remove((s, p, o))
            graph.add((s, p, Literal(str(o))))
    return graph


def assert_canonical_roundtrip(text: str) -> str:
    once = format_turtle(text)
    assert format_turtle(once) == once, "formatting is not stable"
    assert isomorphic(graph_of(text), graph_of(once)), "formatting changed the triples"
    return once


@pytest.mark.slow
@pytest.mark.parametrize("path", KNOWLEDGE_FILES, ids=lambda p: p.name)
def test_every_knowledge_file_formats_stably_and_isomorphically(path: Path) -> None:
    assert_canonical_roundtrip(path.read_text(encoding="utf-8"))


def test_layout_of_a_subject() -> None:
    text = (
        HEADER
        + """
h:verdict h:rank 3 ; a owl:NamedIndividual, h:Verdict ; rdfs:label "permitted"@en ;
    skos:definition "A verdict."@en .
<https://w3id.org/her2kg/ontology/safety> a owl:Ontology .
h:Alpha a owl:Class .
"""
    )
    assert format_turtle(text) == (
        "@prefix h: <https://w3id.org/her2kg/> .\n"
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
        "\n"
        "<https://w3id.org/her2kg/ontology/safety> a owl:Ontology .\n"
        "\n"
        "h:Alpha a owl:Class .\n"
        "\n"
        "h:verdict a h:Verdict,\n"
        "        owl:NamedIndividual ;\n"
        "    h:rank 3 ;\n"
        '    rdfs:label "permitted"@en ;\n'
        '    skos:definition "A verdict."@en .\n'
    )


def test_literals_take_their_shortest_correct_form() -> None:
    text = (
        HEADER
        + """
h:x h:p 7, "007"^^xsd:integer, 1.50, "61"^^xsd:decimal, true, 1.0e3, "x"^^xsd:string, "plain",
    "Colour"@en-GB, "2026-01-01"^^xsd:date, "C1647"^^h:NCIt, "tab\\there", "quote \\" here" .
"""
    )
    out = assert_canonical_roundtrip(text)
    objects = [line.strip().rstrip(",;.").strip() for line in out.splitlines()[3:]]
    objects[0] = objects[0].removeprefix("h:x h:p ")
    assert objects == [
        '"1000.0"^^xsd:double',
        '"2026-01-01"^^xsd:date',
        '"61"^^xsd:decimal',
        '"C1647"^^h:NCIt',
        '"Colour"@en-GB',
        '"plain"',
        '"quote \\" here"',
        '"tab\\there"',
        '"x"',
        "1.50",
        "7",
        "true",
    ]


def test_multiline_strings_use_triple_quotes() -> None:
    text = (
        HEADER
        + '''
h:q h:query """SELECT * WHERE {
  ?s ?p "o" .
}""" .
'''
    )
    out = assert_canonical_roundtrip(text)
    assert '"""SELECT * WHERE {\n  ?s ?p \\"o\\" .\n}"""' in out


def test_owl_axioms_are_written_inline_in_canonical_order() -> None:
    text = (
        HEADER
        + """
h:B a owl:Class ; rdfs:subClassOf [ owl:someValuesFrom h:Z ; a owl:Restriction ; owl:onProperty h:p ] , h:A .
[] owl:members ( h:C h:A h:B ) ; a owl:AllDisjointClasses .
h:U owl:unionOf ( h:A [ a owl:Class ; owl:complementOf h:B ] ) .
"""
    )
    out = assert_canonical_roundtrip(text)
    assert (
        "h:B a owl:Class ;\n"
        "    rdfs:subClassOf h:A,\n"
        "        [ a owl:Restriction ;\n"
        "            owl:onProperty h:p ;\n"
        "            owl:someValuesFrom h:Z ] ."
    ) in out
    assert "[] a owl:AllDisjointClasses ;\n    owl:members ( h:C h:A h:B ) ." in out, "list order is kept"
    assert "owl:unionOf ( h:A [ a owl:Class ;" in out
    assert out.index("h:B a owl:Class") < out.index("h:U owl:unionOf") < out.index("[] a owl:AllDisjointClasses")


def test_shared_blank_nodes_get_labels_and_survive() -> None:
    text = (
        HEADER
        + """
h:a h:p _:shared . h:b h:p _:shared . _:shared rdfs:label "shared" .
h:c h:p _:loop1 . _:loop1 h:q _:loop2 . _:loop2 h:q _:loop1 .
"""
    )
    out = assert_canonical_roundtrip(text)
    assert "_:b0" in out


def test_prefixes_are_only_the_project_ones_that_are_used() -> None:
    text = """@prefix ex: <http://example.org/> .
@prefix unused: <http://unused.example.org/> .
@prefix myh: <https://w3id.org/her2kg/> .
myh:a ex:p <http://schema.org/name>, <http://www.w3.org/2004/02/skos/core#Concept> .
"""
    out = assert_canonical_roundtrip(text)
    assert out.splitlines()[:2] == [
        "@prefix h: <https://w3id.org/her2kg/> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
    ]
    assert "unused:" not in out and "myh:" not in out and "schema:" not in out and "ex:" not in out
    assert "<http://schema.org/name>" in out and "<http://example.org/p>" in out


def test_iris_that_are_not_valid_local_names_stay_in_full() -> None:
    text = HEADER + "h:a h:p <https://w3id.org/her2kg/patient/x/observation/1>, <https://w3id.org/her2kg/trailing.> .\n"
    out = assert_canonical_roundtrip(text)
    assert "<https://w3id.org/her2kg/patient/x/observation/1>" in out
    assert "<https://w3id.org/her2kg/trailing.>" in out


def test_comments_are_not_kept() -> None:
    text = HEADER + "# a section comment\nh:a a owl:Class . # trailing\n"
    assert "#" not in format_turtle(text).replace("http://www.w3.org/2002/07/owl#", "").replace(
        "http://www.w3.org/2004/02/skos/core#", ""
    ).replace("http://www.w3.org/2000/01/rdf-schema#", "").replace("http://www.w3.org/2001/XMLSchema#", "").replace(
        "http://www.w3.org/1999/02/22-rdf-syntax-ns#", ""
    )


def test_empty_document() -> None:
    assert format_turtle(HEADER) == ""


def test_syntax_error_names_file_and_line() -> None:
    with pytest.raises(TurtleSyntaxError) as caught:
        format_turtle(HEADER + "\nh:a h:p ,, .\n", source="broken.ttl")
    assert caught.value.line == 8
    assert str(caught.value).startswith("broken.ttl:8: Turtle syntax error")


_NODES = st.sampled_from([URIRef(BASE + n) for n in ("A", "b", "c-d", "x/y")] + [URIRef("http://example.org/e")])
_LITERALS = st.one_of(
    st.integers(-1000, 1000).map(Literal),
    st.decimals(min_value=-100, max_value=100, places=2, allow_nan=False).map(Literal),
    st.booleans().map(Literal),
    st.text(max_size=12).map(Literal),
    st.text(max_size=8).map(lambda t: Literal(t, lang="en")),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_NODES, _NODES, st.one_of(_NODES, _LITERALS, st.just(None))), max_size=12))
def test_any_small_graph_is_stable_and_isomorphic(triples: list[tuple[URIRef, URIRef, object]]) -> None:
    graph = Graph()
    for s, p, o in triples:
        if o is None:
            node = BNode()
            graph.add((s, p, node))
            graph.add((node, URIRef(PREFIXES["rdfs"] + "label"), Literal("inline")))
        else:
            graph.add((s, p, o))  # type: ignore[arg-type]
    text = format_graph(graph)
    assert isomorphic(graph, graph_of(text))
    assert format_turtle(text) == text


@pytest.fixture()
def copies(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(ontology_dir(), root / "ontology")
    return root


@pytest.mark.slow
def test_fmt_check_lists_then_fmt_fixes(copies: Path, capsys: pytest.CaptureFixture[str]) -> None:
    messy = copies / "ontology" / "modules" / "messy.ttl"
    messy.write_text(HEADER + "# comment\nh:b a owl:Class .\nh:a a owl:Class .\n", encoding="utf-8")
    files = [str(p) for p in sorted(copies.rglob("*.ttl"))]

    assert main(["fmt", "--check", str(messy)]) == 1
    assert f"{messy}: not in canonical form" in capsys.readouterr().out
    before = graph_of(messy.read_text(encoding="utf-8"))

    assert main(["fmt", *files]) == 0
    assert f"formatted {messy}" in capsys.readouterr().out
    assert isomorphic(before, graph_of(messy.read_text(encoding="utf-8")))
    assert main(["fmt", "--check", *files]) == 0
    assert capsys.readouterr().out == ""
    assert main(["fmt", *files]) == 0
    assert capsys.readouterr().out == "", "a second run changes nothing"


def test_fmt_reports_syntax_errors_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text(HEADER + "h:a h:p h:b .\nh:c h:p .\n", encoding="utf-8")
    assert main(["fmt", str(broken)]) == 1
    assert f"{broken}:8: Turtle syntax error" in capsys.readouterr().err
    assert main(["fmt", str(tmp_path / "missing.ttl")]) == 2


def test_only_project_prefixes_are_written_and_xsd_string_is_dropped() -> None:
    text = (
        "@prefix h: <https://w3id.org/her2kg/> .\n@prefix ex: <http://example.org/ns#> .\n"
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        'h:a h:b "x"^^xsd:string ; h:c ex:d .\n'
    )
    out = format_turtle(text)
    assert out == '@prefix h: <https://w3id.org/her2kg/> .\n\nh:a h:b "x" ;\n    h:c <http://example.org/ns#d> .\n'


def test_one_byte_form_whatever_the_source_prefixes() -> None:
    a = '@prefix h: <https://w3id.org/her2kg/> .\n@prefix e: <http://example.org/> .\nh:a h:b e:c .\n'
    b = '@prefix her: <https://w3id.org/her2kg/> .\n@prefix x: <http://example.org/> .\nher:a her:b x:c .\n'
    assert format_turtle(a) == format_turtle(b)
