"""The default store: an in-memory pyoxigraph store."""

from __future__ import annotations

import pyoxigraph as ox

from her2kg.stores.base import Row


class EmbeddedStore:
    """A TripleStore backed by an in-memory pyoxigraph `Store` (default graph only).

    `input_checked=True` says that every N-Triples document given to `load_ntriples` was
    written by her2kg from terms it had already parsed and checked (the prepared knowledge base,
    patient graphs read by `her2kg.patients`): the parser then skips validating IRIs a second
    time, which makes loading about a quarter faster. Leave it False for any other input.
    """

    def __init__(self, *, input_checked: bool = False) -> None:
        self._store = ox.Store()
        self._input_checked = input_checked

    @property
    def native(self) -> ox.Store:
        """The underlying pyoxigraph store, for callers that need its full API."""
        return self._store

    def load_ntriples(self, data: str) -> None:
        self._store.load(data.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph(), lenient=self._input_checked)

    def load_turtle(self, data: bytes, base_iri: str | None = None) -> None:
        self._store.bulk_load(data, format=ox.RdfFormat.TURTLE, base_iri=base_iri, to_graph=ox.DefaultGraph())

    def update(self, sparql: str) -> None:
        self._store.update(sparql)

    def select(self, sparql: str) -> list[Row]:
        solutions = select_solutions(self._store, sparql)
        names = [v.value for v in solutions.variables]
        # a solution iterates over its values in the order of `names` (None where unbound)
        return [{name: term.value for name, term in zip(names, solution, strict=True) if term is not None} for solution in solutions]

    def triple_count(self) -> int:
        return len(self._store)


def select_solutions(store: ox.Store, sparql: str) -> ox.QuerySolutions:
    """The solutions of a SELECT query on a pyoxigraph store; any other query form is a ValueError."""
    result = store.query(sparql)
    if not isinstance(result, ox.QuerySolutions):
        raise ValueError("expected a SELECT query; ASK and CONSTRUCT give no solutions")
    return result
