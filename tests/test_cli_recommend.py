"""The `recommend` command: exit codes, formats and options of the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared_files import SHARED_DIR
from her2kg.cli import main
from synthetic import metastatic_first_line

VIGNETTES = SHARED_DIR / "vignettes"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "metastatic-first-line.ttl"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["recommend", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.slow
def test_text_report_for_the_bundled_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLE), "--as-of", "2026-11-01")
    assert code == 0
    assert "Permitted:" in out and "[preferred]" in out and "LVEF" in out


@pytest.mark.slow
@pytest.mark.shared
def test_json_array_for_several_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(EXAMPLE), str(VIGNETTES / "p02-met-second-line.json"), "--format", "json", "--as-of", "2026-11-01")
    reports = json.loads(out)
    assert code == 0 and isinstance(reports, list) and len(reports) == 2
    assert [r["patient"] for r in reports] == ["example-met-1l", "p02"]


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("drug", ["trastuzumab-deruxtecan", "C128799"])
def test_unavailable_drug_makes_tdm1_preferred(capsys: pytest.CaptureFixture[str], drug: str) -> None:
    code, out, _ = run(capsys, str(VIGNETTES / "p02-met-second-line.json"), "--format", "json", "--as-of", "2026-11-01", "--unavailable", drug)
    report = json.loads(out)
    preferred = [r for r in report["permitted"] if r["preference"] == "preferred"]
    assert code == 0
    assert [r["id"] for r in preferred] == ["h:regimen-tdm1"]
    assert not any(r["id"] == "h:regimen-tdxd" for r in report["permitted"])


@pytest.mark.slow
@pytest.mark.shared
def test_as_of_before_an_approval_leaves_it_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(VIGNETTES / "p01-met-first-line.json"), "--format", "json", "--as-of", "2025-06-01")
    report = json.loads(out)
    ids = {r["id"] for r in report["permitted"]}
    assert code == 0 and "h:regimen-thp" in ids and "h:regimen-tdxd-pertuzumab" not in ids
    assert any(f["code"] == "knowledge-not-yet-valid" for f in report["situation"]["findings"])
    code, out, _ = run(capsys, str(VIGNETTES / "p01-met-first-line.json"), "--format", "json", "--as-of", "2026-01-01")
    assert "h:regimen-tdxd-pertuzumab" in {r["id"] for r in json.loads(out)["permitted"]}


@pytest.mark.parametrize(
    "args",
    [["--as-of", "01/11/2026"], ["--unavailable", "no-such-drug"], ["--format", "xml"]],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, str(EXAMPLE), *args)
    assert code == 2 and err


def test_missing_file_exits_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.ttl"))
    assert code == 2 and "nope.ttl" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content", "code_expected"),
    [
        ("broken.ttl", "this is not turtle", "unreadable-input"),
        ("broken.json", "{not json", "unreadable-input"),
        ("nobody.ttl", "@prefix h: <https://w3id.org/her2kg/> . h:x h:y h:z .", "no-patient"),
        ("patient.txt", "hello", "unreadable-input"),
    ],
)
def test_invalid_input_exits_1_with_errors_and_no_permitted(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, content: str, code_expected: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert code == 1
    assert report["permitted"] == [] and report["errors"]
    assert report["errors"][0]["code"] == code_expected and report["errors"][0]["field"]


@pytest.mark.slow
def test_out_of_range_lvef_is_rejected_with_the_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "lvef.ttl"
    path.write_text(metastatic_first_line("bad").lvef(130, "2026-10-01").to_turtle())
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert code == 1 and report["permitted"] == []
    assert [e["field"] for e in report["errors"]] == ["lvef"]


@pytest.mark.slow
def test_patient_file_cannot_change_the_knowledge_base(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "sneaky.ttl"
    turtle = metastatic_first_line("sneaky").condition("HeartFailure").to_turtle()
    turtle += "h:ci-heart-failure h:appliesToPatientClass h:PregnantPatient .\n<https://w3id.org/her2kg/patient/sneaky> a h:HER2NegativePatient .\n"
    path.write_text(turtle)
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert report["situation"]["her2"] == "positive"
    assert any(r["id"] == "h:regimen-thp" for r in report["forbidden"])
    assert any(w["code"] == "ignored-triples" for w in report["warnings"])


@pytest.mark.slow
def test_unknown_lvef_is_a_warning_and_a_monitoring_item(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from synthetic import PatientBuilder

    path = tmp_path / "nolvef.ttl"
    path.write_text(PatientBuilder("nolvef").ihc("ihc-3plus").er("negative").pr("negative").metastatic().to_turtle())
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert code == 0
    assert any(w["code"] == "unknown-lvef" for w in report["warnings"])
    assert "10230-1" in {m["test"].get("loinc") for m in report["monitoring"]}


@pytest.mark.slow
def test_interstitial_lung_disease_at_second_line_makes_tdm1_the_preferred_fallback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    b = metastatic_first_line("ild").condition("InterstitialLungDisease")
    for drug in ("trastuzumab", "pertuzumab", "docetaxel"):
        b.therapy(drug, "metastatic", "2024-01-20", "2026-09-01")
    b.progression("2026-09-01")
    path = tmp_path / "ild.ttl"
    path.write_text(b.to_turtle())
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert [r["id"] for r in report["permitted"] if r["preference"] == "preferred"] == ["h:regimen-tdm1"]
    assert any(r["id"] == "h:regimen-tdxd" and r["reasons"] for r in report["forbidden"])


@pytest.mark.slow
def test_recurrence_during_ongoing_adjuvant_trastuzumab_is_early(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    b = metastatic_first_line("ongoing").therapy("trastuzumab", "adjuvant", "2026-03-01", None, ongoing=True)
    path = tmp_path / "ongoing.ttl"
    path.write_text(b.to_turtle())
    code, out, _ = run(capsys, str(path), "--format", "json", "--as-of", "2026-11-01")
    report = json.loads(out)
    assert code == 0 and report["situation"]["line"] == 2
    assert any(f["code"] == "early-recurrence" for f in report["situation"]["findings"])
    assert [r["id"] for r in report["permitted"] if r["preference"] == "preferred"] == ["h:regimen-tdxd"]
