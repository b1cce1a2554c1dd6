"""The triples the SPARQL endpoint serves: the knowledge base, plus the patients of a folder.

With `--patients DIR`, every Turtle patient (`*.ttl`) and FHIR R4 Bundle (`*.json`) of the
folder goes through the reasoning pipeline once, at start-up, in one store; the endpoint then
serves that store: the knowledge base, the patients and everything the rules derived for them.
JSON files that are not FHIR Bundles (for example `*.expect.json` next to vignettes) are
skipped. If the pipeline cannot run, the raw patient Turtle is served next to the knowledge
base instead, and the start-up log says so.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from her2kg.errors import Her2kgError

log = logging.getLogger("her2kg.server")


@dataclass(frozen=True)
class PatientDocument:
    name: str
    kind: str  # 'turtle' | 'fhir-json'
    text: str


@dataclass(frozen=True)
class ServedData:
    """N-Quads of everything served, and how it was made."""

    nquads: bytes
    patients: tuple[str, ...] = ()
    reasoned: bool = False
    as_of: date | None = None
    notes: tuple[str, ...] = ()


def patient_documents(folder: Path) -> tuple[list[PatientDocument], list[str]]:
    """Read the patient files of a folder (not recursive), in name order; returns (documents, notes)."""
    if not folder.is_dir():
        raise Her2kgError(f"{folder}: not a folder; --patients takes a folder of .ttl and .json patient files")
    documents: list[PatientDocument] = []
    notes: list[str] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix not in (".ttl", ".json"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            notes.append(f"{path.name}: skipped, unreadable ({type(exc).__name__})")
            continue
        if path.suffix == ".json":
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                notes.append(f"{path.name}: skipped, not JSON")
                continue
            if not isinstance(parsed, dict) or parsed.get("resourceType") != "Bundle":
                notes.append(f"{path.name}: skipped, not a FHIR Bundle")
                continue
            documents.append(PatientDocument(path.name, "fhir-json", text))
        else:
            documents.append(PatientDocument(path.name, "turtle", text))
    return documents, notes


def knowledge_only() -> ServedData:
    from her2kg.knowledge import knowledge_ntriples

    return ServedData(nquads=knowledge_ntriples().encode("utf-8"))


def build_served_data(patients_dir: Path | None, *, as_of: date) -> ServedData:
    """The knowledge base alone, or with the reasoned patients of `patients_dir`."""
    if patients_dir is None:
        return knowledge_only()
    documents, notes = patient_documents(patients_dir)
    if not documents:
        return ServedData(
            nquads=knowledge_only().nquads,
            as_of=as_of,
            notes=(*notes, f"{patients_dir}: no .ttl or FHIR .json patient file found"),
        )
    try:
        return _reasoned(documents, notes, as_of)
    except NotImplementedError:
        notes.append("the reasoning pipeline is not available; serving the raw patient Turtle without inferences")
    return _raw(documents, notes, as_of)


def _reasoned(documents: Sequence[PatientDocument], notes: list[str], as_of: date) -> ServedData:
    from her2kg.recommend import recommend_texts
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    reports = recommend_texts([(d.name, d.kind, d.text) for d in documents], as_of=as_of, store=store)
    for document, report in zip(documents, reports, strict=False):
        if not report.ok:
            notes.append(f"{document.name}: the pipeline reported {len(report.errors)} error(s)")
    data = store.native.dump(format=ox.RdfFormat.N_QUADS)
    return ServedData(
        nquads=data, patients=tuple(d.name for d in documents), reasoned=True, as_of=as_of, notes=tuple(notes)
    )


def _raw(documents: Sequence[PatientDocument], notes: list[str], as_of: date) -> ServedData:
    store = ox.Store()
    store.bulk_load(knowledge_only().nquads, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    loaded: list[str] = []
    for document in documents:
        if document.kind != "turtle":
            notes.append(f"{document.name}: FHIR bundles need the pipeline; skipped")
            continue
        try:
            store.bulk_load(document.text.encode("utf-8"), format=ox.RdfFormat.TURTLE, to_graph=ox.DefaultGraph())
        except SyntaxError:
            notes.append(f"{document.name}: skipped, not valid Turtle; `her2kg validate` shows where")
            continue
        loaded.append(document.name)
    return ServedData(
        nquads=store.dump(format=ox.RdfFormat.N_QUADS), patients=tuple(loaded), as_of=as_of, notes=tuple(notes)
    )
