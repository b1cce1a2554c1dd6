"""Read an ontology file in whatever syntax an editor saved it: Turtle, RDF/XML or OWL/XML.

Protégé saves RDF/XML by default, OWL/XML on request, and Turtle with its own prefixes and
comments; a module saved that way must come back to the canonical Turtle of `her2kg fmt`.
The syntax is sniffed from the content, not the file name, so RDF/XML saved into a `.ttl` file is
recognised and named as such instead of failing as a Turtle syntax error.
"""

from __future__ import annotations

import re
from enum import StrEnum

from her2kg.turtle_format import ParsedTurtle, TurtleSyntaxError, parse_turtle

_OWL_XML_ROOT = re.compile(r"<(?:\w+:)?Ontology\b[^>]*xmlns(?::\w+)?=\"http://www\.w3\.org/2002/07/owl#\"", re.DOTALL)
_RDF_XML_ROOT = re.compile(r"<(?:\w+:)?RDF\b", re.DOTALL)


class Syntax(StrEnum):
    TURTLE = "Turtle"
    RDF_XML = "RDF/XML"
    OWL_XML = "OWL/XML"


def sniff(text: str) -> Syntax:
    """The syntax of a document, from its first element: XML documents are RDF/XML or OWL/XML."""
    head = text.lstrip("\ufeff \t\r\n")
    if not head.startswith("<") or head.startswith("<http") or head.startswith("<urn:"):
        return Syntax.TURTLE
    if head.startswith("<?xml") or head.startswith("<!") or re.match(r"<[A-Za-z]", head):
        start = text[:4000]
        if _OWL_XML_ROOT.search(start):
            return Syntax.OWL_XML
        if _RDF_XML_ROOT.search(start):
            return Syntax.RDF_XML
    return Syntax.TURTLE


def parse_any(text: str, *, source: str = "<string>") -> tuple[ParsedTurtle, Syntax]:
    """Parse a document of any of the three syntaxes; raise TurtleSyntaxError naming the syntax."""
    from rdflib import Graph

    syntax = sniff(text)
    if syntax is Syntax.TURTLE:
        return parse_turtle(text, source=source), syntax
    graph = Graph(bind_namespaces="none")
    try:
        if syntax is Syntax.RDF_XML:
            graph.parse(data=text, format="xml")
        else:
            graph.parse(data=_owl_xml_to_ntriples(text), format="nt")
    except Exception as exc:  # rdflib and owlready2 raise many types for malformed XML
        raise TurtleSyntaxError(source, 0, f"{syntax} syntax error: {' '.join(str(exc).split())[:300]}") from None
    declared = tuple(sorted((prefix, str(ns)) for prefix, ns in graph.namespaces()))
    return ParsedTurtle(graph=graph, declared=declared), syntax


def _owl_xml_to_ntriples(text: str) -> str:
    """OWL/XML through owlready2 (the only PyPI reader of it), in a world of its own."""
    import io

    import owlready2  # type: ignore[import-untyped, unused-ignore]

    world = owlready2.World()
    try:
        ontology = world.get_ontology("http://localhost/her2kg-owlxml-input/").load(
            fileobj=io.BytesIO(text.encode("utf-8")), format="owlxml"
        )
        out = io.BytesIO()
        ontology.save(file=out, format="ntriples")
        return out.getvalue().decode("utf-8")
    finally:
        world.close()
