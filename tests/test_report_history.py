"""History in the report (contract section 5): treatment episodes, completeness, conditions taken
as history, and the caveat on conclusions that depend on history.

Most tests build a store holding the knowledge base and hand-written derived facts (no rules
run), so that they test the report alone; the last ones go through the whole pipeline.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date

from her2kg.knowledge import prepared_knowledge_ntriples
from her2kg.pipeline import recommend_texts
from her2kg.report.extract import HISTORY_CAVEAT, ReportBuilder, read_knowledge_index
from her2kg.report.model import EndedBy, EpisodePhase, KnowledgeBaseRef, Report
from her2kg.report.render_text import render_text
from her2kg.rules import load_rules
from her2kg.stores.embedded import EmbeddedStore
from synthetic import metastatic_first_line

P = "https://w3id.org/her2kg/patient/hist"
PREFIXES = """@prefix h: <https://w3id.org/her2kg/> .
@prefix rule: <https://w3id.org/her2kg/rule/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""
PATIENT = f"""<{P}> a h:Patient ; h:patientId "hist" ;
    h:hasEpisode <{P}/e/1>, <{P}/e/2>, <{P}/e/3> .
<{P}/e/1> a h:TreatmentEpisode ; h:derivedByRule rule:treatment-episode ;
    h:episodeDrug h:trastuzumab, h:pertuzumab, h:docetaxel ; h:episodeRegimen h:regimen-thp ;
    h:episodePhase h:metastatic-phase ; h:episodeLine 1 ;
    h:episodeStart "2024-01-20"^^xsd:date ; h:episodeEnd "2025-03-01"^^xsd:date ; h:endedBy h:ended-by-progression .
<{P}/e/2> a h:TreatmentEpisode ; h:derivedByRule rule:treatment-episode ;
    h:episodeDrug h:trastuzumab ; h:episodePhase h:adjuvant-phase ;
    h:episodeStart "2021-03-01"^^xsd:date ; h:episodeEnd "2022-02-01"^^xsd:date .
<{P}/e/3> a h:TreatmentEpisode ; h:derivedByRule rule:treatment-episode ;
    h:episodeDrug h:trastuzumab-deruxtecan ; h:episodePhase h:metastatic-phase ; h:episodeLine 2 ;
    h:episodeStart "2025-03-20"^^xsd:date ; h:endedBy h:ongoing-status .
"""
INCOMPLETE = f"""<{P}> h:historyIncomplete true ; h:hasTherapy <{P}/therapy/9> .
<{P}/therapy/9> a h:UnidentifiedTherapyExposure ; h:recordedText "Kadcila 160 mg vial" .
"""
CONDITION = f"""<{P}> h:hasHistoricalCondition <{P}/condition/4> .
<{P}/condition/4> a h:InterstitialLungDisease ; h:clinicalStatus h:condition-resolved ;
    h:onsetDate "2023-05-01"^^xsd:date ; h:abatementDate "2023-09-01"^^xsd:date .
"""
DECISION = f"""<{P}> h:hasDecision <{P}/d/dp> ; h:metastaticLine 3 .
<{P}/d/dp> h:concerns h:dp-metastatic-line-3-plus ; h:derivedByRule rule:decision-point-metastatic .
<{P}> h:hasFinding <{P}/d/f> .
<{P}/d/f> h:concerns h:finding-metastatic-disease ; h:derivedByRule rule:metastatic-disease .
"""
KB_REF = KnowledgeBaseRef("test", "https://w3id.org/her2kg/ontology")


def _report(*parts: str, history_rules: tuple[str, ...] = ()) -> Report:
    store = EmbeddedStore()
    store.load_ntriples(prepared_knowledge_ntriples())
    store.load_turtle((PREFIXES + "".join(parts)).encode("utf-8"))
    rules = {r.id: (replace(r, depends_on_history=True) if r.id in history_rules else replace(r, depends_on_history=False)) for r in load_rules()}
    builder = ReportBuilder(store, rules, read_knowledge_index(store), KB_REF)
    return builder.build(P, source="fixture", as_of="2026-11-01")


def test_episodes_are_reported_in_date_order_with_phase_line_dates_and_end() -> None:
    report = _report(PATIENT)
    history = report.to_json()["situation"]["history"]
    assert [e["start"] for e in history] == ["2021-03-01", "2024-01-20", "2025-03-20"]
    adjuvant, first, second = history
    assert adjuvant == {
        "drugs": [{"id": "h:trastuzumab", "label": "trastuzumab", "ncit": "C1647", "rxnorm": "224905"}],
        "regimen": None, "phase": "adjuvant", "start": "2021-03-01", "end": "2022-02-01", "ended_by": "unknown",
        "rule": "treatment-episode",
    }
    assert {d["ncit"] for d in first["drugs"]} == {"C1647", "C38692", "C1526"}
    assert (first["regimen"], first["phase"], first["line"], first["end"], first["ended_by"]) == ("h:regimen-thp", "metastatic", 1, "2025-03-01", "progression")
    assert (second["line"], second["end"], second["ended_by"]) == (2, None, "ongoing")
    assert report.situation.history[1].phase is EpisodePhase.METASTATIC and report.situation.history[2].ended_by is EndedBy.ONGOING
    assert report.to_json()["situation"]["history_complete"] is True
    assert not [w for w in report.warnings if w.code == "therapy-history-incomplete"]
    text = render_text(report)
    assert "docetaxel + pertuzumab + trastuzumab (metastatic line 1), 2024-01-20 to 2025-03-01, ended: progression" in text
    assert "trastuzumab deruxtecan" in text.lower() and "to ongoing, ended: ongoing" in text


