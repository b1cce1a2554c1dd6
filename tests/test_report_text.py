"""The text report a clinician reads in a minute."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from her2kg.pipeline import recommend_texts
from her2kg.report.model import RecurrenceInterval, Report, Situation
from her2kg.report.render_text import render_text, situation_line
from synthetic import PatientBuilder, metastatic_first_line

AS_OF = date(2026, 11, 1)
ROOT = Path(__file__).resolve().parents[1]


def _report(b: PatientBuilder) -> Report:
    return recommend_texts([(b.patient_id, "turtle", b.to_turtle())], as_of=AS_OF)[0]


def _recurrence(end: str, since: str) -> PatientBuilder:
    b = PatientBuilder("rec").ihc("ihc-3plus").er("negative").pr("negative").non_metastatic("2020-01-10").surgery("2020-02-01")
    return b.therapy("trastuzumab", "adjuvant", "2020-03-01", end).metastatic(since).lvef(60, "2026-09-10")


@pytest.mark.parametrize(
    ("since", "line", "phrase"),
    [
        ("2026-06-01", 2, "12 months to the day, at most the 12-month threshold: early"),
        ("2026-06-02", 1, "12 whole months and some days, over the 12-month threshold: late"),
        ("2026-05-31", 2, "11 months to recurrence, under the 12-month threshold: early"),
    ],
)
def test_recurrence_interval_is_shown_as_the_rule_compared_it_at_the_boundary(since: str, line: int, phrase: str) -> None:
    report = _report(_recurrence("2025-06-01", since))
    assert report.situation.line == line
    assert phrase in render_text(report)
    interval = report.to_json()["situation"]["recurrence_interval"]
    assert interval["threshold_months"] == 12 and interval["early"] is (line == 2)


def test_recurrence_phrases_never_contradict_the_conclusion() -> None:
    for months in range(0, 25):
        for early in (True, False):
            phrase = RecurrenceInterval(months, 12, early).phrase
            assert phrase.endswith("early" if early else "late")
            if months > 12:
                assert "under" not in phrase and "at most" not in phrase
            if months < 12:
                assert "over" not in phrase


def test_situation_line_does_not_repeat_the_setting_as_the_phase() -> None:
    report = _report(metastatic_first_line("m"))
    line = situation_line(report.situation)
    assert line == "HER2 positive, hormone receptor negative; metastatic disease, line 1"
    assert "metastatic disease, metastatic" not in render_text(report)
    assert situation_line(Situation(her2="positive", setting="early", phase="neoadjuvant")) .endswith("early disease, neoadjuvant decision")


def test_forbidden_regimens_are_listed_with_their_reasons() -> None:
    text = render_text(_report(metastatic_first_line("hf").condition("HeartFailure")))
    forbidden = text[text.index("  Forbidden:") :]
    assert "x trastuzumab + pertuzumab + taxane" in forbidden
    assert "because: A patient with current heart failure" in forbidden and "rule forbid-regimen-with-contraindicated-drug" in forbidden


def test_errors_come_before_the_situation() -> None:
    text = render_text(_report(metastatic_first_line("bad").lvef(130, "2026-10-01")))
    assert text.index("ERROR [lvef] lvef-out-of-range") < text.index("Situation:")


def test_findings_about_early_disease_are_left_out_of_a_her2_negative_report() -> None:
    b = PatientBuilder("neg").ihc("ihc-1plus").er("positive").pr("positive").non_metastatic("2026-09-01")
    b.tumour_size(30).n_category("n1").lvef(60, "2026-09-10")
    report = _report(b)
    assert "high-risk-early-disease" not in {f.code for f in report.situation.findings}
    assert "adjuvant pertuzumab" not in render_text(report)
    # near miss: the same disease, HER2-positive, is at the adjuvant or neoadjuvant decision and shows it
    positive = PatientBuilder("pos").ihc("ihc-3plus").er("positive").pr("positive").non_metastatic("2026-09-01")
    positive.tumour_size(30).n_category("n1").lvef(60, "2026-09-10")
    assert "high-risk-early-disease" in {f.code for f in _report(positive).situation.findings}


def test_within_a_preference_level_better_evidence_comes_first() -> None:
    report = _report(metastatic_first_line("order"))
    ranks = [r.rank for r in report.permitted]
    assert ranks == sorted(ranks)


def test_a_broken_pipe_exits_quietly(tmp_path: Path) -> None:
    """`her2kg recommend ... | head -1`: the reader has gone, so writing fails with a broken pipe.

    The reader's end is closed before the command writes, which makes the failure certain
    whatever the size of the pipe's buffer."""
    patient = tmp_path / "pipe.ttl"
    patient.write_text(metastatic_first_line("pipe").to_turtle())
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "her2kg", "recommend", str(patient), "--as-of", "2026-11-01"],
            stdout=write_end, stderr=subprocess.PIPE, cwd=ROOT, timeout=120, check=False,
        )
    finally:
        os.close(write_end)
    err = result.stderr.decode()
    assert "internal error" not in err and "Traceback" not in err and "Broken pipe" not in err, err
    assert result.returncode == 0
