"""Proposed orders keep the ordered product and its route, so plan matching can respect them."""

from __future__ import annotations

from typing import Any

import pytest

from her2kg.fhir import CodeMapping, load_code_mapping
from test_fhir_history import RXNORM, SNOMED, ask, codes, concept, run


@pytest.fixture(scope="module")
def mapping() -> CodeMapping:
    return load_code_mapping()


def order(ident: str, code: str, *, route: str | None = None) -> dict[str, Any]:
    dosage: dict[str, Any] = {"timing": {"repeat": {"boundsPeriod": {"start": "2026-12-01", "end": "2027-03-01"}}}}
    if route:
        dosage["route"] = concept(SNOMED, route)
    return {"resourceType": "MedicationRequest", "id": ident, "status": "draft", "intent": "proposal",
            "medicationCodeableConcept": concept(RXNORM, code), "dosageInstruction": [dosage]}


def test_a_combination_product_orders_each_ingredient_by_its_route(mapping: CodeMapping) -> None:
    result = run(mapping, order("phesgo", "2382605"))
    assert not result.errors
    for drug in ("pertuzumab", "trastuzumab"):
        assert ask(result, f"?o h:drug h:{drug} ; h:orderRoute h:route-subcutaneous ; h:orderProduct h:product-rxnorm-2382605 .")


def test_an_ingredient_order_has_no_route_unless_the_dosage_states_one(mapping: CodeMapping) -> None:
    plain = run(mapping, order("iv", "224905"))
    assert ask(plain, "?o h:drug h:trastuzumab .") and not ask(plain, "?o h:orderRoute ?r .")
    stated = run(mapping, order("sc", "224905", route="34206005"))
    assert ask(stated, "?o h:drug h:trastuzumab ; h:orderRoute h:route-subcutaneous .")


def test_a_product_and_a_dosage_route_that_disagree_are_an_error(mapping: CodeMapping) -> None:
    result = run(mapping, order("clash", "2382605", route="47625008"))
    assert "fhir-conflicting-route" in codes(result.errors)

