"""Unit tests of the SPARQL request guard, content negotiation and the server configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from her2kg.server import negotiation
from her2kg.server.config import ConfigError, config_from_mapping, load_config
from her2kg.server.sparql_guard import RefusedRequest, inspect_query, inspect_update

REFUSED_QUERIES = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { sErViCe SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { ?a ?b ?c . { SELECT ?s WHERE { SERVICE ?endpoint { ?s ?p ?o } } } }",
    "SELECT*WHERE{SERVICE<http://127.0.0.1:9/>{?s?p?o}}",
    "PREFIX ex: <http://example.org/>\nSELECT * WHERE { # a comment\n SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * FROM <http://127.0.0.1:9/remote.ttl> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://127.0.0.1:9/remote.ttl> WHERE { GRAPH ?g { ?s ?p ?o } }",
    "ASK from <http://127.0.0.1:9/remote.ttl> { ?s ?p ?o }",
    "CONSTRUCT { ?s ?p ?o } WHERE { OPTIONAL { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } } }",
    # a SPARQL \\u escape spelling SERVICE
    "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    # a string whose escape would hide the keyword under one reading of the escapes
    'SELECT * WHERE { BIND("\\u0022" AS ?x) SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }',
]

ALLOWED_QUERIES = [
    ('SELECT * WHERE { ?s ?p "SERVICE <http://127.0.0.1:9/>" }', "SELECT"),
    ("SELECT * WHERE { ?s ?p ?o } # SERVICE <http://127.0.0.1:9/> in a comment", "SELECT"),
    ("PREFIX service: <http://example.org/service/>\nSELECT * WHERE { ?s service:load ?from }", "SELECT"),
    ("SELECT ?service ?load ?from WHERE { ?service ?load ?from }", "SELECT"),
    ("SELECT * WHERE { <http://example.org/SERVICE> ?p ?o }", "SELECT"),
    ("SELECT * WHERE { ?s ?p \"\"\"multi\nline SERVICE\nLOAD\"\"\" }", "SELECT"),
    ('SELECT * WHERE { ?s ?p "x"@service }', "SELECT"),
    ("ASK { ?s ?p ?o }", "ASK"),
    ("PREFIX h: <https://w3id.org/her2kg/>\nconstruct { ?s ?p ?o } where { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE <https://w3id.org/her2kg/trastuzumab>", "DESCRIBE"),
]

REFUSED_UPDATES = [
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "load silent <http://127.0.0.1:9/data.ttl> INTO GRAPH <urn:g>",
    "INSERT DATA { <urn:a> <urn:b> <urn:c> } ; LOAD <http://127.0.0.1:9/x>",
    "DELETE { ?s ?p ?o } USING <http://127.0.0.1:9/x> WHERE { ?s ?p ?o }",
    "INSERT { ?s ?p ?o } WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
]


@pytest.mark.parametrize("text", REFUSED_QUERIES)
def test_queries_that_fetch_urls_are_refused(text: str) -> None:
    with pytest.raises(RefusedRequest):
        inspect_query(text)


@pytest.mark.parametrize(("text", "form"), ALLOWED_QUERIES)
def test_keywords_inside_strings_names_and_comments_are_allowed(text: str, form: str) -> None:
    assert inspect_query(text).form == form


@pytest.mark.parametrize("text", REFUSED_UPDATES)
def test_updates_that_fetch_urls_are_refused(text: str) -> None:
    with pytest.raises(RefusedRequest):
        inspect_update(text)


def test_an_update_sent_as_a_query_is_refused_with_advice() -> None:
    with pytest.raises(RefusedRequest, match="read-only"):
        inspect_query("INSERT DATA { <urn:a> <urn:b> <urn:c> }")


def test_refusal_messages_say_what_to_do() -> None:
    with pytest.raises(RefusedRequest, match="never fetches documents from URLs"):
        inspect_update("LOAD <http://127.0.0.1:9/x>")


@pytest.mark.parametrize(
    ("accept", "offered", "expected"),
    [
        (None, negotiation.RESULT_TYPES, negotiation.RESULTS_JSON),
        ("*/*", negotiation.RESULT_TYPES, negotiation.RESULTS_JSON),
        ("text/csv", negotiation.RESULT_TYPES, negotiation.CSV),
        ("application/sparql-results+xml;q=0.5, text/tab-separated-values", negotiation.RESULT_TYPES, negotiation.TSV),
        ("application/json", negotiation.RESULT_TYPES, negotiation.RESULTS_JSON),
        ("text/*", negotiation.RESULT_TYPES, negotiation.CSV),
        ("text/turtle", negotiation.RESULT_TYPES, None),
        ("application/ld+json, text/turtle;q=0.2", negotiation.GRAPH_TYPES, negotiation.JSON_LD),
        ("application/rdf+xml", negotiation.GRAPH_TYPES, negotiation.RDF_XML),
        ("text/csv;q=0, */*;q=0.1", negotiation.RESULT_TYPES, negotiation.RESULTS_JSON),
    ],
)
def test_content_negotiation(accept: str | None, offered: tuple[str, ...], expected: str | None) -> None:
    assert negotiation.choose(accept, offered) == expected


def test_config_defaults_are_safe() -> None:
    config = load_config(None)
    assert config.host == "127.0.0.1"
    assert not hasattr(config.sparql, "update_token")  # the endpoint is read-only
    assert config.cors.allow_origins == ()
    assert config.cdshooks.issuers == ()
    assert config.sparql.timeout_seconds == 10.0


def test_config_file_is_read(tmp_path: Path) -> None:
    jwks = tmp_path / "client.jwks.json"
    jwks.write_text(
        '{"keys": [{"kty": "EC", "crv": "P-384", "kid": "k1", "alg": "ES384", '
        '"x": "46SDH7Znh821wblCBglA61sNE9ZrHYKKt3qRtRTmSXyOI_FIGBLWrWa0GPUkDCEk", '
        '"y": "XMcRuuoGW7CXjQdy-F5i3FeBE0x9hPLdeFdSoDd3ELmx404tLX0VRRcqzAsPhXcI"}]}'
    )
    path = tmp_path / "server.toml"
    path.write_text(
        """
