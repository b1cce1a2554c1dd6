"""A FHIR R4 Bundle -> the patient graph in the her2kg vocabulary (`import_bundle`).

Two passes. First every entry goes to the mapper of its resource type (`RESOURCE_MAPPERS`),
which returns facts, notices and ignored entries; an entry that raises becomes an error notice,
never a traceback. Then the bundle-level pass dates the metastatic diagnosis and the first breast
surgery, gives each therapy its phase, checks that the dates the rules need are there, and
writes the triples.

Resources are classified by their codes only (never by meta.profile). Entries about another
subject are left out and listed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from her2kg.fhir import terms
from her2kg.fhir.condition import map_condition
from her2kg.fhir.graph import Triple, clean_text, to_ntriples
from her2kg.fhir.jsonpath import JsonObject, items, obj, text
from her2kg.fhir.mapping import CodeMapping
from her2kg.fhir.medication import map_medication_resource, map_medication_use
from her2kg.fhir.model import (
    DiagnosisEvidence,
    EntryContext,
    EntryResult,
    Exposure,
    Fact,
    FhirImport,
    IgnoredEntry,
    Mapper,
    MetastasisEvidence,
    Node,
    PatientStatement,
    ProposedOrder,
    SurgeryEvidence,
    TypedLiteral,
    entry_field,
    entry_where,
)
from her2kg.fhir.observation import map_observation
from her2kg.fhir.patient import map_patient
from her2kg.fhir.phase import Timeline, infer_phase
from her2kg.fhir.procedure import map_procedure
from her2kg.notices import Notice, Severity
from her2kg.vocabulary import patient_iri

RESOURCE_MAPPERS: Mapping[str, Mapper] = MappingProxyType(
    {
        "Patient": map_patient,
        "Condition": map_condition,
        "Observation": map_observation,
        "Procedure": map_procedure,
        "MedicationRequest": map_medication_use,
        "MedicationAdministration": map_medication_use,
        "MedicationStatement": map_medication_use,
        "Medication": map_medication_resource,
    }
)

BUNDLE_TYPES = frozenset({"collection", "transaction", "searchset", "document"})
# Bundle.meta.tag of a bundle her2kg put together itself (from CDS Hooks prefetch): its entry
# positions mean nothing to the sender, so entries are named only by their own type and id.
ASSEMBLED_TAG = (terms.HER2KG_CODE_SYSTEM, "assembled")
_SUBJECTLESS = frozenset({"Patient", "Medication"})


def import_bundle(bundle: object, *, mapping: CodeMapping, source: str) -> FhirImport:
    """Map a parsed FHIR R4 Bundle (JSON object) to the patient graph.

    Never raises for bad input: problems come back as `errors` (the input is unusable or
    incomplete for a safe answer) and `warnings` (something was left out). `source` names the
    input in messages (a file name).
    """
    try:
        return _import(bundle, mapping, source)
    except Exception as exc:  # the last guard: a report, never a traceback
        notice = Notice(
            severity=Severity.ERROR,
            code="fhir-import-failed",
            message=f"{source}: the bundle could not be imported ({type(exc).__name__}: {exc}); "
            "check that it is a FHIR R4 Bundle, and report the file if it is",
            field="Bundle",
        )
        return FhirImport("", "", "", (), (), (notice,))


class _Entry:
    __slots__ = ("assembled", "full_url", "index", "resource", "resource_id", "resource_type")

    def __init__(self, index: int, resource: JsonObject, full_url: str, assembled: bool = False) -> None:
        self.index = index
        self.assembled = assembled
        self.resource = resource
        self.resource_type = text(resource, "resourceType") or ""
        self.resource_id = clean_text(text(resource, "id") or "")
        self.full_url = full_url

    @property
    def reference(self) -> str:
        return (
            f"{self.resource_type}/{self.resource_id}"
            if self.resource_id
            else (self.resource_type or "(no resourceType)")
        )

    @property
    def field(self) -> str:
        return entry_field(self.index, self.reference, assembled=self.assembled)

    @property
    def where(self) -> str:
        return entry_where(self.index, self.reference, assembled=self.assembled)


def _bundle_error(source: str, code: str, message: str, field: str = "Bundle") -> Notice:
    return Notice(severity=Severity.ERROR, code=code, message=f"{source}: {message}", field=field)


def _import(bundle: object, mapping: CodeMapping, source: str) -> FhirImport:
    if not isinstance(bundle, Mapping):
        kind = type(bundle).__name__ if bundle is not None else "null"
        return _failed(
            _bundle_error(
                source,
                "fhir-not-a-bundle",
                f"the JSON is a {kind}, not a FHIR Bundle object; give a Bundle of type collection",
            )
        )
    resource_type = bundle.get("resourceType")
    if resource_type != "Bundle":
        shown = (
            f"is a {resource_type} resource, not a Bundle"
            if isinstance(resource_type, str) and resource_type
            else "has no resourceType, so it is not a FHIR Bundle"
        )
        return _failed(
            _bundle_error(
                source,
                "fhir-not-a-bundle",
                f"the JSON {shown}; wrap the patient's resources in a Bundle of type collection",
            )
        )

    warnings: list[Notice] = []
    ignored: list[IgnoredEntry] = []
    bundle_type = bundle.get("type")
    if not isinstance(bundle_type, str) or bundle_type not in BUNDLE_TYPES:
        shown = f"'{bundle_type}'" if isinstance(bundle_type, str) else "missing"
        warnings.append(
            Notice(
                severity=Severity.WARNING,
                code="fhir-bundle-type",
                message=f"{source}: Bundle.type is {shown}, not collection, transaction, searchset or document; its entries were read as a collection",
                field="Bundle.type",
            )
        )

    assembled = is_assembled(bundle)
    entries: list[_Entry] = []
    raw_entries = bundle.get("entry")
    if raw_entries is not None and not isinstance(raw_entries, list):
        return _failed(_bundle_error(source, "fhir-not-a-bundle", "Bundle.entry is not an array", "Bundle.entry"))
    for index, raw in enumerate(raw_entries or []):
        resource = obj(raw, "resource")
        if resource is None:
            ignored.append(
                IgnoredEntry(field=entry_field(index, "", assembled=assembled), resource="", reason="the entry has no resource")
            )
            continue
        entries.append(_Entry(index, resource, clean_text(text(raw, "fullUrl") or ""), assembled))

    patients = [e for e in entries if e.resource_type == "Patient"]
    if not patients:
        return _failed(
            _bundle_error(
                source,
                "fhir-no-patient",
                "the bundle has no Patient resource; add the Patient the record is about",
                "Bundle.entry",
            ),
            warnings=warnings,
            ignored=ignored,
        )
    if len(patients) > 1:
        fields = ", ".join(f"Bundle.entry[{p.index}]" for p in patients)
        first_id = patients[0].resource_id
        return _failed(
            _bundle_error(
                source,
                "fhir-several-patients",
                f"the bundle has {len(patients)} Patient resources ({fields}); give one patient per bundle",
                f"Bundle.entry[{patients[1].index}]",
            ),
            warnings=warnings,
            ignored=ignored,
            patient_id=first_id,
        )
    patient = patients[0]
    patient_id = patient.resource_id or _id_from_url(patient.full_url)
    if not patient_id:
        return _failed(
            _bundle_error(
                source, "fhir-patient-id", "the Patient has no id; give Patient.id", f"Bundle.entry[{patient.index}]"
            ),
            warnings=warnings,
            ignored=ignored,
        )
    if not patient.resource_id:
        patient.resource_id = patient_id
        warnings.append(
            Notice(
                severity=Severity.WARNING,
                code="fhir-patient-id",
                message=f"Bundle.entry[{patient.index}] (Patient): the Patient has no id; '{patient_id}' was taken from its fullUrl",
                field=f"Bundle.entry[{patient.index}]",
            )
        )
    subject_iri = patient_iri(patient_id)
    own_references = _patient_references(patient, patient_id)
    medications = _medication_index(entries)

    results: list[tuple[int, EntryResult]] = []
    for entry in entries:
        results.append((entry.index, _map_entry(entry, subject_iri, patient_id, own_references, mapping, medications)))

    order = {e.field: e.index for e in entries}
    return _assemble(patient_id, subject_iri, results, warnings, ignored, _Order(order, {e.where for e in entries}))


def is_assembled(bundle: Mapping[str, object]) -> bool:
    """True for a bundle her2kg put together (tagged with ASSEMBLED_TAG)."""
    tags = items(obj(bundle, "meta"), "tag")
    return any((text(t, "system"), text(t, "code")) == ASSEMBLED_TAG for t in tags)


class _Order:
    """Where each entry sits, to list notices in bundle order, and how messages name entries."""

    __slots__ = ("index", "wheres")

    def __init__(self, index: Mapping[str, int], wheres: set[str]) -> None:
        self.index = index
        self.wheres = wheres

    def of(self, field: str) -> int:
        if field in self.index:
            return self.index[field]
        return _entry_index(field)


def _failed(
    error: Notice,
    *,
    warnings: list[Notice] | None = None,
    ignored: list[IgnoredEntry] | None = None,
    patient_id: str = "",
) -> FhirImport:
    return FhirImport(
        patient_id=patient_id,
        patient_iri=patient_iri(patient_id) if patient_id else "",
        ntriples="",
        ignored=tuple(_clean_ignored(i) for i in ignored or ()),
        warnings=tuple(_dedupe(list(warnings or ()))),
        errors=tuple(_dedupe([error])),
    )


def _id_from_url(full_url: str) -> str:
    if not full_url:
        return ""
    tail = full_url[len("urn:uuid:") :] if full_url.startswith("urn:uuid:") else full_url.rstrip("/").rsplit("/", 1)[-1]
    return tail if re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", tail) else ""


def _patient_references(patient: _Entry, patient_id: str) -> frozenset[str]:
    """The references that point to the bundle's Patient."""
    references = {f"Patient/{patient_id}", f"urn:uuid:{patient_id}"}
    if patient.full_url:
        references.add(patient.full_url)
    return frozenset(references)


