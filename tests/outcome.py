"""Reading the error body of the JSON endpoints: a FHIR OperationOutcome."""

from __future__ import annotations

import httpx


def outcome_error(response: httpx.Response) -> tuple[str, str]:
    """(her2kg error code, message) of an OperationOutcome response; fails on any other body."""
    assert response.headers["content-type"].startswith("application/fhir+json"), response.headers["content-type"]
    body = response.json()
    assert body["resourceType"] == "OperationOutcome", body
    issue = body["issue"][0]
    assert issue["severity"] == "error" and issue["diagnostics"] == issue["details"]["text"]
    return issue["details"]["coding"][0]["code"], issue["diagnostics"]
