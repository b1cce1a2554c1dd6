"""Request and error models of the HTTP API, declared once with pydantic.

The server validates requests with these models, builds its error bodies with them, and the
OpenAPI document (`openapi.py`) is generated from them and from the report's declaration
(`her2kg.report.json_shape`).

Errors of `/recommend` and of the CDS Hooks services are FHIR R4 `OperationOutcome`
resources; `/sparql` answers errors in plain text, as the SPARQL 1.1 Protocol does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator
from starlette.responses import JSONResponse

ERROR_CODE_SYSTEM = "https://w3id.org/her2kg/error"
"""The code system of her2kg's own error codes (`details.coding[0].code`)."""

DrugKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
IsoDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]

# FHIR R4 issue-type codes (http://hl7.org/fhir/issue-type) by HTTP status
_ISSUE_TYPE = {
    400: "invalid",
    401: "login",
    404: "not-found",
    408: "timeout",
    412: "incomplete",
    413: "too-costly",
    415: "not-supported",
    500: "exception",
    503: "transient",
}


# -- errors ---------------------------------------------------------------------------------------


class Coding(BaseModel):
    model_config = ConfigDict(frozen=True)
    system: str
    code: str


class CodeableConcept(BaseModel):
    model_config = ConfigDict(frozen=True)
    coding: list[Coding]
    text: str


class Issue(BaseModel):
    model_config = ConfigDict(frozen=True)
    severity: Literal["fatal", "error", "warning", "information"] = "error"
    code: str = Field(description="FHIR issue type (http://hl7.org/fhir/issue-type)")
    details: CodeableConcept = Field(description="her2kg's error code and what to do next")
    diagnostics: str
    expression: list[str] | None = Field(default=None, description="the request part at fault")


class OperationOutcome(BaseModel):
    """A FHIR R4 OperationOutcome: the error body of `/recommend` and of the CDS Hooks services."""

    model_config = ConfigDict(frozen=True)
    resourceType: Literal["OperationOutcome"] = "OperationOutcome"
    issue: list[Issue] = Field(min_length=1)


def operation_outcome(status: int, code: str, message: str, *, field: str = "") -> OperationOutcome:
    issue = Issue(
        code=_ISSUE_TYPE.get(status, "processing"),
        details=CodeableConcept(coding=[Coding(system=ERROR_CODE_SYSTEM, code=code)], text=message),
        diagnostics=message,
        expression=[field] if field else None,
    )
    return OperationOutcome(issue=[issue])


def error_response(
    status: int, code: str, message: str, *, field: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    """The one error response of the JSON endpoints: an OperationOutcome."""
    body = operation_outcome(status, code, message, field=field).model_dump(mode="json", exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/fhir+json")


def first_problem(exc: ValidationError) -> tuple[str, str]:
    """(where, what) of the first problem pydantic found, for an error that names the field."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    return where, message


# -- POST /recommend --------------------------------------------------------------------------------


class RecommendParameters(BaseModel):
    """The query parameters of `POST /recommend`."""

    model_config = ConfigDict(frozen=True)
    as_of: IsoDate | None = Field(default=None, description="Evaluation date YYYY-MM-DD (default: today).")
    unavailable: list[DrugKey] = Field(
        default_factory=list, description="A drug that is not available: drug key or NCIt code. Repeatable."
    )

    @field_validator("as_of")
    @classmethod
    def _real_date(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError("`as_of` must be a date written YYYY-MM-DD") from None
        return value

    def evaluation_date(self) -> date:
        return date.fromisoformat(self.as_of) if self.as_of else date.today()


class Bundle(BaseModel):
    """A FHIR R4 Bundle of one patient's record. Only `resourceType` is checked here: the
    importer reads the entries, and reports an unexpected `type` or an unreadable entry as a
    notice of the report."""

    model_config = ConfigDict(extra="allow")
    resourceType: Literal["Bundle"]
    type: str | None = Field(default=None, description="collection, transaction, searchset, document or batch")
    entry: Any = Field(default=None, description="the entries: an array of {fullUrl, resource}")


# -- CDS Hooks ------------------------------------------------------------------------------------


class HookContext(BaseModel):
    model_config = ConfigDict(extra="allow")
    patientId: str = Field(min_length=1)
    draftOrders: dict[str, Any] | None = None


class HookRequest(BaseModel):
    """A CDS Hooks 2.0.1 request (the keys her2kg reads; others are allowed)."""

    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str = Field(min_length=1)
    context: HookContext
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None
    prefetch: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _server_for_authorization(self) -> HookRequest:
        if self.fhirAuthorization is not None and not self.fhirServer:
            raise ValueError("`fhirServer` is required when `fhirAuthorization` is given")
        return self


class Suggestion(BaseModel):
    id: str


class ReasonCoding(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str


class FeedbackOverride(BaseModel):
    model_config = ConfigDict(extra="ignore")
    reason: ReasonCoding | None = None
    userComment: str | None = None


class FeedbackEntry(BaseModel):
    card: str = Field(min_length=1, description="the card's uuid")
    outcome: Literal["accepted", "overridden"]
    outcomeTimestamp: str
    acceptedSuggestions: list[Suggestion] | None = None
    overrideReason: FeedbackOverride | None = None

    @field_validator("outcomeTimestamp")
    @classmethod
    def _timestamp(cls, value: str) -> str:
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("outcomeTimestamp must be an ISO 8601 timestamp") from None
        return value

    @model_validator(mode="after")
    def _accepted_needs_suggestions(self) -> FeedbackEntry:
        if self.outcome == "accepted" and not self.acceptedSuggestions:
            raise ValueError("acceptedSuggestions is required for an accepted card")
        return self


class FeedbackDocument(BaseModel):
    """`{"feedback": [...]}`: accepted and overridden cards (CDS Hooks 2.0.1)."""

    feedback: list[FeedbackEntry] = Field(min_length=1)
