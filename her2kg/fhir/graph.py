"""Writing the patient's triples as N-Triples (sorted, so the same bundle gives the same text)."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from her2kg.fhir import terms
from her2kg.fhir.model import Object, TypedLiteral

Triple = tuple[str, str, Object]


def to_ntriples(triples: Iterable[Triple]) -> str:
    """Serialise (subject IRI, predicate IRI, IRI or literal) triples; duplicates collapse."""
    rdf = {ox.Triple(ox.NamedNode(s), ox.NamedNode(p), _term(o)) for s, p, o in triples}
    if not rdf:
        return ""
    data = ox.serialize(rdf, format=ox.RdfFormat.N_TRIPLES) or b""
    text = data.decode("utf-8")
    lines = sorted(line for line in text.splitlines() if line.strip())
    return "\n".join(lines) + "\n"


def _term(value: Object) -> ox.NamedNode | ox.Literal:
    if isinstance(value, TypedLiteral):
        lexical = clean_text(value.lexical)
        if value.datatype == terms.XSD_STRING:
            return ox.Literal(lexical)
        return ox.Literal(lexical, datatype=ox.NamedNode(value.datatype))
    return ox.NamedNode(value)


def clean_text(value: str) -> str:
    """The text without what UTF-8 cannot encode (lone surrogates from JSON escapes)."""
    return value.encode("utf-8", "replace").decode("utf-8")
