"""The process that runs SPARQL: it holds its own pyoxigraph store and answers jobs on a pipe.

A query that runs past the time limit cannot be interrupted inside pyoxigraph, so the server
runs every query in one of these processes and kills the process when the limit is reached
(`sparql_pool`). A worker is started as `python -m her2kg.server.sparql_worker FD` with one
end of a socket pair on file descriptor FD; it imports only pyoxigraph and the standard
library, so that it starts quickly, and it never re-imports the server's main module.

Results are capped at `max_results` rows (or triples); the outcome says when it was cut.
"""

from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import pyoxigraph as ox

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
GRAPH_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


@dataclass(frozen=True)
class QueryJob:
    text: str
    results_type: str | None  # media type for SELECT / ASK, None if the client accepts none
    graph_type: str | None  # media type for CONSTRUCT / DESCRIBE, None if the client accepts none
    max_results: int
    prefixes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UpdateJob:
    text: str


@dataclass(frozen=True)
class ReloadJob:
    data: bytes


@dataclass(frozen=True)
class QueryOutcome:
    media_type: str
    body: bytes
    count: int
    truncated: bool


@dataclass(frozen=True)
class NotAcceptable:
    kind: str  # "results" or "graph"


@dataclass(frozen=True)
class UpdateOutcome:
    data: bytes
    triples: int


@dataclass(frozen=True)
class Failure:
    kind: str  # "syntax" (the client's error) or "internal"
    message: str


def load_store(data: bytes) -> ox.Store:
    store = ox.Store()
    if data:
        store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    return store


def worker_main(conn: Connection) -> None:
    """Serve one pool connection: receive the data, load it, then answer jobs until told to stop."""
    try:
        data = conn.recv_bytes()
    except (EOFError, OSError):
        return
    store = load_store(data)
    conn.send(("ready", len(store)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        if isinstance(job, ReloadJob):
            store = load_store(job.data)
            conn.send(UpdateOutcome(data=b"", triples=len(store)))
            continue
        conn.send(handle(store, job))


def handle(store: ox.Store, job: QueryJob | UpdateJob) -> QueryOutcome | NotAcceptable | UpdateOutcome | Failure:
    """Run one job against a store (also used directly by tests)."""
    try:
        if isinstance(job, UpdateJob):
            store.update(job.text)
            return UpdateOutcome(data=store.dump(format=ox.RdfFormat.N_QUADS), triples=len(store))
        return run_query(store, job)
    except SyntaxError as exc:
        return Failure("syntax", f"the SPARQL text does not parse: {exc}")
    except Exception as exc:  # noqa: BLE001 - reported to the client as a 500 with the reason
        return Failure("internal", f"{type(exc).__name__}: {exc}")


def run_query(store: ox.Store, job: QueryJob) -> QueryOutcome | NotAcceptable:
    result = store.query(job.text)
    if isinstance(result, ox.QueryBoolean):
        if job.results_type is None:
            return NotAcceptable("results")
        body = result.serialize(format=RESULT_FORMATS[job.results_type])
        return QueryOutcome(job.results_type, body, 1, False)
    if isinstance(result, ox.QuerySolutions):
        if job.results_type is None:
            return NotAcceptable("results")
        return _solutions(result, job)
    if job.graph_type is None:
        return NotAcceptable("graph")
    triples: list[ox.Triple] = []
    truncated = False
    for triple in result:
        if len(triples) >= job.max_results:
            truncated = True
            break
        triples.append(triple)
    body = ox.serialize(triples, format=GRAPH_FORMATS[job.graph_type], prefixes=dict(job.prefixes) or None)
    return QueryOutcome(job.graph_type, body or b"", len(triples), truncated)


def _solutions(solutions: ox.QuerySolutions, job: QueryJob) -> QueryOutcome:
    variables = [v.value for v in solutions.variables]
    bindings: list[dict[str, Any]] = []
    truncated = False
    for solution in solutions:
        if len(bindings) >= job.max_results:
            truncated = True
            break
        row: dict[str, Any] = {}
        for name, term in zip(variables, solution, strict=True):
            if term is not None:
                row[name] = term_json(term)
        bindings.append(row)
    document = {"head": {"vars": variables}, "results": {"bindings": bindings}}
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    media_type = job.results_type or "application/sparql-results+json"
    if media_type != "application/sparql-results+json":
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        body = parsed.serialize(format=RESULT_FORMATS[media_type])
    return QueryOutcome(media_type, body, len(bindings), truncated)


def term_json(term: Any) -> dict[str, Any]:
    """One RDF term in the SPARQL 1.1 JSON results format (RDF 1.2 triple terms included)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value not in (_XSD_STRING, _RDF_LANG_STRING):
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": term_json(term.subject),
                "predicate": term_json(term.predicate),
                "object": term_json(term.object),
            },
        }
    raise TypeError(f"unexpected RDF term {term!r}")


def main(argv: list[str]) -> int:
    """`python -m her2kg.server.sparql_worker FD`: serve the pool connection on file descriptor FD."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    conn = Connection(int(argv[0]))
    try:
        worker_main(conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, so that pickled results name `her2kg.server.sparql_worker`.
    from her2kg.server.sparql_worker import main as _main

    raise SystemExit(_main(sys.argv[1:]))
