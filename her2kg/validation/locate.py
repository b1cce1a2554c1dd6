"""Name terms as CURIEs and find the file and line where a term is described."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from her2kg.vocabulary import SHAPES_BASE, curie

__all__ = ["SHAPES_BASE", "Location", "Locator", "curie"]

_SUBJECT_START = re.compile(r"^(<[^>\s]*>|[A-Za-z][\w.\-]*:[\w.\-]*|:[\w.\-]*)\s")
_PREFIX_LINE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.\-]*):\s*<([^>]*)>", re.IGNORECASE)


@dataclass(frozen=True)
class Location:
    file: str
    line: int


class Locator:
    """Where each subject IRI is first described, from the text of the files (read once)."""

    def __init__(self, sources: Iterable[tuple[str, str]]) -> None:
        places: dict[str, Location] = {}
        texts: list[tuple[str, str]] = []
        for display, text in sources:
            texts.append((display, text))
            for iri, line in _subject_lines(text):
                places.setdefault(iri, Location(display, line))
        self._places: Mapping[str, Location] = places
        self._texts = tuple(texts)

    def find(self, iri: str) -> Location:
        """Where the term is described; for a term described nowhere (an undefined term), its first use."""
        place = self._places.get(iri)
        if place is not None:
            return place
        return self.first_mention(iri)

    def first_mention(self, iri: str) -> Location:
        """The first line that writes the IRI, as `<iri>` or as its CURIE (a whole token)."""
        short = curie(iri)
        token = re.compile(r"(?<![\w:/#.-])" + re.escape(short) + r"(?![\w:-])") if not short.startswith("<") else None
        for display, text in self._texts:
            for number, line in enumerate(text.splitlines(), start=1):
                if f"<{iri}>" in line or (token is not None and token.search(line)):
                    return Location(display, number)
        return Location("", 0)


def _subject_lines(text: str) -> Iterable[tuple[str, int]]:
    prefixes: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        declared = _PREFIX_LINE.match(line)
        if declared:
            prefixes[declared.group(1)] = declared.group(2)
            continue
        match = _SUBJECT_START.match(line)
        if not match:
            continue
        token = match.group(1)
        if token.startswith("<"):
            yield token[1:-1], number
            continue
        prefix, _, local = token.partition(":")
        if prefix in prefixes:
            yield prefixes[prefix] + local, number
