"""import_bundle on real and hand-written bundles: the facts in the graph, what is left out, and
which problems are errors."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from her2kg.errors import InputError
from her2kg.fhir import CodeMapping, FhirImport, import_bundle, load_code_mapping, read_bundle_file
from her2kg.fhir import bundle as bundle_module
from her2kg.notices import Notice
from her2kg.vocabulary import BASE, PREFIXES, patient_iri
from shared_files import SHARED_DIR

SHARED = SHARED_DIR
VIGNETTES = SHARED / "vignettes"
EXAMPLES = SHARED / "fhir-examples"
DATA = Path(__file__).resolve().parent / "data" / "fhir"
MCODE = EXAMPLES / "mcode-ctm-app_TrialMatching_Patient01_metastatic-HR+HER2-.json"
SYNTHEA = EXAMPLES / "synthea-via-mcode-pathways_T0_patient_breast-HER2neg_trimmed.json"

PREFIX = f"PREFIX h: <{BASE}>\nPREFIX xsd: <{PREFIXES['xsd']}>\n"


@pytest.fixture(scope="module")
def mapping() -> CodeMapping:
    return load_code_mapping()


def load(path: Path, mapping: CodeMapping) -> FhirImport:
    return import_bundle(read_bundle_file(path), mapping=mapping, source=path.name)


def store(result: FhirImport) -> ox.Store:
    graph = ox.Store()
    if result.ntriples:
        graph.bulk_load(result.ntriples.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return graph


def ask(result: FhirImport, where: str) -> bool:
    answer = store(result).query(PREFIX + f"ASK {{ {where} }}")
    assert isinstance(answer, ox.QueryBoolean)
    return bool(answer)


def count(result: FhirImport, where: str) -> int:
    rows = list(store(result).query(PREFIX + f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"))
    return int(rows[0]["n"].value)


def codes(notices: tuple[Notice, ...]) -> list[str]:
    return [n.code for n in notices]


def vignette_files() -> list[Path]:
    return sorted(p for p in VIGNETTES.glob("p*.json") if not p.name.endswith(".expect.json"))


# --- vignettes --------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("path", vignette_files(), ids=lambda p: p.stem)
def test_every_vignette_imports_without_errors_or_warnings(mapping: CodeMapping, path: Path) -> None:
    result = load(path, mapping)
    assert result.errors == (), [e.message for e in result.errors]
    assert result.warnings == (), [w.message for w in result.warnings]
    assert result.patient_iri == patient_iri(result.patient_id)
    assert ask(result, f"<{result.patient_iri}> a h:Patient ; h:patientId {json.dumps(result.patient_id)}")


@pytest.mark.shared
@pytest.mark.parametrize("path", vignette_files(), ids=lambda p: p.stem)
def test_vignettes_carry_the_facts_their_expectations_need(mapping: CodeMapping, path: Path) -> None:
    expect = json.loads(path.with_name(path.stem + ".expect.json").read_text(encoding="utf-8"))
    result = load(path, mapping)
    p = f"<{result.patient_iri}>"
    her2 = expect.get("her2")
    if her2 in ("positive", "negative"):
        assert ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:{her2}")
    if expect.get("errors"):  # p12: no HER2 result at all; the rules reject it, the importer imports it
        assert not ask(
            result,
            f"{p} h:hasObservation ?o . ?o a ?c . FILTER(?c IN (h:HER2IHCTest, h:HER2ISHTest, h:HER2StatusInterpretation))",
        )
    metastatic = ask(
        result,
        f"{{ {p} h:hasCondition ?c . ?c a h:BoneMetastasis }} UNION {{ {p} h:hasCondition ?c . ?c a h:LiverMetastasis }} UNION {{ {p} h:hasObservation ?o . ?o h:result h:m1 }}",
    )
    if expect.get("setting") == "metastatic":
        assert metastatic
    if expect.get("setting") == "early":
        assert not metastatic
        assert ask(result, f"{p} h:hasObservation ?o . ?o a h:DistantMetastasisCategory ; h:result h:m0")


@pytest.mark.shared
def test_p02_has_three_metastatic_exposures_and_one_progression(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p02-met-second-line.json", mapping)
    p = f"<{result.patient_iri}>"
    assert (
        count(
            result,
            f"{p} h:hasTherapy ?t . ?t a h:TherapyExposure ; h:therapyPhase h:metastatic-phase ; h:exposureStatus h:ended-status",
        )
        == 3
    )
    assert (
        count(
            result,
            f'{p} h:hasObservation ?o . ?o a h:DiseaseStatusAssessment ; h:result h:disease-progression ; h:effectiveDate "2026-09-01"^^xsd:date',
        )
        == 1
    )
    assert ask(
        result,
        f'{p} h:hasTherapy ?t . ?t h:drug h:trastuzumab ; h:startDate "2024-01-20"^^xsd:date ; h:endDate "2026-09-01"^^xsd:date',
    )
    assert ask(
        result,
        f'<{result.patient_iri}/therapy/8> h:sourceReference "MedicationStatement/86412f60-1f44-51f4-9187-9cb418e6bc23 (Bundle.entry[8])"',
    )


@pytest.mark.shared
def test_p10_has_one_plan_with_three_orders(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p10-proposed-anthracycline-trastuzumab.json", mapping)
    p = f"<{result.patient_iri}>"
    assert count(result, f"{p} h:hasProposedPlan ?plan") == 1
    assert (
        count(
            result,
            f"{p} h:hasProposedPlan ?plan . ?plan a h:ProposedPlan ; h:hasOrder ?o . ?o a h:ProposedOrder ; h:drug ?d",
        )
        == 3
    )
    for drug in ("doxorubicin", "cyclophosphamide", "trastuzumab"):
        assert ask(
            result,
            f'{p} h:hasProposedPlan/h:hasOrder ?o . ?o h:drug h:{drug} ; h:startDate "2026-11-10"^^xsd:date ; h:endDate "2027-01-20"^^xsd:date',
        )
    assert not ask(result, f"{p} h:hasTherapy ?t")


@pytest.mark.shared
def test_p03_has_trastuzumab_deruxtecan_unavailable(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p03-met-second-line-no-tdxd.json", mapping)
    assert ask(result, f"<{result.patient_iri}> h:drugUnavailable h:trastuzumab-deruxtecan")


@pytest.mark.shared
def test_p08_has_residual_disease_after_neoadjuvant_therapy_and_surgery(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p08-residual-disease.json", mapping)
    p = f"<{result.patient_iri}>"
    assert ask(
        result, f"{p} h:hasObservation ?o . ?o a h:PathologicResponseAssessment ; h:result h:residual-invasive-disease"
    )
    assert ask(result, f'{p} h:hasProcedure ?s . ?s a h:BreastCancerSurgery ; h:performedDate "2026-06-01"^^xsd:date')
    assert count(result, f"{p} h:hasTherapy ?t . ?t h:therapyPhase h:neoadjuvant-phase") == 4
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:TumourSizeMeasurement ; h:sizeMillimetres 42.0")


@pytest.mark.shared
def test_p05_adjuvant_trastuzumab_then_liver_metastasis(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p05-early-recurrence.json", mapping)
    p = f"<{result.patient_iri}>"
    assert ask(
        result,
        f'{p} h:hasTherapy ?t . ?t h:drug h:trastuzumab ; h:therapyPhase h:adjuvant-phase ; h:endDate "2024-02-20"^^xsd:date',
    )
    assert ask(result, f'{p} h:hasCondition ?c . ?c a h:LiverMetastasis ; h:onsetDate "2024-08-20"^^xsd:date')


@pytest.mark.shared
def test_p09_has_heart_failure_and_a_low_lvef(mapping: CodeMapping) -> None:
    result = load(VIGNETTES / "p09-heart-failure.json", mapping)
    p = f"<{result.patient_iri}>"
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:HeartFailure")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:LVEFMeasurement ; h:percentValue 35.0")


@pytest.mark.shared
def test_the_same_bundle_gives_the_same_triples(mapping: CodeMapping) -> None:
    path = VIGNETTES / "p04-met-third-line.json"
    assert load(path, mapping).ntriples == load(path, mapping).ntriples


# --- real bundles -----------------------------------------------------------------------------


RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.mark.shared
def test_mcode_trial_matching_patient_is_metastatic_hr_positive_her2_negative(mapping: CodeMapping) -> None:
    result = load(MCODE, mapping)
    p = f"<{result.patient_iri}>"
    # fulvestrant is coded as the RxNorm "Injectable Product" 1156671: until that code is mapped,
    # the entries that name a knowledge-base drug are errors, never a silently shorter history
    if mapping.lookup(RXNORM, "1156671"):
        assert count(result, f"{p} h:hasTherapy ?t . ?t h:drug h:fulvestrant") == 2
        # with identified therapy recorded, the undated metastases are errors: the phase and line
        # of that therapy depend on the date of metastatic diagnosis
        assert set(codes(result.errors)) == {"fhir-missing-date"}
    else:
        assert [(e.code, e.field) for e in result.errors] == [
            ("fhir-unmapped-known-drug", "Bundle.entry[13]"),
            ("fhir-unmapped-known-drug", "Bundle.entry[15]"),
        ]
        assert 'skos:notation "1156671"^^h:RxNorm' in result.errors[0].message
    assert result.patient_id == "mCODETrialMatchingPatientExample01"
    assert ask(result, f'{p} h:birthDate "1959-01-01"^^xsd:date')
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:negative")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:EstrogenReceptorTest ; h:result h:positive")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:ProgesteroneReceptorTest ; h:result h:positive")
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:BreastCancer")
    # metastatic evidence: liver and bone metastases, stage IV (AJCC code 4); axillary nodes are regional
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:LiverMetastasis")
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:BoneMetastasis")
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:RegionalNodalMetastasis")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:StageGroupObservation ; h:result h:stage-4")
    # drugs the knowledge base does not know (leuprolide, the CDK4/6 inhibitors) are kept as
    # unidentified therapy, and the history is reported as incomplete (one warning)
    assert (
        count(
            result,
            f"{p} h:hasTherapy ?t . ?t a h:UnidentifiedTherapyExposure ; h:recordedText ?text ; h:startDate ?d",
        )
        == 3
    )
    assert not ask(result, f"{p} h:hasTherapy ?t . ?t a h:UnidentifiedTherapyExposure ; h:drug ?drug")
    assert ask(result, f'{p} h:hasTherapy ?t . ?t h:recordedText ?text . FILTER(CONTAINS(?text, "abemaciclib"))')
    assert codes(result.warnings).count("therapy-history-incomplete") == 1
    if not mapping.lookup(RXNORM, "1156671"):
        # undated metastases are worth a warning, not an error, when only unidentified therapy is recorded
        assert "fhir-missing-date" in codes(result.warnings)


@pytest.mark.shared
def test_synthea_patient_is_stage_3_er_negative_pr_positive_her2_negative(mapping: CodeMapping) -> None:
    result = load(SYNTHEA, mapping)
    p = f"<{result.patient_iri}>"
    assert result.errors == ()
    assert ask(result, f'{p} h:hasCondition ?c . ?c a h:BreastCancer ; h:onsetDate "2014-11-06"^^xsd:date')
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:negative")
    assert ask(result, f'{p} h:hasObservation ?o . ?o a h:HER2ISHTest ; h:ishRatio 1.8 ; h:ratioComparator "<"')
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:EstrogenReceptorTest ; h:result h:negative")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:ProgesteroneReceptorTest ; h:result h:positive")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:DistantMetastasisCategory ; h:result h:m0")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:RegionalNodesCategory ; h:result h:n2")
    assert count(result, f"{p} h:hasObservation ?o . ?o a h:StageGroupObservation ; h:result h:stage-3") == 2
    # eight doxorubicin cycles and tamoxifen, by product code, phase unknown (no surgery, no metastasis)
    assert count(result, f"{p} h:hasTherapy ?t . ?t h:drug h:doxorubicin ; h:exposureStatus h:ended-status") == 8
    assert ask(result, f'{p} h:hasTherapy ?t . ?t h:drug h:tamoxifen ; h:startDate "2015-04-28"^^xsd:date')
    assert not ask(result, f"{p} h:hasTherapy ?t . ?t h:therapyPhase ?ph . FILTER(?ph != h:unknown-phase)")
    # one warning for the nine therapies of unknown phase, naming the entries
    phase_warnings = [w for w in result.warnings if w.code == "fhir-unknown-phase"]
    assert len(phase_warnings) == 1
    assert phase_warnings[0].message.startswith(
        "9 entries (MedicationRequest/dcdbd869-49c4-43ba-a84e-4d42ab043183 (Bundle.entry[19]), MedicationRequest/"
    )
    assert phase_warnings[0].field == "Bundle.entry[19]"
    assert not ask(result, f"{p} h:hasCondition ?c . ?c a h:DistantMetastasis")


@pytest.mark.shared
def test_a_real_bundle_changed_to_her2_positive_imports_as_positive(mapping: CodeMapping, tmp_path: Path) -> None:
    data = json.loads(MCODE.read_text(encoding="utf-8"))
    changed = copy.deepcopy(data)
    her2 = next(
        e["resource"]
        for e in changed["entry"]
        if e["resource"].get("id") == "mCODETrialMatchingTumorMarker03PatientExample01"
    )
    her2["valueCodeableConcept"] = {
        "coding": [{"system": "http://snomed.info/sct", "code": "10828004", "display": "Positive (qualifier value)"}]
    }
    path = tmp_path / "her2-positive.json"
    path.write_text(json.dumps(changed), encoding="utf-8")

    result = load(path, mapping)
    p = f"<{result.patient_iri}>"
    assert set(codes(result.errors)) <= {"fhir-unmapped-known-drug", "fhir-missing-date"}  # see above
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:positive")
    assert not ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:negative")
    # and with an IHC score written as text
    her2.pop("valueCodeableConcept")
    her2["valueString"] = "3+"
    result = import_bundle(changed, mapping=mapping, source="her2-3plus.json")
    assert ask(result, f"<{result.patient_iri}> h:hasObservation ?o . ?o a h:HER2IHCTest ; h:result h:ihc-3plus")


# --- hand-written bundles ---------------------------------------------------------------------


def test_values_are_read_from_every_supported_form(mapping: CodeMapping) -> None:
    result = load(DATA / "values.json", mapping)
    p = f"<{result.patient_iri}>"
    o = f"<{result.patient_iri}/observation"
    assert result.errors == ()
    assert ask(
        result, f'{o}/1> a h:HER2IHCTest ; h:result h:ihc-3plus ; h:effectiveDate "2024-03-01"^^xsd:date'
    )  # "3 +", -05:00
    assert ask(result, f"{o}/2> h:result h:ihc-2plus")  # valueCodeableConcept.text "Score 2+"
    assert ask(result, f'{o}/3> a h:HER2ISHTest ; h:ishRatio 2.2 ; h:ratioComparator ">"')
    assert ask(result, f"{o}/4> h:ishRatio 2.3")
    assert ask(result, f"{o}/5> h:ishRatio 2.60")
    assert ask(result, f"{o}/6> a h:HER2ISHTest ; h:her2CopyNumber 6.1")
    assert ask(result, f"{o}/7> a h:HER2StatusInterpretation ; h:result h:positive")
    assert ask(result, f"{o}/8> a h:EstrogenReceptorTest ; h:result h:positive")
    assert ask(result, f"{o}/9> a h:ProgesteroneReceptorTest ; h:result h:negative")
    assert ask(result, f'{o}/10> h:percentValue 55.0 ; h:effectiveDate "2024-03-02"^^xsd:date')
    assert ask(result, f"{o}/11> a h:TumourSizeMeasurement ; h:sizeMillimetres 25.0")
    assert ask(result, f"{o}/12> h:sizeMillimetres 18.0")
    assert ask(
        result, f'{o}/13> a h:DistantMetastasisCategory ; h:result h:m1 ; h:effectiveDate "2024-03-05"^^xsd:date'
    )
    assert ask(result, f"{o}/14> a h:DiseaseBurdenAssessment ; h:result h:high-burden")
    assert ask(result, f"{o}/15> h:result h:stable-disease")
    assert not ask(result, f"{o}/15> h:effectiveDate ?d")  # "2024-04" is kept out, with a warning
    assert ask(
        result, f'{p} h:hasCondition ?c . ?c a h:BreastCancer ; h:onsetDate "2024-02-28"^^xsd:date'
    )  # ICD-10 C50.912
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:HER2PositiveBreastCancer")
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:Pregnancy")
    # a resolved condition is history, with its status and abatement date; a refuted one is gone
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:HeartFailure ; h:clinicalStatus h:condition-resolved")
    assert not ask(result, f"{p} h:hasCondition ?c . ?c a h:HeartFailure ; h:clinicalStatus h:condition-active")
    assert not ask(result, f"{p} h:hasCondition ?c . ?c a h:InterstitialLungDisease")  # refuted
    assert not ask(result, f"{p} h:birthDate ?d")  # "1970" only
    assert sorted(codes(result.warnings)) == ["fhir-partial-date", "fhir-partial-date", "fhir-unconfirmed-condition"]
    assert {(i.field, i.resource, i.reason) for i in result.ignored} == {
        ("Bundle.entry[19]", "Condition/ild-refuted", "verificationStatus is refuted"),
    }


def test_therapy_phases_products_references_and_the_proposed_plan(mapping: CodeMapping) -> None:
    result = load(DATA / "therapy.json", mapping)
    t = f"<{result.patient_iri}/therapy"
    p = f"<{result.patient_iri}>"
    assert result.errors == () and result.warnings == ()
    # searchset with absolute references to the Patient
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:BreastCancer")
    # before surgery -> neoadjuvant; after -> adjuvant; after the metastasis -> metastatic; stated phase wins
    assert ask(
        result, f"{t}/3> h:drug h:trastuzumab ; h:therapyPhase h:neoadjuvant-phase ; h:exposureStatus h:ended-status"
    )
    assert ask(
        result, f"{t}/4-1> h:drug h:pertuzumab ; h:therapyPhase h:adjuvant-phase"
    )  # contained Medication, 2 ingredients
    assert ask(result, f"{t}/4-2> h:drug h:trastuzumab ; h:therapyPhase h:adjuvant-phase")
    assert ask(
        result,
        f'{t}/6> h:drug h:trastuzumab-emtansine ; h:therapyPhase h:metastatic-phase ; h:exposureStatus h:ongoing-status ; h:startDate "2023-06-01"^^xsd:date',
    )
    assert not ask(result, f"{t}/6> h:endDate ?d")
    assert ask(
        result, f"{t}/8> h:drug h:tamoxifen ; h:therapyPhase h:adjuvant-phase ; h:exposureStatus h:ongoing-status"
    )
    assert ask(result, f"{t}/12> h:drug h:docetaxel ; h:therapyPhase h:metastatic-phase")
    assert ask(result, f"{p} h:drugUnavailable h:trastuzumab")  # by product code 1922509
    assert count(result, f"{p} h:hasProposedPlan/h:hasOrder ?o") == 2
    assert ask(
        result,
        f'{p} h:hasProposedPlan/h:hasOrder ?o . ?o h:drug h:lapatinib ; h:startDate "2026-12-01"^^xsd:date ; h:endDate "2027-03-01"^^xsd:date',
    )
    assert ask(result, f"{p} h:hasProposedPlan/h:hasOrder ?o . ?o h:drug h:capecitabine")
    assert [(i.field, i.reason) for i in result.ignored] == [("Bundle.entry[9]", "status is cancelled")]


def test_problems_are_errors_when_the_answer_could_be_unsafe(mapping: CodeMapping) -> None:
    result = load(DATA / "problems.json", mapping)
    errors = {(e.field, e.code) for e in result.errors}
    assert errors == {
        ("Bundle.entry[1]", "fhir-missing-value"),  # HER2 without value
        ("Bundle.entry[2]", "fhir-unit"),  # LVEF 0.55 in '1', not %: not converted
        ("Bundle.entry[3]", "fhir-missing-date"),  # LVEF without date
        ("Bundle.entry[4]", "fhir-partial-date"),  # progression "2024-05"
        ("Bundle.entry[9]", "fhir-missing-date"),  # therapy without dates
        ("Bundle.entry[11]", "fhir-unmapped-known-drug"),  # no code, text "Herceptin": a known drug
        ("Bundle.entry[12]", "fhir-missing-date"),  # metastasis "2023" while therapy is recorded
        ("Bundle.entry[13]", "fhir-unreadable-value"),  # ER as a number
        ("Bundle.entry[14]", "fhir-unreadable-value"),  # ISH "see report"
    }
    for error in result.errors:  # named by the resource's own type and id, the position only as a hint
        assert re.match(rf"^[A-Za-z]+/[\w.-]+ \({re.escape(error.field)}\): ", error.message), error.message
    warnings = {(w.field, w.code) for w in result.warnings}
    assert ("Bundle.entry[5]", "fhir-unknown-code") in warnings
    assert ("Bundle.entry[6]", "fhir-unknown-code-system") in warnings
    assert ("Bundle.entry[8]", "fhir-other-patient") in warnings
    assert ("Bundle.entry[10]", "fhir-no-code") in warnings
    assert ("Bundle.entry[15]", "fhir-unknown-code") in warnings
    ignored = {i.field: i.reason for i in result.ignored}
    assert ignored["Bundle.entry[7]"] == "status is entered-in-error"
    assert ignored["Bundle.entry[16]"] == "resource type Encounter is not used by her2kg"
    assert ignored["Bundle.entry[17]"] == "the entry has no resource"
    assert "someone-else" in ignored["Bundle.entry[8]"]
    assert not ask(result, "?s h:percentValue 0.55")  # never converted to 55
    assert ask(result, "?s h:percentValue 50.0")  # kept, with its error
    assert not ask(result, "?c a h:BoneMetastasis")


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("two-patients.json", "fhir-several-patients"),
        ("no-patient.json", "fhir-no-patient"),
        ("patient-only.json", "fhir-not-a-bundle"),
    ],
)
def test_bundle_level_errors(mapping: CodeMapping, name: str, code: str) -> None:
    result = load(DATA / name, mapping)
    assert codes(result.errors) == [code]
    assert result.ntriples == ""
    assert name in result.errors[0].message


@pytest.mark.parametrize(
    "value", [None, [], "Bundle", 3, {"resourceType": "Bundle", "entry": "x"}, {"resourceType": "Bundle"}]
)
def test_json_that_is_no_bundle_is_an_error(mapping: CodeMapping, value: object) -> None:
    result = import_bundle(value, mapping=mapping, source="in.json")
    assert len(result.errors) == 1
    assert result.errors[0].code in {"fhir-not-a-bundle", "fhir-no-patient"}


@pytest.mark.shared
def test_unknown_bundle_type_is_a_warning(mapping: CodeMapping) -> None:
    data = read_bundle_file(VIGNETTES / "p01-met-first-line.json")
    assert isinstance(data, dict)
    data["type"] = "history"
    result = import_bundle(data, mapping=mapping, source="p01.json")
    assert codes(result.errors) == []
    assert codes(result.warnings) == ["fhir-bundle-type"]


@pytest.mark.shared
def test_patient_references_by_fullurl_and_urn_uuid(mapping: CodeMapping) -> None:
    data = read_bundle_file(VIGNETTES / "p01-met-first-line.json")
    assert isinstance(data, dict)
    entries = data["entry"]
    entries[1]["resource"]["subject"] = {"reference": "urn:uuid:p01"}  # the Patient entry's fullUrl
    entries[2]["resource"]["subject"] = {"reference": "https://ehr.example.org/fhir/Patient/p01/_history/3"}
    entries[3]["resource"].pop("subject")  # no subject: the bundle's one patient
    entries[4]["resource"]["subject"] = {"reference": "Group/101"}
    result = import_bundle(data, mapping=mapping, source="p01.json")
    p = f"<{result.patient_iri}>"
    assert ask(result, f"{p} h:hasCondition ?c . ?c a h:BreastCancer")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:HER2IHCTest")
    assert ask(result, f"{p} h:hasObservation ?o . ?o a h:EstrogenReceptorTest")
    assert not ask(result, f"{p} h:hasObservation ?o . ?o a h:ProgesteroneReceptorTest")
    assert codes(result.warnings) == ["fhir-other-patient"]


@pytest.mark.shared
def test_an_entry_that_breaks_a_mapper_becomes_an_error_not_a_traceback(
    mapping: CodeMapping, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: object) -> object:
        raise ValueError("boom")

    mappers: dict[str, Callable[..., object]] = dict(bundle_module.RESOURCE_MAPPERS)
    mappers["Observation"] = broken
    monkeypatch.setattr(bundle_module, "RESOURCE_MAPPERS", mappers)
    result = load(VIGNETTES / "p01-met-first-line.json", mapping)
    assert codes(result.errors) == ["fhir-unreadable-entry"] * 5
    assert (
        result.errors[0].message
        == "could not read Observation/898e4ec1-d149-5c0a-a212-dafa1cd8473d (Bundle.entry[2]): boom"
    )
    assert ask(
        result, f"<{result.patient_iri}> h:hasCondition ?c . ?c a h:BoneMetastasis"
    )  # the other entries still import


@pytest.mark.shared
def test_an_imprecise_therapy_date_is_an_error_naming_the_entry(mapping: CodeMapping) -> None:
    data = read_bundle_file(VIGNETTES / "p02-met-second-line.json")
    assert isinstance(data, dict)
    data["entry"][8]["resource"]["effectivePeriod"]["start"] = "2024-01"
    result = import_bundle(data, mapping=mapping, source="p02.json")
    assert [(e.field, e.code) for e in result.errors] == [("Bundle.entry[8]", "fhir-partial-date")]


@pytest.mark.shared
def test_ongoing_and_ended_therapy_without_a_stated_phase(mapping: CodeMapping) -> None:
    data = read_bundle_file(VIGNETTES / "p06-late-recurrence.json")
    assert isinstance(data, dict)
    for entry in data["entry"]:
        entry["resource"].pop("extension", None)
    result = import_bundle(data, mapping=mapping, source="p06.json")
    p = f"<{result.patient_iri}>"
    assert result.errors == ()
    # surgery 2020-02-01, therapy from 2020-03-01, metastasis 2023-09-01: adjuvant
    assert count(result, f"{p} h:hasTherapy ?t . ?t h:therapyPhase h:adjuvant-phase") == 2


# --- reading files ----------------------------------------------------------------------------


def test_read_bundle_file_refuses_what_is_not_json(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        read_bundle_file(DATA / "not-json.json")
    with pytest.raises(InputError, match="no such file"):
        read_bundle_file(tmp_path / "missing.json")
    with pytest.raises(InputError, match="directory"):
        read_bundle_file(tmp_path)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00\x01")
    with pytest.raises(InputError, match="UTF-8"):
        read_bundle_file(binary)
    nan = tmp_path / "nan.json"
    nan.write_text('{"value": NaN}', encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        read_bundle_file(nan)


def test_importing_the_fhir_package_does_not_load_rdflib() -> None:
    import subprocess
    import sys

    code = "import sys, her2kg.fhir; from her2kg.fhir import load_code_mapping; print('rdflib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
