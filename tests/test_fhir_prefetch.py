"""CDS Hooks prefetch that is not the whole record: what is missing is fetched from the request's
FHIR server (a test double on loopback that implements FHIR search paging and bearer tokens),
or the call is refused (412), never read as an empty history."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from her2kg.fhir import import_bundle, load_code_mapping
from her2kg.server.cds_services import PrefetchMissing, read_hook_request, service_by_id
from her2kg.server.prefetch import FetchLimits, PrefetchUnavailable, complete_prefetch

TOKEN = "secret-token"
PID = "pf-1"
KEYS = ("conditions", "observations", "medicationRequests", "medicationStatements", "medicationAdministrations", "procedures")


def _observation(n: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"lvef-{n}",
        "status": "final",
        "subject": {"reference": f"Patient/{PID}"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "10230-1"}]},
        "effectiveDateTime": f"2024-01-{n:02d}",
        "valueQuantity": {"value": 50 + n, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
    }


class FhirDouble:
    """A FHIR search server: Patient read, `Type?patient=` searches paged by _count, bearer tokens."""

    def __init__(self) -> None:
        self.data: dict[str, list[dict[str, Any]]] = {
            "Patient": [{"resourceType": "Patient", "id": PID}],
            "Observation": [_observation(n) for n in range(1, 8)],
        }
        self.requests: list[tuple[str, dict[str, list[str]], str | None]] = []
        self.endless = False
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                double.requests.append((url.path, query, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"resourceType": "OperationOutcome"})
                parts = url.path.removeprefix("/fhir/").split("/")
                if len(parts) == 2:  # read
                    found = [r for r in double.data.get(parts[0], []) if r["id"] == parts[1]]
                    return self._send(200, found[0]) if found else self._send(404, {"resourceType": "OperationOutcome"})
                resources = [r for r in double.data.get(parts[0], [])]
                count = int(query.get("_count", ["10"])[0])
                page = int(query.get("page", ["0"])[0])
                chunk = resources[page * count : (page + 1) * count]
                bundle: dict[str, Any] = {
                    "resourceType": "Bundle",
                    "type": "searchset",
                    "entry": [{"resource": r, "search": {"mode": "match"}} for r in chunk],
                }
                if (page + 1) * count < len(resources) or double.endless:
                    bundle["link"] = [{"relation": "next", "url": f"{double.base}/{parts[0]}?patient={PID}&_count={count}&page={page + 1}"}]
                return self._send(200, bundle)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/fhir"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fhir_server() -> Iterator[FhirDouble]:
    double = FhirDouble()
    yield double
    double.close()


@pytest.fixture()
def fhir(fhir_server: FhirDouble) -> FhirDouble:
    fhir_server.requests.clear()
    fhir_server.endless = False
    return fhir_server


def request(fhir: FhirDouble | None, **prefetch: Any) -> dict[str, Any]:
    full: dict[str, Any] = {"patient": {"resourceType": "Patient", "id": PID}, **{k: None for k in KEYS}}
    full.update(prefetch)
    body: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"patientId": PID, "userId": "Practitioner/1"},
        "prefetch": {k: v for k, v in full.items() if v is not _ABSENT},
    }
    if fhir is not None:
        body["fhirServer"] = fhir.base
        body["fhirAuthorization"] = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.read", "subject": "her2kg"}
    return body


_ABSENT = object()
SERVICE = service_by_id("her2kg-patient-view")


def observation_ids(body: dict[str, Any]) -> list[str]:
    assert SERVICE is not None
    bundle = read_hook_request(SERVICE, body).bundle
    return sorted(e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation")


def first_page(fhir: FhirDouble) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [{"resource": _observation(n)} for n in (1, 2, 3)],
        "link": [{"relation": "next", "url": f"{fhir.base}/Observation?patient={PID}&_count=3&page=1"}],
    }


ALL = [f"lvef-{n}" for n in range(1, 8)]


def test_a_paginated_prefetch_is_completed_by_following_next_links(fhir: FhirDouble) -> None:
    assert observation_ids(request(fhir, observations=first_page(fhir))) == ALL
    assert [r[0] for r in fhir.requests] == ["/fhir/Observation", "/fhir/Observation"]  # pages 2 and 3
    assert all(auth == f"Bearer {TOKEN}" for _, _, auth in fhir.requests)


@pytest.mark.parametrize("value", [{"resourceType": "OperationOutcome", "issue": []}, _ABSENT])
def test_an_operation_outcome_or_a_missing_key_is_fetched_with_count(fhir: FhirDouble, value: Any) -> None:
    assert observation_ids(request(fhir, observations=value)) == ALL
    path, query, _ = fhir.requests[0]
    assert path == "/fhir/Observation" and query["patient"] == [PID] and query["_count"] == ["100"]


def test_a_complete_prefetch_queries_nothing(fhir: FhirDouble) -> None:
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": _observation(1)}]}
    assert observation_ids(request(fhir, observations=page)) == ["lvef-1"]
    assert fhir.requests == []


@pytest.mark.parametrize("shape", ["outcome", "paginated", "absent"])
def test_without_fhir_server_incomplete_prefetch_is_412(fhir: FhirDouble, shape: str) -> None:
    value = {"outcome": {"resourceType": "OperationOutcome"}, "paginated": first_page(fhir), "absent": _ABSENT}[shape]
    assert SERVICE is not None
    with pytest.raises(PrefetchMissing) as caught:
        read_hook_request(SERVICE, request(None, observations=value))
    assert caught.value.keys == ["observations"]
    assert "fhirServer" in str(caught.value)


def test_a_refused_token_is_412_naming_the_key(fhir: FhirDouble) -> None:
    body = request(fhir, observations=_ABSENT)
    body["fhirAuthorization"]["access_token"] = "wrong"
    assert SERVICE is not None
    with pytest.raises(PrefetchMissing, match="HTTP 401") as caught:
        read_hook_request(SERVICE, body)
    assert caught.value.keys == ["observations"]


def test_a_next_link_elsewhere_is_not_given_the_token(fhir: FhirDouble) -> None:
    page = first_page(fhir)
    page["link"] = [{"relation": "next", "url": "https://elsewhere.example/fhir/Observation?page=1"}]
    assert observation_ids(request(fhir, observations=page)) == ALL  # searched again on fhirServer
    assert [r[0] for r in fhir.requests] == ["/fhir/Observation"]


def test_paging_is_bounded(fhir: FhirDouble) -> None:
    fhir.endless = True
    with pytest.raises(PrefetchUnavailable, match="more than 3 pages"):
        complete_prefetch(
            {"observations": "Observation?patient={{context.patientId}}"},
            {"observations": {"resourceType": "OperationOutcome"}},
            {"patientId": PID},
            fhir_server=fhir.base,
            authorization={"access_token": TOKEN, "token_type": "Bearer"},
            limits=FetchLimits(max_pages=3, page_size=2),
        )


@pytest.mark.parametrize(
    ("server", "message"),
    [("http://fhir.example.org/fhir", "https"), ("ftp://127.0.0.1/fhir", "http")],
)
def test_only_https_or_loopback_servers_are_queried(server: str, message: str) -> None:
    body = request(None, observations=_ABSENT)
    body["fhirServer"] = server
    assert SERVICE is not None
    with pytest.raises(PrefetchMissing, match=message):
        read_hook_request(SERVICE, body)


def test_the_assembled_bundle_names_entries_by_type_and_id(fhir: FhirDouble) -> None:
    assert SERVICE is not None
    lvef = _observation(1)
    del lvef["valueQuantity"]  # an LVEF without value: an error naming the entry
    page = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": lvef}]}
    bundle = read_hook_request(SERVICE, request(fhir, observations=page)).bundle
    result = import_bundle(bundle, mapping=load_code_mapping(), source="cds-patient-view")
    assert [e.message.split(": ", 1)[0] for e in result.errors] == ["Observation/lvef-1"]
    assert "Bundle.entry" not in json.dumps([n.message for n in (*result.errors, *result.warnings)])


@pytest.mark.slow
def test_a_patient_that_is_an_operation_outcome_is_read_from_the_server(fhir: FhirDouble) -> None:
    assert SERVICE is not None
    body = request(fhir, patient={"resourceType": "OperationOutcome", "issue": []})
    bundle = read_hook_request(SERVICE, body).bundle
    assert bundle["entry"][0]["resource"] == {"resourceType": "Patient", "id": PID}
    assert [r[0] for r in fhir.requests] == [f"/fhir/Patient/{PID}"]
