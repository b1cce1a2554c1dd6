"""Triple stores the rule engine can run on: the embedded pyoxigraph store and remote SPARQL 1.1
endpoints. Both satisfy `TripleStore`; the same rule files run unchanged on either."""

from her2kg.stores.base import Row, TripleStore

__all__ = ["Row", "TripleStore"]