def _refers_to_patient(reference: str, own: frozenset[str], patient_id: str) -> bool:
    if reference in own:
        return True
    # an absolute URL of the same Patient: http://server/fhir/Patient/<id> (optionally /_history/n)
    trimmed = re.sub(r"/_history/[^/]+$", "", reference)
    return trimmed.endswith(f"/Patient/{patient_id}")


def _medication_index(entries: list[_Entry]) -> Mapping[str, JsonObject]:
    index: dict[str, JsonObject] = {}
    for entry in entries:
        if entry.resource_type != "Medication":
            continue
        if entry.resource_id:
            index[f"Medication/{entry.resource_id}"] = entry.resource
        if entry.full_url:
            index[entry.full_url] = entry.resource
    return MappingProxyType(index)


def _map_entry(
    entry: _Entry,
    subject_iri: str,
    patient_id: str,
    own_references: frozenset[str],
    mapping: CodeMapping,
    medications: Mapping[str, JsonObject],
) -> EntryResult:
    mapper = RESOURCE_MAPPERS.get(entry.resource_type)
    if mapper is None:
        reason = (
            f"resource type {entry.resource_type} is not used by her2kg"
            if entry.resource_type
            else "the resource has no resourceType"
        )
        field = "" if entry.assembled else entry.field
        return EntryResult(ignored=(IgnoredEntry(field=field, resource=entry.reference, reason=reason),))
    ctx = EntryContext(
        index=entry.index,
        resource=entry.resource,
        resource_type=entry.resource_type,
        resource_id=entry.resource_id,
        patient_iri=subject_iri,
        mapping=mapping,
        medications=medications,
        assembled=entry.assembled,
    )
    if entry.resource_type not in _SUBJECTLESS:
        subject = obj(entry.resource, "subject") or obj(entry.resource, "patient")
        reference = text(subject, "reference")
        if reference is not None and not _refers_to_patient(reference, own_references, patient_id):
            shown = clean_text(reference[:120])
            return EntryResult(
                warnings=(
                    ctx.warning(
                        "fhir-other-patient", f"the entry is about {shown}, not the bundle's Patient; it was left out"
                    ),
                ),
                ignored=(ctx.ignore(f"about another subject ({shown})"),),
            )
    try:
        return mapper(ctx)
    except Exception as exc:  # one unreadable entry must not stop the others
        reason = clean_text(str(exc))[:200] or type(exc).__name__
        notice = Notice(
            severity=Severity.ERROR,
            code="fhir-unreadable-entry",
            message=f"could not read {entry.where}: {reason}",
            field=entry.field,
        )
        return EntryResult(errors=(notice,), ignored=(ctx.ignore(f"could not be read: {reason}"),))


