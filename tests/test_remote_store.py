"""The remote store: SPARQL 1.1 Protocol details, a standards-only server, and Virtuoso.

The Virtuoso tests (marked `virtuoso`) start a private server; they check, construct by
construct, that Virtuoso runs the SPARQL the rules use the way the embedded store does, and then
that every rule runs there and the reports equal the embedded store's, for every shared vignette
and for generated patients.
"""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from remote_fixtures import StandardServer, graph_iri, standard_server, virtuoso  # noqa: F401 - fixtures
from shared_files import SHARED_DIR

from her2kg.engine import run_rules
from her2kg.knowledge import prepared_knowledge_ntriples
from her2kg.pipeline import recommend_files
from her2kg.rules import Rule, load_rules
from her2kg.stores.base import TripleStore
from her2kg.stores.embedded import EmbeddedStore
from her2kg.stores.remote import RemoteSparqlStore, RemoteStoreError, _batches, _check_complete, scope_update
from virtuoso_server import VirtuosoServer, free_port
from synthetic import random_patient

VIGNETTES_DIR = SHARED_DIR / "vignettes"
VIGNETTES = sorted(p for p in VIGNETTES_DIR.glob("*.json") if not p.name.endswith(".expect.json"))
AS_OF = date(2026, 11, 1)


# -- helpers ---------------------------------------------------------------------------------------
def canonical(value: Any) -> Any:
    """A report's JSON with every list sorted: the comparison ignores order, which carries no meaning here."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


DUMP = """SELECT ?s ?p ?o ?kind WHERE {
  ?s ?p ?o . FILTER(!isBlank(?s) && !isBlank(?o))
  BIND(IF(isLiteral(?o), IF(LANG(?o) != "", CONCAT("@", LANG(?o)), STR(DATATYPE(?o))), "iri") AS ?kind)
}"""
BLANK_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . FILTER(isBlank(?s) || isBlank(?o)) }"


def graph_dump(store: TripleStore) -> set[tuple[str, ...]]:
    """Every triple without blank nodes, with the datatype or language of its object."""
    return {tuple(row.get(k, "") for k in ("s", "p", "o", "kind")) for row in store.select(DUMP)}


def generated_patients(folder: Path, count: int, seed: int = 20261101) -> list[str]:
    rng = random.Random(seed)
    paths = []
    for index in range(count):
        path = folder / f"gen-{index:04d}.ttl"
        path.write_text(random_patient(rng, f"gen-{index:04d}").to_turtle(), encoding="utf-8")
        paths.append(str(path))
    return paths


def reports_json(paths: list[str], store: TripleStore | None = None) -> list[dict[str, Any]]:
    return [r.to_json() for r in recommend_files(paths, as_of=AS_OF, store=store)]


# -- the update is scoped to the graph without touching the rule text ---------------------------------
RULE_TEXT = """# id:          demo
# title:       A demo rule
PREFIX h: <https://w3id.org/her2kg/>
PREFIX rule: <https://w3id.org/her2kg/rule/>

INSERT { ?p h:flag ?n . ?n h:derivedByRule rule:demo }
WHERE { ?p a h:Patient ; h:x ?x . FILTER NOT EXISTS { ?p h:y ?x ; h:z "a;b{c}" }
  BIND(IRI(CONCAT(STR(?p), "/d/demo")) AS ?n) }
