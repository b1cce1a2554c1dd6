"""The reasoning pipeline: patient inputs -> one store -> rules -> one report per patient.

(Being built; the signatures below are the contract other modules use.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from her2kg.report.model import Report
from her2kg.stores.base import TripleStore


def recommend_files(
    paths: Sequence[str],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Read patient files (Turtle `.ttl` or FHIR R4 bundle `.json`) and reason over all at once.

    Returns one Report per input file, in input order. An unreadable file yields a report with
    an error (code `unreadable-input`) rather than an exception. `store` defaults to a fresh
    embedded pyoxigraph store; pass a remote store to run the same rules elsewhere.
    """
    raise NotImplementedError("the reasoning pipeline is not wired yet")


def recommend_texts(
    documents: Sequence[tuple[str, str, str]],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Like `recommend_files` for in-memory documents: (name, media kind 'fhir-json'|'turtle', text)."""
    raise NotImplementedError("the reasoning pipeline is not wired yet")
