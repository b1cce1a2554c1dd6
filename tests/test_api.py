"""The Python facade: inputs told apart by type, caller mistakes raised, patient problems as notices."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import her2kg
from her2kg import InputKind, KnowledgeBase, Patient, Preference, Severity, Verdict
from her2kg.report.model import Report

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "metastatic-first-line.ttl"
AS_OF = date(2026, 11, 1)
NO_HER2 = """@prefix h: <https://w3id.org/her2kg/> .
<https://w3id.org/her2kg/patient/api-p1> a h:Patient ; h:patientId "api-p1" ."""


def test_all_is_small_and_every_name_resolves() -> None:
    assert len(her2kg.__all__) <= 11
    for name in her2kg.__all__:
        assert getattr(her2kg, name) is not None
    with pytest.raises(AttributeError):
        her2kg.no_such_name  # noqa: B018


def test_recommend_from_path_str_and_pathlib_agree() -> None:
    by_path = her2kg.recommend(EXAMPLE, as_of=AS_OF)
    by_str = her2kg.recommend(str(EXAMPLE), as_of="2026-11-01")
    assert isinstance(by_path, Report) and by_path.ok
    # the knowledge base's digest is left out: the files may change between two calls
    assert {**by_path.to_json(), "knowledge_base": None} == {**by_str.to_json(), "knowledge_base": None}
    assert by_path.permitted[0].preference is Preference.PREFERRED


@pytest.mark.slow
def test_turtle_text_and_fhir_mapping() -> None:
    report = her2kg.recommend(Patient.from_turtle(NO_HER2), as_of=AS_OF)
    assert not report.ok and "her2-missing" in [e.code for e in report.errors]
    assert all(e.severity is Severity.ERROR for e in report.errors)
    path = ROOT / "tests" / "data" / "fhir" / "therapy.json"
    bundle = json.loads(path.read_text(encoding="utf-8"))
    from_mapping = her2kg.recommend(bundle, as_of=AS_OF)
    from_file = her2kg.recommend(path, as_of=AS_OF)
    assert from_mapping.patient == from_file.patient != ""
    assert from_mapping.situation == from_file.situation


def test_several_patients_in_one_input_need_recommend_many() -> None:
    two = Patient.from_turtle(NO_HER2 + "\n" + NO_HER2.splitlines()[1].replace("api-p1", "api-p2"))
    with pytest.raises(ValueError, match="recommend_many"):
        her2kg.recommend(two, as_of=AS_OF)
    assert [r.patient for r in her2kg.recommend_many([two], as_of=AS_OF)] == ["api-p1", "api-p2"]


def test_a_str_is_a_path_never_turtle_text() -> None:
    with pytest.raises(FileNotFoundError, match="Patient.from_turtle"):
        her2kg.recommend(NO_HER2, as_of=AS_OF)


def test_unreadable_content_is_a_notice_not_an_exception() -> None:
    report = her2kg.recommend(Patient.from_turtle("this is not turtle"), as_of=AS_OF)
    assert [e.code for e in report.errors] == ["unreadable-input"] and report.errors[0].field == "body"


@pytest.mark.parametrize(
    ("call", "error", "text"),
    [
        (lambda: her2kg.recommend(42), TypeError, "a patient is a file path"),
        (lambda: her2kg.recommend(EXAMPLE, as_of="1 Nov 2026"), ValueError, "YYYY-MM-DD"),
        (lambda: her2kg.recommend(EXAMPLE, unavailable="trastuzumab"), TypeError, "list of drugs"),
        (lambda: her2kg.recommend_many(EXAMPLE), TypeError, "list of patients"),
        (lambda: her2kg.recommend(EXAMPLE, kb="/nonexistent"), ValueError, "ontology/her2kg.ttl"),
        (lambda: Patient.from_path("notes.txt"), ValueError, r"\.ttl"),
        (lambda: Patient.from_turtle(b"x"), TypeError, "Turtle text"),
    ],
)
def test_caller_mistakes_raise_saying_what_to_pass(call: object, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        call()  # type: ignore[operator]


def test_unknown_drug_raises_without_naming_the_cli_flag() -> None:
    with pytest.raises(ValueError, match="unknown drug 'aspirin'") as caught:
        her2kg.recommend(EXAMPLE, as_of=AS_OF, unavailable=["aspirin"])
    assert "--unavailable" not in str(caught.value)


def test_known_unavailable_drug_is_used() -> None:
    report = her2kg.recommend(EXAMPLE, as_of=AS_OF, unavailable=["pertuzumab"])
    assert all("h:pertuzumab" not in r.drug_ids for r in report.permitted)


def test_cli_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    from her2kg.cli import main

    assert main(["recommend", str(EXAMPLE), "--unavailable", "aspirin"]) == 2
    assert "--unavailable: unknown drug 'aspirin'" in capsys.readouterr().err


def test_recommend_many_is_in_input_order_and_one_run() -> None:
    reports = her2kg.recommend_many([Patient.from_turtle(NO_HER2), EXAMPLE], as_of=AS_OF)
    assert [r.patient for r in reports] == ["api-p1", "example-met-1l"]


def test_kb_by_folder_names_its_digest() -> None:
    kb = KnowledgeBase(ROOT)
    report = her2kg.recommend(EXAMPLE, as_of=AS_OF, kb=kb)
    assert report.knowledge_base.digest == kb.digest and kb.version.version == report.knowledge_base.version


def test_enums_are_str_enums() -> None:
    assert InputKind("fhir-json") is InputKind.FHIR_JSON and Verdict("forbidden") == "forbidden"


def test_recommend_texts_refuses_an_unknown_kind() -> None:
    from her2kg.pipeline import recommend_texts

    with pytest.raises(ValueError, match="unknown input kind 'ttl'"):
        recommend_texts([("x", "ttl", NO_HER2)], as_of=AS_OF)


def test_one_definition_of_severity_curie_and_knowledge_base_version() -> None:
    from her2kg import knowledge, vocabulary
    from her2kg.knowledge_version import KnowledgeBaseVersion
    from her2kg.validation import locate, model

    assert model.Severity is Severity
    assert locate.curie is vocabulary.curie
    assert model.KnowledgeBaseVersion is KnowledgeBaseVersion
    assert knowledge.knowledge_info_from_rows([{"version": "1"}]) == KnowledgeBaseVersion(iri=vocabulary.ONTOLOGY_IRI, version="1")


def test_validate_names_the_kb_extra_when_it_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyshacl" else real(name, *a))
    with pytest.raises(ModuleNotFoundError, match=r"her2kg\[kb\]"):
        her2kg.validate("tests/data/patients/invalid/end-before-start.ttl")
