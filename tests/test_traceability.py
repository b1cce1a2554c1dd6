"""Every clinical statement S01-S22 is encoded in the knowledge base and by a rule, and the
committed table docs/traceability.tsv is current and points only at terms and rules that exist."""

from __future__ import annotations

import csv
from pathlib import Path

from her2kg.knowledge import knowledge_ntriples
from her2kg.rules import load_rules
from her2kg.stores.embedded import EmbeddedStore
from her2kg.traceability import STATEMENT_IDS, traceability_tsv

TABLE = Path(__file__).resolve().parents[1] / "docs" / "traceability.tsv"


def _store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    return store


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(TABLE.open(encoding="utf-8"), delimiter="\t"))


def test_every_statement_has_a_term_and_a_rule() -> None:
    rows = _rows()
    for statement in STATEMENT_IDS:
        kinds = {r["kind"] for r in rows if r["statement"] == statement}
        assert kinds - {"rule"}, f"{statement} is encoded by no knowledge-base term"
        assert "rule" in kinds, f"{statement} is applied by no rule"


def test_every_encoding_points_at_something_that_exists() -> None:
    store = _store()
    rules = {r.id for r in load_rules()}
    for row in _rows():
        if row["kind"] == "rule":
            assert row["id"] in rules, f"{row['statement']}: no rule {row['id']}"
        else:
            iri = "https://w3id.org/her2kg/" + row["id"].removeprefix("h:")
            assert store.select(f"SELECT ?t WHERE {{ <{iri}> a ?t }} LIMIT 1"), f"{row['statement']}: no term {row['id']}"


def test_committed_table_is_current() -> None:
    assert TABLE.read_text(encoding="utf-8") == traceability_tsv(_store()), "run `her2kg info --traceability > docs/traceability.tsv`"
