"""The rule engine agrees with the plain-Python oracle on generated cohorts (differential test)."""

from __future__ import annotations

import random
from datetime import date

import pytest

from her2kg.engine import run_rules
from her2kg.knowledge import knowledge_ntriples
from her2kg.patients import evaluation_triples, read_turtle
from her2kg.report.extract import read_decisions
from her2kg.rules import load_rules
from her2kg.stores.embedded import EmbeddedStore
from synthetic import random_patient

from plain_decide import build_indexes, decide  # benchmarks/ is on the pytest pythonpath

def engine_decisions(builders: list, as_of: str) -> dict[str, tuple[set[str], set[str]]]:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    for b in builders:
        p = read_turtle(b.patient_id, b.to_turtle().encode())
        store.load_ntriples(p.ntriples + evaluation_triples(p.patient_iris, as_of, []))
    run_rules(store, load_rules())
    return read_decisions(store, [b.patient_id for b in builders])


@pytest.mark.slow
def test_engine_equals_plain_python_on_500_generated_patients() -> None:
    rng = random.Random(20261124)
    builders = [random_patient(rng, f"g{i}") for i in range(500)]
    got = engine_decisions(builders, "2026-11-01")
    kb = build_indexes()
    mismatches = []
    for b in builders:
        want = decide(b.facts, date(2026, 11, 1), kb)
        if got[b.patient_id] != want:
            mismatches.append((b.patient_id, got[b.patient_id], want))
    assert not mismatches, f"{len(mismatches)} patients differ, first: {mismatches[0]}"
