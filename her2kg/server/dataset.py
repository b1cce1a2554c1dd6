"""The triples the SPARQL endpoint serves: the knowledge base, plus the patients of a folder.

With `--patients DIR`, every Turtle patient (`*.ttl`) and FHIR R4 Bundle (`*.json`) of the
folder goes through the reasoning pipeline once, at start-up, in one store; the endpoint then
serves that store: the knowledge base, the patients and everything the rules derived for them.
JSON files that are not FHIR Bundles (for example `*.expect.json` next to vignettes) are
skipped.

The start-up notes give counts only: file names can identify patients, so they are never logged.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from her2kg.errors import Her2kgError
from her2kg.safe_io import JsonInputError, read_regular_file, strict_json_loads

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
    skipped: Counter[str] = Counter()
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".ttl", ".json"):
            continue
        try:
            text = read_regular_file(path).decode("utf-8")
        except (OSError, UnicodeDecodeError):
            skipped["unreadable or not a regular file"] += 1
            continue
        if path.suffix == ".json":
            try:
                parsed = strict_json_loads(text)
            except JsonInputError:
                skipped["not acceptable JSON"] += 1
                continue
            if not isinstance(parsed, dict) or parsed.get("resourceType") != "Bundle":
                skipped["JSON but not a FHIR Bundle"] += 1
                continue
            documents.append(PatientDocument(path.name, "fhir-json", text))
        else:
            documents.append(PatientDocument(path.name, "turtle", text))
    notes = [f"{count} patient file(s) skipped: {why}" for why, count in sorted(skipped.items())]
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
            notes=(*notes, "--patients: no .ttl or FHIR .json patient file found in the folder"),
        )
    return _reasoned(documents, notes, as_of)


def _reasoned(documents: Sequence[PatientDocument], notes: list[str], as_of: date) -> ServedData:
    from her2kg.pipeline import recommend_texts
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    reports = recommend_texts([(d.name, d.kind, d.text) for d in documents], as_of=as_of, store=store)
    failed = sum(1 for report in reports if not report.ok)
    if failed:
        notes.append(f"{failed} of {len(reports)} served patient report(s) have errors; `her2kg recommend` shows them")
    data = store.native.dump(format=ox.RdfFormat.N_QUADS) or b""
    return ServedData(
        nquads=data, patients=tuple(d.name for d in documents), reasoned=True, as_of=as_of, notes=tuple(notes)
    )
