"""The OpenAPI 3.1 document served at /openapi.json, generated from the declarations.

The schemas come from one place each: the report from `her2kg.report.json_shape` (the same
declaration `Report.to_json` is typed by), the request parameters, the Bundle, the CDS Hooks
request, the feedback document and the error body (OperationOutcome) from `models`. Only the
paths (which operation answers what, with which status) are written here. `/sparql` and the
CDS Hooks endpoints are described at the level of the protocols they implement.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from her2kg import __version__
from her2kg.report.json_shape import ReportJson, ReportsJson
from her2kg.server.models import Bundle, FeedbackDocument, HookRequest, OperationOutcome, RecommendParameters

REF = "#/components/schemas/{model}"


def _closed(schema: Any) -> None:
    """Refuse undeclared keys in every part of the report (a key is declared once, or not sent)."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" and "properties" in schema:
            schema.setdefault("additionalProperties", False)
        for value in schema.values():
            _closed(value)
    elif isinstance(schema, list):
        for value in schema:
            _closed(value)


@cache
def report_schemas() -> dict[str, Any]:
    """The JSON Schemas of the report (`ReportJson`, `ReportsJson` and their parts), by name."""
    schema = TypeAdapter(ReportsJson).json_schema(ref_template=REF)  # holds ReportJson and its parts
    schemas: dict[str, Any] = schema.pop("$defs")
    schemas["ReportsJson"] = schema
    _closed(schemas)
    return schemas


def report_json_schema() -> dict[str, Any]:
    """A standalone JSON Schema of one report (with its parts under `$defs`)."""
    schema = TypeAdapter(ReportJson).json_schema()
    _closed(schema)
    return schema


