"""Where a patient comes from: a file, Turtle text or a FHIR bundle, told apart by its type.

A plain `str` is never guessed at: `Patient.from_path`, `Patient.from_turtle` and
`Patient.from_fhir` say what the value is. The facade (`her2kg.recommend`) also takes a path
(`str` or `os.PathLike`, always a file name) and a FHIR bundle (a `Mapping`).

>>> Patient.from_turtle("@prefix h: <https://w3id.org/her2kg/> .").kind
<InputKind.TURTLE: 'turtle'>
>>> Patient.from_path("bundle.json").kind
<InputKind.FHIR_JSON: 'fhir-json'>
>>> Patient.from_path("notes.txt")
Traceback (most recent call last):
...
ValueError: notes.txt: unknown file type: give a Turtle patient (.ttl) or a FHIR R4 bundle (.json)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from her2kg.errors import InputError
from her2kg.notices import Notice, Severity
from her2kg.patients import InputKind, PatientInput, kind_of_path, read_patient_document, read_patient_file

__all__ = ["InputKind", "Patient", "Unreadable", "read_patient"]


@dataclass(frozen=True)
class Patient:
    """One patient document: a file (`path`) or in-memory text (`text`) of a given kind.

    `name` is how reports name the source (the path, or a name given by the caller).
    """

    kind: InputKind
    name: str
    path: Path | None = None
    text: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", InputKind(self.kind))
        if (self.path is None) == (self.text is None):
            raise ValueError("a Patient has either a path or a text; use Patient.from_path, from_turtle or from_fhir")

    @classmethod
    def from_path(cls, path: str | os.PathLike[str]) -> Patient:
        """A Turtle (`.ttl`) or FHIR R4 bundle (`.json`) file, by its extension."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"from_path takes a file path (str or pathlib.Path), not {type(path).__name__}")
        try:
            kind = kind_of_path(os.fspath(path))
        except InputError as exc:
            raise ValueError(str(exc)) from None
        return cls(kind=kind, name=os.fspath(path), path=Path(path))

    @classmethod
    def from_turtle(cls, text: str, *, name: str = "turtle") -> Patient:
        """Turtle text in the her2kg patient vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"from_turtle takes Turtle text (str), not {type(text).__name__}")
        return cls(kind=InputKind.TURTLE, name=name, text=text)

    @classmethod
    def from_fhir(cls, bundle: Mapping[str, Any] | str, *, name: str = "fhir") -> Patient:
        """A FHIR R4 Bundle, as parsed JSON (a mapping) or as JSON text."""
        if isinstance(bundle, Mapping):
            text = json.dumps(bundle)
        elif isinstance(bundle, str):
            text = bundle
        else:
            raise TypeError(f"from_fhir takes a FHIR bundle (a mapping or JSON text), not {type(bundle).__name__}")
        return cls(kind=InputKind.FHIR_JSON, name=name, text=text)


@dataclass(frozen=True)
class Unreadable:
    """An input that could not be read at all: the report carries `notice` as its error."""

    source: str
    notice: Notice


def read_patient(patient: Patient) -> PatientInput | Unreadable:
    """Read one input; an input that cannot be read becomes an `Unreadable` with an error notice."""
    field = "file" if patient.path is not None else "body"
    try:
        if patient.path is not None:
            return read_patient_file(str(patient.path))
        assert patient.text is not None
        return read_patient_document(patient.name, str(patient.kind), patient.text.encode("utf-8"))
    except InputError as exc:
        return Unreadable(patient.name, Notice(Severity.ERROR, "unreadable-input", exc.message, field))
    except Exception as exc:  # never let one input crash the run: report it as unreadable
        return Unreadable(patient.name, Notice(Severity.ERROR, "unreadable-input", f"could not read the input: {exc}", field))
