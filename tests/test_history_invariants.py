"""Safety invariants over generated FHIR histories (hypothesis): a medication the importer cannot
identify but whose text names a drug of the knowledge base never yields a report without errors,
whatever else the history holds, however the name is written."""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import her2kg
from her2kg.knowledge import knowledge_ntriples
from her2kg.stores.embedded import EmbeddedStore
from vignette_bundles import Record, metastatic, thp_first_line

settings.register_profile("history-default", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("history-ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PROFILE = "history-ci" if os.environ.get("HER2KG_HYPOTHESIS_PROFILE") == "ci" else "history-default"


@cache
def drug_names() -> tuple[str, ...]:
    """Every label and synonym of a knowledge-base drug or drug product (the names a record may use)."""
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    rows = store.select("""PREFIX h: <https://w3id.org/her2kg/>
      PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
      SELECT DISTINCT ?name WHERE { { ?d a/rdfs:subClassOf* h:Drug } UNION { ?d a h:DrugProduct }
        { ?d rdfs:label ?name } UNION { ?d skos:altLabel ?name } }""")
    return tuple(sorted({row["name"] for row in rows}))


@st.composite
def histories(draw: st.DrawFn) -> dict[str, Any]:
    record: Record = metastatic("inv", er=draw(st.sampled_from(["positive", "negative"])))
    lines = draw(st.integers(0, 2))
    if lines:
        thp_first_line(record, hp_end="2024-09-01").progression("2024-09-01")
    if lines > 1:
        record.medication("trastuzumab-deruxtecan", "metastatic", "2024-09-15", "2025-08-01").progression("2025-08-01")
    name = draw(st.sampled_from(drug_names()))
    written = draw(st.sampled_from([name, name.upper(), name.lower(), name.title()]))
    text = draw(st.sampled_from(["{}", "{} infusion", "Prior therapy: {}", "{} (outside hospital)"])).format(written)
    code = str(draw(st.integers(900_000_000, 999_999_999)))  # never an RxNorm code of the mapping
    record.medication("", draw(st.sampled_from(["metastatic", "adjuvant"])), "2025-09-01", "2026-06-01", code=code, text=text)
    return record.bundle()


@pytest.mark.slow
@settings(settings.get_profile(PROFILE))
@given(histories())
def test_a_named_but_unidentified_knowledge_base_drug_never_passes(bundle: dict[str, Any]) -> None:
    report = her2kg.recommend(bundle, as_of=date(2026, 11, 1))
    assert report.errors, "an unidentified medication naming a knowledge-base drug must make the report an error"
    assert not report.permitted and all(p.verdict == "not-judged" for p in report.proposed)