def _assemble(
    patient_id: str,
    subject_iri: str,
    results: list[tuple[int, EntryResult]],
    warnings: list[Notice],
    ignored: list[IgnoredEntry],
    order: _Order,
) -> FhirImport:
    errors: list[Notice] = []
    facts: list[Fact] = []
    for _, result in results:
        facts.extend(result.facts)
        warnings.extend(result.warnings)
        errors.extend(result.errors)
        ignored.extend(result.ignored)

    evidence = [f for f in facts if isinstance(f, MetastasisEvidence)]
    dated = [e.day for e in evidence if e.day is not None]
    surgeries = [f.day for f in facts if isinstance(f, SurgeryEvidence) and f.day is not None]
    diagnoses = [f.day for f in facts if isinstance(f, DiagnosisEvidence)]
    timeline = Timeline(
        metastatic_since=min(dated) if dated else None,
        metastatic_undated=bool(evidence) and not dated,
        first_surgery=min(surgeries) if surgeries else None,
        diagnosed_since=min(diagnoses) if diagnoses else None,
    )
    exposures = [f for f in facts if isinstance(f, Exposure)]
    identified = any(e.drug is not None for e in exposures)
    for item in evidence:
        if item.day is not None:
            continue
        if identified and not dated:
            errors.append(
                Notice(
                    severity=Severity.ERROR,
                    code="fhir-missing-date",
                    message=f"{item.reference}: distant metastasis without a date ({item.date_problem}); "
                    "the record has therapy, whose phase and line depend on the date of metastatic diagnosis — add the date",
                    field=item.field,
                )
            )
        else:
            warnings.append(
                Notice(
                    severity=Severity.WARNING,
                    code="fhir-missing-date",
                    message=f"{item.reference}: distant metastasis without a date ({item.date_problem})",
                    field=item.field,
                )
            )

    triples: list[Triple] = []
    for fact in facts:
        if isinstance(fact, Node):
            triples.extend(_node_triples(subject_iri, fact))
        elif isinstance(fact, PatientStatement):
            triples.append((subject_iri, fact.predicate, fact.object))
    for exposure in exposures:
        phase = exposure.phase or infer_phase(exposure.start, exposure.end, timeline)
        if phase is None:
            phase = terms.UNKNOWN_PHASE
        if phase == terms.UNKNOWN_PHASE and exposure.drug is not None and exposure.phase is None:
            warnings.append(
                Notice(
                    severity=Severity.WARNING,
                    code="fhir-unknown-phase",
                    message=f"{exposure.reference}: the phase of the therapy is not stated and the dates "
                    "do not settle it (neoadjuvant, adjuvant or metastatic); add the her2kg therapy-phase extension",
                    field=exposure.field,
                )
            )
        triples.extend(_exposure_triples(subject_iri, exposure, phase))
    orders = [f for f in facts if isinstance(f, ProposedOrder)]
    if orders:
        triples.extend(_plan_triples(subject_iri, orders))

    return FhirImport(
        patient_id=patient_id,
        patient_iri=subject_iri,
        ntriples=to_ntriples(triples),
        ignored=tuple(_clean_ignored(i) for i in sorted(ignored, key=lambda i: order.of(i.field or i.resource))),
        warnings=tuple(_grouped(_dedupe(sorted(warnings, key=lambda n: order.of(n.field))), order.wheres)),
        errors=tuple(_dedupe(sorted(errors, key=lambda n: order.of(n.field)))),
    )


