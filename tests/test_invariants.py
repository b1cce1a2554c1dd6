"""Safety invariants over many generated patients (hypothesis).

The default profile checks 50 cohorts of 24 patients (1,200 patients) per run; set
HER2KG_HYPOTHESIS_PROFILE=ci for more.
"""

from __future__ import annotations

import os
from datetime import date
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings

from her2kg.knowledge import knowledge_ntriples
from her2kg.pipeline import recommend_texts
from her2kg.stores.embedded import EmbeddedStore
from her2kg.report.model import Regimen, Report
from strategies import ANTIBODY_BASED, HER2_TARGETED, TDXD, Facts, cohorts

settings.register_profile("default", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HER2KG_HYPOTHESIS_PROFILE", "default"))

AS_OF = date(2026, 11, 1)
COHORT = 24


@cache
def characteristic_agents() -> dict[str, frozenset[str]]:
    """Regimen local name -> keys of the agents whose progression rules it out (from the knowledge base)."""
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    agents: dict[str, set[str]] = {}
    for row in store.select("PREFIX h: <https://w3id.org/her2kg/> SELECT ?r ?d WHERE { ?r h:characteristicAgent ?d }"):
        agents.setdefault(row["r"].rsplit("/", 1)[-1], set()).add(row["d"].rsplit("/", 1)[-1])
    return {k: frozenset(v) for k, v in agents.items()}


def _codes(regimen: Regimen) -> set[str]:
    codes = set()
    for c in regimen.components:
        if c.drug is not None:
            codes.add(c.drug.ncit)
        codes.update(d.ncit for d in c.options)
    return codes


def _check(facts: Facts, report: Report) -> None:
    permitted = report.permitted if report.ok else ()
    ids_permitted = {r.id for r in permitted}
    assert not ids_permitted & {r.id for r in report.forbidden}, "a regimen is both permitted and forbidden"
    for r in permitted:
        assert r.evidence and r.sources and r.because, f"{r.label} lacks evidence, sources or because"
    for r in report.forbidden:
        assert r.reasons, f"forbidden {r.label} has no reasons"
    if facts.heart_failure or facts.lvef_decline or facts.pregnant:
        bad = [r.label for r in permitted if _codes(r) & ANTIBODY_BASED]
        assert not bad, f"antibody-based regimen permitted despite cardiac disease or pregnancy: {bad}"
    if facts.ild:
        assert not [r.label for r in permitted if TDXD in _codes(r)], "T-DXd permitted with current or past interstitial lung disease"
    for r in permitted:
        again = characteristic_agents().get(r.id.rsplit(":", 1)[-1].rsplit("/", 1)[-1], frozenset()) & facts.progressed_on
        assert not again, f"{r.label} permitted although the cancer progressed on {sorted(again)}"
    if facts.her2 != "positive":
        bad = [r.label for r in permitted if _codes(r) & HER2_TARGETED]
        assert not bad, f"HER2-targeted regimen permitted for a {facts.her2} patient: {bad}"
    if facts.her2 == "missing":
        assert report.errors and not report.to_json()["permitted"], "missing HER2 must reject the report"
    if report.errors:
        assert report.to_json()["permitted"] == [] and not report.permitted and not report.monitoring
        assert all(plan.verdict == "not-judged" for plan in report.proposed), "a plan was judged despite errors"
        return
    for plan in report.proposed:
        assert plan.verdict in ("permitted", "forbidden", "not-recommended", "not-covered")
        assert plan.reasons or plan.verdict in ("not-recommended", "not-covered")


@pytest.mark.slow
@given(cohorts(COHORT))
def test_safety_invariants_hold_for_generated_cohorts(cohort: list) -> None:
    reports = recommend_texts([(b.patient_id, "turtle", b.to_turtle()) for _, b in cohort], as_of=AS_OF)
    assert len(reports) == len(cohort)
    for (facts, builder), report in zip(cohort, reports, strict=True):
        assert report.patient == builder.patient_id
        _check(facts, report)


@pytest.mark.slow
@settings(max_examples=8)
@given(cohorts(8))
def test_batch_results_equal_one_by_one_results(cohort: list) -> None:
    docs = [(b.patient_id, "turtle", b.to_turtle()) for _, b in cohort]
    together = [r.to_json() for r in recommend_texts(docs, as_of=AS_OF)]
    alone = [recommend_texts([d], as_of=AS_OF)[0].to_json() for d in docs]
    assert together == alone
