"""CDS Hooks 2.0.1 over a real socket: the official example requests replayed with prefetch
built from the shared vignettes, signed with test ES384 / RS384 keys."""

from __future__ import annotations

import base64
import copy
import json
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from her2kg.server.config import CdsHooksSettings, FeedbackSettings, Issuer, ServerConfig, SparqlSettings
from her2kg.server.dataset import knowledge_only

from outcome import outcome_error
from server_harness import (
    FHIR_EXAMPLES,
    VIGNETTES,
    RunningServer,
    SigningKey,
    hook_data_from_bundle,
    load_json,
    new_signing_key,
    running_server,
    sign,
)

pytestmark = [
    pytest.mark.shared,  # the CDS Hooks examples of ../shared/fhir-examples
    pytest.mark.slow,  # signs tokens with generated RSA and EC keys and runs a server per module
]

ISS = "https://ehr.test.example/"
OTHER_ISS = "https://other-ehr.test.example/"
PATIENT_VIEW = "her2kg-patient-view"
ORDER_SIGN = "her2kg-order-sign"
SUMMARY_LIMIT = 140
AUDIENCE = "https://cds.example.org"  # the configured public base URL; never taken from the request


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {
        "es": new_signing_key("ES384", "es-1"),
        "rs": new_signing_key("RS384", "rs-1"),
        "stranger": new_signing_key("ES384", "es-1"),  # same kid, different key: must not verify
        "other": new_signing_key("ES384", "other-1"),
    }


@pytest.fixture(scope="module")
def feedback_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "feedback.jsonl"


@pytest.fixture(scope="module")
def server(keys: dict[str, SigningKey], feedback_file: Path) -> Iterator[RunningServer]:
    config = ServerConfig(
        as_of=date(2026, 11, 1),
        sparql=SparqlSettings(workers=1),
        cdshooks=CdsHooksSettings(
            issuers=(
                Issuer(iss=ISS, jwks={"keys": [keys["es"].public_jwk, keys["rs"].public_jwk]}),
                Issuer(iss=OTHER_ISS, jwks={"keys": [keys["other"].public_jwk]}),
            ),
            audience=AUDIENCE,
        ),
        feedback=FeedbackSettings(file=feedback_file),
    )
    with running_server(config, served=knowledge_only()) as running:
        yield running


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=60.0) as http:
        yield http


def _auth(server: RunningServer, path: str, key: SigningKey, **claims: Any) -> dict[str, str]:
    claims.setdefault("iss", ISS)
    claims.setdefault("aud", AUDIENCE + path)
    return {"Authorization": f"Bearer {sign(key, **claims)}"}


