"""The OpenAPI 3.1 document served at /openapi.json.

`/recommend` is described precisely (request bodies, parameters, every status with its
schema), precisely enough for property-based testing tools to generate valid and invalid
requests. `/sparql` and the CDS Hooks endpoints are described at the level of the protocols
they implement.
"""

from __future__ import annotations

from typing import Any

from her2kg import __version__

_ERROR = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string"},
        "field": {"type": "string"},
        "message": {"type": "string"},
    },
}
_ERRORS = {
    "type": "object",
    "required": ["errors"],
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Error"}}},
}
_SOURCE = {
    "type": "object",
    "required": ["id", "label"],
    "properties": {
        "id": {"type": "string"},
        "label": {"type": "string"},
        "pmid": {"type": "string"},
        "doi": {"type": "string"},
        "url": {"type": "string"},
    },
}
_REASON = {
    "type": "object",
    "required": ["rule", "text", "sources"],
    "properties": {
        "rule": {"type": "string"},
        "text": {"type": "string"},
        "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
    },
}
_DRUG = {
    "type": "object",
    "required": ["label", "ncit"],
    "properties": {"id": {"type": "string"}, "label": {"type": "string"}, "ncit": {"type": "string"}, "rxnorm": {"type": "string"}},
}
_COMPONENT = {
    "type": "object",
    "properties": {
        "drug": {"$ref": "#/components/schemas/Drug"},
        "any_of": {"type": "array", "items": {"$ref": "#/components/schemas/Drug"}},
        "label": {"type": "string"},
        "step": {"type": "integer"},
        "dosing": {"type": "string"},
    },
}
_REGIMEN = {
    "type": "object",
    "required": ["id", "label", "components"],
    "properties": {
        "id": {"type": "string"},
        "label": {"type": "string"},
        "components": {"type": "array", "items": {"$ref": "#/components/schemas/Component"}},
        "preference": {"type": "string", "enum": ["preferred", "alternative", "may-consider", ""]},
        "evidence": {
            "type": "object",
            "required": ["quality", "strength", "scheme"],
            "properties": {"quality": {"type": "string"}, "strength": {"type": "string"}, "scheme": {"type": "string"}},
        },
        "sources": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
        "because": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
        "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
    },
}
_NOTICE = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "field": {"type": "string"}, "message": {"type": "string"}},
}
_REPORT = {
    "type": "object",
    "required": ["patient", "knowledge_base", "situation", "permitted", "forbidden", "monitoring", "proposed", "warnings", "errors"],
    "properties": {
        "patient": {"type": "string"},
        "knowledge_base": {
            "type": "object",
            "required": ["version", "iri"],
            "properties": {"version": {"type": "string"}, "iri": {"type": "string"}, "folder": {"type": "string"}, "digest": {"type": "string"}},
        },
        "as_of": {"type": "string", "format": "date"},
        "situation": {
            "type": "object",
            "required": ["her2", "hormone_receptor", "setting", "phase"],
            "properties": {
                "her2": {"type": "string", "enum": ["positive", "negative", "equivocal", "unknown"]},
                "hormone_receptor": {"type": "string", "enum": ["positive", "negative", "unknown"]},
                "setting": {"type": "string"},
                "phase": {"type": "string"},
                "line": {"type": "integer", "minimum": 1},
                "findings": {"type": "array", "items": {"type": "object"}},
            },
        },
        "permitted": {"type": "array", "items": {"$ref": "#/components/schemas/Regimen"}},
        "forbidden": {"type": "array", "items": {"$ref": "#/components/schemas/Regimen"}},
        "monitoring": {"type": "array", "items": {"type": "object"}},
        "proposed": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["components", "verdict", "reasons"],
                "properties": {
                    "components": {"type": "array", "items": {"$ref": "#/components/schemas/Component"}},
                    "verdict": {"type": "string", "enum": ["permitted", "forbidden", "not-recommended"]},
                    "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
                },
            },
        },
        "warnings": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}},
    },
}
_BUNDLE = {
    "type": "object",
    "description": "A FHIR R4 Bundle (collection, transaction, searchset or document) of one patient's record.",
    "required": ["resourceType"],
    "properties": {
        "resourceType": {"type": "string", "enum": ["Bundle"]},
        "type": {"type": "string", "enum": ["collection", "transaction", "searchset", "document", "batch"]},
        "entry": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "fullUrl": {"type": "string"},
                    "resource": {
                        "type": "object",
                        "required": ["resourceType"],
                        "properties": {"resourceType": {"type": "string"}, "id": {"type": "string"}},
                    },
                },
            },
        },
    },
}


