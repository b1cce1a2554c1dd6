"""The CDS Hooks services of her2kg and how a hook request becomes one FHIR Bundle.

Two services, listed by `GET /cds-services`:

- `her2kg-patient-view` (hook `patient-view`): the permitted and forbidden regimens for the
  patient's current decision point;
- `her2kg-order-sign` (hook `order-sign`): checks the draft MedicationRequests of
  `context.draftOrders` (the proposed plan) against the knowledge base.

Both ask the CDS client to prefetch the patient's record. A key with the value `null` means
"no data" and is accepted. A missing key, an OperationOutcome or a paginated searchset Bundle
is data the client did not send: her2kg fetches it from the request's `fhirServer` (with its
`fhirAuthorization` bearer token, see `prefetch`), or answers HTTP 412 when there is none.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from her2kg.fhir.bundle import ASSEMBLED_TAG
from her2kg.server.models import HookRequest, first_problem
from her2kg.server.prefetch import PrefetchUnavailable, complete_prefetch

PATIENT_PREFETCH: dict[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
}


@dataclass(frozen=True)
class CdsService:
    id: str
    hook: str
    title: str
    description: str
    prefetch: Mapping[str, str] = field(default_factory=lambda: dict(PATIENT_PREFETCH))

    def discovery(self) -> dict[str, Any]:
        return {
            "hook": self.hook,
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "prefetch": dict(self.prefetch),
            "usageRequirements": (
                "Prefetch every key (null when there is no data); a missing key, an OperationOutcome or a "
                "paginated Bundle is fetched from fhirServer (with fhirAuthorization), else answered 412. "
                "Calls must carry a JWT signed ES384 or RS384 by a client on the service's allow-list."
            ),
        }


SERVICES: tuple[CdsService, ...] = (
    CdsService(
        id="her2kg-patient-view",
        hook="patient-view",
        title="her2kg: HER2-positive breast cancer regimens",
        description=(
            "Permitted and forbidden systemic regimens, with evidence grades, guideline sources and "
            "reasons, for the patient's current decision point in HER2-positive breast cancer."
        ),
    ),
    CdsService(
        id="her2kg-order-sign",
        hook="order-sign",
        title="her2kg: check HER2-positive breast cancer orders",
        description=(
            "Checks draft medication orders against the her2kg knowledge base before signing: a "
            "forbidden combination gives a critical card with a suggestion to remove the orders."
        ),
    ),
)


def service_by_id(service_id: str) -> CdsService | None:
    return next((s for s in SERVICES if s.id == service_id), None)


class HookRequestError(Exception):
    """The hook request is malformed (HTTP 400)."""


class PrefetchMissing(Exception):
    """Prefetch keys are absent and her2kg cannot fetch them (HTTP 412)."""

    def __init__(self, keys: list[str], reason: str = "") -> None:
        super().__init__(
            reason
            or "the request lacks the prefetch key(s) " + ", ".join(keys) + "; send every prefetch key of the "
            "discovery document (null when there is no data), or give fhirServer and fhirAuthorization"
        )
        self.keys = keys


@dataclass(frozen=True)
class DraftOrder:
    """A draft MedicationRequest of `context.draftOrders`."""

    reference: str  # "MedicationRequest/<id>"
    rxnorm: tuple[str, ...]
    label: str


@dataclass(frozen=True)
class HookInput:
    patient_id: str
    bundle: dict[str, Any]
    draft_orders: tuple[DraftOrder, ...] = ()


def read_hook_request(service: CdsService, body: Any) -> HookInput:
    """Validate a hook request with its model and assemble the Bundle the importer reads."""
    try:
        request = HookRequest.model_validate(body)
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise HookRequestError(f"`{where}`: {what}" if where else f"the request body must be a CDS Hooks request: {what}") from None
    if request.hook != service.hook:
        raise HookRequestError(f"the service {service.id} answers the hook {service.hook!r}, not {request.hook!r}")
    context: dict[str, Any] = body["context"]  # as sent: prefetch templates may name any context key
    patient_id = request.context.patientId
    drafts: list[dict[str, Any]] = []
    if service.hook == "order-sign":
        draft_bundle = request.context.draftOrders
        if draft_bundle is None or draft_bundle.get("resourceType") != "Bundle":
            raise HookRequestError("`context.draftOrders` (a FHIR Bundle of the orders to sign) is required")
        drafts = [r for r in _resources(draft_bundle) if r.get("resourceType") == "MedicationRequest"]
    prefetch = request.prefetch or {}
    try:  # fetches what the client did not send (network I/O: call this off the event loop)
        prefetch = complete_prefetch(
            service.prefetch,
            prefetch,
            context,
            fhir_server=request.fhirServer,
            authorization=request.fhirAuthorization,
        )
    except PrefetchUnavailable as exc:
        raise PrefetchMissing(exc.keys, str(exc)) from None
    patient = prefetch.get("patient")
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise PrefetchMissing(["patient"])
    if patient.get("id") not in (None, patient_id):
        raise HookRequestError("the prefetched Patient is not the patient of `context.patientId`")
    return _assemble(patient_id, patient, prefetch, service, drafts)


def _assemble(
    patient_id: str,
    patient: dict[str, Any],
    prefetch: Mapping[str, Any],
    service: CdsService,
    drafts: list[dict[str, Any]],
) -> HookInput:
    entries: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    draft_keys = {("MedicationRequest", str(d["id"])) for d in drafts if d.get("id")}

    def add(resource: dict[str, Any]) -> None:
        kind = resource.get("resourceType")
        if not isinstance(kind, str) or kind in ("OperationOutcome", "Bundle"):
            return
        ident = resource.get("id")
        if ident is not None:
            key = (kind, str(ident))
            if key in seen or key in draft_keys:
                return
            seen.add(key)
        entries.append({"resource": resource})

    add(patient)
    for key in service.prefetch:
        if key == "patient":
            continue
        value = prefetch.get(key)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise HookRequestError(f"prefetch `{key}` must be a FHIR Bundle (search result), a resource or null")
        if value.get("resourceType") == "Bundle":
            for resource in _resources(value):
                add(resource)
        else:
            add(value)
    orders: list[DraftOrder] = []
    for index, resource in enumerate(drafts):
        order = copy.deepcopy(resource)
        if order.get("status") != "draft" and order.get("intent") != "proposal":
            order["status"] = "draft"  # order-sign may include re-signed orders; they are what is proposed
        order.setdefault("subject", {"reference": f"Patient/{patient_id}"})
        ident = str(order.get("id") or f"draft-{index + 1}")
        order["id"] = ident
        entries.append({"resource": order})
        orders.append(DraftOrder(reference=f"MedicationRequest/{ident}", rxnorm=_rxnorm(order), label=_label(order)))
    # tagged as assembled by her2kg: the importer names entries by type and id, not by position
    tag = {"system": ASSEMBLED_TAG[0], "code": ASSEMBLED_TAG[1]}
    bundle = {"resourceType": "Bundle", "type": "collection", "meta": {"tag": [tag]}, "entry": entries}
    return HookInput(patient_id=patient_id, bundle=bundle, draft_orders=tuple(orders))


def _resources(bundle: Mapping[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return out
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        search = entry.get("search")
        if isinstance(search, dict) and search.get("mode") == "outcome":
            continue
        resource = entry.get("resource")
        if isinstance(resource, dict):
            out.append(resource)
    return out


_RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _codings(order: Mapping[str, Any]) -> list[dict[str, Any]]:
    concept = order.get("medicationCodeableConcept")
    if not isinstance(concept, dict):
        return []
    codings = concept.get("coding")
    return [c for c in codings if isinstance(c, dict)] if isinstance(codings, list) else []


def _rxnorm(order: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(c.get("code")) for c in _codings(order) if c.get("system") == _RXNORM and c.get("code"))


def _label(order: Mapping[str, Any]) -> str:
    concept = order.get("medicationCodeableConcept")
    text = concept.get("text") if isinstance(concept, dict) else None
    if isinstance(text, str):
        return text
    for coding in _codings(order):
        display = coding.get("display")
        if isinstance(display, str):
            return display
    return "the medication"
