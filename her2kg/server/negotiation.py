"""HTTP content negotiation (RFC 9110 `Accept`) over the formats the endpoint can write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RESULTS_JSON = "application/sparql-results+json"
RESULTS_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
JSON_LD = "application/ld+json"
RDF_XML = "application/rdf+xml"
HTML = "text/html"

RESULT_TYPES: tuple[str, ...] = (RESULTS_JSON, RESULTS_XML, CSV, TSV)
"""What SELECT and ASK can be written as, in the server's order of preference."""

GRAPH_TYPES: tuple[str, ...] = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)
"""What CONSTRUCT, DESCRIBE and the service description can be written as."""

ALIASES: dict[str, str] = {
    "application/json": RESULTS_JSON,
    "application/xml": RESULTS_XML,
    "text/xml": RESULTS_XML,
    "text/plain": N_TRIPLES,
    "application/x-turtle": TURTLE,
    "application/json+ld": JSON_LD,
}


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (2 exact, 1 type/*, 0 */*), or -1 for no match."""
        kind, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == kind and self.subtype == "*":
            return 1
        if self.type == kind and self.subtype == sub:
            return 2
        return -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an Accept header; malformed ranges are skipped. An absent header accepts anything."""
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges: list[MediaRange] = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        media = ALIASES.get(media, media)
        kind, _, sub = media.partition("/")
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value.strip())))
                except ValueError:
                    q = 0.0
        if kind and sub:
            ranges.append(MediaRange(kind, sub, q))
    return ranges


def choose(header: str | None, offered: Sequence[str]) -> str | None:
    """Pick the offered media type the client prefers most (server order breaks ties).

    Each offered type takes the quality of the most specific range that matches it. Returns
    None when the client accepts none of them (HTTP 406).
    """
    ranges = parse_accept(header)
    best: tuple[float, int] | None = None
    chosen: str | None = None
    for index, media_type in enumerate(offered):
        specificity, quality = -1, 0.0
        for media_range in ranges:
            match = media_range.matches(media_type)
            if match > specificity:
                specificity, quality = match, media_range.q
        if specificity < 0 or quality <= 0.0:
            continue
        key = (quality, -index)
        if best is None or key > best:
            best, chosen = key, media_type
    return chosen


def prefers_html(header: str | None) -> bool:
    """True when a browser asks for HTML explicitly (not merely through `*/*`)."""
    for media_range in parse_accept(header):
        if media_range.type == "text" and media_range.subtype == "html" and media_range.q > 0:
            return True
    return False
