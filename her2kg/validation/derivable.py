"""Every patient class a recommendation names is one that a rule derives.

A recommendation restricted to (`h:requiresPatientClass`) or excluded for
(`h:excludedForPatientClass`) a class that no rule puts a patient into, and that patient input
cannot state, silently never applies (or never excludes). The classes a rule derives are read
from its INSERT template (`?p a h:Class`); the closure rules copy superclasses only onto recorded
conditions, not onto patients, so a derived patient class does not make its superclasses
derivable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.stores.embedded import select_solutions
from her2kg.validation.locate import Location, curie
from her2kg.validation.model import Check, Finding, Severity
from her2kg.vocabulary import BASE, PREFIXES

if TYPE_CHECKING:
    import pyoxigraph as ox

CONDITION_PROPERTIES = ("requiresPatientClass", "excludedForPatientClass")
_INSERT = re.compile(r"\bINSERT\s*(?:DATA\s*)?\{", re.IGNORECASE)
_OBJECT = r"(?:h:[A-Za-z0-9_\-]+|<[^>\s]+>|\?\w+)"
_TYPED = re.compile(
    r"(?:\ba\b|rdf:type|<" + re.escape(PREFIXES["rdf"]) + r"type>)\s+(" + _OBJECT + r"(?:\s*,\s*" + _OBJECT + r")*)"
)
_CLASS = re.compile(r"h:[A-Za-z0-9_\-]+|<" + re.escape(BASE) + r"[^>\s]+>")
_PATIENT_MODULE = BASE + "ontology/patient"


def insert_templates(text: str) -> Iterable[str]:
    """The text of every INSERT { ... } block of a SPARQL Update (braces balanced)."""
    for match in _INSERT.finditer(text):
        depth, start = 1, match.end()
        for index in range(start, len(text)):
            if text[index] == "{":
                depth += 1
            elif text[index] == "}":
                depth -= 1
                if depth == 0:
                    yield text[start:index]
                    break


def derived_classes(rule_files: Iterable[Path]) -> dict[str, str]:
    """Class IRI -> the first rule file (by name) whose INSERT template types a node with it."""
    found: dict[str, str] = {}
    for path in sorted(rule_files):
        for template in insert_templates(path.read_text(encoding="utf-8")):
            for objects in _TYPED.findall(template):
                for token in _CLASS.findall(objects):
                    iri = BASE + token[2:] if token.startswith("h:") else token[1:-1]
                    found.setdefault(iri, path.name)
    return found


def check_derivable(store: ox.Store, rules_dir: Path, locate: Callable[[str], Location]) -> tuple[Finding, ...]:
    """A finding for each patient class a recommendation names that no rule derives and no input states."""
    derived = derived_classes(rules_dir.glob("*.rq"))
    stated = {
        row["class"].value
        for row in select_solutions(
            store,
            f"SELECT ?class WHERE {{ ?class a <{PREFIXES['owl']}Class> ; <{PREFIXES['rdfs']}isDefinedBy> <{_PATIENT_MODULE}> }}"
        )
    }
    findings: list[Finding] = []
    for prop in CONDITION_PROPERTIES:
        rows = select_solutions(store, f"SELECT ?rec ?class WHERE {{ ?rec <{BASE}{prop}> ?class }}")
        for row in sorted(rows, key=lambda r: (r["rec"].value, r["class"].value)):
            cls = row["class"].value
            if cls in derived or cls in stated:
                continue
            where = locate(row["rec"].value)
            findings.append(
                Finding(
                    check=str(Check.QC),
                    severity=Severity.ERROR,
                    file=where.file,
                    line=where.line,
                    term=curie(row["rec"].value),
                    message=f"h:{prop} {curie(cls)}: no rule in queries/rules derives this class and patient input "
                    "cannot state it, so the recommendation never applies as written; name a class a rule derives "
                    "or add the rule",
                )
            )
    return tuple(findings)
