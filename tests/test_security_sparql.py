"""The SPARQL endpoint decides by parse: no spelling of SERVICE, LOAD, FROM or USING gets through.

A loopback canary HTTP server counts every request made to it; generated spellings aim their
SERVICE / LOAD / FROM at it, and the canary must stay silent (it does hear pyoxigraph when the
guard is bypassed, which the first test shows).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from canary import Canary, canary_server
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2kg.server.sparql_guard import RefusedRequest, inspect_query, inspect_update, precheck_query
from her2kg.server.sparql_worker import Failure, QueryJob, QueryOutcome, handle


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    with canary_server() as running:
        yield running


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.NamedNode("urn:c")))
    return store


def _job(text: str) -> QueryJob:
    return QueryJob(text=text, results_type="application/sparql-results+json", graph_type="text/turtle", max_results=100)


def test_the_canary_hears_an_unguarded_service_call(canary: Canary, store: ox.Store) -> None:
    before = len(canary.hits)
    list(store.query(f"SELECT * WHERE {{ SERVICE <{canary.url}sparql> {{ ?s ?p ?o }} }}"))
    assert len(canary.hits) > before, "the canary must detect a request, else the tests below prove nothing"


GLUED_QUERIES = [
    "SELECT * WHERE { SERVICESILENT<{url}> { ?s ?p ?o } }",
    "PREFIX ex: <{url}> SELECT * WHERE { SERVICEex:x { ?s ?p ?o } }",
    "PREFIX : <{url}> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    "PREFIX : <{url}> SELECT * WHERE { SERVICE SILENT:x { ?s ?p ?o } }",
    "SELECT * FROMNAMED<{url}> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "PREFIX ex: <{url}> SELECT * FROMex:g WHERE { ?s ?p ?o }",
    "PREFIX : <{url}> SELECT * FROM:g WHERE { ?s ?p ?o }",
    "SELECT * WHERE { SERVIC\\u0045 <{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE#comment\n<{url}> { ?s ?p ?o } }",
    "SELECT * WHERE { { SELECT * WHERE { OPTIONAL { SERVICE<{url}>{?s ?p ?o} } } } }",
    "SELECT * WHERE { FILTER EXISTS { SERVICE <{url}> { ?s ?p ?o } } }",
    "SELECT * WHERE { BIND(<{url}> AS ?e) SERVICE ?e { ?s ?p ?o } }",
    "SELECT * WHERE { ?s ?p ?o } garbage the guard cannot read",
]


@pytest.mark.parametrize("template", GLUED_QUERIES)
def test_glued_and_hidden_spellings_are_refused_and_never_fetch(template: str, canary: Canary, store: ox.Store) -> None:
    text = template.replace("{url}", canary.url)
    with pytest.raises(RefusedRequest):
        inspect_query(text)
    before = len(canary.hits)
    outcome = handle(store, _job(text))
    assert isinstance(outcome, Failure) and outcome.kind == "refused", outcome
    assert len(canary.hits) == before


@pytest.mark.parametrize(
    "template",
    [
        "LOADSILENT<{url}>",
        "PREFIX ex: <{url}> LOADex:x",
        "PREFIX : <{url}> LOAD:x",
        "INSERT { ?s ?p ?o } USINGNAMED<{url}> WHERE { ?s ?p ?o }",
        "PREFIX ex: <{url}> DELETE { ?s ?p ?o } USINGex:g WHERE { ?s ?p ?o }",
        "INSERT { ?s ?p ?o } WHERE { SERVICE:x { ?s ?p ?o } }",
    ],
)
def test_glued_updates_are_refused_and_never_fetch(template: str, canary: Canary) -> None:
    text = template.replace("{url}", canary.url)
    with pytest.raises(RefusedRequest):
        inspect_update(text)
    fresh = ox.Store()
    before = len(canary.hits)
    outcome = handle(fresh, _job(text))  # the worker answers queries only: an update is refused
    assert isinstance(outcome, Failure) and outcome.kind == "refused", outcome
    assert len(canary.hits) == before


@pytest.mark.parametrize(
    "text",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "insert data { <urn:a> <urn:b> <urn:c> }",
        "CLEAR ALL",
        "PREFIX ex: <urn:x> DELETE WHERE { ?s ?p ?o }",
    ],
)
def test_any_update_on_the_query_side_is_refused(text: str, store: ox.Store) -> None:
    with pytest.raises(RefusedRequest, match="Update"):
        inspect_query(text)
    before = len(store)
    assert isinstance(handle(store, _job(text)), Failure)
    assert len(store) == before


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("PREFIX service: <urn:s/> SELECT * WHERE { ?s service:load ?from }", "SELECT"),
        ("PREFIX serviceex: <urn:s/> SELECT * WHERE { serviceex:x ?p ?o }", "SELECT"),
        ('SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/>" }', "SELECT"),
        ('SELECT (CONCAT("caf\\u00e9", "") AS ?x) WHERE {}', "SELECT"),
        ("ASK { ?s ?p ?o }", "ASK"),
    ],
)
def test_near_misses_are_allowed(text: str, form: str, store: ox.Store) -> None:
    assert inspect_query(text).form == form
    assert isinstance(handle(store, _job(text)), QueryOutcome)


# -- generated spellings --------------------------------------------------------------------------

_SEPARATORS = st.sampled_from(["", " ", "\n", "\t", " #c\n", "#SERVICE\n", "  "])


@st.composite
def _keyword(draw: st.DrawFn, word: str) -> str:
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in word)
    if draw(st.integers(0, 5)) == 0:  # one letter as a \u escape
        index = draw(st.integers(0, len(cased) - 1))
        cased = cased[:index] + f"\\u{ord(cased[index]):04X}" + cased[index + 1 :]
    return cased


@st.composite
def _target(draw: st.DrawFn, url: str) -> tuple[str, str]:
    """(prologue, term) naming the canary: an IRI, a prefixed name, the empty prefix, a variable."""
    kind = draw(st.sampled_from(["iri", "pname", "empty", "var"]))
    if kind == "iri":
        return "", f"<{url}sparql>"
    if kind == "pname":
        prefix = draw(st.sampled_from(["ex", "e", "service", "from", "load"]))
        return f"PREFIX {prefix}: <{url}> ", f"{prefix}:x"
    if kind == "empty":
        return f"PREFIX : <{url}> ", ":x"
    return "", "?endpoint"


def _nest(pattern: str, depth: int, kinds: list[str]) -> str:
    for kind in kinds[:depth]:
        pattern = {
            "group": "{ %s }",
            "optional": "OPTIONAL { %s }",
            "union": "{ ?a ?b ?c } UNION { %s }",
            "minus": "?s ?p ?o MINUS { %s }",
            "exists": "FILTER EXISTS { %s }",
            "subselect": "{ SELECT * WHERE { %s } }",
        }[kind] % pattern
    return pattern


@st.composite
def service_queries(draw: st.DrawFn, url: str) -> str:
    prologue, term = draw(_target(url))
    keyword = draw(_keyword("SERVICE"))
    silent = draw(st.one_of(st.just(""), _keyword("SILENT")))
    gap1, gap2, gap3 = draw(_SEPARATORS), draw(_SEPARATORS), draw(_SEPARATORS)
    pattern = f"{keyword}{gap1}{silent}{gap2}{term}{gap3}{{ ?s ?p ?o }}"
    if term == "?endpoint":
        pattern = f"BIND(<{url}sparql> AS ?endpoint) {pattern}"
    kinds = draw(st.lists(st.sampled_from(["group", "optional", "union", "minus", "exists", "subselect"]), max_size=3))
    return f"{prologue}SELECT * WHERE {{ {_nest(pattern, len(kinds), kinds)} }}"


@st.composite
def dataset_queries(draw: st.DrawFn, url: str) -> str:
    prologue, term = draw(_target(url))
    if term == "?endpoint":
        term = f"<{url}g>"
    keyword = draw(_keyword("FROM"))
    named = draw(st.one_of(st.just(""), _keyword("NAMED")))
    gap1, gap2 = draw(_SEPARATORS), draw(_SEPARATORS)
    form = draw(st.sampled_from(["SELECT *", "ASK", "CONSTRUCT { ?s ?p ?o }", "DESCRIBE ?s"]))
    return f"{prologue}{form} {keyword}{gap1}{named}{gap2}{term} WHERE {{ ?s ?p ?o }}"


@st.composite
def load_updates(draw: st.DrawFn, url: str) -> str:
    prologue, term = draw(_target(url))
    if term == "?endpoint":
        term = f"<{url}data.ttl>"
    keyword = draw(_keyword("LOAD"))
    silent = draw(st.one_of(st.just(""), _keyword("SILENT")))
    gap1, gap2 = draw(_SEPARATORS), draw(_SEPARATORS)
    before = draw(st.sampled_from(["", "INSERT DATA { <urn:a> <urn:b> <urn:c> } ;\n"]))
    return f"{prologue}{before}{keyword}{gap1}{silent}{gap2}{term}"


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_spellings_never_leave_the_endpoint(data: st.DataObject, canary: Canary, store: ox.Store) -> None:
    text = data.draw(st.one_of(service_queries(canary.url), dataset_queries(canary.url)))
    before = len(canary.hits)
    with pytest.raises(RefusedRequest):
        inspect_query(text)
    outcome = handle(store, _job(text))
    assert isinstance(outcome, Failure) and outcome.kind == "refused", (text, outcome)
    assert len(canary.hits) == before, text


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_generated_load_spellings_never_leave_the_endpoint(data: st.DataObject, canary: Canary) -> None:
    text = data.draw(load_updates(canary.url))
    before = len(canary.hits)
    with pytest.raises(RefusedRequest):
        inspect_update(text)
    outcome = handle(ox.Store(), _job(text))
    assert isinstance(outcome, Failure) and outcome.kind == "refused", (text, outcome)
    assert len(canary.hits) == before, text


# -- response size in bytes ---------------------------------------------------------------------


def test_select_responses_are_capped_in_bytes(store: ox.Store) -> None:
    doubling = "BIND(\"x\" AS ?v0) " + " ".join(
        f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(16)
    )
    text = f"SELECT ?v16 WHERE {{ VALUES ?n {{ 1 2 3 4 5 6 7 8 }} {doubling} }}"
    job = QueryJob(text=text, results_type="application/sparql-results+json", graph_type=None, max_results=100, max_bytes=200_000)
    outcome = handle(store, job)
    assert isinstance(outcome, QueryOutcome)
    assert len(outcome.body) <= 200_000 and outcome.truncated
    assert 0 < outcome.count < 8
    csv = handle(store, QueryJob(text=text, results_type="text/csv", graph_type=None, max_results=100, max_bytes=200_000))
    assert isinstance(csv, QueryOutcome) and len(csv.body) <= 200_000 and csv.truncated


def test_construct_responses_are_capped_in_bytes(store: ox.Store) -> None:
    text = (
        'CONSTRUCT { ?s <urn:p> ?big } WHERE { VALUES ?s { <urn:1> <urn:2> <urn:3> <urn:4> } '
        'BIND("x" AS ?v0) '
        + " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(16))
        + " BIND(?v16 AS ?big) }"
    )
    job = QueryJob(text=text, results_type=None, graph_type="application/n-triples", max_results=100, max_bytes=150_000)
    outcome = handle(store, job)
    assert isinstance(outcome, QueryOutcome) and outcome.truncated
    assert len(outcome.body) <= 150_000 and outcome.count == 2


def test_a_small_result_is_not_cut(store: ox.Store) -> None:
    outcome = handle(store, QueryJob(text="SELECT * WHERE { ?s ?p ?o }", results_type="text/csv", graph_type=None, max_results=10, max_bytes=10_000))
    assert isinstance(outcome, QueryOutcome) and not outcome.truncated and outcome.count == 1


@pytest.mark.parametrize(
    "text",
    [
        "PREFIX ex: <http://127.0.0.1:9/> DESCRIBE ?s fromex:x WHERE { ?s ?p ?o }",  # found by the CI profile
        "PREFIX ex: <http://127.0.0.1:9/> SELECT * FROMNAMEDex:g WHERE { ?s ?p ?o }",
        "PREFIX ex: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }",
    ],
)
def test_keywords_glued_to_names_are_refused_before_any_parse(text: str) -> None:
    with pytest.raises(RefusedRequest, match="glued"):
        precheck_query(text)


def test_names_that_merely_contain_a_keyword_are_kept() -> None:
    precheck_query("PREFIX ex: <urn:x:> SELECT ?fromage WHERE { ?s ex:loadFactor ?fromage }")
