"""One source for the contract: the JSON report, its JSON Schema, the OpenAPI document and
docs/report.md all come from, or are checked against, the declaration in
`her2kg.report.json_shape`; the configuration's defaults are those docs/security.md lists;
errors of the JSON endpoints are FHIR OperationOutcome resources."""

from __future__ import annotations

import json
import re
import typing
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from shared_files import SHARED_DIR
from her2kg.pipeline import recommend_files, recommend_texts
from her2kg.report import json_shape
from her2kg.resources import examples_dir
from her2kg.server.config import ServerConfig, load_config
from her2kg.server.models import OperationOutcome, error_response
from her2kg.server.openapi import openapi_document, report_json_schema

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 1)
PROJECT_VIGNETTES = sorted(p for p in (ROOT / "tests" / "data" / "vignettes").glob("*.json") if not p.name.endswith(".expect.json"))
SHARED_VIGNETTES = sorted(p for p in (SHARED_DIR / "vignettes").glob("*.json") if not p.name.endswith(".expect.json"))


@pytest.fixture(scope="module")
def validator() -> Any:
    return jsonschema_rs.validator_for(report_json_schema())


def _problems(validator: Any, report: Any) -> list[str]:
    return [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(report)]


def test_every_vignette_report_validates_against_the_generated_schema(validator: Any) -> None:
    if not SHARED_VIGNETTES:
        pytest.skip("../shared/vignettes is absent beside the checkout (CI has it); the project vignettes still ran")
    paths = [str(p) for p in [*PROJECT_VIGNETTES, *SHARED_VIGNETTES, *sorted(examples_dir().glob("*.ttl"))]]
    reports = [r.to_json() for r in recommend_files(paths, as_of=AS_OF)]
    assert len(reports) >= len(paths)
    bad = {r["patient"]: _problems(validator, r) for r in reports if _problems(validator, r)}
    assert not bad, bad
    keys = {k for r in reports for k in _all_keys(r)}
    assert {"history", "recurrence_interval", "dosing", "because", "reasons", "verdict"} <= keys  # rich reports


def test_project_vignette_reports_validate_without_shared(validator: Any) -> None:
    reports = [r.to_json() for r in recommend_files([str(p) for p in PROJECT_VIGNETTES], as_of=AS_OF)]
    assert len(reports) == len(PROJECT_VIGNETTES) > 10
    for report in reports:
        assert not _problems(validator, report), report["patient"]


def test_reports_with_errors_validate(validator: Any) -> None:
    unreadable = recommend_texts([("broken", "turtle", "this is not turtle")], as_of=AS_OF)
    report = unreadable[0].to_json()
    assert report["errors"] and report["errors"][0]["field"] is not None
    assert not _problems(validator, report)


def test_the_schema_refuses_an_undeclared_or_missing_key(validator: Any) -> None:
    """Near miss: a report with one key more, or one required key less, is not the contract."""
    report = recommend_files([str(PROJECT_VIGNETTES[0])], as_of=AS_OF)[0].to_json()
    assert not _problems(validator, report)
    extra = json.loads(json.dumps(report))
    extra["situation"]["stage"] = "IV"
    assert any("stage" in p for p in _problems(validator, extra))
    missing = json.loads(json.dumps(report))
    del missing["permitted"]
    assert _problems(validator, missing)
    wrong = json.loads(json.dumps(report))
    wrong["proposed"] = [{"id": "x", "components": [], "verdict": "maybe", "reasons": []}]
    assert _problems(validator, wrong)


def test_openapi_document_is_generated_from_the_declaration() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]
    assert set(schemas["ReportJson"]["properties"]) == set(typing.get_type_hints(json_shape.ReportJson))
    assert schemas["SituationJson"]["additionalProperties"] is False
    responses = document["paths"]["/recommend"]["post"]["responses"]
    assert responses["415"]["content"]["application/fhir+json"]["schema"]["$ref"].endswith("/OperationOutcome")
    assert "OperationOutcome" in schemas and "HookRequest" in schemas and "FeedbackDocument" in schemas
    post = document["paths"]["/sparql"]["post"]
    assert "application/sparql-update" not in post["requestBody"]["content"] and "204" not in post["responses"]
    names = [p["name"] for p in document["paths"]["/recommend"]["post"]["parameters"]]
    assert names == ["as_of", "unavailable"]


def _all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _all_keys(v)}
    return set()


def _declared_keys() -> set[str]:
    keys: set[str] = set()
    for shape in json_shape.JSON_SHAPES:
        keys |= set(shape.__annotations__)
    return keys


def test_docs_report_lists_exactly_the_declared_keys() -> None:
    doc = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    fields = doc[doc.index("## Fields") : doc.index("## Verdicts")]
    documented = set(re.findall(r"`([a-z0-9_]+)`", fields))
    declared = _declared_keys() - {"reports"}
    missing = sorted(declared - documented)
    assert not missing, f"document these JSON keys in docs/report.md: {missing}"
    listed = set(re.findall(r"^\| `([a-z0-9_]+)`", fields, flags=re.MULTILINE))
    stale = sorted(listed - declared)
    assert not stale, f"docs/report.md lists keys the report does not have: {stale}"


# -- configuration -----------------------------------------------------------------------------


def _documented_limits() -> dict[tuple[str, str], float]:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `\[(\w+)\] (\w+)` \| ([\d,.]+)", doc, flags=re.MULTILINE)
    return {(section, key): float(value.replace(",", "")) for section, key, value in rows}


def test_every_documented_limit_keeps_its_default() -> None:
    limits = _documented_limits()
    assert len(limits) >= 15
    config = load_config(None)
    for (section, key), value in limits.items():
        holder = config if section == "server" else getattr(config, section)
        assert getattr(holder, key) == value, f"[{section}] {key}: docs/security.md says {value}"


def test_every_limit_of_the_model_is_documented() -> None:
    limits = _documented_limits()
    numeric = {
        (section, key)
        for section, model in [("server", ServerConfig), *((n, ServerConfig.model_fields[n].annotation) for n in ("sparql", "recommend", "cdshooks"))]
        for key, field in typing.cast(Any, model).model_fields.items()
        if field.annotation in (int, float) and key != "port"
    }
    assert numeric - set(limits) == set(), "add these settings to the limits table of docs/security.md"


# -- errors ------------------------------------------------------------------------------------


def test_error_responses_are_operation_outcomes() -> None:
    response = error_response(415, "unsupported-media-type", "send FHIR JSON", field="Content-Type")
    body = json.loads(bytes(response.body))
    assert response.status_code == 415 and response.media_type == "application/fhir+json"
    outcome = OperationOutcome.model_validate(body)
    issue = outcome.issue[0]
    assert body["resourceType"] == "OperationOutcome"
    assert (issue.code, issue.details.coding[0].code, issue.expression) == ("not-supported", "unsupported-media-type", ["Content-Type"])
    assert "expression" not in json.loads(bytes(error_response(503, "busy", "retry").body))["issue"][0]