def _grouped(notices: list[Notice], wheres: set[str]) -> list[Notice]:
    """Warnings that say the same thing about several entries become one warning naming them all."""
    groups: dict[tuple[str, str], list[tuple[Notice, str]]] = defaultdict(list)
    order: list[tuple[str, str]] = []
    for notice in notices:
        head, sep, rest = notice.message.partition(": ")
        where = head if sep and head in wheres else ""
        key = (notice.code, rest if where else notice.message + f"\x00{id(notice)}")
        if key not in groups:
            order.append(key)
        groups[key].append((notice, where))
    out: list[Notice] = []
    for key in order:
        members = groups[key]
        first = members[0][0]
        if len(members) == 1:
            out.append(first)
            continue
        named = [where for _, where in members]
        shown = ", ".join(named[:6]) + (", ..." if len(named) > 6 else "")
        out.append(replace(first, message=f"{len(named)} entries ({shown}): {key[1]}"))
    return out


def _entry_index(field: str) -> int:
    match = re.match(r"Bundle\.entry\[(\d+)\]", field)
    return int(match[1]) if match else -1


def _dedupe(notices: list[Notice]) -> list[Notice]:
    """The notices without repeats, their text made printable (record text may hold lone surrogates)."""
    seen: set[Notice] = set()
    out: list[Notice] = []
    for notice in notices:
        clean = replace(notice, message=clean_text(notice.message), field=clean_text(notice.field))
        if clean not in seen:
            seen.add(clean)
            out.append(clean)
    return out


