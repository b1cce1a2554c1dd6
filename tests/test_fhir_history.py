"""The importer reads the patient's past: condition history, unidentified medications, why a
therapy ended, serial measurements, alternative codings, units and post-coordinated codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from her2kg.cli import main
from her2kg.fhir import CodeMapping, FhirImport, import_bundle, load_code_mapping
from her2kg.notices import Notice
from her2kg.vocabulary import BASE, PREFIXES

PREFIX = f"PREFIX h: <{BASE}>\nPREFIX xsd: <{PREFIXES['xsd']}>\n"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
TERMINATION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-treatment-termination-reason"
PID = "t-history"


@pytest.fixture(scope="module")
def mapping() -> CodeMapping:
    return load_code_mapping()


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    entries = [{"resource": {"resourceType": "Patient", "id": PID}}]
    for resource in resources:
        entries.append({"resource": {"subject": {"reference": f"Patient/{PID}"}, **resource}})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def concept(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def condition(ident: str, code: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": ident, "code": code, "onsetDateTime": "2024-01-10", **extra}


def status(system_tail: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": f"http://terminology.hl7.org/CodeSystem/{system_tail}", "code": code}]}


def statement(ident: str, medication: dict[str, Any], **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "MedicationStatement",
        "id": ident,
        "status": "completed",
        "medicationCodeableConcept": medication,
        "effectivePeriod": {"start": "2023-01-05", "end": "2023-06-20"},
    }
    resource.update(extra)
    return resource


def run(mapping: CodeMapping, *resources: dict[str, Any]) -> FhirImport:
    return import_bundle(bundle(*resources), mapping=mapping, source="test.json")


def ask(result: FhirImport, where: str) -> bool:
    store = ox.Store()
    if result.ntriples:
        store.bulk_load(result.ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    answer = store.query(PREFIX + f"ASK {{ {where} }}")
    assert isinstance(answer, ox.QueryBoolean)
    return bool(answer)


def codes(notices: tuple[Notice, ...]) -> list[str]:
    return [n.code for n in notices]


P = f"<{BASE}patient/{PID}>"
ILD = concept(SNOMED, "233703007", "Interstitial lung disease")
TRASTUZUMAB = concept(RXNORM, "224905", "trastuzumab")


# --- 1. condition history ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clinical", "abatement", "day"),
    [
        ("resolved", {"abatementDateTime": "2024-05-02T10:00:00+02:00"}, "2024-05-02"),
        ("inactive", {"abatementPeriod": {"start": "2024-04-01", "end": "2024-04-20"}}, "2024-04-20"),
        ("remission", {"abatementDateTime": "2024-03-15"}, "2024-03-15"),
    ],
)
def test_a_past_condition_is_kept_as_history_with_its_abatement_date(
    mapping: CodeMapping, clinical: str, abatement: dict[str, Any], day: str
) -> None:
    result = run(mapping, condition("ild", ILD, clinicalStatus=status("condition-clinical", clinical), **abatement))
    assert result.errors == () and result.ignored == ()
    assert ask(
        result,
        f'{P} h:hasCondition ?c . ?c a h:InterstitialLungDisease ; h:clinicalStatus h:condition-{clinical} ; '
        f'h:abatementDate "{day}"^^xsd:date ; h:onsetDate "2024-01-10"^^xsd:date',
    )


@pytest.mark.parametrize("clinical", ["active", "recurrence", "relapse"])
def test_a_current_condition_carries_its_status(mapping: CodeMapping, clinical: str) -> None:
    result = run(mapping, condition("ild", ILD, clinicalStatus=status("condition-clinical", clinical)))
    assert ask(result, f"{P} h:hasCondition ?c . ?c a h:InterstitialLungDisease ; h:clinicalStatus h:condition-{clinical}")
    assert not ask(result, "?c h:abatementDate ?d")


def test_a_condition_without_status_has_none_written(mapping: CodeMapping) -> None:
    result = run(mapping, condition("ild", ILD))
    assert ask(result, f"{P} h:hasCondition ?c . ?c a h:InterstitialLungDisease")
    assert not ask(result, "?c h:clinicalStatus ?s")


def test_a_resolved_condition_without_abatement_date_is_kept(mapping: CodeMapping) -> None:
    result = run(mapping, condition("ild", ILD, clinicalStatus=status("condition-clinical", "resolved")))
    assert ask(result, f"{P} h:hasCondition ?c . ?c h:clinicalStatus h:condition-resolved")
    assert not ask(result, "?c h:abatementDate ?d")


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_only_refuted_or_entered_in_error_removes_a_condition(mapping: CodeMapping, verification: str) -> None:
    result = run(
        mapping,
        condition(
            "ild",
            ILD,
            clinicalStatus=status("condition-clinical", "resolved"),
            verificationStatus=status("condition-ver-status", verification),
        ),
    )
    assert not ask(result, "?p h:hasCondition ?c")
    assert [(i.resource, i.reason) for i in result.ignored] == [("Condition/ild", f"verificationStatus is {verification}")]


# --- 2. unidentified medications --------------------------------------------------------------


@pytest.mark.parametrize(
    ("medication", "named"),
    [
        (concept(RXNORM, "999000001", "Kadcyla 200 MG Injection"), "h:trastuzumab-emtansine"),  # display, brand
        ({"text": "T-DM1 every 3 weeks"}, "h:trastuzumab-emtansine"),  # text only, synonym
        ({**concept(RXNORM, "999000002"), "text": "TRASTUZUMAB biosimilar"}, "h:trastuzumab"),  # any case
    ],
)
def test_an_unmapped_medication_naming_a_knowledge_base_drug_is_an_error(
    mapping: CodeMapping, medication: dict[str, Any], named: str
) -> None:
    result = run(mapping, statement("abc", medication))
    assert codes(result.errors) == ["fhir-unmapped-known-drug"]
    message = result.errors[0].message
    assert message.startswith("MedicationStatement/abc (Bundle.entry[1]): ") and named in message
    assert "ontology/modules/fhir-mapping.ttl" in message
    assert not ask(result, "?p h:hasTherapy ?t")
    assert [i.resource for i in result.ignored] == ["MedicationStatement/abc"]


def test_the_error_says_which_notation_to_add(mapping: CodeMapping) -> None:
    result = run(mapping, statement("abc", concept(RXNORM, "999000001", "Kadcyla 200 MG Injection")))
    assert 'h:trastuzumab-emtansine skos:notation "999000001"^^h:RxNorm' in result.errors[0].message


def test_a_contained_or_referenced_medication_is_read_by_its_name(mapping: CodeMapping) -> None:
    contained = {
        "resourceType": "MedicationStatement",
        "id": "contained",
        "status": "completed",
        "contained": [{"resourceType": "Medication", "id": "m1", "code": concept(RXNORM, "999000003", "Nerlynx 40 MG")}],
        "medicationReference": {"reference": "#m1"},
        "effectivePeriod": {"start": "2023-01-05", "end": "2023-06-20"},
    }
    referenced = {
        "resourceType": "MedicationRequest",
        "id": "referenced",
        "status": "completed",
        "intent": "order",
        "medicationReference": {"reference": "Medication/m2"},
        "authoredOn": "2023-02-01",
    }
    medication = {"resourceType": "Medication", "id": "m2", "code": {"text": "lapatinib tablets"}}
    result = run(mapping, contained, referenced, medication)
    assert {(e.code, e.field) for e in result.errors} == {
        ("fhir-unmapped-known-drug", "Bundle.entry[1]"),
        ("fhir-unmapped-known-drug", "Bundle.entry[2]"),
    }
    assert "h:neratinib" in result.errors[0].message and "h:lapatinib" in result.errors[1].message


def test_an_unknown_drug_becomes_an_unidentified_exposure_and_one_warning(mapping: CodeMapping) -> None:
    leuprolide = concept(RXNORM, "1163443", "leuprolide Injectable Product")
    result = run(
        mapping,
        statement("a", leuprolide),
        statement("b", {"text": "Trastuzumabine"}, status="active", effectivePeriod={"start": "2024-01-01"}),
    )
    assert result.errors == ()
    assert ask(
        result,
        f'{P} h:hasTherapy ?t . ?t a h:UnidentifiedTherapyExposure, h:TherapyExposure ; '
        f'h:recordedText "leuprolide Injectable Product (RxNorm 1163443)" ; h:startDate "2023-01-05"^^xsd:date ; '
        f'h:endDate "2023-06-20"^^xsd:date ; h:exposureStatus h:ended-status ; h:therapyPhase h:unknown-phase',
    )
    # a name inside a longer word is no name: "Trastuzumabine" is not trastuzumab
    assert ask(
        result,
        f'{P} h:hasTherapy ?t . ?t a h:UnidentifiedTherapyExposure ; h:recordedText "Trastuzumabine" ; '
        f"h:exposureStatus h:ongoing-status",
    )
    assert not ask(result, "?t a h:UnidentifiedTherapyExposure ; h:drug ?d")
    history = [w for w in result.warnings if w.code == "therapy-history-incomplete"]
    assert len(history) == 1 and history[0].message.startswith("2 entries (MedicationStatement/a (Bundle.entry[1])")


def test_an_unidentified_exposure_gets_its_phase_from_the_dates(mapping: CodeMapping) -> None:
    metastasis = condition("bone", concept(SNOMED, "94222008"), onsetDateTime="2022-12-01")
    result = run(mapping, metastasis, statement("a", concept(RXNORM, "1163443", "leuprolide")))
    assert ask(result, "?t a h:UnidentifiedTherapyExposure ; h:therapyPhase h:metastatic-phase")
    assert result.errors == ()


def test_therapy_before_the_diagnosis_is_not_neoadjuvant(mapping: CodeMapping) -> None:
    cancer = condition("bc", concept(SNOMED, "254837009"), onsetDateTime="2023-03-01")
    surgery = {
        "resourceType": "Procedure",
        "id": "mastectomy",
        "status": "completed",
        "code": concept(SNOMED, "172043006"),
        "performedDateTime": "2023-09-01",
    }
    before = statement("before", concept(RXNORM, "1163443", "leuprolide"))  # 2023-01-05: before the diagnosis
    after = statement("after", TRASTUZUMAB, effectivePeriod={"start": "2023-04-01", "end": "2023-08-01"})
    result = run(mapping, cancer, surgery, before, after)
    assert ask(result, "?t a h:UnidentifiedTherapyExposure ; h:therapyPhase h:unknown-phase")
    assert ask(result, "?t h:drug h:trastuzumab ; h:therapyPhase h:neoadjuvant-phase")


def test_entries_that_are_not_history_stay_out(mapping: CodeMapping) -> None:
    unknown = concept(RXNORM, "1163443", "leuprolide")
    draft = {
        "resourceType": "MedicationRequest",
        "id": "draft",
        "status": "draft",
        "intent": "proposal",
        "medicationCodeableConcept": unknown,
    }
    result = run(mapping, statement("void", unknown, status="entered-in-error"), draft)
    assert not ask(result, "?p h:hasTherapy ?t")
    assert "therapy-history-incomplete" not in codes(result.warnings)
    assert {i.resource for i in result.ignored} == {"MedicationStatement/void", "MedicationRequest/draft"}


def test_recommend_exits_1_for_an_unmapped_known_drug(
    mapping: CodeMapping, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "unmapped.json"
    path.write_text(json.dumps(bundle(statement("abc", {"text": "Enhertu"}))), encoding="utf-8")
    code = main(["recommend", str(path), "--format", "json", "--as-of", "2026-11-01"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert any(e["code"] == "fhir-unmapped-known-drug" and "MedicationStatement/abc" in e["message"] for e in report["errors"])
    assert report["permitted"] == []


# --- 3. why a therapy ended -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"statusReason": [concept(SNOMED, "407563006", "Treatment not tolerated")]}, "h:ended-by-toxicity"),
        ({"status": "stopped", "extension": [{"url": TERMINATION, "valueCodeableConcept": concept(SNOMED, "407563006")}]}, "h:ended-by-toxicity"),
        ({"status": "stopped", "extension": [{"url": TERMINATION, "valueCodeableConcept": concept(SNOMED, "182992009")}]}, "h:ended-by-completion"),
        ({}, "h:ended-by-completion"),  # MedicationStatement.status completed: the resource says so
    ],
)
def test_the_end_reason_comes_from_what_the_resource_says(
    mapping: CodeMapping, extra: dict[str, Any], reason: str
) -> None:
    result = run(mapping, statement("a", TRASTUZUMAB, **extra))
    assert result.errors == ()
    assert ask(result, f"?t h:drug h:trastuzumab ; h:endReason {reason}")


@pytest.mark.parametrize(
    "resource",
    [
        statement("a", TRASTUZUMAB, status="stopped"),  # stopped, no reason given
        statement("a", TRASTUZUMAB, status="stopped", statusReason=[concept(SNOMED, "160932005", "Financial problem")]),
        statement("a", TRASTUZUMAB, status="active", statusReason=[concept(SNOMED, "407563006")]),  # not ended
        {
            "resourceType": "MedicationAdministration",
            "id": "a",
            "status": "completed",  # one dose given, which says nothing about the course
            "medicationCodeableConcept": TRASTUZUMAB,
            "effectiveDateTime": "2023-03-01",
        },
    ],
)
def test_no_end_reason_when_the_record_does_not_say(mapping: CodeMapping, resource: dict[str, Any]) -> None:
    result = run(mapping, resource)
    assert result.errors == ()
    assert ask(result, "?t h:drug h:trastuzumab")
    assert not ask(result, "?t h:endReason ?r")


def test_contradictory_end_reasons_are_an_error(mapping: CodeMapping) -> None:
    result = run(
        mapping,
        statement(
            "a",
            TRASTUZUMAB,
            statusReason=[concept(SNOMED, "407563006")],
            extension=[{"url": TERMINATION, "valueCodeableConcept": concept(SNOMED, "182992009")}],
        ),
    )
    assert codes(result.errors) == ["fhir-conflicting-codes"]
    assert result.errors[0].message.startswith("MedicationStatement/a (Bundle.entry[1]): ")
    assert not ask(result, "?t h:endReason ?r")


# --- 4. serial measurements -------------------------------------------------------------------


def lvef(ident: str, day: str, value: float) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": concept(LOINC, "10230-1"),
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "unit": "%", "system": UCUM, "code": "%"},
    }


def test_every_lvef_is_kept_with_its_date(mapping: CodeMapping) -> None:
    result = run(mapping, lvef("a", "2024-01-01", 64), lvef("b", "2024-04-01", 55), lvef("c", "2024-07-01", 47))
    assert result.errors == ()
    for day, value in (("2024-01-01", "64.0"), ("2024-04-01", "55.0"), ("2024-07-01", "47.0")):
        assert ask(result, f'{P} h:hasObservation ?o . ?o a h:LVEFMeasurement ; h:effectiveDate "{day}"^^xsd:date ; h:percentValue {value}')


# --- 5. alternative codings, post-coordination, units, ICD-10-CM ------------------------------


def her2(codings: list[dict[str, str]], answer: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "her2",
        "status": "final",
        "code": {"coding": codings},
        "effectiveDateTime": "2024-01-02",
        "valueCodeableConcept": concept(SNOMED, answer),
    }


def test_alternative_codings_of_one_her2_test_are_accepted_when_they_agree(mapping: CodeMapping) -> None:
    codings = [{"system": LOINC, "code": "48676-1"}, {"system": LOINC, "code": "85319-2"}]
    result = run(mapping, her2(codings, "10828004"))
    assert result.errors == ()
    assert ask(result, f"{P} h:hasObservation ?o . ?o a h:HER2IHCTest, h:HER2StatusInterpretation ; h:result h:positive")


def test_codings_of_different_tests_are_a_conflict(mapping: CodeMapping) -> None:
    codings = [{"system": LOINC, "code": "85337-4"}, {"system": LOINC, "code": "85339-0"}]  # ER and PR
    result = run(mapping, her2(codings, "10828004"))
    assert codes(result.errors) == ["fhir-conflicting-codes"]
    assert not ask(result, "?p h:hasObservation ?o")


def test_a_malignant_neoplasm_with_a_breast_body_site_is_breast_cancer(mapping: CodeMapping) -> None:
    neoplasm = concept(SNOMED, "363346000", "Malignant neoplastic disease")
    breast = condition("primary", neoplasm, bodySite=[concept(SNOMED, "80248007", "Left breast structure")])
    result = run(mapping, breast)
    assert ask(result, f"{P} h:hasCondition ?c . ?c a h:BreastCancer")
    # near miss: the same code at another site is not breast cancer
    colon = condition("primary", neoplasm, bodySite=[concept(SNOMED, "71854001", "Colon structure")])
    result = run(mapping, colon)
    assert not ask(result, "?p h:hasCondition ?c")
    assert [i.resource for i in result.ignored] == ["Condition/primary"]


def size(code: str, quantity: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "size",
        "status": "final",
        "code": concept(LOINC, code),
        "effectiveDateTime": "2024-01-02",
        "valueQuantity": quantity,
    }


@pytest.mark.parametrize(
    ("code", "quantity", "mm"),
    [
        ("33728-7", {"value": 3.47, "unit": "cm", "system": UCUM, "code": "cm"}, "34.70"),  # Synthea's form
        ("33728-7", {"value": 18, "unit": "mm", "system": UCUM, "code": "mm"}, "18"),
        ("21889-1", {"value": 2.1, "unit": "cm", "system": UCUM, "code": "cm"}, "21.0"),
    ],
)
def test_tumour_size_is_read_with_its_unit(mapping: CodeMapping, code: str, quantity: dict[str, Any], mm: str) -> None:
    result = run(mapping, size(code, quantity))
    assert result.errors == ()
    assert ask(result, f"{P} h:hasObservation ?o . ?o a h:TumourSizeMeasurement ; h:sizeMillimetres ?mm FILTER(?mm = {mm})")


@pytest.mark.parametrize(
    "quantity",
    [{"value": 3.47, "system": UCUM, "code": "[in_i]"}, {"value": 3.47}, {"value": 3.47, "system": UCUM, "code": "%"}],
)
def test_a_size_in_a_unit_the_rules_cannot_use_is_an_error(mapping: CodeMapping, quantity: dict[str, Any]) -> None:
    result = run(mapping, size("33728-7", quantity))
    assert codes(result.errors) == ["fhir-unit"]
    assert result.errors[0].message.startswith("Observation/size (Bundle.entry[1]): ")
    assert not ask(result, "?o h:sizeMillimetres ?v")


def test_an_lvef_as_a_fraction_is_an_error_not_a_conversion(mapping: CodeMapping) -> None:
    result = run(mapping, {**lvef("a", "2024-01-01", 0.55), "valueQuantity": {"value": 0.55, "system": UCUM, "code": "1"}})
    assert codes(result.errors) == ["fhir-unit"]
    assert not ask(result, "?o h:percentValue ?v")


@pytest.mark.parametrize(
    ("code", "cls"),
    [("I50.9", "h:HeartFailure"), ("I50.22", "h:HeartFailure"), ("C50.912", "h:BreastCancer")],
)
def test_icd_10_cm_conditions_are_read_through_the_mapping(mapping: CodeMapping, code: str, cls: str) -> None:
    result = run(mapping, condition("c", concept(ICD10CM, code)))
    assert ask(result, f"{P} h:hasCondition ?c . ?c a {cls}")


def test_an_icd_10_cm_code_outside_the_mapped_prefixes_is_not_read(mapping: CodeMapping) -> None:
    result = run(mapping, condition("c", concept(ICD10CM, "I51.9", "Heart disease, unspecified")))
    assert not ask(result, "?p h:hasCondition ?c")
    assert codes(result.warnings) == ["fhir-unknown-code"]


# --- ignored entries are named by their own type and id ---------------------------------------


def test_a_bundle_her2kg_assembled_names_entries_only_by_type_and_id(mapping: CodeMapping) -> None:
    assembled = bundle(statement("abc", {"text": "Enhertu"}), {"resourceType": "Encounter", "id": "e1"})
    assembled["meta"] = {"tag": [{"system": "https://w3id.org/her2kg/fhir/CodeSystem/her2kg", "code": "assembled"}]}
    result = import_bundle(assembled, mapping=mapping, source="prefetch")
    assert result.errors[0].message.startswith("MedicationStatement/abc: ")
    assert result.errors[0].field == "MedicationStatement/abc"
    assert {(i.field, i.resource) for i in result.ignored} == {("", "MedicationStatement/abc"), ("", "Encounter/e1")}
    assert "Bundle.entry" not in json.dumps([n.message for n in (*result.errors, *result.warnings)])


# --- the imported history passes the patient shapes -------------------------------------------


@pytest.mark.slow
def test_an_imported_history_passes_the_patient_shapes(
    mapping: CodeMapping, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from her2kg.commands.import_fhir import patient_turtle

    result = run(
        mapping,
        statement("a", concept(RXNORM, "1163443", "leuprolide")),
        statement("b", TRASTUZUMAB, statusReason=[concept(SNOMED, "407563006")]),
        condition("ild", ILD, clinicalStatus=status("condition-clinical", "resolved"), abatementDateTime="2024-02-01"),
    )
    imported = tmp_path / "imported.ttl"
    imported.write_text(patient_turtle(result.ntriples, result.patient_iri), encoding="utf-8")
    assert main(["validate", str(imported), "--no-owl"]) == 0, capsys.readouterr().out
    # near miss: an exposure without a drug that is not an unidentified one breaks the shapes
    drugless = tmp_path / "drugless.ttl"
    drugless.write_text(
        imported.read_text(encoding="utf-8").replace(",\n        h:UnidentifiedTherapyExposure", ""), encoding="utf-8"
    )
    assert "h:UnidentifiedTherapyExposure" not in drugless.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(drugless), "--no-owl"]) == 1
    assert "unless it is an h:UnidentifiedTherapyExposure" in capsys.readouterr().out