[server]
as_of = 2026-11-01
[sparql]
timeout_seconds = 2.5
max_results = 100
[cors]
allow_origins = ["http://localhost:3000"]
[cdshooks]
audience = "https://cds.example.org/"
issuers = [{iss = "https://ehr.example.org/", jwks_file = "client.jwks.json"}]
[feedback]
file = "feedback.jsonl"
"""
    )
    config = load_config(path)
    assert config.as_of == date(2026, 11, 1)
    assert config.sparql.timeout_seconds == 2.5 and config.sparql.max_results == 100
    assert config.cors.allow_origins == ("http://localhost:3000",)
    assert config.cdshooks.audience == "https://cds.example.org"
    assert config.cdshooks.issuers[0].jwks["keys"][0]["kid"] == "k1"
    assert config.feedback.file == tmp_path / "feedback.jsonl"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"sparql": {"timeout": 3}}, "unknown key `timeout`"),
        ({"sparql": {"update_token": "s3cret"}}, "unknown key `update_token`"),
        ({"server": {"prot": 80}}, r"\[server\] unknown key `prot`"),
        ({"server": {"port": True}}, r"\[server\] `port` must be an integer"),
        ({"recommend": {"concurrency": 0}}, r"\[recommend\] `concurrency` is 0; it must be at least 1"),
        ({"sparql": {"timeout_seconds": "10"}}, r"\[sparql\] `timeout_seconds` must be a number"),
        ({"cors": {"allow_origins": "http://a"}}, r"\[cors\] `allow_origins` must be a list"),
        ({"cdshooks": {"audience": "https://a", "issuers": [{"iss": "x", "jwks": {"keys": [{"kty": "EC", "kid": "k"}]}, "kidd": 1}]}}, r"\[cdshooks.issuers\[0\]\] unknown key `kidd`"),
        ({"spqrql": {}}, "unknown section `spqrql`"),
        ({"sparql": {"max_results": "many"}}, "must be an integer"),
        ({"cdshooks": {"issuers": [{"iss": "x"}]}}, "exactly one of `jwks_file`"),
        (
            {"cdshooks": {"issuers": [{"iss": "x", "jwks": {"keys": [{"kty": "oct", "kid": "h", "k": "c2VjcmV0"}]}}]}},
            "symmetric keys are refused",
        ),
    ],
)
def test_config_errors_name_the_key(raw: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_mapping(raw, base_dir=tmp_path)