def test_incomplete_history_is_a_warning_first_that_names_the_entries() -> None:
    report = _report(PATIENT, INCOMPLETE, DECISION)
    data = report.to_json()
    assert data["situation"]["history_complete"] is False
    first = data["warnings"][0]
    assert first["code"] == "therapy-history-incomplete" and "'Kadcila 160 mg vial'" in first["message"]
    assert [w["code"] for w in data["warnings"]].count("therapy-history-incomplete") == 1
    text = render_text(report)
    assert text.index("therapy-history-incomplete") < text.index("Situation:")
    assert "(INCOMPLETE)" in text


def test_importer_warnings_per_entry_become_one_at_the_top() -> None:
    store = EmbeddedStore()
    store.load_ntriples(prepared_knowledge_ntriples())
    store.load_turtle((PREFIXES + PATIENT).encode("utf-8"))
    builder = ReportBuilder(store, {r.id: r for r in load_rules()}, read_knowledge_index(store), KB_REF)
    from her2kg.notices import Notice

    extra = [
        Notice("warning", "unknown-lvef", "No LVEF", "lvef"),
        Notice("warning", "therapy-history-incomplete", "Bundle.entry[3]: not identified", "Bundle.entry[3]"),
        Notice("warning", "therapy-history-incomplete", "Bundle.entry[5]: not identified", "Bundle.entry[5]"),
    ]
    report = builder.build(P, source="fixture", as_of="2026-11-01", extra=extra)
    codes = [w.code for w in report.warnings]
    assert codes == ["therapy-history-incomplete", "unknown-lvef"]
    assert report.warnings[0].field == "Bundle.entry[3], Bundle.entry[5]"
    assert report.situation.history_complete is False


def test_history_dependent_reasons_say_the_history_may_be_incomplete() -> None:
    dependent = ("decision-point-metastatic", "metastatic-disease")
    incomplete = _report(PATIENT, INCOMPLETE, DECISION, history_rules=dependent)
    assert HISTORY_CAVEAT in incomplete.situation.findings[0].text
    complete = _report(PATIENT, DECISION, history_rules=dependent)  # near miss: history complete
    assert HISTORY_CAVEAT not in complete.situation.findings[0].text
    independent = _report(PATIENT, INCOMPLETE, DECISION)  # near miss: the rule does not depend on history
    assert HISTORY_CAVEAT not in independent.situation.findings[0].text


def test_conditions_taken_as_history_keep_their_class_status_and_dates() -> None:
    report = _report(PATIENT, CONDITION)
    assert report.to_json()["situation"]["condition_history"] == [
        {"condition": "interstitial lung disease", "status": "resolved", "onset": "2023-05-01", "abated": "2023-09-01"}
    ]
    assert "interstitial lung disease (resolved; onset 2023-05-01, abated 2023-09-01)" in render_text(report)


def test_an_unidentified_therapy_in_a_patient_file_gives_an_incomplete_history_end_to_end() -> None:
    b = metastatic_first_line("unid")
    turtle = b.to_turtle() + (
        f"<{b.iri}> h:hasTherapy <{b.iri}/therapy/77> .\n"
        f'<{b.iri}/therapy/77> a h:UnidentifiedTherapyExposure ; h:recordedText "Herzuma 420 mg" ;\n'
        '    h:therapyPhase h:metastatic-phase ; h:exposureStatus h:ended-status .\n'
    )
    report = recommend_texts([("unid", "turtle", turtle)], as_of=date(2026, 11, 1))[0]
    data = report.to_json()
    assert data["situation"]["history_complete"] is False
    assert data["warnings"][0]["code"] == "therapy-history-incomplete" and "Herzuma 420 mg" in data["warnings"][0]["message"]
    complete = recommend_texts([("c", "turtle", metastatic_first_line("c").to_turtle())], as_of=date(2026, 11, 1))[0]
    assert complete.to_json()["situation"]["history_complete"] is True
    assert json.loads(json.dumps(data)) == data


PLAN = f"""<{P}> h:hasProposedPlan <{P}/plan/1> .
<{P}/plan/1> a h:ProposedPlan ; h:hasOrder <{P}/plan/1/order/1> .
<{P}/plan/1/order/1> a h:ProposedOrder ; h:drug h:letrozole .
"""


def test_a_plan_without_any_verdict_is_not_covered_with_its_warning() -> None:
    report = _report(PATIENT, PLAN)
    assert [(str(p.verdict), p.label) for p in report.proposed] == [("not-covered", "letrozole")]
    warning = next(w for w in report.warnings if w.code == "plan-not-covered")
    assert warning.message.startswith("The knowledge base has no recommendation for this plan") and "(letrozole)" in warning.message
