"""Load the knowledge base (ontology/*.ttl) into a store, and read its version.

`owl:imports` are resolved locally: the header `ontology/her2kg.ttl` imports every module, and
every module is a file in `ontology/modules/`; nothing is fetched over the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox

from her2kg.errors import KnowledgeBaseError
from her2kg.resources import ontology_files
from her2kg.vocabulary import ONTOLOGY_IRI


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    iri: str
    version: str
    version_iri: str


@cache
def knowledge_ntriples() -> str:
    """The whole knowledge base as one N-Triples document (parsed once per process)."""
    store = ox.Store()
    for path in ontology_files():
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
        except (SyntaxError, ValueError, OSError) as exc:
            raise KnowledgeBaseError(f"{path}: {exc}; run `her2kg validate` for details") from exc
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()).decode("utf-8")


@cache
def prepared_knowledge_ntriples() -> str:
    """The knowledge base with its knowledge-scope rules applied (pre-joins, closure), as N-Triples.

    Computed once per process; patient batches load it and run only the patient-scope rules.
    """
    from her2kg.engine import run_rules
    from her2kg.rules import load_rules
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    run_rules(store, [r for r in load_rules() if r.scope == "knowledge"])
    return store.native.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()).decode("utf-8")


def knowledge_info_from_rows(rows: list[dict[str, str]]) -> KnowledgeBaseInfo:
    if not rows:
        raise KnowledgeBaseError(f"the ontology header {ONTOLOGY_IRI} has no owl:versionInfo")
    row = rows[0]
    return KnowledgeBaseInfo(iri=ONTOLOGY_IRI, version=row.get("version", ""), version_iri=row.get("versionIri", ""))


KNOWLEDGE_INFO_QUERY = f"""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?version ?versionIri WHERE {{
  <{ONTOLOGY_IRI}> owl:versionInfo ?version .
  OPTIONAL {{ <{ONTOLOGY_IRI}> owl:versionIRI ?versionIri }}
}}
"""
