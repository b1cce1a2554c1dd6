"""The protocol every triple store of her2kg satisfies."""

from __future__ import annotations

from typing import Protocol

Row = dict[str, str]
"""One result row of a SELECT: variable name -> IRI string or literal lexical form.
Unbound variables are absent from the dict."""


class TripleStore(Protocol):
    """A store that loads N-Triples, runs SPARQL 1.1 Update and answers SPARQL 1.1 SELECT.

    Every operation works on the store's default graph (for a remote store: the graph the
    store was configured with); rule files never name a graph themselves.
    """

    def load_ntriples(self, data: str) -> None:
        """Add the triples of an N-Triples document."""
        ...

    def update(self, sparql: str) -> None:
        """Run one SPARQL 1.1 Update request."""
        ...

    def select(self, sparql: str) -> list[Row]:
        """Run one SPARQL 1.1 SELECT query and return its rows."""
        ...

    def triple_count(self) -> int:
        """Return the number of triples in the default graph (used to detect a fixpoint)."""
        ...