def _unsigned(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def _claims(server: RunningServer, path: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISS, "aud": AUDIENCE + path, "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}


def _vignette(name: str) -> dict[str, Any]:
    path = VIGNETTES / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"vignette {name} not available")
    return load_json(path)


def _patient_view_request(vignette: str) -> dict[str, Any]:
    """The specification's patient-view example, with our patient's prefetch."""
    request = copy.deepcopy(load_json(FHIR_EXAMPLES / "cdshooks_request_patient-view.json"))
    patient_id, prefetch, _ = hook_data_from_bundle(_vignette(vignette), drafts_in_context=False)
    request["hookInstance"] = str(uuid.uuid4())
    request["context"]["patientId"] = patient_id
    request["prefetch"] = prefetch
    return request


def _order_sign_request(vignette: str) -> dict[str, Any]:
    """The specification's order-sign example context, with our patient's drafts and prefetch."""
    example = load_json(FHIR_EXAMPLES / "cdshooks_order-sign_context_R4.json")
    patient_id, prefetch, drafts = hook_data_from_bundle(_vignette(vignette), drafts_in_context=True)
    context = copy.deepcopy(example["context"])
    context["patientId"] = patient_id
    context["draftOrders"] = drafts
    return {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}


def _check_card(card: dict[str, Any]) -> None:
    assert card["summary"] and len(card["summary"]) < SUMMARY_LIMIT
    assert card["indicator"] in ("info", "warning", "critical")
    assert card["source"]["label"]
    uuid.UUID(card["uuid"])
    for suggestion in card.get("suggestions", []):
        uuid.UUID(suggestion["uuid"])
        assert suggestion["label"]
        assert card["selectionBehavior"] in ("at-most-one", "any")
        for action in suggestion["actions"]:
            assert action["type"] in ("create", "update", "delete") and action["description"]
    for reason in card.get("overrideReasons", []):
        assert reason["display"] and reason["code"]


# -- discovery ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_discovery_lists_both_services(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    response = client.get(server.url("/cds-services"), headers=_auth(server, "/cds-services", keys["es"]))
    assert response.status_code == 200
    services = {s["id"]: s for s in response.json()["services"]}
    assert services[PATIENT_VIEW]["hook"] == "patient-view"
    assert services[ORDER_SIGN]["hook"] == "order-sign"
    for service in services.values():
        assert service["description"] and service["title"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert prefetch["conditions"] == "Condition?patient={{context.patientId}}"
        assert prefetch["observations"] == "Observation?patient={{context.patientId}}"
        assert prefetch["medicationRequests"] == "MedicationRequest?patient={{context.patientId}}"
        assert prefetch["medicationStatements"] == "MedicationStatement?patient={{context.patientId}}"
        assert prefetch["procedures"] == "Procedure?patient={{context.patientId}}"


def test_discovery_needs_a_token(server: RunningServer, client: httpx.Client) -> None:
    response = client.get(server.url("/cds-services"))
    assert response.status_code == 401
    assert outcome_error(response)[0] == "invalid_token"
    assert response.headers["www-authenticate"].startswith("Bearer")


# -- services -----------------------------------------------------------------------------------


def test_patient_view_replays_the_official_example(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    response = client.post(server.url(path), json=_patient_view_request("p01-met-first-line"), headers=_auth(server, path, keys["es"]))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    assert cards, "a HER2 patient's record gives at least one card"
    for card in cards:
        _check_card(card)


def _cards(server: RunningServer, client: httpx.Client, key: SigningKey, request: dict[str, Any]) -> list[dict[str, Any]]:
    service = PATIENT_VIEW if request["hook"] == "patient-view" else ORDER_SIGN
    path = f"/cds-services/{service}"
    response = client.post(server.url(path), json=request, headers=_auth(server, path, key))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    for card in cards:
        _check_card(card)
    return cards


def test_patient_view_permitted_regimens_card(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    cards = _cards(server, client, keys["es"], _patient_view_request("p01-met-first-line"))
    info = [c for c in cards if c["indicator"] == "info" and "permitted" in c["summary"]]
    assert len(info) == 1
    card = info[0]
    assert "pertuzumab" in card["detail"] and "preferred" in card["detail"]
    assert card["source"]["label"] != "" and card["source"].get("url", "https://").startswith("https://")
    assert not [c for c in cards if c["indicator"] == "critical"]


def test_patient_view_forbidden_regimens_card(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    cards = _cards(server, client, keys["es"], _patient_view_request("p09-heart-failure"))
    warnings = [c for c in cards if c["indicator"] == "warning" and "excluded" in c["summary"]]
    assert len(warnings) == 1
    assert "heart failure" in warnings[0]["detail"]


def test_patient_view_of_the_official_example_patient_says_nothing(
    server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]
) -> None:
    """The specification's example patient has no breast cancer record: no card."""
    request = load_json(FHIR_EXAMPLES / "cdshooks_request_patient-view.json")
    request["prefetch"] = {"patient": request["prefetch"]["patientToGreet"]}
    request["prefetch"].update({k: None for k in ("conditions", "observations", "medicationRequests",
                                                  "medicationStatements", "medicationAdministrations", "procedures")})
    assert _cards(server, client, keys["es"], request) == []


def test_order_sign_forbidden_plan_gives_a_critical_card_with_delete(
    server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]
) -> None:
    path = f"/cds-services/{ORDER_SIGN}"
    request = _order_sign_request("p10-proposed-anthracycline-trastuzumab")
    draft_ids = {f"MedicationRequest/{e['resource']['id']}" for e in request["context"]["draftOrders"]["entry"]}
    trastuzumab = next(
        f"MedicationRequest/{e['resource']['id']}"
        for e in request["context"]["draftOrders"]["entry"]
        if e["resource"]["medicationCodeableConcept"]["coding"][0]["code"] == "224905"
    )
    response = client.post(server.url(path), json=request, headers=_auth(server, path, keys["rs"]))
    assert response.status_code == 200, response.text
    cards = response.json()["cards"]
    for card in cards:
        _check_card(card)
    critical = [c for c in cards if c["indicator"] == "critical"]
    assert len(critical) == 1
    card = critical[0]
    assert "anthracycline" in card["detail"].lower()
    assert card["source"]["label"]
    deleted = {a["resourceId"] for s in card["suggestions"] for a in s["actions"] if a["type"] == "delete"}
    assert trastuzumab in deleted
    assert deleted <= draft_ids
    assert any(len(s["actions"]) == 1 and s["actions"][0]["resourceId"] == trastuzumab for s in card["suggestions"])


def test_order_sign_official_example_orders_give_no_card(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    """The specification's example (amoxicillin and a diet) is outside her2kg: nothing to say."""
    example = load_json(FHIR_EXAMPLES / "cdshooks_order-sign_context_R4.json")
    patient = load_json(FHIR_EXAMPLES / "cdshooks_request_patient-view.json")["prefetch"]["patientToGreet"]
    prefetch = {key: None for key in ("conditions", "observations", "medicationRequests", "medicationStatements",
                                      "medicationAdministrations", "procedures")}
    prefetch["patient"] = patient
    request = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "context": example["context"], "prefetch": prefetch}
    path = f"/cds-services/{ORDER_SIGN}"
    response = client.post(server.url(path), json=request, headers=_auth(server, path, keys["es"]))
    assert response.status_code == 200, response.text
    assert response.json() == {"cards": []}


def test_missing_prefetch_is_412(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    request = load_json(FHIR_EXAMPLES / "cdshooks_request_patient-view.json")  # prefetches only the patient
    request["hook"] = "patient-view"
    response = client.post(server.url(path), json=request, headers=_auth(server, path, keys["es"]))
    assert response.status_code == 412
    code, message = outcome_error(response)
    assert code == "prefetch-missing" and "observations" in message


def test_wrong_hook_and_unknown_service(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{ORDER_SIGN}"
    request = _patient_view_request("p01-met-first-line")  # a patient-view request to the order-sign service
    response = client.post(server.url(path), json=request, headers=_auth(server, path, keys["es"]))
    assert response.status_code == 400
    unknown = "/cds-services/no-such-service"
    response = client.post(server.url(unknown), json=request, headers=_auth(server, unknown, keys["es"]))
    assert response.status_code == 404


# -- security -----------------------------------------------------------------------------------


def _call(server: RunningServer, client: httpx.Client, token: str) -> httpx.Response:
    path = f"/cds-services/{PATIENT_VIEW}"
    return client.post(
        server.url(path), json=_patient_view_request("p01-met-first-line"), headers={"Authorization": f"Bearer {token}"}
    )


def test_valid_tokens_es384_and_rs384(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    for key in (keys["es"], keys["rs"]):
        assert _call(server, client, sign(key, iss=ISS, aud=AUDIENCE + path)).status_code == 200
    assert _call(server, client, sign(keys["other"], iss=OTHER_ISS, aud=[AUDIENCE + path, "https://x.example"])).status_code == 200


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("expired", "expired"),
        ("wrong-audience", "aud"),
        ("unsigned", "alg"),
        ("hs256", "alg"),
        ("unknown-issuer", "issuer"),
        ("unknown-kid", "kid"),
        ("other-issuers-key", "kid"),
        ("wrong-key-same-kid", "signature"),
        ("no-jti", "jti"),
        ("future-iat", "iat"),
        ("too-long-lived", "lives"),
        ("typ", "typ"),
    ],
)
def test_invalid_tokens_are_401(
    server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey], case: str, message: str
) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    aud = AUDIENCE + path
    now = int(time.time())
    es = keys["es"]
    if case == "expired":
        token = sign(es, iss=ISS, aud=aud, iat=now - 600, exp=now - 300)
    elif case == "wrong-audience":
        official = load_json(FHIR_EXAMPLES / "cdshooks_jwt-payload.json")
        token = sign(es, iss=ISS, aud=official["aud"])
    elif case == "unsigned":
        token = _unsigned(_claims(server, path), {"alg": "none", "typ": "JWT", "kid": "es-1"})
    elif case == "hs256":
        token = jwt.encode(_claims(server, path), "a-shared-secret-of-enough-length-1234", algorithm="HS256", headers={"kid": "es-1"})
    elif case == "unknown-issuer":
        token = sign(es, iss="https://unknown.example/", aud=aud)
    elif case == "unknown-kid":
        token = sign(new_signing_key("ES384", "nobody"), iss=ISS, aud=aud)
    elif case == "other-issuers-key":
        token = sign(keys["other"], iss=ISS, aud=aud)
    elif case == "wrong-key-same-kid":
        token = sign(keys["stranger"], iss=ISS, aud=aud)
    elif case == "no-jti":
        token = jwt.encode({k: v for k, v in _claims(server, path).items() if k != "jti"}, es.private_key, algorithm="ES384", headers={"kid": "es-1"})
    elif case == "future-iat":
        token = sign(es, iss=ISS, aud=aud, iat=now + 3600, exp=now + 3900)
    elif case == "too-long-lived":
        token = sign(es, iss=ISS, aud=aud, exp=now + 30 * 86400)
    else:
        token = jwt.encode(_claims(server, path), es.private_key, algorithm="ES384", headers={"kid": "es-1", "typ": "at+jwt"})
    response = _call(server, client, token)
    assert response.status_code == 401, response.text
    code, text = outcome_error(response)
    assert code == "invalid_token"
    assert message in text


def test_replayed_token_is_refused(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    token = sign(keys["es"], iss=ISS, aud=AUDIENCE + path)
    assert _call(server, client, token).status_code == 200
    replay = _call(server, client, token)
    assert replay.status_code == 401
    assert "replay" in outcome_error(replay)[1]


def test_audience_of_another_service_is_refused(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    token = sign(keys["es"], iss=ISS, aud=AUDIENCE + f"/cds-services/{ORDER_SIGN}")
    assert _call(server, client, token).status_code == 401


# -- feedback -----------------------------------------------------------------------------------


def test_feedback_is_recorded(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey], feedback_file: Path) -> None:
    path = f"/cds-services/{ORDER_SIGN}/feedback"
    before = feedback_file.read_text().splitlines() if feedback_file.exists() else []
    for name in ("cdshooks_feedback_accepted.json", "cdshooks_feedback_overridden-with-reason.json"):
        response = client.post(server.url(path), json=load_json(FHIR_EXAMPLES / name), headers=_auth(server, path, keys["es"]))
        assert response.status_code == 200, response.text
        assert response.json() == {"received": 1, "recorded": 1}
    lines = [json.loads(line) for line in feedback_file.read_text().splitlines()[len(before):]]
    assert [line["outcome"] for line in lines] == ["accepted", "overridden"]
    assert lines[0]["acceptedSuggestions"] == ["e56e1945-20b3-4393-8503-a1a20fd73152"]
    assert lines[1]["overrideReason"]["reason"]["code"] == "d7ecf885"
    assert lines[1]["overrideReason"]["userComment"] == "A comment entered by the clinician."
    assert all(line["service"] == ORDER_SIGN and line["issuer"] == ISS for line in lines)


def test_invalid_feedback_is_400_and_needs_a_token(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]) -> None:
    path = f"/cds-services/{ORDER_SIGN}/feedback"
    bad = {"feedback": [{"card": "x", "outcome": "liked", "outcomeTimestamp": "2020-12-11T00:00:00Z"}]}
    response = client.post(server.url(path), json=bad, headers=_auth(server, path, keys["es"]))
    assert response.status_code == 400
    assert "outcome" in outcome_error(response)[1]
    accepted = load_json(FHIR_EXAMPLES / "cdshooks_feedback_accepted.json")
    assert client.post(server.url(path), json=accepted).status_code == 401


# -- hardening ------------------------------------------------------------------------------------


def test_a_token_for_the_url_a_spoofed_host_shows_is_refused(
    server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey]
) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    spoofed = "http://evil.example" + path  # what a Host-derived audience would expect
    token = sign(keys["es"], iss=ISS, aud=spoofed)
    response = client.post(
        server.url(path),
        json=_patient_view_request("p01-met-first-line"),
        headers={"Authorization": f"Bearer {token}", "Host": "evil.example"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('{"hook": "patient-view", "hook": "order-sign"}', "twice"),
        ('{"hook": "patient-view", "x": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
        ('{"hook": "patient-view", "x": 1' + "0" * 5000 + "}", "out of range"),
    ],
)
def test_hostile_json_is_400_not_500(
    server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey], body: str, what: str
) -> None:
    path = f"/cds-services/{PATIENT_VIEW}"
    response = client.post(
        server.url(path), content=body, headers={**_auth(server, path, keys["es"]), "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert what in outcome_error(response)[1]


def test_feedback_file_is_private(server: RunningServer, client: httpx.Client, keys: dict[str, SigningKey], feedback_file: Path) -> None:
    path = f"/cds-services/{ORDER_SIGN}/feedback"
    response = client.post(
        server.url(path), json=load_json(FHIR_EXAMPLES / "cdshooks_feedback_accepted.json"), headers=_auth(server, path, keys["es"])
    )
    assert response.status_code == 200
    assert feedback_file.stat().st_mode & 0o777 == 0o600


def test_a_plan_no_rule_judges_gets_an_info_card() -> None:
    from her2kg.report.model import Component, Drug, KnowledgeBaseRef, ProposedPlan, Report
    from her2kg.server.cds_cards import order_sign_cards
    from her2kg.server.cds_services import DraftOrder

    drug = Drug(id="https://w3id.org/her2kg/exampledrug", label="exampledrug", ncit="C0", rxnorm="1")
    draft = DraftOrder(reference="MedicationRequest/1", rxnorm=("1",), label="exampledrug")

    def card_for(verdict: str) -> dict[str, Any]:
        plan = ProposedPlan(id="plan-1", components=(Component(drug=drug),), verdict=verdict)
        report = Report(patient="p", knowledge_base=KnowledgeBaseRef("0", "urn:kb"), as_of="2026-11-01", proposed=(plan,))
        (card,) = order_sign_cards(report, [draft])
        return card

    covered = card_for("not-covered")
    assert covered["indicator"] == "info"
    assert "no rule" in covered["summary"] and "permitted" not in covered["summary"]
    assert len(covered["summary"]) < SUMMARY_LIMIT
    assert card_for("not-recommended")["indicator"] == "warning"  # near miss: a judged plan keeps its card
