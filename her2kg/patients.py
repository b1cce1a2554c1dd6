"""Read patient inputs (Turtle in the her2kg vocabulary, or FHIR R4 bundles) as N-Triples.

A patient file may only speak about its patients: triples whose subject is not a patient IRI,
or a node under one, are dropped with a warning, and so are facts that only rules may derive
(derived classes and properties) and `h:evaluationDate` (set by `--as-of`). This keeps one
patient's file from changing the knowledge base, or another patient's conclusions, in a batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from her2kg.errors import InputError
from her2kg.knowledge import knowledge_ntriples
from her2kg.notices import Notice
from her2kg.vocabulary import BASE, PATIENT_BASE, RDF_TYPE, h

_PATIENT_MODULE = BASE + "ontology/patient"
_IS_DEFINED_BY = "http://www.w3.org/2000/01/rdf-schema#isDefinedBy"


@dataclass(frozen=True)
class PatientInput:
    """One input document after reading: its patients' triples and what reading it found."""

    source: str
    patient_iris: tuple[str, ...]
    patient_ids: tuple[str, ...]
    ntriples: str
    notices: tuple[Notice, ...] = ()

    @property
    def readable(self) -> bool:
        return bool(self.patient_iris)


@cache
def _input_vocabulary() -> tuple[frozenset[str], frozenset[str]]:
    """Predicates and classes that patient inputs may use: those of the patient module."""
    store = ox.Store()
    store.bulk_load(knowledge_ntriples().encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    query = f"""
    SELECT ?term ?kind WHERE {{
      ?term <{_IS_DEFINED_BY}> <{_PATIENT_MODULE}> ; a ?kind .
    }}"""
    predicates: set[str] = {RDF_TYPE}
    classes: set[str] = set()
    for solution in store.query(query):
        term, kind = solution["term"].value, solution["kind"].value
        if kind.endswith("#Class"):
            classes.add(term)
        elif kind.endswith("Property"):
            predicates.add(term)
    predicates.discard(h("evaluationDate"))
    # value individuals of the patient module (h:positive, h:ihc-3plus, ...) are objects, not classes
    return frozenset(predicates), frozenset(classes)


def read_turtle(path_or_name: str, data: bytes) -> PatientInput:
    """Read a Turtle patient document; raise InputError when it is not valid Turtle."""
    try:
        triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE, base_iri=PATIENT_BASE))
    except SyntaxError as exc:
        raise InputError(path_or_name, f"not valid Turtle: {exc}") from exc
    predicates, classes = _input_vocabulary()
    patients: dict[str, str] = {}
    for t in triples:
        if (
            isinstance(t.subject, ox.NamedNode)
            and t.predicate.value == RDF_TYPE
            and isinstance(t.object, ox.NamedNode)
            and t.object.value == h("Patient")
        ):
            patients[t.subject.value] = ""
    for t in triples:
        if t.predicate.value == h("patientId") and t.subject.value in patients and isinstance(t.object, ox.Literal):
            patients[t.subject.value] = t.object.value
    if not patients:
        return PatientInput(
            source=path_or_name,
            patient_iris=(),
            patient_ids=(),
            ntriples="",
            notices=(Notice("error", "no-patient", f"{path_or_name} declares no h:Patient", "patient"),),
        )
    kept: list[str] = []
    dropped = 0
    for t in triples:
        subject = t.subject
        if not isinstance(subject, ox.NamedNode) or not _belongs_to(subject.value, patients):
            dropped += 1
            continue
        if t.predicate.value not in predicates:
            dropped += 1
            continue
        if t.predicate.value == RDF_TYPE and (not isinstance(t.object, ox.NamedNode) or t.object.value not in classes):
            dropped += 1
            continue
        if isinstance(t.object, ox.BlankNode):
            dropped += 1
            continue
        kept.append(f"{subject} {t.predicate} {t.object} .")
    notices: list[Notice] = []
    if dropped:
        notices.append(
            Notice(
                "warning",
                "ignored-triples",
                f"{dropped} triple(s) of {path_or_name} were ignored: patient files may only state facts "
                "about their patients with the terms of the patient vocabulary (docs/patient-vocabulary.md)",
            )
        )
    ids = tuple(patients[iri] or iri.rsplit("/", 1)[-1] for iri in patients)
    return PatientInput(path_or_name, tuple(patients), ids, "\n".join(kept) + "\n", tuple(notices))


def _belongs_to(iri: str, patients: dict[str, str]) -> bool:
    if iri in patients:
        return True
    return any(iri.startswith(p + "/") for p in patients)


def read_fhir(path_or_name: str, data: bytes) -> PatientInput:
    """Read a FHIR R4 bundle (JSON) through the importer."""
    from her2kg.fhir import import_bundle, load_code_mapping

    try:
        bundle = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(path_or_name, f"not valid JSON: {exc}") from exc
    result = import_bundle(bundle, mapping=load_code_mapping(), source=path_or_name)
    notices = tuple(result.warnings) + tuple(result.errors)
    if not result.patient_iri:
        return PatientInput(path_or_name, (), (), "", notices)
    return PatientInput(path_or_name, (result.patient_iri,), (result.patient_id,), result.ntriples, notices)


def read_patient_document(name: str, kind: str, data: bytes) -> PatientInput:
    """Read one document of a known kind: 'turtle' or 'fhir-json'."""
    if kind == "turtle":
        return read_turtle(name, data)
    if kind == "fhir-json":
        return read_fhir(name, data)
    raise InputError(name, f"unknown input kind {kind!r}: use 'turtle' or 'fhir-json'")


def kind_of_path(path: str) -> str:
    """The input kind of a file, from its extension (.ttl Turtle, .json FHIR)."""
    suffix = Path(path).suffix.lower()
    if suffix in (".ttl", ".turtle"):
        return "turtle"
    if suffix == ".json":
        return "fhir-json"
    raise InputError(path, "unknown file type: give a Turtle patient (.ttl) or a FHIR R4 bundle (.json)")


def read_patient_file(path: str) -> PatientInput:
    """Read a patient file; raise InputError when it cannot be read at all."""
    kind = kind_of_path(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    return read_patient_document(path, kind, data)


def evaluation_triples(patient_iris: Sequence[str], as_of: str, unavailable_drugs: Sequence[str]) -> str:
    """N-Triples that set the evaluation date and the unavailable drugs for every patient."""
    lines = []
    for iri in patient_iris:
        lines.append(f'<{iri}> <{h("evaluationDate")}> "{as_of}"^^<http://www.w3.org/2001/XMLSchema#date> .')
        for drug in unavailable_drugs:
            lines.append(f"<{iri}> <{h('drugUnavailable')}> <{drug}> .")
    return "\n".join(lines) + "\n"
