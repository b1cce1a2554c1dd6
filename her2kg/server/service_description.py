"""The SPARQL 1.1 Service Description of the endpoint (GET /sparql without a query)."""

from __future__ import annotations

import pyoxigraph as ox

from her2kg.server.sparql_worker import GRAPH_FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

_RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "JSON-LD",
    "RDF_XML",
)
PREFIXES = {"sd": SD, "formats": FORMATS, "void": VOID, "dcterms": DCTERMS}


def service_description(endpoint: str, *, triples: int, media_type: str) -> bytes:
    """Describe the endpoint at URL `endpoint` in the RDF format `media_type`."""
    service = ox.NamedNode(endpoint)
    dataset = ox.BlankNode("dataset")
    graph = ox.BlankNode("defaultGraph")

    def iri(value: str) -> ox.NamedNode:
        return ox.NamedNode(value)

    statements = [
        ox.Triple(service, iri(RDF_TYPE), iri(SD + "Service")),
        ox.Triple(service, iri(SD + "endpoint"), service),
        ox.Triple(service, iri(SD + "supportedLanguage"), iri(SD + "SPARQL11Query")),
        ox.Triple(service, iri(DCTERMS + "title"), ox.Literal("her2kg SPARQL endpoint", language="en")),
        ox.Triple(
            service,
            iri(DCTERMS + "description"),
            ox.Literal(
                "The her2kg knowledge base of HER2-positive breast cancer therapy (and the served patients "
                "with their inferences). Read-only: SPARQL Update is not offered. SERVICE, LOAD and dataset "
                "clauses (FROM, USING) are refused.",
                language="en",
            ),
        ),
        ox.Triple(service, iri(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, iri(RDF_TYPE), iri(SD + "Dataset")),
        ox.Triple(dataset, iri(SD + "defaultGraph"), graph),
        ox.Triple(graph, iri(RDF_TYPE), iri(SD + "Graph")),
        ox.Triple(graph, iri(VOID + "triples"), ox.Literal(str(triples), datatype=iri("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    for name in _RESULT_FORMATS:
        statements.append(ox.Triple(service, iri(SD + "resultFormat"), iri(FORMATS + name)))
    return ox.serialize(statements, format=GRAPH_FORMATS[media_type], prefixes=PREFIXES) or b""
