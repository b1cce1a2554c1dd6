"""Which terms and rules encode each clinical statement S01-S22.

The table is generated from the knowledge base (`h:encodesStatement`) and the rule headers
(`statements:`), and committed as `docs/traceability.tsv` so that a knowledge engineer can go
from a statement to everything that encodes it in one step; a test keeps it current.
"""

from __future__ import annotations

from dataclasses import dataclass

from her2kg.rules import load_rules
from her2kg.stores.base import TripleStore

STATEMENT_IDS = tuple(f"S{i:02d}" for i in range(1, 23))

_QUERY = """PREFIX h: <https://w3id.org/her2kg/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?statement ?title ?term ?type ?label WHERE {
  ?node a h:ClinicalStatement ; h:statementId ?statement ; rdfs:label ?title .
  OPTIONAL {
    ?term h:encodesStatement ?node ; a ?type ; rdfs:label ?label .
    FILTER(STRSTARTS(STR(?type), "https://w3id.org/her2kg/"))
  }
}"""


@dataclass(frozen=True)
class TraceRow:
    statement: str
    statement_title: str
    kind: str  # the her2kg class of the term, or "rule"
    id: str  # CURIE of the term, or the rule id
    label: str

    def as_tsv(self) -> str:
        return "\t".join((self.statement, self.statement_title, self.kind, self.id, self.label))


HEADER = "statement\tstatement_title\tkind\tid\tlabel"


def traceability(store: TripleStore) -> list[TraceRow]:
    """Rows for every statement: knowledge-base terms first, then rules, sorted."""
    titles: dict[str, str] = {}
    rows: set[TraceRow] = set()
    for r in store.select(_QUERY):
        titles[r["statement"]] = r["title"]
        if "term" in r:
            kind = r["type"].rsplit("/", 1)[-1]
            curie = "h:" + r["term"].rsplit("/", 1)[-1]
            rows.add(TraceRow(r["statement"], r["title"], kind, curie, r["label"]))
    for rule in load_rules():
        for statement in rule.statements:
            rows.add(TraceRow(statement, titles.get(statement, ""), "rule", rule.id, rule.title))
    return sorted(rows, key=lambda t: (t.statement, t.kind == "rule", t.kind, t.id))


def traceability_tsv(store: TripleStore) -> str:
    return "\n".join([HEADER, *(row.as_tsv() for row in traceability(store))]) + "\n"
