"""The OWL 2 DL profile check, as far as this knowledge base needs it, in Python over rdflib.

No PyPI package offers a profile checker that runs without a JVM-side OWL API install (py-horned-owl
has none), so her2kg checks the OWL 2 DL restrictions its ontology can break:

- the datatype map: every datatype used in a logical axiom (a data property range, a datatype
  restriction, a typed literal in an assertion of a data property) is in the OWL 2 datatype map
  or declared `rdfs:Datatype` by the ontology itself outside the reserved namespaces. Literals of
  annotation assertions are not constrained (the OWL 2 editors' reading: owlcs/argo issue 2), so a
  date kept as an annotation (`h:validFrom`) may stay `xsd:date`;
- typing: an IRI is at most one of object, data and annotation property (no property punning);
  an annotation property carries no logical characteristics (functional, transitive, ...);
- a data property's range is a datatype, never a class.

Each finding names the term, and the file and line where it is described.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from her2kg.validation.locate import Location, curie
from her2kg.validation.model import Check, Finding, Severity
from her2kg.vocabulary import PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

_XSD = PREFIXES["xsd"]
_RDF = PREFIXES["rdf"]
_RDFS = PREFIXES["rdfs"]
_OWL = PREFIXES["owl"]

OWL2_DATATYPE_MAP = frozenset(
    [_OWL + "real", _OWL + "rational", _RDF + "PlainLiteral", _RDF + "XMLLiteral", _RDF + "langString", _RDFS + "Literal"]
    + [
        _XSD + name
        for name in ["decimal", "integer", "nonNegativeInteger", "nonPositiveInteger", "positiveInteger", "negativeInteger", "long", "int", "short", "byte", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte", "double", "float", "string", "normalizedString", "token", "language", "Name", "NCName", "NMTOKEN", "boolean", "hexBinary", "base64Binary", "anyURI", "dateTime", "dateTimeStamp"]
    ]
)
RESERVED = (_XSD, _RDF, _RDFS, _OWL)
_CHARACTERISTICS = ("FunctionalProperty", "InverseFunctionalProperty", "TransitiveProperty", "SymmetricProperty",
                    "AsymmetricProperty", "ReflexiveProperty", "IrreflexiveProperty")
# Annotation properties of the vocabularies the knowledge base uses (built in or declared by them).
BUILT_IN_ANNOTATIONS = frozenset(
    [_RDFS + "label", _RDFS + "comment", _RDFS + "seeAlso", _RDFS + "isDefinedBy", _OWL + "versionInfo",
     _OWL + "deprecated", _OWL + "priorVersion", _OWL + "backwardCompatibleWith", _OWL + "incompatibleWith"]
)
_ANNOTATION_NAMESPACES = (PREFIXES["skos"], PREFIXES["dcterms"])


def check_owl_profile(graph: Graph, locate: Callable[[str], Location]) -> tuple[Finding, ...]:
    """Findings for every OWL 2 DL restriction above that the merged knowledge base breaks."""
    from rdflib import RDF, BNode, Literal, URIRef

    def typed(kind: str) -> set[URIRef]:
        return {s for s in graph.subjects(RDF.type, URIRef(_OWL + kind)) if isinstance(s, URIRef)}

    object_properties = typed("ObjectProperty")
    data_properties = typed("DatatypeProperty")
    annotation_properties = typed("AnnotationProperty")
    declared_datatypes = {
        str(s) for s in graph.subjects(RDF.type, URIRef(_RDFS + "Datatype")) if not str(s).startswith(RESERVED)
    }
    findings: list[Finding] = []

    def allowed(datatype: str) -> bool:
        return datatype in OWL2_DATATYPE_MAP or datatype in declared_datatypes

    def is_annotation(predicate: URIRef) -> bool:
        text = str(predicate)
        return predicate in annotation_properties or text in BUILT_IN_ANNOTATIONS or text.startswith(_ANNOTATION_NAMESPACES)

    for prop in sorted(object_properties | data_properties | annotation_properties):
        kinds = [n for n, s in (("object", object_properties), ("data", data_properties), ("annotation", annotation_properties)) if prop in s]
        if len(kinds) > 1:
            findings.append(_finding(locate, str(prop), f"is declared a {' and a '.join(kinds)} property; OWL 2 DL allows one kind: keep one"))
    for prop in sorted(annotation_properties):
        for characteristic in _CHARACTERISTICS:
            if (prop, RDF.type, URIRef(_OWL + characteristic)) in graph:
                findings.append(_finding(locate, str(prop), f"is an annotation property declared owl:{characteristic}; OWL 2 DL allows no characteristics on annotation properties: remove it"))
    for prop in sorted(data_properties):
        for range_ in graph.objects(prop, URIRef(_RDFS + "range")):
            if isinstance(range_, URIRef) and not allowed(str(range_)):
                findings.append(_finding(locate, str(prop), f"has the range {curie(str(range_))}, which is not in the OWL 2 datatype map; use a datatype of the map (xsd:dateTime for dates) or make the property an annotation property (`python -m her2kg.workbench.owl_dl_dates` does so for xsd:date)"))
    for node in graph.subjects(URIRef(_OWL + "onDatatype"), None):
        datatype = graph.value(node, URIRef(_OWL + "onDatatype"))
        if isinstance(datatype, URIRef) and not allowed(str(datatype)):
            findings.append(_finding(locate, "", f"a datatype restriction on {curie(str(datatype))}, which is not in the OWL 2 datatype map"))
    seen: set[tuple[str, str]] = set()
    for subject, predicate, value in graph:
        if not isinstance(value, Literal) or value.datatype is None or not isinstance(predicate, URIRef):
            continue
        if is_annotation(predicate) or str(predicate).startswith(RESERVED):
            continue
        value_type = str(value.datatype)
        if allowed(value_type) or (str(predicate), value_type) in seen:
            continue
        seen.add((str(predicate), value_type))
        term = str(subject) if not isinstance(subject, BNode) else ""
        findings.append(_finding(locate, term, f"{curie(str(predicate))} has a {curie(value_type)} value, which is not in the OWL 2 datatype map (first of its kind); use a datatype of the map or make {curie(str(predicate))} an annotation property"))
    return tuple(findings)


def _finding(locate: Callable[[str], Location], iri: str, message: str) -> Finding:
    where = locate(iri) if iri else Location("", 0)
    return Finding(check=str(Check.PROFILE), severity=Severity.ERROR, file=where.file, line=where.line,
                   term=curie(iri) if iri else "", message=message)
