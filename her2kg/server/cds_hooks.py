"""CDS Hooks 2.0.1 endpoints: discovery, the two services, and feedback.

- `GET /cds-services`: the discovery document.
- `POST /cds-services/{id}`: a hook call; answers `{"cards": [...]}`.
- `POST /cds-services/{id}/feedback`: records accepted / overridden cards; answers 200.

Every call must carry a valid JWT (`security`); the expected audience is the URL called,
built only from `[cdshooks] audience` (the public base URL), never from the request's Host
header; without an audience (and so without issuers) every call is refused. For the
feedback endpoint the service's own URL is accepted as audience too. Errors are FHIR
OperationOutcome resources (`models.error_response`); 401 adds `WWW-Authenticate`.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from her2kg.safe_io import JsonInputError, strict_json_loads
from her2kg.server.access_log import log_failure
from her2kg.server.cds_cards import order_sign_cards, patient_view_cards
from her2kg.server.cds_services import (
    SERVICES,
    HookRequestError,
    PrefetchMissing,
    read_hook_request,
    service_by_id,
)
from her2kg.server.config import CdsHooksSettings
from her2kg.server.feedback import FeedbackError, FeedbackLog, parse_feedback
from her2kg.server.httputil import BodyTimeout, BodyTooLarge, read_body
from her2kg.server.models import error_response
from her2kg.server.pipeline import (
    Document,
    PipelineBusy,
    PipelineFailed,
    PipelineRunner,
    PipelineTimeout,
)
from her2kg.server.security import AuthenticationError, Caller, TokenVerifier

log = logging.getLogger("her2kg.server")


class CdsHooksEndpoints:
    """The CDS Hooks handlers of one application instance."""

    def __init__(
        self,
        settings: CdsHooksSettings,
        verifier: TokenVerifier,
        pipeline: PipelineRunner,
        feedback: FeedbackLog,
        *,
        max_body_bytes: int,
        as_of: date | None = None,
    ) -> None:
        self.settings = settings
        self.verifier = verifier
        self.pipeline = pipeline
        self.feedback = feedback
        self.max_body_bytes = max_body_bytes
        self.as_of = as_of

    # -- helpers ---------------------------------------------------------------------------

    def _url(self, request: Request, path: str) -> str:
        if not self.settings.audience:
            raise AuthenticationError(
                "CDS Hooks are not configured on this server: set [cdshooks] audience and issuers (docs/server.md)"
            )
        return self.settings.audience + path

    def _authenticate(self, request: Request, *paths: str) -> Caller:
        return self.verifier.verify(request.headers.get("authorization"), [self._url(request, p) for p in paths])

    async def _json_body(self, request: Request) -> Any:
        try:
            body = await read_body(request, self.max_body_bytes)
        except BodyTimeout as exc:
            raise HookRequestError(str(exc)) from None
        try:
            return strict_json_loads(body)
        except JsonInputError as exc:
            raise HookRequestError(f"the request body is not acceptable JSON: {exc}") from None

    def _as_of(self) -> date:
        return self.as_of or date.today()

    # -- endpoints -------------------------------------------------------------------------

    async def discovery(self, request: Request) -> Response:
        try:
            self._authenticate(request, request.url.path)
        except AuthenticationError as exc:
            return _unauthorized(exc)
        return JSONResponse({"services": [service.discovery() for service in SERVICES]})

    async def call(self, request: Request) -> Response:
        service_id = request.path_params["service_id"]
        try:
            self._authenticate(request, request.url.path)
        except AuthenticationError as exc:
            return _unauthorized(exc)
        service = service_by_id(service_id)
        if service is None:
            return error_response(404, "unknown-service", f"no CDS service {service_id!r}; GET /cds-services lists them")
        try:
            body = await self._json_body(request)
            # off the event loop: completing the prefetch may query the client's FHIR server
            hook_input = await anyio.to_thread.run_sync(read_hook_request, service, body)
        except BodyTooLarge as exc:
            return error_response(413, "body-too-large", str(exc))
        except HookRequestError as exc:
            return error_response(400, "invalid-request", str(exc))
        except PrefetchMissing as exc:
            return error_response(412, "prefetch-missing", str(exc))
        document = Document(name=f"cds-{service.hook}", kind="fhir-json", text=json.dumps(hook_input.bundle))
        try:
            reports = await self.pipeline.run([document], as_of=self._as_of())
        except (PipelineBusy, PipelineTimeout) as exc:
            return error_response(503, "busy", str(exc), headers={"Retry-After": "5"})
        except PipelineFailed as exc:
            return error_response(500, "internal-error", str(exc))
        except Exception as exc:
            log_failure(log, f"the pipeline failed on a {service.hook} call", exc)
            return error_response(500, "internal-error", "her2kg failed to evaluate the record; the server log has the details")
        report = reports[0]
        if service.hook == "order-sign":
            cards = order_sign_cards(report, hook_input.draft_orders)
        else:
            cards = patient_view_cards(report)
        return JSONResponse({"cards": cards})

    async def feedback_endpoint(self, request: Request) -> Response:
        service_id = request.path_params["service_id"]
        base = f"/cds-services/{service_id}"
        try:
            caller = self._authenticate(request, request.url.path, base)
        except AuthenticationError as exc:
            return _unauthorized(exc)
        if service_by_id(service_id) is None:
            return error_response(404, "unknown-service", f"no CDS service {service_id!r}; GET /cds-services lists them")
        try:
            items = parse_feedback(await self._json_body(request))
        except BodyTooLarge as exc:
            return error_response(413, "body-too-large", str(exc))
        except (HookRequestError, FeedbackError) as exc:
            return error_response(400, "invalid-feedback", str(exc))
        try:
            written = self.feedback.record(service_id, caller.iss, items)
        except OSError as exc:
            log.error("cannot write the feedback file: %s", exc.strerror)
            return error_response(500, "feedback-not-recorded", "the feedback file cannot be written; see the server log")
        return JSONResponse({"received": len(items), "recorded": written})


def _unauthorized(exc: AuthenticationError) -> Response:
    return error_response(
        401,
        "invalid_token",
        str(exc),
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