def _clean_ignored(item: IgnoredEntry) -> IgnoredEntry:
    return replace(item, resource=clean_text(item.resource), reason=clean_text(item.reason))


def _node_triples(subject_iri: str, node: Node) -> list[Triple]:
    triples: list[Triple] = []
    if node.link:
        triples.append((subject_iri, node.link, node.iri))
    triples.extend((node.iri, terms.RDF_TYPE, t) for t in node.types)
    triples.extend((node.iri, p, o) for p, o in node.statements)
    return triples


def _exposure_triples(subject_iri: str, exposure: Exposure, phase: str) -> list[Triple]:
    iri = exposure.iri
    triples: list[Triple] = [
        (subject_iri, terms.HAS_THERAPY, iri),
        (iri, terms.RDF_TYPE, terms.THERAPY_EXPOSURE),
        (iri, terms.EXPOSURE_STATUS, exposure.status),
        (iri, terms.THERAPY_PHASE_PROP, phase),
        (iri, terms.SOURCE_REFERENCE, TypedLiteral(exposure.reference, terms.XSD_STRING)),
    ]
    if exposure.drug is not None:
        triples.append((iri, terms.DRUG_PROP, exposure.drug))
    else:
        triples.append((iri, terms.RDF_TYPE, terms.UNIDENTIFIED_THERAPY_EXPOSURE))
        triples.append((iri, terms.RECORDED_TEXT, TypedLiteral(exposure.recorded_text, terms.XSD_STRING)))
    if exposure.end_reason is not None:
        triples.append((iri, terms.END_REASON, exposure.end_reason))
    if exposure.start is not None:
        triples.append((iri, terms.START_DATE, TypedLiteral(exposure.start.isoformat(), terms.XSD_DATE)))
    if exposure.end is not None:
        triples.append((iri, terms.END_DATE, TypedLiteral(exposure.end.isoformat(), terms.XSD_DATE)))
    return triples


def _plan_triples(subject_iri: str, orders: list[ProposedOrder]) -> list[Triple]:
    plan = f"{subject_iri}/plan/1"
    triples: list[Triple] = [(subject_iri, terms.HAS_PROPOSED_PLAN, plan), (plan, terms.RDF_TYPE, terms.PROPOSED_PLAN)]
    for order in orders:
        iri = f"{plan}/{order.iri_suffix}"
        triples.extend(
            [
                (plan, terms.HAS_ORDER, iri),
                (iri, terms.RDF_TYPE, terms.PROPOSED_ORDER),
                (iri, terms.DRUG_PROP, order.drug),
                (iri, terms.SOURCE_REFERENCE, TypedLiteral(order.reference, terms.XSD_STRING)),
            ]
        )
        if order.start is not None:
            triples.append((iri, terms.START_DATE, TypedLiteral(order.start.isoformat(), terms.XSD_DATE)))
        if order.end is not None:
            triples.append((iri, terms.END_DATE, TypedLiteral(order.end.isoformat(), terms.XSD_DATE)))
        if order.route:
            triples.append((iri, terms.ORDER_ROUTE, order.route))
        if order.product:
            triples.append((iri, terms.ORDER_PRODUCT, order.product))
    return triples
