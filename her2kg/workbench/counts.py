"""The counts the README states ("24 drugs", "30 recommendations", ...) against the knowledge base."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from her2kg.stores.base import TripleStore

_PREFIX = (
    "PREFIX h: <https://w3id.org/her2kg/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    "PREFIX owl: <http://www.w3.org/2002/07/owl#> "
)
# name -> (pattern of the README phrase with the number as group 1, SPARQL pattern counting ?x)
STATED: dict[str, tuple[str, str]] = {
    "drugs": (r"\b(\d+) drugs with", "?x a ?c . ?c rdfs:subClassOf* h:Drug . FILTER(?c != h:DrugProduct)"),
    "regimens": (r"\b(\d+) regimens with", "?x a h:Regimen"),
    "recommendations": (r"\b(\d+) recommendations as", "?x a h:Recommendation"),
    "sources": (r"\b(\d+) sources \(", "?x a ?c . ?c rdfs:subClassOf* h:Source"),
    "clinical statements": (r"\bthe (\d+) clinical statements", "?x a h:ClinicalStatement"),
}


@dataclass(frozen=True)
class CountCheck:
    name: str
    stated: int | None
    actual: int

    @property
    def ok(self) -> bool:
        return self.stated == self.actual


def actual_counts(store: TripleStore) -> dict[str, int]:
    return {
        name: int(store.select(_PREFIX + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}")[0]["n"])
        for name, (_, pattern) in STATED.items()
    }


def check_counts(text: str, actual: dict[str, int]) -> list[CountCheck]:
    checks = []
    for name, (pattern, _) in STATED.items():
        match = re.search(pattern, text, flags=re.DOTALL)
        checks.append(CountCheck(name, int(match.group(1)) if match else None, actual[name]))
    return checks


def update_counts(text: str, actual: dict[str, int]) -> str:
    """The text with every stated count replaced by the actual one."""
    for name, (pattern, _) in STATED.items():
        text = re.sub(pattern, _replacer(actual[name]), text, count=1, flags=re.DOTALL)
    return text


def _replacer(count: int) -> Callable[[re.Match[str]], str]:
    """A `re.sub` replacement that puts `count` in place of the stated number (group 1)."""
    return lambda m: m.group(0).replace(m.group(1), str(count), 1)
