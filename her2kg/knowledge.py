"""Load the knowledge base (ontology/*.ttl) into a store, and read its version.

`owl:imports` are resolved locally: the header `ontology/her2kg.ttl` imports every module, and
every module is a file in `ontology/modules/`; nothing is fetched over the network. The parsed
knowledge base is cached per folder (`her2kg.resources.data_root`), so selecting another folder
with `--kb` reads that folder.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pyoxigraph as ox

from her2kg.errors import KnowledgeBaseError
from her2kg.knowledge_version import KnowledgeBaseVersion
from her2kg.resources import data_root, ontology_files
from her2kg.vocabulary import ONTOLOGY_IRI


def knowledge_ntriples(root: Path | None = None) -> str:
    """The whole knowledge base (of `root`, default the selected folder) as one N-Triples document,
    parsed once per process and folder."""
    return _knowledge_ntriples(root or data_root())


@cache
def _knowledge_ntriples(root: Path) -> str:
    store = ox.Store()
    for path in ontology_files(root):
        try:
            store.bulk_load(path=str(path), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
        except (SyntaxError, ValueError, OSError) as exc:
            raise KnowledgeBaseError(f"{path}: {exc}; run `her2kg validate` for details") from exc
    return _ntriples(store)


def prepared_knowledge_ntriples() -> str:
    """The knowledge base with its knowledge-scope rules applied (pre-joins, closure), as N-Triples.

    Computed once per process and folder; patient batches load it and run only the patient-scope
    rules.
    """
    return _prepared_knowledge_ntriples(data_root())


@cache
def _prepared_knowledge_ntriples(root: Path) -> str:
    from her2kg.engine import run_rules
    from her2kg.rules import load_rules
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    store.load_ntriples(_knowledge_ntriples(root))
    run_rules(store, [r for r in load_rules() if r.scope == "knowledge"])
    return _ntriples(store.native)


def _ntriples(store: ox.Store) -> str:
    """The default graph of `store` as N-Triples text."""
    data = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph())
    if data is None:  # pyoxigraph returns None only when given an output to write to
        raise KnowledgeBaseError("the knowledge base could not be serialised to N-Triples")
    return data.decode("utf-8")


def clear_caches() -> None:
    """Forget everything read from a knowledge-base folder (after its files changed in-process)."""
    import sys

    _knowledge_ntriples.cache_clear()
    _prepared_knowledge_ntriples.cache_clear()
    # Caches of modules that read knowledge files by name; only those already imported can hold any.
    for module_name, function in (("her2kg.patients", "_input_vocabulary"), ("her2kg.report.extract", "report_query")):
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, function).cache_clear()


def knowledge_info_from_rows(rows: list[dict[str, str]]) -> KnowledgeBaseVersion:
    if not rows:
        raise KnowledgeBaseError(f"the ontology header {ONTOLOGY_IRI} has no owl:versionInfo")
    row = rows[0]
    return KnowledgeBaseVersion(iri=ONTOLOGY_IRI, version=row.get("version", ""), version_iri=row.get("versionIri", ""))


KNOWLEDGE_INFO_QUERY = f"""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT ?version ?versionIri WHERE {{
  <{ONTOLOGY_IRI}> owl:versionInfo ?version .
  OPTIONAL {{ <{ONTOLOGY_IRI}> owl:versionIRI ?versionIri }}
}}
"""
