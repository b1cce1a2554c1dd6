"""The SPARQL 1.1 endpoint over a real socket, with real SPARQL clients."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator

import httpx
import pytest
import rdflib

from her2kg.resources import queries_dir
from her2kg.server.config import CorsSettings, ServerConfig, SparqlSettings
from her2kg.server.dataset import knowledge_only

from server_harness import RunningServer, running_server

ORIGIN = "http://allowed.example"
TIMEOUT = 2.0
MAX_RESULTS = 50
MAX_BODY = 20_000
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
HEADER = "https://w3id.org/her2kg/ontology"
OWL_ONTOLOGY = f"SELECT ?o WHERE {{ VALUES ?o {{ <{HEADER}> }} ?o a <http://www.w3.org/2002/07/owl#Ontology> }}"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    config = ServerConfig(
        sparql=SparqlSettings(
            timeout_seconds=TIMEOUT, max_results=MAX_RESULTS, max_body_bytes=MAX_BODY, workers=2
        ),
        cors=CorsSettings(allow_origins=(ORIGIN,)),
    )
    with running_server(config, served=knowledge_only()) as running:
        yield running


@pytest.fixture(scope="module")
def plain_server() -> Iterator[RunningServer]:
    config = ServerConfig(sparql=SparqlSettings(workers=1))
    with running_server(config, served=knowledge_only()) as running:
        yield running


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0) as http:
        yield http


def _endpoint(server: RunningServer) -> str:
    return server.url("/sparql")


# -- real clients ------------------------------------------------------------------------------


@pytest.mark.slow
def test_sparqlwrapper_select_json_and_xml(server: RunningServer) -> None:
    from SPARQLWrapper import JSON, XML, SPARQLWrapper

    wrapper = SPARQLWrapper(_endpoint(server))
    wrapper.setQuery(OWL_ONTOLOGY)
    wrapper.setReturnFormat(JSON)
    results = wrapper.query().convert()
    assert [b["o"]["value"] for b in results["results"]["bindings"]] == ["https://w3id.org/her2kg/ontology"]
    wrapper.setReturnFormat(XML)
    document = wrapper.query().convert()
    assert "https://w3id.org/her2kg/ontology" in document.toxml()


def test_sparqlwrapper_post_ask_and_construct(server: RunningServer) -> None:
    from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

    wrapper = SPARQLWrapper(_endpoint(server))
    wrapper.setMethod(POST)
    wrapper.setQuery("ASK { <https://w3id.org/her2kg/ontology> ?p ?o }")
    wrapper.setReturnFormat(JSON)
    assert wrapper.query().convert()["boolean"] is True
    wrapper.setQuery("CONSTRUCT WHERE { <https://w3id.org/her2kg/ontology> ?p ?o }")
    wrapper.setReturnFormat(TURTLE)
    graph = rdflib.Graph().parse(data=wrapper.query().convert(), format="turtle")
    assert (rdflib.URIRef("https://w3id.org/her2kg/ontology"), rdflib.RDF.type, rdflib.OWL.Ontology) in graph


def test_sparqlwrapper_runs_a_competency_question(server: RunningServer) -> None:
    from SPARQLWrapper import JSON, SPARQLWrapper

    questions = sorted((queries_dir() / "cq").glob("*.rq"))
    if not questions:
        pytest.skip("no competency questions installed")
    wrapper = SPARQLWrapper(_endpoint(server))
    wrapper.setQuery(questions[0].read_text(encoding="utf-8"))
    wrapper.setReturnFormat(JSON)
    results = wrapper.query().convert()
    assert "head" in results or "boolean" in results


def test_rdflib_sparql_store(server: RunningServer) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(_endpoint(server), returnFormat="xml")
    graph = rdflib.Graph(store)
    rows = list(graph.query(OWL_ONTOLOGY))
    assert [str(row[0]) for row in rows] == ["https://w3id.org/her2kg/ontology"]
    ontologies = list(graph.triples((None, rdflib.RDF.type, rdflib.OWL.Ontology)))
    assert (rdflib.URIRef(HEADER), rdflib.RDF.type, rdflib.OWL.Ontology) in ontologies
    assert graph.query("ASK { ?s a <http://www.w3.org/2002/07/owl#Ontology> }").askAnswer is True
    store.close()


# -- protocol and content negotiation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
    ],
)
def test_select_results_follow_accept(server: RunningServer, client: httpx.Client, accept: str, media_type: str) -> None:
    response = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert "https://w3id.org/her2kg/ontology" in response.text
    parsed = rdflib.query.Result.parse(
        io.BytesIO(response.content),
        format={"application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
                "text/csv": "csv", "text/tab-separated-values": "tsv"}[media_type],
    )
    assert [str(row[0]) for row in parsed] == ["https://w3id.org/her2kg/ontology"]


@pytest.mark.parametrize(
    ("accept", "rdflib_format"),
    [
        ("text/turtle", "turtle"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "json-ld"),
        ("application/rdf+xml", "xml"),
    ],
)
def test_construct_follows_accept(server: RunningServer, client: httpx.Client, accept: str, rdflib_format: str) -> None:
    query = "CONSTRUCT WHERE { <https://w3id.org/her2kg/ontology> ?p ?o }"
    response = client.post(_endpoint(server), content=query, headers={"Content-Type": "application/sparql-query", "Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    graph = rdflib.Graph().parse(data=response.content, format=rdflib_format)
    assert (rdflib.URIRef("https://w3id.org/her2kg/ontology"), rdflib.RDF.type, rdflib.OWL.Ontology) in graph


def test_form_encoded_post(server: RunningServer, client: httpx.Client) -> None:
    response = client.post(_endpoint(server), data={"query": OWL_ONTOLOGY}, headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.text.splitlines()[1] == "https://w3id.org/her2kg/ontology"


def test_unacceptable_format_is_406(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY}, headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "application/sparql-results+json" in response.text


def test_syntax_error_is_400(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(_endpoint(server), params={"query": "SELECT WHERE {"})
    assert response.status_code == 400
    assert "does not parse" in response.text


def test_service_description(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(_endpoint(server), headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = rdflib.URIRef(_endpoint(server))
    assert (service, rdflib.RDF.type, sd.Service) in graph
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert (service, sd.supportedLanguage, sd.SPARQL11Update) not in graph  # read-only


def test_html_page_for_browsers(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(_endpoint(server), headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<textarea" in response.text and 'id="run"' in response.text and 'id="results"' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "http://" not in response.text.split("<script", 1)[0].replace("http://www.w3.org", "")


# -- limits ------------------------------------------------------------------------------------


def test_results_are_capped_with_a_header(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(_endpoint(server), params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.headers["x-her2kg-truncated"] == "true"
    assert response.headers["x-sparql-maxrows"] == str(MAX_RESULTS)
    assert len(response.json()["results"]["bindings"]) == MAX_RESULTS
    small = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY})
    assert "x-her2kg-truncated" not in small.headers


def test_construct_is_capped_too(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(
        _endpoint(server), params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200
    assert response.headers["x-her2kg-truncated"] == "true"
    assert len([line for line in response.text.splitlines() if line.strip()]) == MAX_RESULTS


def test_body_over_the_limit_is_413(server: RunningServer, client: httpx.Client) -> None:
    padding = "#" + "x" * (MAX_BODY + 10) + "\n"
    response = client.post(
        _endpoint(server), content=padding + OWL_ONTOLOGY, headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 413
    assert "max_body_bytes" in response.text


@pytest.mark.slow
def test_slow_query_is_stopped_and_its_worker_killed(server: RunningServer, client: httpx.Client) -> None:
    pool = server.app.state.pool
    before = set(pool.worker_pids())
    started = time.monotonic()
    response = client.get(_endpoint(server), params={"query": SLOW_QUERY})
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert "time limit" in response.text
    assert TIMEOUT <= elapsed < TIMEOUT + 3.0
    killed = before - set(pool.worker_pids())
    assert len(killed) == 1
    pid = killed.pop()
    assert not os.path.exists(f"/proc/{pid}"), "the worker that ran the slow query must be gone"
    deadline = time.monotonic() + 30
    while len(pool.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pool.worker_pids()) == 2, "a replacement worker must start"
    again = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY})
    assert again.status_code == 200


# -- refused operations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "SELECT * WHERE { { SELECT ?s WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } } }",
        "SELECT * FROM <http://127.0.0.1:9/remote.ttl> WHERE { ?s ?p ?o }",
    ],
)
def test_queries_fetching_urls_are_refused(server: RunningServer, client: httpx.Client, query: str) -> None:
    response = client.post(_endpoint(server), data={"query": query})
    assert response.status_code == 400
    assert "not allowed" in response.text


def test_dataset_parameters_are_refused(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(
        _endpoint(server), params={"query": OWL_ONTOLOGY, "default-graph-uri": "http://127.0.0.1:9/g"}
    )
    assert response.status_code == 400
    assert "default-graph-uri" in response.text


def test_load_is_refused(server: RunningServer, client: httpx.Client) -> None:
    response = client.post(
        _endpoint(server), data={"query": "LOAD <http://127.0.0.1:9/data.ttl>"}
    )
    assert response.status_code == 400
    assert "LOAD" in response.text


# -- read-only ----------------------------------------------------------------------------------


def test_the_endpoint_is_read_only(server: RunningServer, client: httpx.Client) -> None:
    update = "INSERT DATA { <urn:x:test> <urn:x:says> \"hello\" }"
    direct = client.post(
        _endpoint(server),
        content=update,
        headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer anything"},
    )
    assert direct.status_code == 415 and "read-only" in direct.text
    assert direct.headers["content-type"].startswith("text/plain")
    form = client.post(_endpoint(server), data={"update": update})
    assert form.status_code == 400 and "read-only" in form.text
    by_get = client.get(_endpoint(server), params={"update": update})
    assert by_get.status_code == 400 and "read-only" in by_get.text
    as_query = client.post(_endpoint(server), data={"query": update})
    assert as_query.status_code == 400 and "read-only" in as_query.text
    ask = "ASK { <urn:x:test> <urn:x:says> \"hello\" }"
    for _ in range(4):  # no worker holds the triple
        assert client.get(_endpoint(server), params={"query": ask}).json()["boolean"] is False


# -- CORS ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cors_only_for_configured_origins(server: RunningServer, plain_server: RunningServer, client: httpx.Client) -> None:
    allowed = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY}, headers={"Origin": ORIGIN})
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    preflight = client.options(
        _endpoint(server),
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    other = client.get(_endpoint(server), params={"query": OWL_ONTOLOGY}, headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    off = client.get(_endpoint(plain_server), params={"query": OWL_ONTOLOGY}, headers={"Origin": ORIGIN})
    assert off.status_code == 200
    assert "access-control-allow-origin" not in off.headers


def test_health_and_index(server: RunningServer, client: httpx.Client) -> None:
    health = client.get(server.url("/healthz"))
    assert health.status_code == 200 and health.json()["triples"] > 1000
    assert client.get(server.url("/")).json()["sparql"] == "/sparql"
    assert json.loads(client.get(server.url("/openapi.json")).text)["openapi"].startswith("3.")


# -- served patients (--patients DIR) -----------------------------------------------------------


@pytest.fixture(scope="module")
def patients_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    from datetime import date

    from her2kg.resources import examples_dir

    from server_harness import VIGNETTES

    folder = tmp_path_factory.mktemp("patients")
    (folder / "example.ttl").write_text((examples_dir() / "metastatic-first-line.ttl").read_text(encoding="utf-8"))
    vignette = VIGNETTES / "p09-heart-failure.json"
    if vignette.is_file():
        (folder / "p09.json").write_text(vignette.read_text(encoding="utf-8"))
        (folder / "p09.expect.json").write_text((VIGNETTES / "p09-heart-failure.expect.json").read_text(encoding="utf-8"))
    config = ServerConfig(patients_dir=folder, as_of=date(2026, 11, 1), sparql=SparqlSettings(workers=1))
    with running_server(config) as running:
        yield running


@pytest.mark.slow
def test_served_patients_are_reasoned(patients_server: RunningServer, client: httpx.Client) -> None:
    served = patients_server.app.state.served
    assert served.reasoned
    assert "example.ttl" in served.patients
    assert any("not a FHIR Bundle" in note for note in served.notes) or "p09.json" not in served.patients
    assert not any(name in note for note in served.notes for name in ("example", "p09")), "no file names in the log"
    query = """PREFIX h: <https://w3id.org/her2kg/>
    SELECT ?id (COUNT(DISTINCT ?derived) AS ?n) WHERE {
      ?patient h:patientId ?id .
      ?derived h:derivedByRule ?rule .
      FILTER(STRSTARTS(STR(?derived), STR(?patient)))
    } GROUP BY ?id ORDER BY ?id"""
    response = client.post(_endpoint(patients_server), data={"query": query})
    assert response.status_code == 200
    counts = {b["id"]["value"]: int(b["n"]["value"]) for b in response.json()["results"]["bindings"]}
    assert counts.get("example-met-1l", 0) > 0, "the rules' conclusions about the served patient are queryable"
    if "p09.json" in served.patients:
        assert counts.get("p09", 0) > 0
    kb = client.get(_endpoint(patients_server), params={"query": OWL_ONTOLOGY}).json()
    assert kb["results"]["bindings"], "the knowledge base is served next to the patients"
