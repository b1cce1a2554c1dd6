"""The process that runs SPARQL: it holds its own pyoxigraph store and answers jobs on a pipe.

A query that runs past the time limit cannot be interrupted inside pyoxigraph, so the server
runs every query in one of these processes and kills the process when the limit is reached
(`sparql_pool`). A worker is started as `python -m her2kg.server.sparql_worker FD
MEMORY_BYTES` with one end of a socket pair on file descriptor FD; it imports pyoxigraph, the
request guard (rdflib's SPARQL parser) and the standard library, and never re-imports the
server's main module.

Every request is checked by its parse (`sparql_guard`) here, inside the time and memory
limits, before pyoxigraph sees it. Once the data is loaded, the worker's address space is
capped at what it uses plus MEMORY_BYTES (`RLIMIT_AS`), so a query that needs more fails
(or the worker dies and is replaced) instead of exhausting the machine.

Results are capped at `max_results` rows (or triples) and at `max_bytes` bytes of body; the
outcome says when it was cut.
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
    max_bytes: int = 50_000_000


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
class Failure:
    kind: str  # "syntax" or "refused" (the client's error), "memory" or "internal"
    message: str


def load_store(data: bytes) -> ox.Store:
    store = ox.Store()
    if data:
        store.bulk_load(data, format=ox.RdfFormat.N_QUADS)
    return store


def limit_memory(extra_bytes: int) -> None:
    """Cap this process's address space at its current size plus `extra_bytes` (0: no cap)."""
    if extra_bytes <= 0:
        return
    import resource

    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        current = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    limit = current + extra_bytes
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def worker_main(conn: Connection, memory_bytes: int = 0) -> None:
    """Serve one pool connection: receive the data, load it, then answer jobs until told to stop."""
    from her2kg.server import sparql_guard  # imported (and its grammar built) before the memory cap

    sparql_guard.inspect_query("ASK {}")
    try:
        data = conn.recv_bytes()
    except (EOFError, OSError):
        return
    store = load_store(data)
    del data
    limit_memory(memory_bytes)
    conn.send(("ready", len(store)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(handle(store, job))


def handle(store: ox.Store, job: QueryJob) -> QueryOutcome | NotAcceptable | Failure:
    """Check one query by its parse (an update is refused), then run it (also used directly by tests)."""
    from her2kg.server.sparql_guard import RefusedRequest, inspect_query

    try:
        inspect_query(job.text)
        return run_query(store, job)
    except RefusedRequest as exc:
        return Failure("refused", str(exc))
    except SyntaxError as exc:
        return Failure("syntax", f"the SPARQL text does not parse: {exc}")
    except MemoryError:
        return Failure("memory", "the request needed more memory than the limit ([sparql] max_memory_bytes)")
    except Exception as exc:
        return Failure("internal", f"{type(exc).__name__}: {exc}")


def run_query(store: ox.Store, job: QueryJob) -> QueryOutcome | NotAcceptable:
    result = store.query(job.text)
    if isinstance(result, ox.QueryBoolean):
        if job.results_type is None:
            return NotAcceptable("results")
        body = result.serialize(format=RESULT_FORMATS[job.results_type]) or b""
        return QueryOutcome(job.results_type, body, 1, False)
    if isinstance(result, ox.QuerySolutions):
        if job.results_type is None:
            return NotAcceptable("results")
        return _solutions(result, job)
    if job.graph_type is None:
        return NotAcceptable("graph")
    return _graph(result, job)


def _graph(result: Any, job: QueryJob) -> QueryOutcome:
    triples: list[ox.Triple] = []
    truncated = False
    size = 0
    for triple in result:
        if len(triples) >= job.max_results:
            truncated = True
            break
        size += len(str(triple)) + 3
        if size > job.max_bytes:
            truncated = True
            break
        triples.append(triple)
    prefixes = dict(job.prefixes) or None
    media_type = job.graph_type or "text/turtle"

    def serialize(kept: list[ox.Triple]) -> bytes:
        return ox.serialize(kept, format=GRAPH_FORMATS[media_type], prefixes=prefixes) or b""

    body = serialize(triples)
    while len(body) > job.max_bytes and triples:
        triples = triples[: len(triples) // 2]
        truncated = True
        body = serialize(triples)
    return QueryOutcome(media_type, body, len(triples), truncated)


def _solutions(solutions: ox.QuerySolutions, job: QueryJob) -> QueryOutcome:
    """The solutions as JSON, counting bytes while serialising; other formats are converted."""
    variables = [v.value for v in solutions.variables]
    head = json.dumps({"head": {"vars": variables}, "results": {"bindings": []}}, ensure_ascii=False, separators=(",", ":"))
    opening, closing = head[: -len("]}}")], "]}}"
    budget = job.max_bytes - len(opening.encode("utf-8")) - len(closing)
    rows: list[bytes] = []
    size = 0
    truncated = False
    for solution in solutions:
        if len(rows) >= job.max_results:
            truncated = True
            break
        row: dict[str, Any] = {}
        for name, term in zip(variables, solution, strict=True):
            if term is not None:
                row[name] = term_json(term)
        encoded = json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        size += len(encoded) + 1
        if size > budget:
            truncated = True
            break
        rows.append(encoded)
    media_type = job.results_type or "application/sparql-results+json"

    def serialize(kept: list[bytes]) -> bytes:
        body = opening.encode("utf-8") + b",".join(kept) + closing.encode("utf-8")
        if media_type == "application/sparql-results+json":
            return body
        parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        return parsed.serialize(format=RESULT_FORMATS[media_type]) or b""

    body = serialize(rows)
    while len(body) > job.max_bytes and rows:
        rows = rows[: len(rows) // 2]
        truncated = True
        body = serialize(rows)
    return QueryOutcome(media_type, body, len(rows), truncated)


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
    """`python -m her2kg.server.sparql_worker FD [MEMORY_BYTES]`: serve the pool connection on FD."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    conn = Connection(int(argv[0]))
    memory_bytes = int(argv[1]) if len(argv) > 1 else 0
    try:
        worker_main(conn, memory_bytes)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, so that pickled results name `her2kg.server.sparql_worker`.
    from her2kg.server.sparql_worker import main as _main

    raise SystemExit(_main(sys.argv[1:]))
