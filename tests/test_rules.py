"""Every rule fires for one patient and stays silent for a near miss; rule files are well formed.

"Fires" means: after every lower stratum has run, applying the rule adds at least one triple.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from her2kg.rules import load_rules
from synthetic import PatientBuilder as B
from her2kg.vocabulary import PREFIXES
from rule_harness import rule_adds, rules_by_id

Case = Callable[[], list[B] | None]


def met(pid: str = "m", *, er: str = "negative", lvef: bool = True) -> B:
    b = B(pid).ihc("ihc-3plus").er(er).pr("negative").metastatic("2026-09-01")
    return b.lvef(60, "2026-09-10") if lvef else b


def early(pid: str = "e", *, size: float | None = 30, nodes: str | None = "n0") -> B:
    b = B(pid).ihc("ihc-3plus").er("negative").pr("negative").non_metastatic("2026-09-01").lvef(62, "2026-09-10")
    if size is not None:
        b.tumour_size(size)
    if nodes is not None:
        b.n_category(nodes)
    return b


def second_line(pid: str = "l2") -> B:
    b = met(pid)
    for drug in ("trastuzumab", "pertuzumab", "docetaxel"):
        b.therapy(drug, "metastatic", "2024-01-20", "2026-09-01")
    return b.progression("2026-09-01")


def after_neoadjuvant(pid: str = "n") -> B:
    b = early(pid, size=40, nodes="n1")
    for drug in ("trastuzumab", "pertuzumab", "docetaxel", "carboplatin"):
        b.therapy(drug, "neoadjuvant", "2026-01-20", "2026-05-05")
    return b.surgery("2026-06-01")



def first_line_thp(b: B, *, taxane_end: str = "2025-07-01", ongoing: bool = True) -> B:
    """First-line THP from 2025-02-01; the antibodies go on (or stop with the taxane)."""
    end = None if ongoing else taxane_end
    b.therapy("trastuzumab", "metastatic", "2025-02-01", end, ongoing=ongoing).therapy("pertuzumab", "metastatic", "2025-02-01", end, ongoing=ongoing)
    return b.therapy("docetaxel", "metastatic", "2025-02-01", taxane_end, ended_by="completion")


def on_tucatinib(pid: str = "t3", *, progressed: bool = True) -> B:
    """Third line after THP and T-DXd, then tucatinib + trastuzumab + capecitabine."""
    b = met(pid)
    for drug in ("trastuzumab", "pertuzumab", "docetaxel"):
        b.therapy(drug, "metastatic", "2025-01-20", "2025-06-01")
    b.progression("2025-06-01").therapy("trastuzumab-deruxtecan", "metastatic", "2025-06-10", "2025-12-01").progression("2025-12-01")
    for drug in ("tucatinib", "trastuzumab", "capecitabine"):
        b.therapy(drug, "metastatic", "2025-12-10", "2026-08-01")
    return b.progression("2026-08-10") if progressed else b


def lvef_course(pid: str, *values: tuple[float, str]) -> B:
    """Metastatic patient on trastuzumab since 2026-02-01 with LVEF 60 at baseline and later values."""
    b = B(pid).ihc("ihc-3plus").er("negative").pr("negative").metastatic("2026-01-01").lvef(60, "2026-01-20")
    b.therapy("trastuzumab", "metastatic", "2026-02-01", None, ongoing=True)
    for value, when in values:
        b.lvef(value, when)
    return b

THP = [("trastuzumab", "2026-12-01", "2027-03-01"), ("pertuzumab", "2026-12-01", "2027-03-01"), ("docetaxel", "2026-12-01", "2027-03-01")]


def plan(*drugs: str) -> list[tuple[str, str | None, str | None]]:
    return [(d, "2026-12-01", "2027-03-01") for d in drugs]


KNOWLEDGE_ONLY = "knowledge-only"

# rule id -> (fires, near miss); each a function returning the patients (or KNOWLEDGE_ONLY)
CASES: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
    "kb-superclasses": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "type-closure-knowledge": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "type-closure-conditions": (lambda: [met()], lambda: [B("x").ihc("ihc-3plus").m_category("m1")]),
    "kb-regimen-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-regimen-required-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-component-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-regimen-shape": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-contraindication-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-monitoring-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-combination-drugs": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "latest-lvef": (lambda: [met()], lambda: [met(lvef=False)]),
    "lvef-out-of-range": (lambda: [met(lvef=False).lvef(120)], lambda: [met(lvef=False).lvef(100)]),
    "end-before-start": (
        lambda: [met().therapy("trastuzumab", "adjuvant", "2024-06-01", "2024-05-31")],
        lambda: [met().therapy("trastuzumab", "adjuvant", "2024-06-01", "2024-06-01")],
    ),
    "invalid-date": (lambda: [met(lvef=False).lvef(60, "2026-02-30")], lambda: [met(lvef=False).lvef(60, "2024-02-29")]),
    "her2-evidence-ihc": (lambda: [met()], lambda: [B("x").ish(result="positive").metastatic()]),
    "her2-evidence-ish-coded": (lambda: [B("x").ish(result="positive").metastatic()], lambda: [B("x").ish(ratio=2.5).metastatic()]),
    "her2-evidence-interpretation": (lambda: [B("x").her2_interpretation("positive").metastatic()], lambda: [met()]),
    "her2-evidence-diagnosis": (lambda: [B("x").condition("HER2PositiveBreastCancer").metastatic()], lambda: [B("x").condition("BreastCancer").metastatic()]),
    "hormone-receptor-evidence": (lambda: [met()], lambda: [B("x").ihc("ihc-3plus").metastatic()]),
    "metastatic-disease": (lambda: [met()], lambda: [early()]),
    "metastatic-since": (lambda: [met()], lambda: [early()]),
    "non-metastatic-staging": (lambda: [early()], lambda: [met()]),
    "locally-advanced-feature": (lambda: [early(nodes="n2")], lambda: [early()]),
    "node-positive": (lambda: [early(nodes="n1")], lambda: [early()]),
    "tumour-larger-than-2cm": (lambda: [early(size=30)], lambda: [early(size=15)]),
    "breast-surgery-done": (lambda: [early().surgery("2026-10-01")], lambda: [early()]),
    "neoadjuvant-therapy-given": (lambda: [early().therapy("docetaxel", "neoadjuvant", "2026-09-20", "2026-10-30")], lambda: [early().therapy("docetaxel", "adjuvant", "2026-09-20", "2026-10-30")]),
    "residual-invasive-disease": (lambda: [after_neoadjuvant().pathologic_response("residual-invasive-disease")], lambda: [after_neoadjuvant().pathologic_response("pathologic-complete-response")]),
    "pathologic-complete-response": (lambda: [after_neoadjuvant().pathologic_response("pathologic-complete-response")], lambda: [after_neoadjuvant().pathologic_response("residual-invasive-disease")]),
    "low-disease-burden": (lambda: [met().burden("low-burden")], lambda: [met().burden("high-burden")]),
    "cns-metastases": (lambda: [met().condition("BrainMetastasis")], lambda: [met()]),
    "heart-failure": (lambda: [met().condition("HeartFailure")], lambda: [met()]),
    "significant-lvef-decline": (lambda: [met().condition("SignificantLVEFDecline")], lambda: [met()]),
    "pregnancy": (lambda: [met().condition("Pregnancy")], lambda: [met()]),
    "interstitial-lung-disease": (lambda: [met().condition("InterstitialLungDisease")], lambda: [met()]),
    "plan-drugs": (lambda: [met().plan(THP)], lambda: [met()]),
    "plan-concurrent-orders": (lambda: [met().plan(THP)], lambda: [met().plan([("doxorubicin", "2026-12-01", "2027-01-31"), ("trastuzumab", "2027-02-01", "2027-06-01")])]),
    "her2-evidence-ish-numeric": (lambda: [B("x").ish(ratio=2.5).metastatic()], lambda: [B("x").ish(result="positive").metastatic()]),
    "hormone-receptor-positive": (lambda: [met(er="positive")], lambda: [met()]),
    "hormone-receptor-negative": (lambda: [met()], lambda: [B("x").ihc("ihc-3plus").er("negative").metastatic()]),
    "locally-advanced-disease": (lambda: [early(nodes="n2")], lambda: [early()]),
    "early-disease": (lambda: [early()], lambda: [early().t_category("t4")]),
    "node-negative": (lambda: [early()], lambda: [early().condition("RegionalNodalMetastasis")]),
    "tumour-at-most-2cm": (lambda: [early(size=15)], lambda: [early(size=30)]),
    "low-lvef": (lambda: [met(lvef=False).lvef(40)], lambda: [met(lvef=False).lvef(55)]),
    "unknown-lvef": (lambda: [met(lvef=False)], lambda: [B("x").ihc("ihc-0").metastatic()]),
    "recurrence-interval": (
        lambda: [met().therapy("trastuzumab", "adjuvant", "2025-01-01", "2026-02-20")],
        lambda: [met().therapy("trastuzumab", "metastatic", "2026-09-10", "2026-10-20")],
    ),
    "recurrence-interval-unknown": (
        lambda: [met().therapy("trastuzumab", "adjuvant", "2025-01-01", None)],
        lambda: [met().therapy("trastuzumab", "adjuvant", "2025-01-01", "2026-02-20")],
    ),
    "ended-metastatic-lines": (lambda: [met()], lambda: [early()]),
    "plan-forbidden-combination": (
        lambda: [early().surgery("2026-10-01").plan(plan("doxorubicin", "cyclophosphamide", "trastuzumab"))],
        lambda: [early().surgery("2026-10-01").plan([("doxorubicin", "2026-12-01", "2027-01-31"), ("trastuzumab", "2027-02-01", "2027-06-01")])],
    ),
    "plan-covers-component": (
        lambda: [met().plan([("trastuzumab", "2026-12-01", "2027-03-01", "subcutaneous")])],
        lambda: [B("l3").ihc("ihc-3plus").plan([("tucatinib", "2026-12-01", "2027-03-01", "intravenous")])],
    ),
    "kb-component-routes": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "kb-component-route-unrestricted": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "her2-status-from-interpretation": (lambda: [B("x").her2_interpretation("positive").metastatic()], lambda: [met()]),
    "her2-status-from-ish": (lambda: [B("x").ihc("ihc-2plus").ish(result="positive").metastatic()], lambda: [B("x").ihc("ihc-2plus").metastatic()]),
    "her2-status-from-ihc": (lambda: [met()], lambda: [B("x").ihc("ihc-2plus").ish(result="positive").metastatic()]),
    "her2-status-from-equivocal-ish": (lambda: [B("x").ish(ratio=1.9, comparator=">").metastatic()], lambda: [B("x").ish(ratio=2.5).metastatic()]),
    "her2-status-from-diagnosis": (lambda: [B("x").condition("HER2PositiveBreastCancer").metastatic()], lambda: [B("x").condition("HER2PositiveBreastCancer").ihc("ihc-3plus").metastatic()]),
    "hormone-receptor-unknown": (lambda: [B("x").ihc("ihc-3plus").metastatic()], lambda: [met()]),
    "setting-unknown": (lambda: [B("x").ihc("ihc-3plus")], lambda: [met()]),
    "her2-therapy-contraindicated": (lambda: [met().condition("HeartFailure")], lambda: [met()]),
    "metastatic-line": (lambda: [met()], lambda: [early()]),
    "high-risk-early-disease": (lambda: [early(nodes="n1")], lambda: [early()]),
    "neoadjuvant-pertuzumab-candidate": (lambda: [early(size=30)], lambda: [early(size=15)]),
    "small-node-negative-tumour": (lambda: [early(size=15)], lambda: [early(size=30)]),
    "her2-contradictory": (
        lambda: [met().ish(result="negative")],
        lambda: [met().ish(result="negative").her2_interpretation("positive")],
    ),
    "her2-missing": (lambda: [B("x").er("negative").pr("negative").metastatic()], lambda: [met()]),
    "her2-equivocal-needs-ish": (lambda: [B("x").ihc("ihc-2plus").metastatic()], lambda: [met()]),
    "her2-negative-out-of-scope": (lambda: [B("x").ihc("ihc-1plus").metastatic()], lambda: [met()]),
    "decision-point-metastatic": (lambda: [met()], lambda: [B("x").ihc("ihc-0").metastatic()]),
    "decision-point-neoadjuvant": (lambda: [early()], lambda: [early().surgery("2026-10-01")]),
    "decision-point-residual-disease": (lambda: [after_neoadjuvant().pathologic_response("residual-invasive-disease")], lambda: [after_neoadjuvant().pathologic_response("pathologic-complete-response")]),
    "decision-point-complete-response": (lambda: [after_neoadjuvant().pathologic_response("pathologic-complete-response")], lambda: [after_neoadjuvant().pathologic_response("residual-invasive-disease")]),
    "decision-point-upfront-surgery": (lambda: [early().surgery("2026-10-01")], lambda: [after_neoadjuvant().pathologic_response("pathologic-complete-response")]),
    "pathologic-response-missing": (lambda: [after_neoadjuvant()], lambda: [after_neoadjuvant().pathologic_response("residual-invasive-disease")]),
    "endocrine-alone-candidate": (lambda: [met(er="positive").condition("HeartFailure")], lambda: [met(er="positive")]),
    "recommendation-matches-decision-point": (lambda: [met()], lambda: [B("x").ihc("ihc-0").metastatic()]),
    "contraindication-applies": (lambda: [met().condition("HeartFailure")], lambda: [met()]),
    "regimen-unavailable": (lambda: [met().unavailable("pertuzumab")], lambda: [met()]),
    "tumour-size-or-nodes-missing": (lambda: [early(size=None, nodes=None)], lambda: [early()]),
    "no-decision-point": (lambda: [after_neoadjuvant()], lambda: [early()]),
    "recommendation-requires-class": (lambda: [met(er="positive")], lambda: [met(er="positive").condition("HeartFailure")]),
    "recommendation-not-if-received": (lambda: [second_line().therapy("trastuzumab-deruxtecan", "adjuvant", "2021-01-01", "2021-06-01")], lambda: [second_line()]),
    "recommendation-requires-unavailable": (lambda: [second_line()], lambda: [second_line().unavailable("trastuzumab-deruxtecan")]),
    "regimen-option-allowed": (lambda: [met()], lambda: [B("x").ihc("ihc-0").metastatic()]),
    "plan-contraindicated-drug": (lambda: [met().condition("HeartFailure").plan(THP)], lambda: [met().plan(THP)]),
    "recommendation-applicable": (lambda: [met()], lambda: [B("x").ihc("ihc-0").metastatic()]),
    "forbid-regimen-with-contraindicated-drug": (lambda: [met().condition("HeartFailure")], lambda: [met()]),
    "indicated-drug": (lambda: [met().plan(THP)], lambda: [met()]),  # only for a patient with a proposed plan
    "no-applicable-recommendation": (lambda: [early(size=15)], lambda: [early()]),
    "permit-applicable-recommendation": (lambda: [met()], lambda: [met().condition("HeartFailure")]),
    "regimen-unavailable-notice": (lambda: [met().unavailable("pertuzumab")], lambda: [met()]),
    "monitoring-for-permitted-regimen": (lambda: [met()], lambda: [met().condition("HeartFailure")]),
    "no-permitted-regimen": (lambda: [met().condition("HeartFailure")], lambda: [met()]),
    "plan-misses-component": (lambda: [met().plan(plan("trastuzumab", "docetaxel"))], lambda: [met()]),
    "plan-drug-outside-regimen": (lambda: [met().plan(THP)], lambda: [met()]),
    "plan-conjugate-for-trastuzumab": (lambda: [met().plan(plan("trastuzumab-emtansine", "pertuzumab", "docetaxel"))], lambda: [met().plan(THP)]),
    "plan-trastuzumab-for-conjugate": (lambda: [second_line().plan(plan("trastuzumab", "vinorelbine"))], lambda: [second_line().plan(plan("trastuzumab", "capecitabine"))]),
    "plan-within-trastuzumab-regimen": (lambda: [second_line().plan(plan("trastuzumab", "capecitabine"))], lambda: [second_line().plan(plan("trastuzumab", "vinorelbine"))]),
    "plan-omits-pertuzumab": (lambda: [met().plan(plan("trastuzumab", "docetaxel"))], lambda: [met().plan(THP)]),
    "plan-matches-permitted-regimen": (lambda: [met().plan(THP)], lambda: [met().plan(plan("trastuzumab", "pertuzumab", "docetaxel", "capecitabine"))]),
    "plan-not-in-knowledge-base": (lambda: [met().plan(plan("capecitabine"))], lambda: [met().plan(THP)]),
    "historical-condition": (lambda: [met().condition("InterstitialLungDisease", status="resolved", abated="2026-03-01")], lambda: [met().condition("InterstitialLungDisease", status="active")]),
    "unidentified-therapy": (lambda: [met().unidentified_therapy("study drug XYZ", "metastatic", "2026-09-10", "2026-10-01")], lambda: [second_line()]),
    "lvef-fall": (lambda: [lvef_course("f", (44, "2026-06-01"))], lambda: [lvef_course("f", (52, "2026-06-01"))]),
    "lvef-fall-with-heart-failure": (
        lambda: [lvef_course("f", (44, "2026-06-01")).condition("HeartFailure", "2026-06-01")],
        lambda: [lvef_course("f", (44, "2026-06-01")).condition("HeartFailure", "2026-03-01", status="resolved", abated="2026-05-01")],
    ),
    "lvef-fall-persistent": (lambda: [lvef_course("f", (44, "2026-06-01"), (45, "2026-09-01"))], lambda: [lvef_course("f", (44, "2026-08-20"), (45, "2026-09-01"))]),
    "progressed-on-drug": (lambda: [second_line()], lambda: [met().therapy("neratinib", "adjuvant", "2021-01-01", "2022-01-01", ended_by="completion")]),
    "forbid-regimen-progressed-on": (lambda: [on_tucatinib()], lambda: [on_tucatinib(progressed=False).progression("2026-10-20")]),
    "first-line-maintenance": (lambda: [first_line_thp(met())], lambda: [first_line_thp(met(), ongoing=False)]),
    "decision-point-maintenance": (lambda: [first_line_thp(met())], lambda: [first_line_thp(B("x").ihc("ihc-0").metastatic("2025-01-01"))]),
    "plan-her2-agent": (lambda: [met().plan(THP)], lambda: [met().plan(plan("letrozole"))]),
    "plan-stops-her2-therapy-in-maintenance": (lambda: [first_line_thp(met(er="positive")).plan(plan("letrozole"))], lambda: [first_line_thp(met(er="positive")).plan(plan("trastuzumab", "pertuzumab", "letrozole"))]),
    "kb-contraindication-outranked": (lambda: KNOWLEDGE_ONLY, lambda: "empty"),
    "contraindication-superseded": (lambda: [lvef_course("f", (44, "2026-06-01"), (45, "2026-09-01"))], lambda: [lvef_course("f", (44, "2026-06-01"))]),
    "treatment-episode": (lambda: [second_line()], lambda: [met()]),
    "episode-end": (lambda: [second_line()], lambda: [met()]),
    "episode-regimen": (lambda: [second_line()], lambda: [met().therapy("trastuzumab", "metastatic", "2026-09-05", "2026-10-01").therapy("eribulin", "metastatic", "2026-09-05", "2026-10-01").therapy("pertuzumab", "metastatic", "2026-09-05", "2026-10-01")]),
    "first-progression-after-start": (lambda: [second_line()], lambda: [met().therapy("trastuzumab", "metastatic", "2026-09-05", None, ongoing=True).progression("2026-09-01")]),
    "episode-line": (lambda: [second_line()], lambda: [met().therapy("trastuzumab", "adjuvant", "2020-01-01", "2020-12-01")]),
}

# rules whose mechanism no knowledge-base entry uses yet: tested with one extra knowledge triple
EXTRA_KNOWLEDGE = {
    "recommendation-excluded-class": (
        "<https://w3id.org/her2kg/rec-met-l1-thp> <https://w3id.org/her2kg/excludedForPatientClass> <https://w3id.org/her2kg/HormoneReceptorNegativePatient> .\n",
        lambda: [met()],
        lambda: [met(er="positive")],
    ),
    "forbid-regimen-with-no-allowed-option": (
        "<https://w3id.org/her2kg/test-ci> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/her2kg/ContraindicationRule> .\n"
        "<https://w3id.org/her2kg/test-ci> <https://w3id.org/her2kg/appliesToPatientClass> <https://w3id.org/her2kg/PregnantPatient> .\n"
        "<https://w3id.org/her2kg/test-ci> <https://w3id.org/her2kg/contraindicatedDrugClass> <https://w3id.org/her2kg/Taxane> .\n",
        lambda: [met().condition("Pregnancy")],
        lambda: [met().condition("HeartFailure")],
    ),
    "recommendation-not-yet-valid": (None, lambda: [met()], lambda: [met()]),  # differs by date, see below
}


def _adds(rule_id: str, case: object, extra: str | None = None, as_of: str = "2026-11-01") -> int:
    if case == KNOWLEDGE_ONLY:
        return rule_adds(rule_id, [], as_of=as_of)
    if case == "empty":
        return rule_adds(rule_id, [B("empty-record")], with_knowledge=False)
    return rule_adds(rule_id, case, as_of=as_of, extra_knowledge=extra)  # type: ignore[arg-type]


def test_every_rule_has_cases() -> None:
    missing = sorted(set(rules_by_id()) - set(CASES) - set(EXTRA_KNOWLEDGE))
    assert not missing, f"rules without a fires/near-miss case: {missing}"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_and_near_miss_is_silent(rule_id: str) -> None:
    fires, near = CASES[rule_id]
    assert _adds(rule_id, fires()) > 0, f"{rule_id} must fire"
    assert _adds(rule_id, near()) == 0, f"{rule_id} must stay silent for the near miss"


@pytest.mark.parametrize("rule_id", ["recommendation-excluded-class", "forbid-regimen-with-no-allowed-option"])
def test_rule_with_extra_knowledge(rule_id: str) -> None:
    extra, fires, near = EXTRA_KNOWLEDGE[rule_id]
    assert _adds(rule_id, fires(), extra) > 0
    assert _adds(rule_id, near(), extra) == 0


def test_recommendation_not_yet_valid_depends_on_the_date() -> None:
    assert _adds("recommendation-not-yet-valid", [met()], as_of="2025-06-01") > 0  # before DESTINY-Breast09 approval
    assert _adds("recommendation-not-yet-valid", [met()], as_of="2026-11-01") == 0


# -- structure of rule files -------------------------------------------------------------------
_TOKEN = re.compile(r"\bh:([A-Za-z][\w-]*)")


def _split(text: str) -> tuple[str, str]:
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    insert = body[body.index("INSERT") : body.index("WHERE")]
    return insert, body[body.index("WHERE") :]


def test_rules_are_stratified() -> None:
    """A rule reads only terms that lower strata write (or no rule writes), unless its stratum is recursive."""
    rules = load_rules()
    writes = {r.id: set(_TOKEN.findall(_split(r.text)[0])) - {"derivedByRule", "concerns", "becauseOf", "detail"} for r in rules}
    for rule in rules:
        reads = set(_TOKEN.findall(_split(rule.text)[1]))
        for other in rules:
            if other.id == rule.id or other.stratum < rule.stratum or (other.stratum == rule.stratum and rule.recursive):
                continue
            clash = reads & writes[other.id]
            assert not clash, f"{rule.id} (stratum {rule.stratum}) reads {sorted(clash)} written by {other.id} (stratum {other.stratum})"


def test_knowledge_scope_rules_read_no_patient_facts() -> None:
    """Knowledge-scope rules run once per process on the knowledge base alone."""
    rules = load_rules()
    patient_writes = set().union(*(set(_TOKEN.findall(_split(r.text)[0])) for r in rules if r.scope == "patient"))
    for rule in rules:
        if rule.scope == "knowledge":
            reads = set(_TOKEN.findall(_split(rule.text)[1]))
            assert not reads & patient_writes, f"{rule.id} reads patient facts {sorted(reads & patient_writes)}"
            assert "hasCondition" not in reads and "hasObservation" not in reads


def test_rule_prefixes_are_canonical() -> None:
    for rule in load_rules():
        for prefix, iri in re.findall(r"^PREFIX (\w+): <([^>]+)>", rule.text, flags=re.M):
            assert PREFIXES.get(prefix) == iri, f"{rule.id}: prefix {prefix} is <{iri}>"


def test_rules_mint_no_blank_nodes() -> None:
    for rule in load_rules():
        insert, _ = _split(rule.text)
        assert "_:" not in insert and "[" not in insert, f"{rule.id} mints blank nodes"


def test_every_rule_cites_a_source_and_kind() -> None:
    for rule in load_rules():
        assert rule.source and rule.title and rule.kind


# -- which knowledge-base regimen a treatment episode gave (counted: shared drugs and filled components) --
def _episode_regimens(b: B) -> set[str]:
    from rule_harness import store_for

    from her2kg.engine import run_rules

    store = store_for([b])
    run_rules(store, list(rules_by_id().values()))
    rows = store.select("PREFIX h: <https://w3id.org/her2kg/> SELECT ?r WHERE { ?e h:episodeRegimen ?r }")
    return {row["r"].rsplit("/", 1)[-1] for row in rows}


def _episode(phase: str, *drugs: str) -> B:
    b = met("ep")
    for drug in drugs:
        b.therapy(drug, phase, "2025-01-20", "2025-06-01")
    return b


@pytest.mark.parametrize(
    ("drugs", "expected"),
    [
        (("trastuzumab", "pertuzumab", "docetaxel"), {"regimen-thp"}),
        (("trastuzumab", "pertuzumab", "paclitaxel"), {"regimen-thp"}),  # the other option of the choice
        (("trastuzumab", "pertuzumab"), set()),  # a component left unfilled
        (("trastuzumab", "pertuzumab", "docetaxel", "carboplatin"), set()),  # a drug the regimen does not give
        (("trastuzumab", "pertuzumab", "docetaxel", "paclitaxel"), set()),  # two options of one choice: not that regimen
        (("trastuzumab-deruxtecan",), {"regimen-tdxd"}),
    ],
)
def test_episode_regimen_needs_exactly_the_regimens_drugs(drugs: tuple[str, ...], expected: set[str]) -> None:
    assert _episode_regimens(_episode("metastatic", *drugs)) == expected


@pytest.mark.parametrize(
    ("phase", "expected"),
    [("metastatic", {"regimen-thp"}), ("neoadjuvant", {"regimen-neoadjuvant-thp"}), ("adjuvant", set())],
)
def test_episode_regimen_is_one_recommended_in_the_episodes_phase(phase: str, expected: set[str]) -> None:
    assert _episode_regimens(_episode(phase, "trastuzumab", "pertuzumab", "docetaxel")) == expected
