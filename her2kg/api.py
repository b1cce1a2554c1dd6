"""The Python facade: `recommend`, `recommend_many`, `validate` and `KnowledgeBase`.

Caller mistakes (a wrong type, an unknown drug, a malformed date, a missing file) raise
`TypeError` or `ValueError` (`FileNotFoundError` for a missing file) with a message saying what
to pass. Problems of the patient record (contradictory or missing results, unreadable content)
are never raised: they are errors and warnings in the `Report`, and a report with errors
permits nothing.

How a patient is given:

- `Patient.from_path(p)`, or a `pathlib.Path` or `str`: a file (`.ttl` Turtle, `.json` FHIR R4
  bundle). A `str` is always a file name, never Turtle text;
- `Patient.from_turtle(text)`: Turtle text in the her2kg patient vocabulary;
- `Patient.from_fhir(bundle)`, or any `Mapping`: a FHIR R4 Bundle as parsed JSON.

>>> from datetime import date
>>> import her2kg
>>> report = her2kg.recommend("examples/metastatic-first-line.ttl", as_of=date(2026, 11, 1))
>>> report.ok, report.situation.her2, report.situation.line
(True, 'positive', 1)
>>> report.permitted[0].preference
<Preference.PREFERRED: 'preferred'>
>>> her2kg.recommend("no-such-patient.ttl")
Traceback (most recent call last):
...
FileNotFoundError: no-such-patient.ttl: no such file; to pass Turtle text, use her2kg.Patient.from_turtle(text)

The knowledge base is selected for the duration of a call (`kb=`); calls that select different
knowledge bases must not run at the same time in one process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from her2kg.knowledge_version import KnowledgeBaseVersion
from her2kg.patient_source import Patient

if TYPE_CHECKING:
    from her2kg.report.model import Report
    from her2kg.validation.model import ValidationReport

PatientLike = Patient | str | os.PathLike[str] | Mapping[str, Any]
"""What `recommend` takes as a patient (see the module documentation)."""


@dataclass(frozen=True)
class KnowledgeBase:
    """A knowledge-base folder (with `ontology/`, `shapes/`, `queries/`) and its content digest.

    >>> kb = KnowledgeBase.default()
    >>> kb.digest.startswith("sha256:"), kb.version.version
    (True, '0.1.0')
    >>> KnowledgeBase("/nonexistent")
    Traceback (most recent call last):
    ...
    ValueError: /nonexistent does not hold ontology/her2kg.ttl; give a folder laid out like the repository (ontology/, shapes/, queries/)
    """

    folder: Path

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        from her2kg.resources import HEADER_FILE

        if not isinstance(folder, (str, os.PathLike)):
            raise TypeError(f"KnowledgeBase takes a folder path, not {type(folder).__name__}")
        path = Path(folder).resolve()
        if not (path / "ontology" / HEADER_FILE).is_file():
            raise ValueError(
                f"{folder} does not hold ontology/{HEADER_FILE}; give a folder laid out like the repository "
                "(ontology/, shapes/, queries/)"
            )
        object.__setattr__(self, "folder", path)

    @classmethod
    def default(cls) -> KnowledgeBase:
        """The knowledge base commands read without `--kb` (the checkout, else the installed copy)."""
        from her2kg.resources import data_root

        return cls(data_root())

    @cached_property
    def digest(self) -> str:
        """sha256 over the knowledge files (the digest every report names)."""
        from her2kg.resources import knowledge_digest

        return knowledge_digest(self.folder)

    @cached_property
    def version(self) -> KnowledgeBaseVersion:
        """The ontology IRI and version, with this folder and digest."""
        from her2kg.knowledge import KNOWLEDGE_INFO_QUERY, knowledge_info_from_rows, knowledge_ntriples
        from her2kg.resources import folder_label
        from her2kg.stores.embedded import EmbeddedStore

        store = EmbeddedStore(input_checked=True)
        store.load_ntriples(knowledge_ntriples(self.folder))
        info = knowledge_info_from_rows(store.select(KNOWLEDGE_INFO_QUERY))
        return info.with_identity(folder_label(self.folder), self.digest)


def recommend(
    patient: PatientLike,
    *,
    as_of: date | str | None = None,
    unavailable: Iterable[str] = (),
    kb: KnowledgeBase | str | os.PathLike[str] | None = None,
) -> Report:
    """The report for one patient: permitted and forbidden regimens, monitoring, verdicts, notices.

    `as_of` is the evaluation date (a `date` or ISO text; default today). `unavailable` names
    drugs by key (`trastuzumab-deruxtecan`) or NCIt code (`C128799`); an unknown one raises
    ValueError. An input holding several patients raises ValueError: use `recommend_many`.

    >>> from datetime import date
    >>> text = '''@prefix h: <https://w3id.org/her2kg/> .
    ... <https://w3id.org/her2kg/patient/p1> a h:Patient ; h:patientId "p1" .'''
    >>> report = recommend(Patient.from_turtle(text), as_of=date(2026, 11, 1))
    >>> report.ok, [e.code for e in report.errors]
    (False, ['her2-missing', 'setting-unknown'])
    >>> recommend(Patient.from_turtle(text), unavailable=["aspirin"])
    Traceback (most recent call last):
    ...
    her2kg.pipeline.UnknownDrugError: unknown drug 'aspirin'; use a drug key (...) or an NCIt code
    """
    reports = recommend_many([patient], as_of=as_of, unavailable=unavailable, kb=kb)
    if len(reports) != 1:
        raise ValueError(f"the input holds {len(reports)} patients; use her2kg.recommend_many for several")
    return reports[0]


def recommend_many(
    patients: Iterable[PatientLike],
    *,
    as_of: date | str | None = None,
    unavailable: Iterable[str] = (),
    kb: KnowledgeBase | str | os.PathLike[str] | None = None,
) -> list[Report]:
    """Reports for several inputs, reasoned over together (set-at-a-time), in input order.

    An input with several patients gives several reports; one that cannot be read gives a
    report with an `unreadable-input` error.

    >>> from datetime import date
    >>> reports = recommend_many(["examples/metastatic-first-line.ttl"], as_of="2026-11-01")
    >>> [(r.patient, r.ok) for r in reports]
    [('example-met-1l', True)]
    """
    from her2kg.patient_source import read_patient
    from her2kg.pipeline import reason

    if isinstance(patients, (str, bytes, os.PathLike, Mapping)):
        raise TypeError("recommend_many takes a list of patients; for one patient use her2kg.recommend")
    sources = [_as_patient(p) for p in patients]
    day = _as_date(as_of)
    drugs = _drug_names(unavailable)
    with _selected(_as_kb(kb)):
        return reason([read_patient(p) for p in sources], as_of=day, unavailable=drugs, store=None)


def validate(
    *patients: str | os.PathLike[str] | Patient,
    kb: KnowledgeBase | str | os.PathLike[str] | None = None,
    owl: bool = True,
) -> ValidationReport:
    """Check patient files, or, without patients, the knowledge base itself (`owl=False` skips the
    reasoner, which needs Java).

    A patient file is checked for its structure (the patient shapes) and for the input
    constraints (`her2kg.notices.INPUT_CONSTRAINTS`) by the same notice rules `recommend` runs, so
    both name the same broken values; missing data (no HER2 result, say) is not a fault of the
    file, and only `recommend` reports it.

    >>> report = validate("tests/data/patients/invalid/end-before-start.ttl")
    >>> report.ok, [(f.check, f.message.split(":")[0]) for f in report.findings]
    (False, [('rules', 'end-before-start (therapy)')])
    """
    files: list[Path] = []
    for patient in patients:
        if isinstance(patient, Patient):
            if patient.path is None:
                raise TypeError("validate checks files: write the text to a .ttl file, or use her2kg.recommend")
            files.append(patient.path)
        elif isinstance(patient, (str, os.PathLike)):
            files.append(Path(patient))
        else:
            raise TypeError(f"validate takes patient file paths, not {type(patient).__name__}")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"{', '.join(missing)}: no such file; give the path of a patient Turtle file")
    knowledge = _as_kb(kb)
    root = knowledge.folder if knowledge is not None else None
    _require_kb_extra()
    if files:
        from her2kg.validation import validate_patient_files

        return validate_patient_files(files, root=root)
    from her2kg.validation import validate_knowledge_base

    return validate_knowledge_base(owl=owl, root=root)


def _require_kb_extra() -> None:
    """`validate` needs the `kb` extra (rdflib, pyshacl, owlready2): say so instead of a bare import error."""
    import importlib.util

    missing = [name for name in ("rdflib", "pyshacl", "owlready2") if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(f"her2kg.validate needs the kb extra ({', '.join(missing)} missing): pip install 'her2kg[kb]'")


def _as_patient(patient: object) -> Patient:
    if isinstance(patient, Patient):
        return patient
    if isinstance(patient, Mapping):
        return Patient.from_fhir(patient)
    if isinstance(patient, (str, os.PathLike)):
        if not Path(patient).is_file():
            raise FileNotFoundError(
                f"{os.fspath(patient)}: no such file; to pass Turtle text, use her2kg.Patient.from_turtle(text)"
            )
        return Patient.from_path(patient)
    raise TypeError(
        f"a patient is a file path, a FHIR bundle (mapping) or a her2kg.Patient, not {type(patient).__name__}"
    )


def _as_date(as_of: date | str | None) -> date:
    if as_of is None:
        return date.today()
    if isinstance(as_of, datetime):
        return as_of.date()
    if isinstance(as_of, date):
        return as_of
    if isinstance(as_of, str):
        try:
            return date.fromisoformat(as_of)
        except ValueError:
            raise ValueError(f"as_of {as_of!r} is not a date; give YYYY-MM-DD such as 2026-11-01") from None
    raise TypeError(f"as_of is a datetime.date or YYYY-MM-DD text, not {type(as_of).__name__}")


def _drug_names(unavailable: Iterable[str]) -> tuple[str, ...]:
    if isinstance(unavailable, str):
        raise TypeError(f"unavailable is a list of drugs, such as [{unavailable!r}], not one string")
    names = tuple(unavailable)
    wrong = [n for n in names if not isinstance(n, str)]
    if wrong:
        raise TypeError(f"unavailable names drugs by key or NCIt code (str), not {wrong[0]!r}")
    return names


def _as_kb(kb: KnowledgeBase | str | os.PathLike[str] | None) -> KnowledgeBase | None:
    if kb is None or isinstance(kb, KnowledgeBase):
        return kb
    return KnowledgeBase(kb)


@contextmanager
def _selected(kb: KnowledgeBase | None) -> Iterator[None]:
    """Read `kb` for the duration of the block (None: the current selection)."""
    if kb is None:
        yield
        return
    from her2kg.resources import select_knowledge_base, selected_knowledge_base

    previous = selected_knowledge_base()
    select_knowledge_base(kb.folder)
    try:
        yield
    finally:
        select_knowledge_base(previous)


__all__: Sequence[str] = ("KnowledgeBase", "Patient", "recommend", "recommend_many", "validate")