def _json(schema_ref: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


def _text(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/plain": {"schema": {"type": "string"}}}}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document (relative server URL, so it is right behind any base URL)."""
    errors = "#/components/schemas/Errors"
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
            "Refused request, decided on the parse: SERVICE, LOAD, FROM, USING, an update sent as a query, "
            "dataset parameters, or text that does not parse."
        ),
        "401": _text("Update without a bearer token."),
        "403": _text("Update while updates are disabled, or with a wrong token."),
        "406": _text("No acceptable result format."),
        "413": _text("Request body or query string over the limit."),
        "415": _text("Unsupported Content-Type."),
        "408": _text("The body did not arrive within [server] body_timeout_seconds."),
        "503": _text("Stopped at the time limit or the memory limit, or all workers busy."),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "her2kg",
            "version": __version__,
            "description": (
                "Permitted and forbidden regimens, with evidence, for patients with HER2-positive breast "
                "cancer; a SPARQL 1.1 endpoint over the knowledge base; CDS Hooks 2.0.1 services."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/recommend": {
                "post": {
                    "operationId": "recommend",
                    "summary": "Evaluate one patient and return the JSON report",
                    "parameters": [
                        {
                            "name": "as_of",
                            "in": "query",
                            "required": False,
                            "description": "Evaluation date (default: today).",
                            "schema": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                        },
                        {
                            "name": "unavailable",
                            "in": "query",
                            "required": False,
                            "description": "A drug that is not available: drug key or NCIt code. Repeatable.",
                            "style": "form",
                            "explode": True,
                            "schema": {
                                "type": "array",
                                "items": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"},
                            },
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/fhir+json": {"schema": {"$ref": "#/components/schemas/Bundle"}},
                            "application/json": {"schema": {"$ref": "#/components/schemas/Bundle"}},
                            "text/turtle": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The report (contract section 2); a Turtle document with several "
                            "patients gives {\"reports\": [...]}, one report per patient.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "oneOf": [
                                            {"$ref": "#/components/schemas/Report"},
                                            {
                                                "type": "object",
                                                "required": ["reports"],
                                                "properties": {
                                                    "reports": {
                                                        "type": "array",
                                                        "items": {"$ref": "#/components/schemas/Report"},
                                                    }
                                                },
                                            },
                                        ]
                                    }
                                }
                            },
                        },
                        "408": _json(errors, "The body did not arrive within [server] body_timeout_seconds."),
                        "400": _json(
                            errors,
                            "Unreadable input, or input not complete enough for a safe answer (then the body is "
                            "the report, whose errors say what is missing).",
                        ),
                        "413": _json(errors, "The body is larger than [recommend] max_body_bytes."),
                        "415": _json(errors, "The body is not FHIR JSON or Turtle."),
                        "503": _json(
                            errors,
                            "The run passed [recommend] timeout_seconds (it was stopped), every worker is busy and "
                            "the queue is full (Retry-After), or the reasoning pipeline is not available.",
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
                    "operationId": "sparqlPost",
                    "summary": "SPARQL 1.1 query or update (POST)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/sparql-query": {"schema": {"type": "string"}},
                            "application/sparql-update": {"schema": {"type": "string"}},
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"query": {"type": "string"}, "update": {"type": "string"}},
                                }
                            },
                        },
                    },
                    "responses": {
                        "200": {"description": "Query results", "content": sparql_results},
                        "204": {"description": "Update applied."},
                        **sparql_errors,
                    },
                },
            },
            "/cds-services": {
                "get": {
                    "operationId": "cdsDiscovery",
                    "summary": "CDS Hooks discovery (needs a CDS Hooks JWT)",
                    "security": [{"cdsHooksJwt": []}],
                    "responses": {
                        "200": {"description": "The services", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "401": {"description": "Missing or invalid JWT"},
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
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"description": "Cards", "content": {"application/json": {"schema": {"type": "object"}}}},
                        "400": {"description": "Malformed hook request"},
                        "401": {"description": "Missing or invalid JWT"},
                        "404": {"description": "Unknown service"},
                        "412": {"description": "Prefetch data missing"},
                        "413": {"description": "Body too large"},
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
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {
                        "200": {"description": "Recorded"},
                        "400": {"description": "Malformed feedback"},
                        "401": {"description": "Missing or invalid JWT"},
                        "404": {"description": "Unknown service"},
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Error": _ERROR,
                "Errors": _ERRORS,
                "Source": _SOURCE,
                "Reason": _REASON,
                "Drug": _DRUG,
                "Component": _COMPONENT,
                "Regimen": _REGIMEN,
                "Notice": _NOTICE,
                "Report": _REPORT,
                "Bundle": _BUNDLE,
            },
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
