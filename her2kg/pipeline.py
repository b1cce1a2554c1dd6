"""The reasoning pipeline: patient inputs -> one store -> rules -> one report per patient.

All patients of a call are reasoned over together (set-at-a-time): the knowledge base and
every patient are loaded into one store, each rule runs once over all of them, and the
report queries read every patient's conclusions at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from her2kg.engine import run_rules
from her2kg.errors import UsageError
from her2kg.knowledge import KNOWLEDGE_INFO_QUERY, knowledge_info_from_rows, prepared_knowledge_ntriples
from her2kg.notices import Notice, Severity
from her2kg.patient_source import InputKind, Patient, Unreadable, read_patient
from her2kg.patients import PatientInput, evaluation_triples
from her2kg.report.extract import ReportBuilder, read_knowledge_index
from her2kg.report.model import Report
from her2kg.resources import knowledge_base_identity
from her2kg.rules import Rule, RuleScope, load_rules
from her2kg.stores.base import TripleStore
from her2kg.vocabulary import BASE


def recommend_files(
    paths: Sequence[str],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Read patient files (Turtle `.ttl` or FHIR R4 bundle `.json`) and reason over all at once.

    Returns the reports in input order (a file with several patients gives several reports).
    A file that cannot be read, or of an unknown type, yields a report with an error.
    """
    inputs: list[PatientInput | Unreadable] = []
    for path in paths:
        try:
            patient = Patient.from_path(path)
        except ValueError as exc:
            inputs.append(Unreadable(path, Notice(Severity.ERROR, "unreadable-input", str(exc).removeprefix(f"{path}: "), "file")))
            continue
        inputs.append(read_patient(patient))
    return reason(inputs, as_of=as_of, unavailable=unavailable, store=store)


def recommend_texts(
    documents: Sequence[tuple[str, str, str]],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Like `recommend_files` for in-memory documents: (name, kind, text) with kind an `InputKind`.

    An unknown kind is the caller's mistake and raises ValueError.
    """
    patients = [Patient(kind=_kind(kind), name=name, text=text) for name, kind, text in documents]
    return reason([read_patient(p) for p in patients], as_of=as_of, unavailable=unavailable, store=store)


def _kind(kind: str) -> InputKind:
    try:
        return InputKind(kind)
    except ValueError:
        raise ValueError(f"unknown input kind {kind!r}: use one of {', '.join(InputKind)}") from None


class UnknownDrugError(UsageError, ValueError):
    """A drug named as unavailable is not a drug of the knowledge base."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        super().__init__(f"unknown drug {name!r}; use a drug key ({', '.join(known)}) or an NCIt code")
        self.name = name


def resolve_drugs(names: Sequence[str], store: TripleStore) -> list[str]:
    """Map drug keys (`trastuzumab-deruxtecan`) or NCIt codes (`C128799`) to drug IRIs."""
    if not names:
        return []
    rows = store.select(
        """PREFIX h: <https://w3id.org/her2kg/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?drug ?code WHERE { ?drug a ?class . ?class rdfs:subClassOf* h:Drug . OPTIONAL { ?drug skos:notation ?code . FILTER(DATATYPE(?code) = h:NCIt) } }"""
    )
    by_name: dict[str, str] = {}
    for row in rows:
        by_name[row["drug"][len(BASE) :].lower()] = row["drug"]
        if "code" in row:
            by_name[row["code"].lower()] = row["drug"]
    resolved = []
    for name in names:
        iri = by_name.get(name.strip().lower().removeprefix("h:"))
        if iri is None:
            raise UnknownDrugError(name, sorted(k for k in by_name if not k[1:].isdigit()))
        resolved.append(iri)
    return resolved


def reason(
    inputs: Sequence[PatientInput | Unreadable],
    *,
    as_of: date,
    unavailable: Sequence[str],
    store: TripleStore | None,
    rules: Sequence[Rule] | None = None,
) -> list[Report]:
    if store is None:
        from her2kg.stores.embedded import EmbeddedStore

        store = EmbeddedStore(input_checked=True)  # only her2kg's own N-Triples are loaded below
    store.load_ntriples(prepared_knowledge_ntriples())
    kb_info = knowledge_info_from_rows(store.select(KNOWLEDGE_INFO_QUERY))
    identity = knowledge_base_identity()
    kb_ref = kb_info.with_identity(identity.folder, identity.digest)
    unavailable_iris = resolve_drugs(unavailable, store)
    as_of_text = as_of.isoformat()

    # A patient claimed by more than one input is reasoned for none of them: no input can add
    # facts to another input's patient, whichever comes first.
    claims: dict[str, list[str]] = {}
    for item in inputs:
        if isinstance(item, PatientInput) and item.readable:
            for iri in item.patient_iris:
                claims.setdefault(iri, []).append(item.source)
    duplicates: dict[int, Notice] = {}
    patient_data: list[str] = []
    iris: list[str] = []
    for index, item in enumerate(inputs):
        if isinstance(item, Unreadable) or not item.readable:
            continue
        clash = [iri for iri in item.patient_iris if len(claims[iri]) > 1]
        if clash:
            others = [source for source in claims[clash[0]] if source != item.source] or [item.source]
            duplicates[index] = Notice(
                Severity.ERROR,
                "duplicate-patient",
                f"patient {clash[0]} also appears in {others[0]}; give each patient once per run",
                "patient",
            )
            continue
        patient_data.append(item.ntriples)
        iris.extend(item.patient_iris)
    if iris:
        patient_data.append(evaluation_triples(iris, as_of_text, unavailable_iris))
        store.load_ntriples("".join(patient_data))
    rule_set = tuple(rules) if rules is not None else load_rules()
    run_rules(store, [r for r in rule_set if r.scope is RuleScope.PATIENT])

    builder = ReportBuilder(store, {r.id: r for r in rule_set}, read_knowledge_index(store), kb_ref)
    reports: list[Report] = []
    for index, item in enumerate(inputs):
        if isinstance(item, Unreadable):
            reports.append(Report.build(patient="", knowledge_base=kb_ref, as_of=as_of_text, source=item.source, errors=(item.notice,)))
            continue
        if not item.readable or index in duplicates:
            errors = tuple(n for n in item.notices if n.severity is Severity.ERROR) or (duplicates[index],)
            warnings = tuple(n for n in item.notices if n.severity is Severity.WARNING)
            if index in duplicates and duplicates[index] not in errors:
                errors = (*errors, duplicates[index])
            reports.append(
                Report.build(patient=",".join(item.patient_ids), knowledge_base=kb_ref, as_of=as_of_text, source=item.source, warnings=warnings, errors=errors)
            )
            continue
        for iri in item.patient_iris:
            reports.append(builder.build(iri, source=item.source, as_of=as_of_text, extra=item.notices))
    return reports
