"""IRIs of the her2kg vocabulary as plain strings (no RDF library needed to import this).

The ontology in `ontology/` is the authority; a test checks that every IRI named here is
declared there, so a typo fails the suite instead of minting a silent new term.
"""

from __future__ import annotations

import re
from typing import Final

BASE: Final = "https://w3id.org/her2kg/"
RULE_BASE: Final = BASE + "rule/"
PATIENT_BASE: Final = BASE + "patient/"
ONTOLOGY_IRI: Final = BASE + "ontology"

PREFIXES: Final[dict[str, str]] = {
    "h": BASE,
    "rule": RULE_BASE,
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "sh": "http://www.w3.org/ns/shacl#",
}

SHAPES_BASE: Final = BASE + "shapes/"
_CURIE_PREFIXES: Final = sorted({**PREFIXES, "shape": SHAPES_BASE}.items(), key=lambda kv: -len(kv[1]))
_LOCAL: Final = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")

RDF_TYPE: Final = PREFIXES["rdf"] + "type"
XSD_DATE: Final = PREFIXES["xsd"] + "date"
XSD_DECIMAL: Final = PREFIXES["xsd"] + "decimal"
XSD_INTEGER: Final = PREFIXES["xsd"] + "integer"
XSD_STRING: Final = PREFIXES["xsd"] + "string"


def h(local: str) -> str:
    """Return the full IRI of a her2kg term from its local name."""
    return BASE + local


def patient_iri(patient_id: str) -> str:
    """Return the IRI minted for a patient identifier (percent-safe characters only)."""
    safe = "".join(c if c.isalnum() or c in "-._~" else "_" for c in patient_id)
    return PATIENT_BASE + safe


def curie(iri: str) -> str:
    """The short name of an IRI with the project's prefixes; IRIs outside them stay `<...>`.

    >>> curie("https://w3id.org/her2kg/Drug")
    'h:Drug'
    >>> curie("https://w3id.org/her2kg/rule/her2-missing")
    'rule:her2-missing'
    >>> curie("http://example.org/x")
    '<http://example.org/x>'
    """
    for prefix, namespace in _CURIE_PREFIXES:
        if iri.startswith(namespace):
            local = iri[len(namespace) :]
            if _LOCAL.fullmatch(local):
                return f"{prefix}:{local}"
    return f"<{iri}>"


def rule_id(iri: str) -> str:
    """The id of a rule from its IRI (reports name rules by id).

    >>> rule_id("https://w3id.org/her2kg/rule/her2-missing")
    'her2-missing'
    """
    if not iri.startswith(RULE_BASE):
        raise ValueError(f"{iri} is not a rule IRI; rule IRIs start with {RULE_BASE}")
    return iri[len(RULE_BASE) :]
