"""The code mapping: which her2kg concept a (code system, code) pair of a FHIR record means.

The mapping is not written in Python. It is read by SPARQL from the knowledge base, where every
mapped concept carries typed `skos:notation` values (`"85319-2"^^h:LOINC`) and every code-system
datatype names its FHIR system URI with `h:codeSystemUri` (see `ontology/modules/core.ttl` and
`ontology/modules/fhir-mapping.ttl`). Adding a notation in Turtle changes what the importer
understands; nothing here needs to change.

A notation that ends with `*` (allowed for ICD-10-CM) stands for every code that starts with the
characters before it; exact notations win over prefixes, longer prefixes over shorter ones.

A SNOMED CT notation in compositional grammar, `focus:attribute=value` (such as malignant
neoplastic disease with finding site breast), is a post-coordinated expression: the importer
builds it from a Condition's code and its bodySite (`lookup_refined`).

The mapping also holds the names of the knowledge base's drugs (`drug_names`: rdfs:label and
skos:altLabel of every h:Drug and h:DrugProduct), so that a medication whose code is unknown but
whose text names a known drug is refused rather than dropped (`her2kg.fhir.drug_names`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from her2kg.errors import KnowledgeBaseError
from her2kg.fhir import terms
from her2kg.vocabulary import PREFIXES


@dataclass(frozen=True)
class Concept:
    """A her2kg concept that some code maps to, with what the importer needs to know about it.

    `superclasses`: the concept and every class it is a subclass of (for classes).
    `types`: every class the concept is an instance of, with their superclasses (for individuals
    and properties). `ingredients`: the active ingredients of a drug product. `domain`: the
    rdfs:domain of a property. `route`: a drug product's route (h:productRoute).
    """

    iri: str
    superclasses: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    ingredients: tuple[str, ...] = ()
    domain: str = ""
    route: str = ""  # the route of administration of a drug product, where the knowledge base records it

    def is_subclass_of(self, cls: str) -> bool:
        return cls in self.superclasses

    def is_a(self, cls: str) -> bool:
        return cls in self.types


@dataclass(frozen=True)
class CodeMapping:
    """An immutable index from (system URI, code) to her2kg concepts."""

    exact: Mapping[tuple[str, str], tuple[Concept, ...]]
    prefixes: tuple[tuple[str, str, Concept], ...]  # (system, code prefix, concept), longest first
    system_names: Mapping[str, str]  # system URI -> datatype label, for messages
    # (lower-case name, drug IRIs): rdfs:label and skos:altLabel of every h:Drug individual and
    # h:DrugProduct, the products standing for their active ingredients; longest name first
    drug_names: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # (system, focus code, attribute value code) -> concepts, from "focus:attribute=value" notations
    refined: Mapping[tuple[str, str, str], tuple[Concept, ...]] = field(default_factory=dict)
    system_datatypes: Mapping[str, str] = field(default_factory=dict)  # system URI -> datatype local name ("RxNorm")

    def knows_system(self, system: str) -> bool:
        return system in self.system_names

    def system_label(self, system: str) -> str:
        return self.system_names.get(system, system or "(no system)")

    def lookup(self, system: str, code: str) -> tuple[Concept, ...]:
        """The concepts a code means (empty when it is not mapped)."""
        found = self.exact.get((system, code))
        if found:
            return found
        for prefix_system, prefix, concept in self.prefixes:
            if prefix_system == system and code.startswith(prefix):
                return (concept,)
        return ()

    def lookup_refined(self, system: str, focus: str, value: str) -> tuple[Concept, ...]:
        """The concepts of the post-coordinated expression `focus:<attribute>=value` (empty when none)."""
        return self.refined.get((system, focus, value), ())

    def __len__(self) -> int:
        return sum(len(v) for v in self.exact.values()) + len(self.prefixes)


_P = "\n".join(f"PREFIX {name}: <{iri}>" for name, iri in PREFIXES.items())

NOTATION_QUERY = f"""{_P}
SELECT ?concept ?code ?system WHERE {{
  ?concept skos:notation ?code .
  BIND(DATATYPE(?code) AS ?dt)
  ?dt h:codeSystemUri ?system .
}}
"""

SYSTEM_QUERY = f"""{_P}
SELECT ?system ?label ?dt WHERE {{
  ?dt h:codeSystemUri ?system .
  OPTIONAL {{ ?dt rdfs:label ?label }}
}}
"""

SUPERCLASS_QUERY = f"""{_P}
SELECT DISTINCT ?concept ?class WHERE {{
  ?concept skos:notation ?code .
  ?concept rdfs:subClassOf* ?class .
  FILTER(isIRI(?class))
}}
"""

TYPE_QUERY = f"""{_P}
SELECT DISTINCT ?concept ?class WHERE {{
  ?concept skos:notation ?code .
  ?concept rdf:type/rdfs:subClassOf* ?class .
  FILTER(isIRI(?class))
}}
"""

INGREDIENT_QUERY = f"""{_P}
SELECT ?concept ?ingredient WHERE {{
  ?concept skos:notation ?code ; h:hasActiveIngredient ?ingredient .
}}
"""

ROUTE_QUERY = f"""{_P}
SELECT ?concept ?route WHERE {{
  ?concept skos:notation ?code ; h:productRoute ?route .
}}
"""

DOMAIN_QUERY = f"""{_P}
SELECT ?concept ?domain WHERE {{
  ?concept skos:notation ?code ; rdfs:domain ?domain .
  FILTER(isIRI(?domain))
}}
"""


DRUG_NAME_QUERY = f"""{_P}
SELECT ?name ?drug WHERE {{
  {{ ?drug a/rdfs:subClassOf* h:Drug }} UNION {{ ?product a h:DrugProduct ; h:hasActiveIngredient ?drug }}
  ?named rdfs:label|skos:altLabel ?name .
  FILTER(?named = ?drug || (BOUND(?product) && ?named = ?product))
}}
"""


def load_code_mapping(kb_ntriples: str | None = None, extra_turtle: str = "") -> CodeMapping:
    """Build the code mapping from the knowledge base (default: the packaged one).

    `extra_turtle` adds triples (for example a new notation) before the mapping is read.
    Raises KnowledgeBaseError when the knowledge base or the extra Turtle cannot be loaded.
    """
    if kb_ntriples is None:
        from her2kg.knowledge import knowledge_ntriples

        kb_ntriples = knowledge_ntriples()
    return _build_mapping(kb_ntriples, extra_turtle)


@lru_cache(maxsize=4)
def _build_mapping(kb_ntriples: str, extra_turtle: str) -> CodeMapping:
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    try:
        store.load_ntriples(kb_ntriples)
    except (SyntaxError, ValueError) as exc:
        raise KnowledgeBaseError(f"the knowledge base could not be loaded for the FHIR code mapping: {exc}") from exc
    if extra_turtle.strip():
        try:
            store.load_turtle(extra_turtle.encode("utf-8"))
        except (SyntaxError, ValueError) as exc:
            raise KnowledgeBaseError(f"the extra Turtle for the FHIR code mapping does not parse: {exc}") from exc

    superclasses: dict[str, set[str]] = defaultdict(set)
    for row in store.select(SUPERCLASS_QUERY):
        superclasses[row["concept"]].add(row["class"])
    types: dict[str, set[str]] = defaultdict(set)
    for row in store.select(TYPE_QUERY):
        types[row["concept"]].add(row["class"])
    ingredients: dict[str, set[str]] = defaultdict(set)
    for row in store.select(INGREDIENT_QUERY):
        ingredients[row["concept"]].add(row["ingredient"])
    routes: dict[str, str] = {row["concept"]: row["route"] for row in store.select(ROUTE_QUERY)}
    domains: dict[str, str] = {}
    for row in store.select(DOMAIN_QUERY):
        domains[row["concept"]] = min(row["domain"], domains.get(row["concept"], row["domain"]))

    concepts: dict[str, Concept] = {}

    def concept(iri: str) -> Concept:
        if iri not in concepts:
            concepts[iri] = Concept(
                iri=iri,
                superclasses=frozenset(superclasses.get(iri, ())),
                types=frozenset(types.get(iri, ())),
                ingredients=tuple(sorted(ingredients.get(iri, ()))),
                domain=domains.get(iri, ""),
                route=routes.get(iri, ""),
            )
        return concepts[iri]

    exact: dict[tuple[str, str], set[str]] = defaultdict(set)
    prefixes: set[tuple[str, str, str]] = set()
    refined: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for row in store.select(NOTATION_QUERY):
        code, system = row["code"].strip(), row["system"].strip()
        if not code:
            continue
        expression = _REFINEMENT.match(code)
        if expression is not None:
            refined[(system, expression["focus"], expression["value"])].add(row["concept"])
        elif code.endswith("*"):
            prefixes.add((system, code[:-1], row["concept"]))
        else:
            exact[(system, code)].add(row["concept"])

    system_names: dict[str, str] = {}
    system_datatypes: dict[str, str] = {}
    for row in store.select(SYSTEM_QUERY):
        system_names.setdefault(row["system"], row.get("label", row["system"]))
        system_datatypes.setdefault(row["system"], row["dt"].rsplit("/", 1)[-1])

    names: dict[str, set[str]] = defaultdict(set)
    for row in store.select(DRUG_NAME_QUERY):
        name = " ".join(row["name"].lower().split())
        if name:
            names[name].add(row["drug"])

    ordered_prefixes = sorted(prefixes, key=lambda item: (-len(item[1]), item[0], item[1], item[2]))
    return CodeMapping(
        exact=MappingProxyType({key: tuple(concept(iri) for iri in sorted(iris)) for key, iris in exact.items()}),
        prefixes=tuple((system, prefix, concept(iri)) for system, prefix, iri in ordered_prefixes),
        system_names=MappingProxyType(system_names),
        system_datatypes=MappingProxyType(system_datatypes),
        refined=MappingProxyType({key: tuple(concept(iri) for iri in sorted(iris)) for key, iris in refined.items()}),
        drug_names=tuple(
            (name, tuple(sorted(drugs))) for name, drugs in sorted(names.items(), key=lambda item: (-len(item[0]), item[0]))
        ),
    )


_REFINEMENT = re.compile(r"^(?P<focus>\d+):(?P<attribute>\d+)=(?P<value>\d+)$")


def is_drug(concept: Concept) -> bool:
    return concept.is_a(terms.DRUG)


def is_product(concept: Concept) -> bool:
    return concept.is_a(terms.DRUG_PRODUCT)
