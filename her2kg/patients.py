"""Read patient inputs (Turtle in the her2kg vocabulary, or FHIR R4 bundles) as N-Triples.

A patient file may only speak about the patients it introduces. Its patients are the exact
IRIs it declares `a h:Patient` with an `h:patientId`, each of the form
`https://w3id.org/her2kg/patient/<id>` with a non-empty `<id>` that is one path segment (the
patient namespace itself, or a bare base, is never a patient). A triple is kept only when its
subject is one of those IRIs or a node under `<patient IRI>/`, and any patient-namespace IRI
in object position also belongs to the file's own patients; this is decided on exact IRIs
and one dictionary look-up per triple, never on a shared prefix, so reading is linear in the
input. Everything else is dropped with a warning naming the count, and so are facts that
only rules may derive (derived classes and properties) and `h:evaluationDate` (set by
`--as-of`). This keeps one patient's file from changing the knowledge base, or another
patient's conclusions, in a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import pyoxigraph as ox

from her2kg.errors import InputError
from her2kg.knowledge import knowledge_ntriples
from her2kg.notices import Notice, Severity
from her2kg.safe_io import JsonInputError, read_regular_file, strict_json_loads
from her2kg.stores.embedded import select_solutions
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
    for solution in select_solutions(store, query):
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
    declared: set[str] = set()
    ids: dict[str, str] = {}
    patient_class, id_predicate = h("Patient"), h("patientId")
    for t in triples:
        subject = t.subject
        if not isinstance(subject, ox.NamedNode) or _patient_id_of(subject.value) is None:
            continue
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode) and t.object.value == patient_class:
            declared.add(subject.value)
        elif t.predicate.value == id_predicate and isinstance(t.object, ox.Literal) and t.object.value.strip():
            ids.setdefault(subject.value, t.object.value)
    patients = {iri: ids[iri] for iri in _in_order(triples, declared) if iri in ids}
    if not patients:
        return PatientInput(
            source=path_or_name,
            patient_iris=(),
            patient_ids=(),
            ntriples="",
            notices=(
                Notice(
                    Severity.ERROR,
                    "no-patient",
                    f"{path_or_name} declares no h:Patient with an h:patientId at an IRI "
                    f"{PATIENT_BASE}<id>",
                    "patient",
                ),
            ),
        )
    kept: list[str] = []
    dropped = 0
    for t in triples:
        subject, predicate, obj = t.subject, t.predicate.value, t.object
        if not isinstance(subject, ox.NamedNode) or _owner(subject.value) not in patients or predicate not in predicates or (predicate == RDF_TYPE and (not isinstance(obj, ox.NamedNode) or obj.value not in classes)) or isinstance(obj, (ox.BlankNode, ox.Triple)) or (isinstance(obj, ox.NamedNode) and obj.value.startswith(PATIENT_BASE) and _owner(obj.value) not in patients):
            dropped += 1
        else:
            kept.append(f"{subject} {t.predicate} {obj} .")
    notices: list[Notice] = []
    if dropped:
        notices.append(
            Notice(
                Severity.WARNING,
                "ignored-triples",
                f"{dropped} triple(s) of {path_or_name} were ignored: patient files may only state facts "
                "about their own patients (declared a h:Patient with an h:patientId) and nodes under them, "
                "with the terms of the patient vocabulary (docs/patient-vocabulary.md)",
            )
        )
    return PatientInput(path_or_name, tuple(patients), tuple(patients.values()), "\n".join(kept) + "\n", tuple(notices))


def _patient_id_of(iri: str) -> str | None:
    """The `<id>` of a patient IRI `PATIENT_BASE<id>` (one non-empty segment), else None."""
    if not iri.startswith(PATIENT_BASE):
        return None
    rest = iri[len(PATIENT_BASE) :]
    if not rest or any(c in rest for c in "/?#"):
        return None
    return rest


def _owner(iri: str) -> str | None:
    """The patient IRI that `iri` is, or is a node under (`PATIENT_BASE<id>/...`), else None."""
    if not iri.startswith(PATIENT_BASE):
        return None
    segment = iri[len(PATIENT_BASE) :].split("/", 1)[0]
    if not segment or any(c in segment for c in "?#"):
        return None
    return PATIENT_BASE + segment


def _in_order(triples: Sequence[ox.Triple], iris: set[str]) -> list[str]:
    """The IRIs of `iris` in the order in which they first appear as subjects."""
    ordered: dict[str, None] = {}
    for t in triples:
        if len(ordered) == len(iris):
            break
        if isinstance(t.subject, ox.NamedNode) and t.subject.value in iris:
            ordered.setdefault(t.subject.value, None)
    return list(ordered)


def read_fhir(path_or_name: str, data: bytes) -> PatientInput:
    """Read a FHIR R4 bundle (JSON) through the importer."""
    from her2kg.fhir import import_bundle, load_code_mapping

    try:
        bundle = strict_json_loads(data)
    except JsonInputError as exc:
        raise InputError(path_or_name, str(exc)) from exc
    result = import_bundle(bundle, mapping=load_code_mapping(), source=path_or_name)
    notices = tuple(result.warnings) + tuple(result.errors)
    if not result.patient_iri:
        return PatientInput(path_or_name, (), (), "", notices)
    if _patient_id_of(result.patient_iri) is None:
        error = Notice(Severity.ERROR, "no-patient", f"{path_or_name}: the Patient resource has no usable id", "Patient.id")
        return PatientInput(path_or_name, (), (), "", (*notices, error))
    return PatientInput(
        path_or_name, (result.patient_iri,), (result.patient_id,), _own_lines(result.ntriples, result.patient_iri), notices
    )


def _own_lines(ntriples: str, patient: str) -> str:
    """The N-Triples lines about `patient` and nodes under it (the importer mints only those).

    The text is the importer's own canonical N-Triples (`her2kg.fhir.graph.to_ntriples`): one
    triple per line, subject and predicate IRIs without spaces, so a line is split by its first
    two spaces instead of being parsed again.
    """
    kept = []
    for line in ntriples.splitlines():
        subject, _, rest = line.partition(" ")
        if not subject.startswith("<") or _owner(subject[1:-1]) != patient:
            continue
        obj = rest.partition(" ")[2].removesuffix(" .")
        if obj.startswith("<" + PATIENT_BASE) and _owner(obj[1:-1]) != patient:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


class InputKind(StrEnum):
    """The kinds of patient document her2kg reads."""

    TURTLE = "turtle"
    FHIR_JSON = "fhir-json"


_SUFFIXES = {".ttl": InputKind.TURTLE, ".turtle": InputKind.TURTLE, ".json": InputKind.FHIR_JSON}


def read_patient_document(name: str, kind: InputKind | str, data: bytes) -> PatientInput:
    """Read one document of a known kind (an `InputKind` or its value)."""
    if kind == InputKind.TURTLE:
        return read_turtle(name, data)
    if kind == InputKind.FHIR_JSON:
        return read_fhir(name, data)
    raise InputError(name, f"unknown input kind {kind!r}: use one of {', '.join(InputKind)}")


def kind_of_path(path: str) -> InputKind:
    """The input kind of a file, from its extension (.ttl Turtle, .json FHIR)."""
    kind = _SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        raise InputError(path, "unknown file type: give a Turtle patient (.ttl) or a FHIR R4 bundle (.json)")
    return kind


def read_patient_file(path: str) -> PatientInput:
    """Read a patient file; raise InputError when it cannot be read at all."""
    kind = kind_of_path(path)
    try:
        data = read_regular_file(path)
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
