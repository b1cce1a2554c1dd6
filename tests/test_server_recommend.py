"""`POST /recommend` over a real socket, its OpenAPI document, and a bounded fuzzing run."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from her2kg.resources import examples_dir
from her2kg.server.config import RecommendSettings, ServerConfig, SparqlSettings
from her2kg.server.dataset import knowledge_only

from outcome import outcome_error
from server_harness import VIGNETTES, RunningServer, load_json, running_server

MAX_BODY = 400_000


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    config = ServerConfig(
        as_of=date(2026, 11, 1),
        sparql=SparqlSettings(workers=1),
        recommend=RecommendSettings(max_body_bytes=MAX_BODY, concurrency=2),
    )
    with running_server(config, served=knowledge_only()) as running:
        yield running


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60.0) as http:
        yield http


def _vignette(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    path = VIGNETTES / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"vignette {name} not available")
    return load_json(path), load_json(VIGNETTES / f"{name}.expect.json")


@pytest.mark.slow
def test_turtle_patient(server: RunningServer, client: httpx.Client) -> None:
    text = (examples_dir() / "metastatic-first-line.ttl").read_text(encoding="utf-8")
    response = client.post(
        server.url("/recommend"), content=text, params={"as_of": "2026-11-01"}, headers={"Content-Type": "text/turtle"}
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["patient"] == "example-met-1l"
    assert report["as_of"] == "2026-11-01"
    assert report["situation"]["setting"] == "metastatic"
    assert report["permitted"] and report["errors"] == []


@pytest.mark.slow
@pytest.mark.parametrize("media_type", ["application/fhir+json", "application/json", "application/fhir+json; charset=utf-8"])
def test_fhir_bundle_gives_the_same_report_as_the_command_line(
    server: RunningServer, client: httpx.Client, media_type: str
) -> None:
    from her2kg.pipeline import recommend_texts

    bundle, expect = _vignette("p10-proposed-anthracycline-trastuzumab")
    body = json.dumps(bundle)
    response = client.post(
        server.url("/recommend"), content=body, params={"as_of": expect["as_of"]}, headers={"Content-Type": media_type}
    )
    direct = recommend_texts([("request", "fhir-json", body)], as_of=date.fromisoformat(expect["as_of"]))[0]
    assert response.status_code == (200 if direct.ok else 400)
    report = response.json()
    assert report["proposed"][0]["verdict"] in expect["proposed_verdict"]
    assert report == json.loads(json.dumps(direct.to_json()))


def test_unavailable_is_repeatable(server: RunningServer, client: httpx.Client) -> None:
    text = (examples_dir() / "metastatic-first-line.ttl").read_text(encoding="utf-8")
    response = client.post(
        server.url("/recommend"),
        content=text,
        params=[("as_of", "2026-11-01"), ("unavailable", "pertuzumab"), ("unavailable", "C128799")],
        headers={"Content-Type": "text/turtle"},
    )
    assert response.status_code == 200, response.text
    for regimen in response.json()["permitted"]:
        drugs = {c["drug"]["ncit"] for c in regimen["components"] if "drug" in c}
        assert "C128799" not in drugs  # trastuzumab deruxtecan
        assert "C38692" not in drugs  # pertuzumab
    unknown = client.post(
        server.url("/recommend"), content=text, params={"unavailable": "no-such-drug"}, headers={"Content-Type": "text/turtle"}
    )
    assert unknown.status_code == 400
    assert "no-such-drug" in outcome_error(unknown)[1]


@pytest.mark.parametrize(
    ("content", "media_type", "params", "status", "code"),
    [
        ("{not json", "application/fhir+json", {}, 400, "unreadable-input"),
        ('{"resourceType": "Patient"}', "application/fhir+json", {}, 400, "unreadable-input"),
        ("[]", "application/json", {}, 400, "unreadable-input"),
        ("", "text/turtle", {}, 400, "unreadable-input"),
        ("x", "text/plain", {}, 415, "unsupported-media-type"),
        ('{"resourceType": "Bundle"}', "application/fhir+json", {"as_of": "01/11/2026"}, 400, "invalid-parameter"),
        ('{"resourceType": "Bundle"}', "application/fhir+json", {"unavailable": "<script>"}, 400, "invalid-parameter"),
    ],
)
def test_bad_input_is_an_operation_outcome(
    server: RunningServer, client: httpx.Client, content: str, media_type: str, params: dict[str, str], status: int, code: str
) -> None:
    response = client.post(server.url("/recommend"), content=content, params=params, headers={"Content-Type": media_type})
    assert response.status_code == status
    got, message = outcome_error(response)
    assert got == code and message


def test_incomplete_record_is_400_with_the_report(server: RunningServer, client: httpx.Client) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "id": "x"}}]}
    response = client.post(server.url("/recommend"), json=bundle, params={"as_of": "2026-11-01"})
    assert response.status_code == 400
    report = response.json()
    assert report["errors"] and report["permitted"] == []


def test_body_over_the_limit_is_413(server: RunningServer, client: httpx.Client) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [], "padding": "x" * MAX_BODY}
    response = client.post(server.url("/recommend"), json=bundle)
    assert response.status_code == 413
    assert "max_body_bytes" in outcome_error(response)[1]


def test_get_is_not_allowed(server: RunningServer, client: httpx.Client) -> None:
    assert client.get(server.url("/recommend")).status_code == 405


def test_openapi_document_describes_the_endpoints(server: RunningServer, client: httpx.Client) -> None:
    document = client.get(server.url("/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    operation = document["paths"]["/recommend"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/fhir+json", "application/json", "text/turtle"}
    assert {p["name"] for p in operation["parameters"]} == {"as_of", "unavailable"}
    assert {"200", "400", "413", "415"} <= set(operation["responses"])
    assert {"/sparql", "/cds-services", "/cds-services/{service_id}"} <= set(document["paths"])


# -- fuzzing: schemathesis generates requests from the OpenAPI document --------------------------

# per generation mode: 200 requests in all by default; CI's larger budget (HER2KG_FUZZ_EXAMPLES)
# raises it, to at most 500 per mode
FUZZ_EXAMPLES = min(500, max(100, int(os.environ.get("HER2KG_FUZZ_EXAMPLES", "0") or 0) // 4))


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_fuzz_recommend_finds_no_server_error(server: RunningServer, mode: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import (
        content_type_conformance,
        negative_data_rejection,
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(server.url("/openapi.json"))
    operation = schema["/recommend"]["POST"]
    generation_mode = schemathesis.GenerationMode(mode)
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    if mode == "negative":
        checks.append(negative_data_rejection)

    statuses: dict[int, int] = {}

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode))
    def fuzz(case: Any) -> None:
        response = case.call_and_validate(base_url=server.base_url, checks=checks)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    fuzz()
    assert sum(statuses.values()) >= FUZZ_EXAMPLES // 2, statuses
    assert not any(status >= 500 for status in statuses), statuses