"""


def test_scope_update_puts_with_between_prologue_and_insert() -> None:
    scoped = scope_update(RULE_TEXT, "urn:g")
    head, _, tail = RULE_TEXT.partition("INSERT {")
    assert scoped == f"{head}WITH <urn:g>\nINSERT {{{tail}"


def test_scope_update_wraps_insert_data_in_the_graph() -> None:
    scoped = scope_update('PREFIX h: <https://w3id.org/her2kg/>\nINSERT DATA { h:a h:b "}" ; h:c 1 . }', "urn:g")
    assert scoped == 'PREFIX h: <https://w3id.org/her2kg/>\nINSERT DATA { GRAPH <urn:g> { h:a h:b "}" ; h:c 1 . } }'


def test_scope_update_leaves_an_explicit_with_alone() -> None:
    text = "WITH <urn:other> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert scope_update(text, "urn:g") == text


@pytest.mark.parametrize(
    "text",
    ["CLEAR GRAPH <urn:x>", "LOAD <http://example.org/x.ttl>", "INSERT DATA { <urn:a> <urn:b> 1 } ; INSERT DATA { <urn:a> <urn:b> 2 }"],
)
def test_scope_update_refuses_what_it_cannot_scope(text: str) -> None:
    with pytest.raises(ValueError, match="load_ntriples|one operation"):
        scope_update(text, "urn:g")


def test_batches_keep_blank_nodes_in_one_request() -> None:
    lines = [f"<urn:s{i}> <urn:p> <urn:o> ." for i in range(5)] + ["<urn:s> <urn:p> _:b .", '_:b <urn:p> "_:not a node" .']
    batches = list(_batches("\n".join(lines) + "\n# a comment\n", 2))
    assert [has_blank for _, has_blank in batches] == [False, False, False, True]
    assert batches[-1][0].splitlines() == lines[-2:]
    assert sum(len(b.splitlines()) for b, _ in batches) == len(lines)


def test_blank_node_groups_are_batched_whole_and_bounded() -> None:
    """Each group of connected blank nodes (an axiom annotation) stays in one request; requests stay small."""
    groups = [[f"_:a{i} <urn:p> <urn:o{i}> .", f"_:a{i} <urn:q> _:c{i} .", f'_:c{i} <urn:r> "{i}" .'] for i in range(10)]
    lines = [line for group in groups for line in group]
    batches = [b.splitlines() for b, blank in _batches("\n".join(lines), 4) if blank]
    assert len(batches) == 10, "groups of 3 triples, at most 4 triples a request"
    for group in groups:
        assert sum(all(line in b for line in group) for b in batches) == 1, "a group was split"


def test_store_refuses_a_graph_that_is_not_an_iri() -> None:
    with pytest.raises(ValueError, match="absolute IRI"):
        RemoteSparqlStore("http://127.0.0.1:1/sparql", graph="urn:with space")


def test_unreachable_server_names_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/sparql"
    store = RemoteSparqlStore(url, graph="urn:g", timeout=5)
    with pytest.raises(RemoteStoreError, match=r"could not be reached.*check that the server runs") as caught:
        store.triple_count()
    assert caught.value.url == url and caught.value.status is None


def test_partial_answers_are_refused() -> None:
    with pytest.raises(RemoteStoreError, match="partial result"):
        _check_complete("http://x/sparql", {"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning incomplete results"})
    with pytest.raises(RemoteStoreError, match="cut the result at 10000 rows"):
        _check_complete("http://x/sparql", {"X-SPARQL-MaxRows": "10000"})
    _check_complete("http://x/sparql", {"Content-Type": "application/sparql-results+json"})


# -- a standards-only server -------------------------------------------------------------------------
def _standard_store(server: StandardServer, graph: str, **options: Any) -> RemoteSparqlStore:
    return RemoteSparqlStore(server.url, graph=graph, username=server.username, password=server.password, **options)


@pytest.mark.slow
@pytest.mark.shared
def test_standard_server_gives_the_embedded_reports(standard_server: StandardServer, tmp_path: Path) -> None:  # noqa: F811
    paths = [str(p) for p in VIGNETTES[:4]] + generated_patients(tmp_path, 12)
    store = _standard_store(standard_server, "urn:her2kg:cohort:1")
    assert [canonical(r) for r in reports_json(paths, store)] == [canonical(r) for r in reports_json(paths)]
    # Everything happened in the named graph; the server's own default graph was never written.
    assert standard_server.default_graph_size() == 0
    assert standard_server.graph_size("urn:her2kg:cohort:1") == store.triple_count() > 0
    kinds = {(path, ctype) for path, ctype, _ in standard_server.requests}
    assert kinds == {("/sparql", "application/sparql-update"), ("/sparql", "application/x-www-form-urlencoded")}
    assert all(params.get("default-graph-uri") == ["urn:her2kg:cohort:1"] for _, c, params in standard_server.requests if c.endswith("urlencoded"))


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["form", "direct"])
def test_standard_server_answers_both_query_encodings(standard_server: StandardServer, encoding: str) -> None:  # noqa: F811
    store = _standard_store(standard_server, "urn:g:q", query_encoding=encoding)
    store.load_ntriples('<urn:a> <urn:b> "x" .\n<urn:a> <urn:b> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n')
    assert sorted(r["o"] for r in store.select("SELECT ?o WHERE { <urn:a> <urn:b> ?o }")) == ["true", "x"]
    assert store.ask("ASK { <urn:a> <urn:b> 'x' }") is True
    assert store.triple_count() == 2


@pytest.mark.slow
def test_standard_server_graph_store_loading_and_clear(standard_server: StandardServer) -> None:  # noqa: F811
    store = _standard_store(standard_server, "urn:g:gsp", graph_store_url=standard_server.graph_store_url, batch_triples=3)
    data = "".join(f'<urn:s{i}> <urn:p> "{i}"^^<{XSD}integer> .\n' for i in range(10)) + "<urn:s> <urn:p> _:x .\n_:x <urn:p> <urn:o> .\n"
    store.load_ntriples(data)
    assert store.triple_count() == 12
    assert store.select("SELECT (COUNT(*) AS ?n) WHERE { <urn:s> <urn:p> ?b . ?b <urn:p> <urn:o> }") == [{"n": "1"}]
    assert sum(1 for path, _, _ in standard_server.requests if path == "/graph-store") == 5
    other = _standard_store(standard_server, "urn:g:other")
    other.load_ntriples("<urn:a> <urn:b> <urn:c> .")
    store.clear()
    assert store.triple_count() == 0 and other.triple_count() == 1


@pytest.mark.slow
def test_deadlocked_updates_are_retried(standard_server: StandardServer) -> None:  # noqa: F811
    store = _standard_store(standard_server, "urn:g:retry", retries=3)
    standard_server.conflicts.extend([500, 503])
    store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert store.triple_count() == 1 and standard_server.conflicts == []
    standard_server.conflicts.extend([500] * 3)
    with pytest.raises(RemoteStoreError, match=r"answered HTTP 500: .*SR172.*still failing after 3 attempts"):
        _standard_store(standard_server, "urn:g:retry", retries=2).update("INSERT DATA { <urn:a> <urn:b> <urn:d> }")


@pytest.mark.slow
def test_wrong_password_names_url_and_status(standard_server: StandardServer) -> None:  # noqa: F811
    store = RemoteSparqlStore(standard_server.url, graph="urn:g", username="reader", password="wrong")
    with pytest.raises(RemoteStoreError, match=r"answered HTTP 401.*check the username and password") as caught:
        store.triple_count()
    assert caught.value.url == standard_server.url


# -- Virtuoso: how it treats graphs ----------------------------------------------------------------------

def _raw_update(server: VirtuosoServer, text: str, query: str = "") -> tuple[int, str]:
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, server.sparql_url, server.username, server.password)
    opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(manager), urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        server.sparql_url + query, data=text.encode(), method="POST", headers={"Content-Type": "application/sparql-update"}
    )
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.virtuoso
def test_virtuoso_has_no_default_graph_to_insert_into(virtuoso: VirtuosoServer) -> None:  # noqa: F811
    status, body = _raw_update(virtuoso, "INSERT { <urn:a> <urn:b> <urn:c> } WHERE {}")
    assert status >= 400 and "No plain default graph" in body


@pytest.mark.virtuoso
def test_virtuoso_writes_into_the_using_graph_uri_graph(virtuoso: VirtuosoServer, graph_iri: str) -> None:  # noqa: F811
    # Not what the protocol says (using-graph-uri sets only the WHERE's dataset), but Virtuoso's behaviour;
    # update_graph="using-graph-uri" relies on it.
    status, body = _raw_update(virtuoso, "INSERT { <urn:a> <urn:b> <urn:c> } WHERE {}", f"?using-graph-uri={graph_iri}")
    assert status == 200, body
    assert virtuoso.store(graph_iri).triple_count() == 1
    # ... and it refuses WITH together with using-graph-uri, as the protocol requires.
    status, body = _raw_update(virtuoso, f"WITH <{graph_iri}> INSERT {{ <urn:a> <urn:b> <urn:d> }} WHERE {{}}", f"?using-graph-uri={graph_iri}")
    assert status >= 400


@pytest.mark.virtuoso
@pytest.mark.parametrize("mode", ["with", "using-graph-uri"])
def test_virtuoso_update_modes_stay_in_their_graph(virtuoso: VirtuosoServer, graph_iri: str, mode: str) -> None:  # noqa: F811
    store = virtuoso.store(graph_iri, update_graph=mode)
    neighbour = virtuoso.store(graph_iri + ":neighbour")
    store.load_ntriples("<urn:a> <urn:p> <urn:b> .")
    neighbour.load_ntriples("<urn:x> <urn:p> <urn:y> .")
    store.update("PREFIX u: <urn:>\nINSERT { ?o u:q ?s } WHERE { ?s u:p ?o }")
    assert sorted((r["s"], r["p"], r["o"]) for r in store.select("SELECT * WHERE { ?s ?p ?o }")) == [
        ("urn:a", "urn:p", "urn:b"),
        ("urn:b", "urn:q", "urn:a"),
    ]
    assert neighbour.triple_count() == 1
    store.clear()
    assert store.triple_count() == 0 and neighbour.triple_count() == 1


@pytest.mark.virtuoso
@pytest.mark.parametrize("graph_store", [False, True], ids=["insert-data", "graph-store"])
def test_virtuoso_loads_literals_and_blank_nodes(virtuoso: VirtuosoServer, graph_iri: str, graph_store: bool) -> None:  # noqa: F811
    store = virtuoso.store(graph_iri, graph_store=graph_store, batch_triples=2)
    store.load_ntriples(LITERALS)
    embedded = EmbeddedStore()
    embedded.load_ntriples(LITERALS)
    assert graph_dump(store) == graph_dump(embedded)
    assert store.select(BLANK_COUNT) == embedded.select(BLANK_COUNT) == [{"n": "2"}]
    assert store.select("SELECT ?o WHERE { <urn:s> <urn:flag> ?o }") == [{"o": "true"}]


XSD = "http://www.w3.org/2001/XMLSchema#"
LITERALS = f"""<urn:s> <urn:p> "61.0"^^<{XSD}decimal> .
<urn:s> <urn:p> "2026-02-28"^^<{XSD}date> .
<urn:s> <urn:p> "7"^^<{XSD}integer> .
<urn:s> <urn:flag> "true"^^<{XSD}boolean> .
<urn:s> <urn:label> "Tumeur du sein \\u00e9 \\"HER2\\" \\\\ ;{{}}"@fr .
<urn:s> <urn:text> "line one\\nline two" .
<urn:s> <urn:node> _:n1 .
_:n1 <urn:p> "x" .
"""


# -- Virtuoso: the SPARQL constructs of the rules, one miniature rule each ---------------------------------
MINI_PREFIXES = """PREFIX ex: <https://example.org/mini/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
MINI = "https://example.org/mini/"
MINI_DATA = "".join(
    f"<{MINI}{s}> <{p if ':' in p else MINI + p}> {o} .\n"
    for s, p, o in [
        ("AntiHER2Antibody", "http://www.w3.org/2000/01/rdf-schema#subClassOf", f"<{MINI}HER2Targeted>"),
        ("HER2Targeted", "http://www.w3.org/2000/01/rdf-schema#subClassOf", f"<{MINI}Antineoplastic>"),
        ("Antineoplastic", "http://www.w3.org/2000/01/rdf-schema#subClassOf", f"<{MINI}Drug>"),
        ("Anthracycline", "http://www.w3.org/2000/01/rdf-schema#subClassOf", f"<{MINI}Antineoplastic>"),
        ("trastuzumab", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{MINI}AntiHER2Antibody>"),
        ("doxorubicin", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", f"<{MINI}Anthracycline>"),
        ("threshold", "value", f'"12"^^<{XSD}integer>'),
        ("p1", "lvef", f'"45.0"^^<{XSD}decimal>'),
        ("p1", "since", f'"2026-02-20"^^<{XSD}date>'),
        ("p1", "therapy", f"<{MINI}p1/t1>"),
        ("p1/t1", "drug", f"<{MINI}trastuzumab>"),
        ("p1/t1", "start", f'"2024-03-15"^^<{XSD}date>'),
        ("p1/t1", "end", f'"2025-03-10"^^<{XSD}date>'),
        ("p1", "therapy", f"<{MINI}p1/t2>"),
        ("p1/t2", "drug", f"<{MINI}doxorubicin>"),
        ("p1/t2", "start", f'"2025-04-01"^^<{XSD}date>'),
        ("p1", "progression", f'"2025-02-01"^^<{XSD}date>'),
        ("p1", "progression", f'"2025-06-01"^^<{XSD}date>'),
        ("p1", "progression", f'"2025-09-01"^^<{XSD}date>'),
        ("p2", "lvef", f'"61.50"^^<{XSD}decimal>'),
        ("p2", "since", f'"2026-03-31"^^<{XSD}date>'),
        ("p2", "therapy", f"<{MINI}p2/t1>"),
        ("p2/t1", "drug", f"<{MINI}trastuzumab>"),
        ("p2/t1", "start", f'"2024-01-31"^^<{XSD}date>'),
        ("p2/t1", "end", f'"2025-01-31"^^<{XSD}date>'),
        ("p3", "since", f'"2026-01-01"^^<{XSD}date>'),
        ("p3", "label", '"Patientin \\u00e9"@de'),
        ("p4", "lvef", f'"120"^^<{XSD}integer>'),
    ]
)
MINI_RULES: dict[str, tuple[int, str]] = {
    # a transitive path whose start is bound by a triple pattern (see test_every_rule_runs_on_virtuoso)
    "closure": (0, "INSERT { ?c ex:super ?s } WHERE { ?c rdfs:subClassOf ?direct . ?c rdfs:subClassOf+ ?s . FILTER(isIRI(?c) && isIRI(?s)) }"),
    "type": (1, "INSERT { ?x a ?s } WHERE { ?x a ?c . ?c ex:super ?s }"),
    # typed arithmetic and comparison across xsd:decimal and xsd:integer; STR of a number
    "low-lvef": (
        1,
        """INSERT { ?p ex:lowLvef true ; ex:margin ?margin ; ex:scaled ?scaled ; ex:text ?text ; ex:kind ?kind }
        WHERE { ?p ex:lvef ?v . FILTER(?v < 50 || ?v > 100)
          BIND(50 - ?v AS ?margin) BIND(?v * 1.5 AS ?scaled)
          BIND(CONCAT("LVEF ", STR(?v), " %") AS ?text) BIND(STR(DATATYPE(?v)) AS ?kind) }""",
    ),
    # FILTER NOT EXISTS and BIND(IRI(CONCAT(STR(?x), "...")))
    "no-lvef": (
        1,
        """INSERT { ?p ex:hasNotice ?n . ?n ex:about ex:missing-lvef }
        WHERE { ?p ex:since ?since . FILTER NOT EXISTS { ?p ex:lvef ?v } BIND(IRI(CONCAT(STR(?p), "/d/no-lvef")) AS ?n) }""",
    ),
    # YEAR/MONTH/DAY on xsd:date, date comparison, IF, COALESCE, MAX in a GROUP BY subquery
    "months": (
        1,
        """INSERT { ?p ex:months ?months ; ex:early ?early ; ex:monthsText ?text }
        WHERE {
          ex:threshold ex:value ?threshold .
          { SELECT ?p (MAX(COALESCE(?end, ?start)) AS ?lastDose)
            WHERE { ?p ex:therapy ?t . ?t ex:drug ex:trastuzumab ; ex:start ?start . OPTIONAL { ?t ex:end ?end } }
            GROUP BY ?p }
          ?p ex:since ?since .
          BIND(IF(?lastDose >= ?since, 0,
                  (YEAR(?since) - YEAR(?lastDose)) * 12 + MONTH(?since) - MONTH(?lastDose)
                  - IF(DAY(?since) < DAY(?lastDose), 1, 0)) AS ?months)
          BIND(?months < ?threshold || (?months = ?threshold && DAY(?since) = DAY(?lastDose)) AS ?early)
          BIND(CONCAT(STR(?months), " months; threshold ", STR(?threshold)) AS ?text) }""",
    ),
    # COUNT(DISTINCT) over a nested MIN subquery inside OPTIONAL
    "lines": (
        1,
        """INSERT { ?p ex:endedLines ?ended }
        WHERE { { SELECT ?p (COUNT(DISTINCT ?lineEnd) AS ?ended)
                  WHERE { ?p ex:since ?since .
                    OPTIONAL { { SELECT ?p ?t (MIN(?date) AS ?lineEnd)
                                 WHERE { ?p ex:therapy ?t . ?t ex:start ?start . ?p ex:progression ?date . FILTER(?date > ?start) }
                                 GROUP BY ?p ?t } } }
                  GROUP BY ?p } }""",
    ),
    # UNION, VALUES, STRAFTER, MD5
    "drug-node": (
        2,
        """INSERT { ?p ex:exposure ?n . ?n ex:key ?key ; ex:hash ?hash ; ex:group ?group }
        WHERE { ?p ex:therapy ?t . ?t ex:drug ?drug .
          { ?drug a ex:HER2Targeted . BIND("her2" AS ?group) } UNION { ?drug a ex:Anthracycline . BIND("anthracycline" AS ?group) }
          VALUES ?cls { ex:Antineoplastic } ?drug a ?cls .
          BIND(STRAFTER(STR(?drug), "/mini/") AS ?key) BIND(MD5(STR(?t)) AS ?hash)
          BIND(IRI(CONCAT(STR(?p), "/d/drug-node/", ?key)) AS ?n) }""",
    ),
    # language tags and string functions
    "label": (1, """INSERT { ?p ex:labelInfo ?info } WHERE { ?p ex:label ?l . BIND(CONCAT(LANG(?l), ":", UCASE(?l), ":", STR(STRLEN(?l))) AS ?info) }"""),
    # negation of facts of lower strata
    "fit": (3, """INSERT { ?p ex:fit true } WHERE { ?p ex:since ?since . FILTER NOT EXISTS { ?p ex:lowLvef true } FILTER NOT EXISTS { ?p ex:hasNotice ?n } }"""),
    # MINUS of one triple sharing the left side's variables; two sub-selects joined on ?p (join order)
    "fit-minus": (3, """INSERT { ?p ex:fitToo true } WHERE { ?p ex:since ?since . MINUS { ?p ex:lowLvef true } MINUS { ?p ex:hasNotice ?n } }"""),
    "since-and-lines": (
        2,
        """INSERT { ?p ex:linesSince ?text }
        WHERE { { SELECT ?p ?since WHERE { ?p ex:since ?since . } }
                { SELECT ?p ?ended WHERE { ?p ex:endedLines ?ended . } }
                BIND(CONCAT(STR(?ended), " since ", STR(?since)) AS ?text) }""",
    ),
}
MINI_EXPECTED = {
    ("p1", "months", "11"),
    ("p1", "early", "true"),
    ("p1", "monthsText", "11 months; threshold 12"),
    ("p2", "months", "14"),
    ("p2", "early", "false"),
    ("p1", "endedLines", "2"),
    ("p2", "endedLines", "0"),
    ("p3", "endedLines", "0"),
    ("p1", "margin", "5"),
    ("p1", "scaled", "67.5"),
    ("p1", "text", "LVEF 45 %"),
    ("p4", "margin", "-70"),
    ("p4", "text", "LVEF 120 %"),
    ("p3", "labelInfo", "de:PATIENTIN \u00c9:11"),
    ("p2", "fit", "true"),
    ("p2", "fitToo", "true"),
    ("p1", "linesSince", "2 since 2026-02-20"),
    ("p1/d/drug-node/trastuzumab", "hash", "98e2d67a6339abb4db41181523b2500a"),
}


def mini_rules() -> list[Rule]:
    return [
        Rule(id=f"mini-{name}", title=name, kind="derivation", source="test", stratum=stratum, statements=(),
             description="", path=Path(f"mini/{name}.rq"), text=MINI_PREFIXES + text)
        for name, (stratum, text) in MINI_RULES.items()
    ]


def _short(dump: set[tuple[str, ...]]) -> set[tuple[str, str, str]]:
    return {(s.removeprefix(MINI), p.removeprefix(MINI), o) for s, p, o, _ in dump}


def test_mini_rules_give_the_expected_facts_on_the_embedded_store() -> None:
    store = EmbeddedStore()
    store.load_ntriples(MINI_DATA)
    run_rules(store, mini_rules())
    assert MINI_EXPECTED <= _short(graph_dump(store))


@pytest.mark.virtuoso
@pytest.mark.parametrize("mode", ["with", "using-graph-uri"])
def test_virtuoso_runs_the_mini_rules_like_the_embedded_store(virtuoso: VirtuosoServer, graph_iri: str, mode: str) -> None:  # noqa: F811
    embedded = EmbeddedStore()
    embedded.load_ntriples(MINI_DATA)
    run_rules(embedded, mini_rules())
    remote = virtuoso.store(graph_iri, update_graph=mode)
    remote.load_ntriples(MINI_DATA)
    run_rules(remote, mini_rules())
    expected, got = graph_dump(embedded), graph_dump(remote)
    assert sorted(got - expected) == [] and sorted(expected - got) == []
    assert MINI_EXPECTED <= _short(got)


# -- Virtuoso: the real rules and reports ---------------------------------------------------------------
def _patient_data(paths: list[str]) -> str:
    from her2kg.patients import evaluation_triples, read_patient_file

    data = []
    for path in paths:
        patient = read_patient_file(path)
        if patient.readable:
            data.append(patient.ntriples + evaluation_triples(patient.patient_iris, AS_OF.isoformat(), []))
    return "".join(data)


def patient_rules() -> list[Rule]:
    """The rules the pipeline runs on the store (knowledge-scope rules run once, embedded)."""
    return [r for r in load_rules() if r.scope == "patient"]


@pytest.mark.virtuoso
def test_every_patient_rule_runs_on_virtuoso(virtuoso: VirtuosoServer, graph_iri: str, tmp_path: Path) -> None:  # noqa: F811
    """Each patient-scope rule, in stratum order, is accepted by Virtuoso (failures listed by rule id)."""
    store = virtuoso.store(graph_iri)
    store.load_ntriples(prepared_knowledge_ntriples() + _patient_data(generated_patients(tmp_path, 20)))
    failures = []
    for rule in sorted(patient_rules(), key=lambda r: (r.stratum, r.id)):
        try:
            store.update(rule.text)
        except RemoteStoreError as exc:
            failures.append(f"{rule.id}: {exc.message[:300]}")
    assert failures == [], "rules Virtuoso refuses:\n" + "\n".join(failures)


@pytest.mark.shared
@pytest.mark.virtuoso
def test_virtuoso_derives_the_same_graph(virtuoso: VirtuosoServer, graph_iri: str, tmp_path: Path) -> None:  # noqa: F811
    data = prepared_knowledge_ntriples() + _patient_data([str(p) for p in VIGNETTES] + generated_patients(tmp_path, 150))
    remote = virtuoso.store(graph_iri, timeout=300)
    embedded = EmbeddedStore()
    for store in (embedded, remote):
        store.load_ntriples(data)
        run_rules(store, patient_rules())
    expected, got = graph_dump(embedded), graph_dump(remote)
    assert len(expected) > 10_000
    assert sorted(expected - got)[:20] == [] and sorted(got - expected)[:20] == []
    assert remote.select(BLANK_COUNT) == embedded.select(BLANK_COUNT)


@pytest.mark.shared
@pytest.mark.virtuoso
@pytest.mark.parametrize("vignette", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_virtuoso_vignette_report_equals_embedded(virtuoso: VirtuosoServer, graph_iri: str, vignette: Path) -> None:  # noqa: F811
    remote = reports_json([str(vignette)], virtuoso.store(graph_iri))
    assert [canonical(r) for r in remote] == [canonical(r) for r in reports_json([str(vignette)])]


@pytest.mark.virtuoso
def test_virtuoso_generated_reports_equal_embedded(virtuoso: VirtuosoServer, graph_iri: str, tmp_path: Path) -> None:  # noqa: F811
    paths = generated_patients(tmp_path, 200, seed=7)
    remote = reports_json(paths, virtuoso.store(graph_iri, timeout=300))
    local = reports_json(paths)
    assert len(remote) == len(local) == 200
    differing = [a["source"] for a, b in zip(local, remote, strict=True) if canonical(a) != canonical(b)]
    assert differing == []


@pytest.mark.virtuoso
def test_virtuoso_runs_two_cohorts_at_once(virtuoso: VirtuosoServer, graph_iri: str, tmp_path: Path) -> None:  # noqa: F811
    """Concurrent runs in separate graphs meet Virtuoso's deadlocks (SR172); the store retries them."""
    from concurrent.futures import ThreadPoolExecutor

    paths = generated_patients(tmp_path, 120, seed=3)
    halves = [paths[::2], paths[1::2]]
    with ThreadPoolExecutor(2) as pool:
        remote = list(pool.map(lambda k: reports_json(halves[k], virtuoso.store(f"{graph_iri}:{k}", timeout=300)), [0, 1]))
    for half, reports in zip(halves, remote, strict=True):
        assert [canonical(r) for r in reports] == [canonical(r) for r in reports_json(half)]


# -- Virtuoso: credentials and errors --------------------------------------------------------------------
@pytest.mark.virtuoso
def test_virtuoso_wrong_password_is_a_401(virtuoso: VirtuosoServer, graph_iri: str) -> None:  # noqa: F811
    store = RemoteSparqlStore(virtuoso.sparql_url, graph=graph_iri, username=virtuoso.username, password="wrong")
    with pytest.raises(RemoteStoreError, match="answered HTTP 401") as caught:
        store.triple_count()
    assert caught.value.url == virtuoso.sparql_url


@pytest.mark.virtuoso
def test_virtuoso_anonymous_endpoint_refuses_updates(virtuoso: VirtuosoServer, graph_iri: str) -> None:  # noqa: F811
    store = RemoteSparqlStore(virtuoso.public_sparql_url, graph=graph_iri)
    with pytest.raises(RemoteStoreError, match=r"answered HTTP \d{3}"):
        store.load_ntriples("<urn:a> <urn:b> <urn:c> .")
    assert store.triple_count() == 0


@pytest.mark.virtuoso
def test_virtuoso_rejected_update_names_url_and_status(virtuoso: VirtuosoServer, graph_iri: str) -> None:  # noqa: F811
    store = virtuoso.store(graph_iri)
    with pytest.raises(RemoteStoreError, match=r"/sparql-auth answered HTTP (400|500): .*SP030") as caught:
        store.update("INSERT { ?s ?p } WHERE { ?s ?p ?o }")
    assert caught.value.status in (400, 500)


# -- the private server's configuration ----------------------------------------------------------------
def test_virtuoso_ini_rewrite_replaces_keys_and_drops_plugins() -> None:
    from virtuoso_server import _rewrite_ini

    template = (
        "[Parameters]\nServerPort = 1111\nIndexTreeMaps = 256\nIndexTreeMaps = 64\n;ServerPort = 2\n"
        "[Plugins]\nLoad1 = plain, wikiv\n[SPARQL]\nResultSetMaxRows = 10000 ; rows\n"
    )
    text = _rewrite_ini(
        template,
        {"Parameters": {"ServerPort": "127.0.0.1:5", "IndexTreeMaps": "64"}, "SPARQL": {"ResultSetMaxRows": "9"}, "URIQA": {"DefaultHost": "h"}},
        drop_sections={"Plugins"},
    )
    assert text.splitlines() == [
        "[Parameters]", "ServerPort = 127.0.0.1:5", "IndexTreeMaps = 64", ";ServerPort = 2",
        "[SPARQL]", "ResultSetMaxRows = 9", "[URIQA]", "DefaultHost = h",
    ]
