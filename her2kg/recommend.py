"""The reasoning pipeline: patient inputs -> one store -> rules -> one report per patient.

All patients of a call are reasoned over together (set-at-a-time): the knowledge base and
every patient are loaded into one store, each rule runs once over all of them, and the
report queries read every patient's conclusions at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from her2kg.engine import run_rules
from her2kg.errors import InputError, UsageError
from her2kg.knowledge import KNOWLEDGE_INFO_QUERY, knowledge_info_from_rows, prepared_knowledge_ntriples
from her2kg.notices import Notice
from her2kg.patients import PatientInput, evaluation_triples, read_patient_document, read_patient_file
from her2kg.report.extract import ReportBuilder, read_knowledge_index
from her2kg.report.model import KnowledgeBaseRef, Report
from her2kg.resources import knowledge_base_identity
from her2kg.rules import Rule, load_rules
from her2kg.stores.base import TripleStore
from her2kg.vocabulary import BASE


@dataclass(frozen=True)
class _Unreadable:
    source: str
    notice: Notice


def recommend_files(
    paths: Sequence[str],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Read patient files (Turtle `.ttl` or FHIR R4 bundle `.json`) and reason over all at once.

    Returns the reports in input order (a file with several patients gives several reports).
    A file that cannot be read yields a report with an error rather than an exception.
    """
    inputs: list[PatientInput | _Unreadable] = []
    for path in paths:
        try:
            inputs.append(read_patient_file(path))
        except InputError as exc:
            inputs.append(_Unreadable(path, Notice("error", "unreadable-input", exc.message, "file")))
        except Exception as exc:  # never let one input crash the run: report it as unreadable
            inputs.append(_Unreadable(path, Notice("error", "unreadable-input", f"could not read the input: {exc}", "file")))
    return _reason(inputs, as_of=as_of, unavailable=unavailable, store=store)


def recommend_texts(
    documents: Sequence[tuple[str, str, str]],
    *,
    as_of: date,
    unavailable: Sequence[str] = (),
    store: TripleStore | None = None,
) -> list[Report]:
    """Like `recommend_files` for in-memory documents: (name, kind 'fhir-json'|'turtle', text)."""
    inputs: list[PatientInput | _Unreadable] = []
    for name, kind, text in documents:
        try:
            inputs.append(read_patient_document(name, kind, text.encode("utf-8")))
        except InputError as exc:
            inputs.append(_Unreadable(name, Notice("error", "unreadable-input", exc.message, "body")))
        except Exception as exc:  # never let one input crash the run: report it as unreadable
            inputs.append(_Unreadable(name, Notice("error", "unreadable-input", f"could not read the input: {exc}", "body")))
    return _reason(inputs, as_of=as_of, unavailable=unavailable, store=store)


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
            known = ", ".join(sorted(k for k in by_name if not k[1:].isdigit()))
            raise UsageError(f"unknown drug {name!r} for --unavailable; use a drug key ({known}) or an NCIt code")
        resolved.append(iri)
    return resolved


def _reason(
    inputs: Sequence[PatientInput | _Unreadable],
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
    kb_ref = KnowledgeBaseRef(version=kb_info.version, iri=kb_info.iri, folder=identity.folder, digest=identity.digest)
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
        if isinstance(item, _Unreadable) or not item.readable:
            continue
        clash = [iri for iri in item.patient_iris if len(claims[iri]) > 1]
        if clash:
            others = [source for source in claims[clash[0]] if source != item.source] or [item.source]
            duplicates[index] = Notice(
                "error",
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
    run_rules(store, [r for r in rule_set if r.scope == "patient"])

    builder = ReportBuilder(store, {r.id: r for r in rule_set}, read_knowledge_index(store), kb_ref)
    reports: list[Report] = []
    for index, item in enumerate(inputs):
        if isinstance(item, _Unreadable):
            reports.append(Report.build(patient="", knowledge_base=kb_ref, as_of=as_of_text, source=item.source, errors=(item.notice,)))
            continue
        if not item.readable or index in duplicates:
            errors = tuple(n for n in item.notices if n.severity == "error") or (duplicates[index],)
            warnings = tuple(n for n in item.notices if n.severity == "warning")
            if index in duplicates and duplicates[index] not in errors:
                errors = (*errors, duplicates[index])
            reports.append(
                Report.build(patient=",".join(item.patient_ids), knowledge_base=kb_ref, as_of=as_of_text, source=item.source, warnings=warnings, errors=errors)
            )
            continue
        for iri in item.patient_iris:
            reports.append(builder.build(iri, source=item.source, as_of=as_of_text, extra=item.notices))
    return reports
