"""`POST /recommend`: one patient in, the contract's JSON report out.

The body is a FHIR R4 Bundle (`application/fhir+json` or `application/json`) or a patient in
the her2kg Turtle vocabulary (`text/turtle`). Query parameters: `as_of=YYYY-MM-DD` (default:
today) and `unavailable=<drug key or NCIt code>`, repeatable.

200 with the report; 400 with a FHIR OperationOutcome when the request cannot be read, or
with the report itself when the input is not complete enough for a safe answer (its `errors`
say what is missing, and nothing is permitted); 413 / 415 for a body too large / of another type;
408 when the body does not arrive within the body timeout; 503 with `Retry-After` when the
workers are busy and the queue is full, or the evaluation ran past the time limit.

A Turtle document with several patients gives one report per patient:
`{"reports": [...]}` (200 when every report is complete, else 400).
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from her2kg.errors import Her2kgError, UsageError
from her2kg.safe_io import JsonInputError, strict_json_loads
from her2kg.server.access_log import log_failure
from her2kg.server.httputil import BodyTimeout, BodyTooLarge, media_type, read_body
from her2kg.server.models import Bundle, RecommendParameters, error_response, first_problem
from her2kg.server.pipeline import (
    Document,
    PipelineBusy,
    PipelineFailed,
    PipelineRunner,
    PipelineTimeout,
)

log = logging.getLogger("her2kg.server")

KINDS: dict[str, str] = {
    "application/fhir+json": "fhir-json",
    "application/json": "fhir-json",
    "text/turtle": "turtle",
}
_PARAMETER_ADVICE = {
    "as_of": "`as_of` must be a date written YYYY-MM-DD",
    "unavailable": "`unavailable` takes a drug key (e.g. trastuzumab-deruxtecan) or an NCIt code (e.g. C128799)",
}


class RecommendEndpoint:
    def __init__(self, pipeline: PipelineRunner, *, max_body_bytes: int, body_timeout: float = 30.0) -> None:
        self.pipeline = pipeline
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout

    async def handle(self, request: Request) -> Response:
        kind = KINDS.get(media_type(request))
        if kind is None:
            return error_response(
                415,
                "unsupported-media-type",
                "send a FHIR R4 Bundle as application/fhir+json (or application/json), or a her2kg "
                "Turtle patient as text/turtle",
                field="Content-Type",
            )
        as_of_values = request.query_params.getlist("as_of")
        if len(as_of_values) > 1:
            return error_response(400, "invalid-parameter", "give `as_of` at most once", field="as_of")
        try:
            parameters = RecommendParameters.model_validate(
                {"as_of": as_of_values[0] if as_of_values else None, "unavailable": request.query_params.getlist("unavailable")}
            )
        except ValidationError as exc:
            where, _ = first_problem(exc)
            name = where.split(".", 1)[0]
            return error_response(400, "invalid-parameter", _PARAMETER_ADVICE[name], field=name)
        as_of = parameters.evaluation_date()
        unavailable = parameters.unavailable
        try:
            body = await read_body(request, self.max_body_bytes, timeout=self.body_timeout)
        except BodyTooLarge as exc:
            return error_response(413, "body-too-large", str(exc))
        except BodyTimeout as exc:
            return error_response(408, "body-timeout", str(exc), headers={"Connection": "close"})
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return error_response(400, "unreadable-input", "the body is not UTF-8 text")
        if kind == "fhir-json":
            problem = _bundle_problem(text)
            if problem:
                return error_response(400, "unreadable-input", problem)
        elif not text.strip():
            return error_response(400, "unreadable-input", "the body is empty; send a Turtle patient")
        try:
            reports = await self.pipeline.run([Document("request", kind, text)], as_of=as_of, unavailable=unavailable)
        except (PipelineBusy, PipelineTimeout) as exc:
            return error_response(503, "busy", str(exc), headers={"Retry-After": "5"})
        except PipelineFailed as exc:
            return error_response(500, "internal-error", str(exc))
        except UsageError as exc:
            return error_response(400, "invalid-parameter", str(exc), field="unavailable")
        except Her2kgError as exc:
            return error_response(400, "invalid-input", str(exc))
        except Exception as exc:
            log_failure(log, "the pipeline failed on a /recommend request", exc)
            return error_response(500, "internal-error", "her2kg failed to evaluate the input; the server log has the details")
        if len(reports) == 1:
            report = reports[0]
            return JSONResponse(report.to_json(), status_code=200 if report.ok else 400)
        ok = bool(reports) and all(r.ok for r in reports)
        return JSONResponse({"reports": [r.to_json() for r in reports]}, status_code=200 if ok else 400)


def _bundle_problem(text: str) -> str:
    try:
        document = strict_json_loads(text)
    except JsonInputError as exc:
        return f"the body is not acceptable JSON: {exc}"
    try:
        Bundle.model_validate(document)
    except ValidationError as exc:
        where, what = first_problem(exc)
        return f'the body must be a FHIR R4 Bundle: a JSON object with "resourceType": "Bundle" ({where}: {what})'
    return ""