def _model_schemas(models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    return dict(top.get("$defs", {}))


def _outcome(description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model="OperationOutcome")}
    return {"description": description, "content": {"application/fhir+json": {"schema": schema}}}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    out = []
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
        if "anyOf" in prop:  # `X | None`: the parameter is optional, its schema is X
            prop = next(p for p in prop.pop("anyOf") if p.get("type") != "null") | prop
        description = prop.pop("description", "")
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "description": description}
        if prop.get("type") == "array":
            parameter.update(style="form", explode=True)
        parameter["schema"] = prop
        out.append(parameter)
    return out


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (relative server URL, so it is right behind any base URL)."""
    sparql_results = {
        "application/sparql-results+json": {"schema": {"type": "object"}},
        "application/sparql-results+xml": {"schema": {"type": "string"}},
        "text/csv": {"schema": {"type": "string"}},
        "text/tab-separated-values": {"schema": {"type": "string"}},
        "text/turtle": {"schema": {"type": "string"}},
        "application/n-triples": {"schema": {"type": "string"}},
        "application/ld+json": {"schema": {}},
        "application/rdf+xml": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
    }
    sparql_errors = {
        "400": _text(
            "Refused request, decided on the parse: SERVICE, LOAD, FROM, USING, an update (the endpoint is "
            "read-only), dataset parameters, or text that does not parse."
        ),
        "406": _text("No acceptable result format."),
        "408": _text("The body did not arrive within [server] body_timeout_seconds."),
        "413": _text("Request body or query string over the limit."),
        "415": _text("Unsupported Content-Type."),
        "503": _text("Stopped at the time limit or the memory limit, or all workers busy."),
    }
    cds_errors = {
        "400": _outcome("Malformed request"),
        "401": _outcome("Missing or invalid JWT (WWW-Authenticate: Bearer error=\"invalid_token\")"),
        "404": _outcome("Unknown service"),
        "413": _outcome("Body too large"),
    }
    report = {"$ref": REF.format(model="ReportJson")}
    schemas = {
        **report_schemas(),
        **_model_schemas((OperationOutcome, Bundle, HookRequest, FeedbackDocument)),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "her2kg",
            "version": __version__,
            "description": (
                "Permitted and forbidden regimens, with evidence, for patients with HER2-positive breast "
                "cancer; a read-only SPARQL 1.1 endpoint over the knowledge base; CDS Hooks 2.0.1 services."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/recommend": {
                "post": {
                    "operationId": "recommend",
                    "summary": "Evaluate one patient and return the JSON report",
                    "parameters": _query_parameters(RecommendParameters),
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fhir+json": {"schema": {"$ref": REF.format(model="Bundle")}},
                            "application/json": {"schema": {"$ref": REF.format(model="Bundle")}},
                            "text/turtle": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The report (contract section 2); a Turtle document with several "
                            "patients gives {\"reports\": [...]}, one report per patient.",
                            "content": {
                                "application/json": {
                                    "schema": {"oneOf": [report, {"$ref": REF.format(model="ReportsJson")}]}
                                }
                            },
                        },
                        "400": {
                            "description": "An unreadable request (OperationOutcome), or input not complete enough "
                            "for a safe answer (the report, whose errors say what is missing).",
                            "content": {
                                "application/fhir+json": {"schema": {"$ref": REF.format(model="OperationOutcome")}},
                                "application/json": {
                                    "schema": {"oneOf": [report, {"$ref": REF.format(model="ReportsJson")}]}
                                },
                            },
                        },
                        "408": _outcome("The body did not arrive within [server] body_timeout_seconds."),
                        "413": _outcome("The body is larger than [recommend] max_body_bytes."),
                        "415": _outcome("The body is not FHIR JSON or Turtle."),
                        "500": _outcome("The evaluation failed; the server log has the details."),
                        "503": _outcome(
                            "The run passed [recommend] timeout_seconds (it was stopped), every worker is busy and "
                            "the queue is full (Retry-After)."
                        ),
                    },
                }
            },
            "/sparql": {
                "get": {
                    "operationId": "sparqlQueryGet",
                    "summary": "SPARQL 1.1 query (GET); without a query: service description or HTML page",
                    "parameters": [{"name": "query", "in": "query", "required": False, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "Query results", "content": sparql_results}, **sparql_errors},
                },
                "post": {
                    "operationId": "sparqlQueryPost",
                    "summary": "SPARQL 1.1 query (POST); the endpoint is read-only",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/sparql-query": {"schema": {"type": "string"}},
                            "application/x-www-form-urlencoded": {
                                "schema": {"type": "object", "properties": {"query": {"type": "string"}}}
                            },
                        },
                    },
                    "responses": {"200": {"description": "Query results", "content": sparql_results}, **sparql_errors},
                },
            },
            "/cds-services": {
                "get": {
                    "operationId": "cdsDiscovery",
                    "summary": "CDS Hooks discovery (needs a CDS Hooks JWT)",
                    "security": [{"cdsHooksJwt": []}],
                    "responses": {
                        "200": {"description": "The services", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": cds_errors["401"],
                    },
                }
            },
            "/cds-services/{service_id}": {
                "post": {
                    "operationId": "cdsCall",
                    "summary": "Call a CDS service (patient-view or order-sign)",
                    "security": [{"cdsHooksJwt": []}],
                    "parameters": [
                        {
                            "name": "service_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": ["her2kg-patient-view", "her2kg-order-sign"]},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="HookRequest")}}},
                    },
                    "responses": {
                        "200": {"description": "Cards", "content": {"application/json": {"schema": {"type": "object"}}}},
                        **cds_errors,
                        "412": _outcome("Prefetch data missing"),
                        "500": _outcome("The evaluation failed; the server log has the details."),
                        "503": _outcome("Every worker is busy (Retry-After), or the run passed its time limit."),
                    },
                }
            },
            "/cds-services/{service_id}/feedback": {
                "post": {
                    "operationId": "cdsFeedback",
                    "summary": "Record accepted and overridden cards",
                    "security": [{"cdsHooksJwt": []}],
                    "parameters": [
                        {"name": "service_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": REF.format(model="FeedbackDocument")}}},
                    },
                    "responses": {
                        "200": {"description": "Recorded"},
                        **cds_errors,
                        "500": _outcome("The feedback file cannot be written."),
                    },
                }
            },
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "cdsHooksJwt": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "A JWT signed ES384 or RS384 by an allow-listed CDS client (CDS Hooks 2.0.1).",
                }
            },
        },
    }
