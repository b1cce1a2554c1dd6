"""Patient-input constraints have one definition: `validate PATIENT` and `recommend` agree."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

import pytest

import her2kg
from her2kg.notices import INPUT_CONSTRAINTS
from her2kg.report.model import Report
from her2kg.validation import validate_patient_files
from her2kg.validation.model import ValidationReport

ROOT = Path(__file__).resolve().parents[1]
INVALID = sorted((ROOT / "tests" / "data" / "patients" / "invalid").glob("*.ttl"))
AS_OF = date.today()  # validate evaluates on today's date
EXPECTED = {
    "bad-date": "invalid-date",
    "contradictory-her2": "her2-contradictory",
    "end-before-start": "end-before-start",
    "lvef-over-100": "lvef-out-of-range",
}


def _rule_codes(path: Path) -> set[str]:
    return _codes_by_file(validate_patient_files([path])).get(str(path), set())


def _codes_by_file(report: ValidationReport) -> dict[str, set[str]]:
    codes: dict[str, set[str]] = {}
    for finding in report.findings:
        if finding.check == "rules" and finding.severity == "error":
            codes.setdefault(finding.file, set()).add(finding.message.split(" ")[0].rstrip(":"))
    return codes


@cache
def _both() -> tuple[dict[str, Report], ValidationReport]:
    """Both commands over all the broken files, each in one run."""
    reports = {r.source: r for r in her2kg.recommend_many(INVALID, as_of=AS_OF)}
    return reports, validate_patient_files(INVALID)


@pytest.mark.slow
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_validate_and_recommend_agree_on_broken_inputs(path: Path) -> None:
    reports, validation = _both()
    report = reports[str(path)]
    failed_files = {f.file for f in validation.findings if f.severity == "error"}
    assert not report.ok and str(path) in failed_files
    assert all(f.line > 0 for f in validation.findings if f.file == str(path))  # placed on the patient
    assert _codes_by_file(validation).get(str(path), set()) == {e.code for e in report.errors} & INPUT_CONSTRAINTS
    if path.stem in EXPECTED:
        assert EXPECTED[path.stem] in {e.code for e in report.errors}


def test_every_broken_input_is_expected() -> None:
    assert set(EXPECTED) | {"missing-patient-id"} == {p.stem for p in INVALID}


def _patient(tmp_path: Path, body: str, name: str = "p") -> Path:
    path = tmp_path / f"{name}.ttl"
    path.write_text(
        "@prefix h: <https://w3id.org/her2kg/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        f'<https://w3id.org/her2kg/patient/{name}> a h:Patient ; h:patientId "{name}" {body} .\n',
        encoding="utf-8",
    )
    return path


THERAPY = (
    "; h:hasTherapy <https://w3id.org/her2kg/patient/p/therapy/1> .\n"
    "<https://w3id.org/her2kg/patient/p/therapy/1> a h:TherapyExposure ; h:drug h:trastuzumab ; "
    'h:startDate "2024-06-01"^^xsd:date ; h:endDate "{end}"^^xsd:date'
)


def test_end_on_start_day_is_a_near_miss(tmp_path: Path) -> None:
    before = _patient(tmp_path, THERAPY.format(end="2024-05-31"))
    assert "end-before-start" in {e.code for e in her2kg.recommend(before, as_of=AS_OF).errors}
    same_day = _patient(tmp_path, THERAPY.format(end="2024-06-01"))
    assert "end-before-start" not in {e.code for e in her2kg.recommend(same_day, as_of=AS_OF).errors}


@pytest.mark.slow
def test_a_valid_leap_day_is_not_an_invalid_date(tmp_path: Path) -> None:
    leap = _patient(tmp_path, '; h:birthDate "1968-02-29"^^xsd:date')
    assert "invalid-date" not in {e.code for e in her2kg.recommend(leap, as_of=AS_OF).errors}
    leap.write_text(leap.read_text(encoding="utf-8").replace("1968-02-29", "1969-02-29"), encoding="utf-8")
    assert "invalid-date" in {e.code for e in her2kg.recommend(leap, as_of=AS_OF).errors}


@pytest.mark.slow
def test_ish_positive_with_ihc_zero_is_a_near_miss_in_both(tmp_path: Path) -> None:
    """ASCO/CAP 2018: a positive ISH (group 1) sets the status whatever the IHC score; only IHC 3+
    against a negative ISH is a contradiction (the shapes used to flag both, the rules only this)."""
    base = "https://w3id.org/her2kg/patient/p/observation"
    body = (
        f"; h:hasObservation <{base}/1>, <{base}/2> .\n"
        f'<{base}/1> a h:HER2IHCTest ; h:effectiveDate "2026-09-20"^^xsd:date ; h:result h:ihc-0 .\n'
        f'<{base}/2> a h:HER2ISHTest ; h:effectiveDate "2026-09-21"^^xsd:date ; h:result h:positive'
    )
    path = _patient(tmp_path, body)
    report = her2kg.recommend(path, as_of=AS_OF)
    assert report.situation.her2 == "positive"
    assert "her2-contradictory" not in {e.code for e in report.errors} | _rule_codes(path)


def test_a_proposed_order_ending_before_it_starts(tmp_path: Path) -> None:
    from synthetic import PatientBuilder

    builder = PatientBuilder("p").ihc("ihc-3plus").metastatic("2026-09-01")
    bad = builder.plan([("trastuzumab", "2026-12-01", "2026-11-01")]).to_turtle()
    good = PatientBuilder("q").ihc("ihc-3plus").metastatic("2026-09-01").plan([("trastuzumab", "2026-12-01", "2026-12-01")]).to_turtle()
    reports = her2kg.recommend_many([her2kg.Patient.from_turtle(bad), her2kg.Patient.from_turtle(good)], as_of=AS_OF)
    assert ["end-before-start" in {e.code for e in r.errors} for r in reports] == [True, False]


def test_an_invalid_date_two_nodes_below_the_patient(tmp_path: Path) -> None:
    from synthetic import PatientBuilder

    bad = PatientBuilder("p").ihc("ihc-3plus").metastatic("2026-09-01").plan([("trastuzumab", "2026-02-30", None)]).to_turtle()
    report = her2kg.recommend(her2kg.Patient.from_turtle(bad), as_of=AS_OF)
    assert [n.message for n in report.errors if n.code == "invalid-date"] == [
        "A date of the record names no calendar day: correct it to a valid date such as 2026-09-20. "
        "(2026-02-30 is not a valid date)"
    ]
