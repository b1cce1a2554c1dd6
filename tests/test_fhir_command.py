"""`her2kg import-fhir`: Turtle out, notices to stderr, JSON on request, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib

from her2kg.cli import main
from shared_files import SHARED_DIR

SHARED = SHARED_DIR
DATA = Path(__file__).resolve().parent / "data" / "fhir"
P02 = SHARED / "vignettes" / "p02-met-second-line.json"
H = rdflib.Namespace("https://w3id.org/her2kg/")


@pytest.mark.shared
def test_text_output_is_turtle_with_the_patient_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir", str(P02)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(
        "@prefix h: <https://w3id.org/her2kg/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n\n<https://w3id.org/her2kg/patient/p02> a h:Patient ;"
    )
    graph = rdflib.Graph().parse(data=out, format="turtle")
    patient = rdflib.URIRef("https://w3id.org/her2kg/patient/p02")
    assert (patient, H.patientId, rdflib.Literal("p02")) in graph
    assert len(list(graph.objects(patient, H.hasTherapy))) == 3
    assert err == ""


@pytest.mark.shared
def test_output_file_and_notices_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "patient.ttl"
    bundle = SHARED / "fhir-examples" / "synthea-via-mcode-pathways_T0_patient_breast-HER2neg_trimmed.json"
    assert main(["import-fhir", str(bundle), "-o", str(target)]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "h:HER2IHCTest" in target.read_text(encoding="utf-8")
    assert "entries ignored" in err
    assert "warning [fhir-unknown-code]" in err
    assert "Procedure/48f23d8f-6b92-4971-b990-8f021255693c (Bundle.entry[13]): code not known to her2kg" in err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir", str(DATA / "problems.json"), "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"patient", "turtle", "ignored", "warnings", "errors"}
    assert document["patient"] == "t-problems"
    assert document["turtle"].startswith("@prefix h:")
    assert {"code": "fhir-missing-value", "field": "Bundle.entry[1]"}.items() <= document["errors"][0].items()
    assert all(set(w) == {"code", "field", "message"} for w in document["warnings"])
    assert {
        "field": "Bundle.entry[7]",
        "resource": "Observation/void",
        "reason": "status is entered-in-error",
    } in document["ignored"]


def test_errors_exit_1_and_say_what_to_fix(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir", str(DATA / "two-patients.json")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error [fhir-several-patients]" in err
    assert "give one patient per bundle" in err


@pytest.mark.parametrize("name", ["not-json.json", "missing.json"])
def test_unreadable_files_exit_2_without_a_traceback(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir", str(DATA / name)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("her2kg import-fhir: ")
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-fhir"]) == 2
    assert main(["import-fhir", str(P02), "--format", "xml"]) == 2
