"""Finding the names of knowledge-base drugs in the text of a record entry.

A medication entry whose code is not in the mapping may still name a drug the rules know
("Kadcyla 160 MG Injection" under an unmapped RxNorm code). The names are the rdfs:label and
skos:altLabel values of the knowledge base's drugs and drug products (`CodeMapping.drug_names`,
read by SPARQL); a name counts only as a whole word, case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from her2kg.fhir.mapping import CodeMapping


@dataclass(frozen=True)
class NamedDrug:
    """A knowledge-base name found in a text, and the drugs it stands for."""

    name: str  # as written in the text
    drugs: tuple[str, ...]


def find_drug_names(texts: Iterable[str], mapping: CodeMapping) -> tuple[NamedDrug, ...]:
    """Every knowledge-base drug name found as a whole word in `texts` (longest names first;
    a name inside a longer one that was found is not reported again)."""
    found: list[NamedDrug] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for text in texts:
        taken: list[tuple[int, int]] = []
        for name, drugs in mapping.drug_names:
            for match in _pattern(name).finditer(text):
                span = match.span()
                if any(start < span[1] and span[0] < end for start, end in taken):
                    continue
                taken.append(span)
                key = (match.group(0).lower(), drugs)
                if key not in seen:
                    seen.add(key)
                    found.append(NamedDrug(name=match.group(0), drugs=drugs))
    return tuple(found)


@lru_cache(maxsize=512)
def _pattern(name: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(part) for part in name.split())
    return re.compile(rf"(?<![\w]){words}(?![\w])", re.IGNORECASE)
