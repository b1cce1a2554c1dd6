"""Realistic synthetic FHIR Bulk Data exports, deterministic by seed, of any size.

    python -m her2kg.bulk.generate OUT_DIR --patients 10000 [--seed 42] [--gzip] [--split 100000]
                                   [--manifest] [--unmatched 0] [--bundles BUNDLE_DIR]

HER2-positive and HER2-negative patients, early and metastatic, with:
- multi-line metastatic histories: each line ends with a progression Observation (the disease
  status code the knowledge base maps to h:DiseaseStatusAssessment, LOINC 97509-4), and the
  current first line is in maintenance (taxane ended, trastuzumab and pertuzumab ongoing);
- recurrences after adjuvant therapy, neoadjuvant therapy with surgery and pathologic response;
- resolved conditions (pneumonitis with clinicalStatus resolved and an abatement date) next to
  current ones; serial LVEF values; staging and receptor observations;
- medication codes at ingredient level and at product level (the RxNorm drug products of the
  knowledge base), inline or through a shared Medication resource (`Medication.ndjson`);
- references written as `Patient/<id>`, `urn:uuid:<id>` or absolute URLs; resource types her2kg
  does not read (Encounter).

Every clinical code comes from the knowledge base (`skos:notation` values of the concepts the
importer maps), never from this file. Patients are written one at a time: memory does not grow
with the size of the export. `--bundles` also writes every patient as one Bundle file (the same
canonical Bundle the Bulk grouping builds), for comparisons with the folder mode.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import IO

from her2kg.bulk.bundle import bundle_text, entry

H = "https://w3id.org/her2kg/"
SERVER = "https://ehr.example.org/fhir"
THERAPY_PHASE_EXTENSION = "https://w3id.org/her2kg/fhir/StructureDefinition/therapy-phase"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
UCUM = "http://unitsofmeasure.org"

Resource = dict[str, object]


# -- codes, read from the knowledge base --------------------------------------------------------
@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}

    def concept(self) -> dict[str, object]:
        return {"coding": [self.coding()]}


@dataclass(frozen=True)
class Codebook:
    """For each her2kg concept (local name), its codes by code-system label; drug products."""

    codes: dict[str, dict[str, tuple[Code, ...]]]
    products: dict[str, tuple[Code, ...]]  # drug key -> RxNorm product codes

    def code(self, concept: str, system: str) -> Code:
        found = self.codes.get(concept, {}).get(system)
        if not found:
            raise LookupError(f"the knowledge base has no {system} code for h:{concept}")
        return found[0]

    def has(self, concept: str, system: str) -> bool:
        return bool(self.codes.get(concept, {}).get(system))

    def drug(self, drug: str) -> Code:
        """The drug's RxNorm ingredient code, or its first product code when it has none."""
        if self.has(drug, "RxNorm"):
            return self.code(drug, "RxNorm")
        if self.products.get(drug):
            return self.products[drug][0]
        raise LookupError(f"the knowledge base has no RxNorm code for h:{drug}")


_CODES_QUERY = """
PREFIX h: <https://w3id.org/her2kg/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?concept ?code ?dt ?system ?label WHERE {
  ?concept skos:notation ?code .
  BIND(DATATYPE(?code) AS ?dt)
  ?dt h:codeSystemUri ?system .
  OPTIONAL { ?concept rdfs:label ?label FILTER(LANGMATCHES(LANG(?label), "en")) }
  FILTER(STRSTARTS(STR(?concept), "https://w3id.org/her2kg/"))
}"""

_PRODUCTS_QUERY = """
PREFIX h: <https://w3id.org/her2kg/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?drug ?code ?system ?label WHERE {
  ?product a h:DrugProduct ; h:hasActiveIngredient ?drug ; skos:notation ?code .
  FILTER(DATATYPE(?code) = h:RxNorm)
  h:RxNorm h:codeSystemUri ?system .
  OPTIONAL { ?product rdfs:label ?label }
  FILTER NOT EXISTS { ?product h:hasActiveIngredient ?other . FILTER(?other != ?drug) }
}"""


@cache
def codebook() -> Codebook:
    """The codes of the packaged knowledge base (read once per process)."""
    from her2kg.knowledge import knowledge_ntriples
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    codes: dict[str, dict[str, list[Code]]] = {}
    for row in store.select(_CODES_QUERY):
        concept = row["concept"][len(H) :]
        system = row["dt"][len(H) :]
        label = row.get("label", concept)
        codes.setdefault(concept, {}).setdefault(system, []).append(Code(row["system"], row["code"], label))
    products: dict[str, list[Code]] = {}
    for row in store.select(_PRODUCTS_QUERY):
        products.setdefault(row["drug"][len(H) :], []).append(Code(row["system"], row["code"], row.get("label", "")))
    return Codebook(
        {c: {s: tuple(sorted(v, key=lambda k: k.code)) for s, v in by.items()} for c, by in codes.items()},
        {d: tuple(sorted(v, key=lambda k: k.code)) for d, v in products.items()},
    )


# -- one patient -------------------------------------------------------------------------------
@dataclass
class PatientRecord:
    """The resources of one patient, and the shared Medications they point to."""

    patient_id: str
    resources: list[Resource] = field(default_factory=list)
    medications: dict[str, Resource] = field(default_factory=dict)
    her2_positive: bool = False
    metastatic_lines: int = -1  # -1: early disease


class _Writer:
    def __init__(self, rng: random.Random, book: Codebook, patient_id: str) -> None:
        self.rng = rng
        self.book = book
        self.record = PatientRecord(patient_id)
        style = rng.random()
        if style < 0.8:
            self.reference = f"Patient/{patient_id}"
        elif style < 0.9:
            self.reference = f"urn:uuid:{patient_id}"
        else:
            self.reference = f"{SERVER}/Patient/{patient_id}"
        self.count = 0

    def add(self, rtype: str, body: Resource) -> Resource:
        self.count += 1
        rid = self.record.patient_id if rtype == "Patient" else f"{self.record.patient_id}-{self.count}"
        resource: Resource = {"resourceType": rtype, "id": rid, **body}
        if rtype != "Patient":
            resource["subject"] = {"reference": self.reference}
        self.record.resources.append(resource)
        return resource

    def observation(self, concept: str, day: date, value: Resource) -> None:
        code = self.book.code(concept, "LOINC")
        self.add("Observation", {"status": "final", "code": code.concept(), "effectiveDateTime": day.isoformat(), **value})

    def coded(self, concept: str, system: str = "SNOMEDCT") -> Resource:
        return {"valueCodeableConcept": self.book.code(concept, system).concept()}

    def condition(self, concept: str, onset: date, *, resolved: date | None = None) -> None:
        body: Resource = {
            "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "resolved" if resolved else "active"}]},
            "code": self.book.code(concept, "SNOMEDCT").concept(),
            "onsetDateTime": onset.isoformat(),
        }
        if resolved:
            body["abatementDateTime"] = resolved.isoformat()
        self.add("Condition", body)

    def therapy(self, drug: str, phase: str, start: date, end: date | None) -> None:
        """A MedicationStatement (or MedicationRequest): ended when `end` is given, else ongoing."""
        rng, book = self.rng, self.book
        products = book.products.get(drug, ())
        if products and (rng.random() < 0.5 or not book.has(drug, "RxNorm")):
            code = rng.choice(products)
        else:
            code = book.drug(drug)
        body: Resource = {}
        if products and code in products and rng.random() < 0.4:
            med_id = f"rxnorm-{code.code}"
            self.record.medications[med_id] = {"resourceType": "Medication", "id": med_id, "code": code.concept()}
            body["medicationReference"] = {"reference": f"Medication/{med_id}"}
        else:
            body["medicationCodeableConcept"] = code.concept()
        period: dict[str, str] = {"start": start.isoformat()}
        if end is not None:
            period["end"] = end.isoformat()
        if rng.random() < 0.3:
            body["extension"] = [{"url": THERAPY_PHASE_EXTENSION, "valueCode": phase}]
        if rng.random() < 0.25:
            status = "completed" if end is not None else "active"
            self.add("MedicationRequest", {"status": status, "intent": "order", **body, "authoredOn": start.isoformat(),
                                           "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": period}}}]})
        else:
            status = rng.choice(["completed", "stopped"]) if end is not None else "active"
            self.add("MedicationStatement", {"status": status, **body, "effectivePeriod": period})

    def progression(self, day: date) -> None:
        self.observation("DiseaseStatusAssessment", day, self.coded("disease-progression"))

    def lvef_series(self, start: date, until: date) -> None:
        value = self.rng.choice([55, 58, 60, 62, 65])
        day = start
        while day <= until:
            self.observation("LVEFMeasurement", day, {"valueQuantity": {"value": value, "unit": "%", "system": UCUM, "code": "%"}})
            value = max(25, min(75, value + self.rng.choice([-8, -3, -1, 0, 0, 1, 2])))
            day += timedelta(days=self.rng.choice([84, 91, 120]))


def _shift(day: date, days: int) -> date:
    return day + timedelta(days=days)


def patient_record(rng: random.Random, patient_id: str, *, as_of: date, book: Codebook | None = None) -> PatientRecord:
    """One patient's resources; the same (rng state, id) gives the same record."""
    w = _Writer(rng, book or codebook(), patient_id)
    record = w.record
    birth = _shift(as_of, -rng.randint(30 * 365, 80 * 365))
    w.add("Patient", {"gender": "female", "birthDate": birth.isoformat(), "name": [{"family": "Synthetic", "given": [patient_id[:8]]}]})
    metastatic = rng.random() < 0.6
    recurrence = metastatic and rng.random() < 0.4
    if not metastatic:
        diagnosis = _shift(as_of, -rng.randint(20, 200))
    elif recurrence:
        diagnosis = _shift(as_of, -rng.randint(4 * 365, 7 * 365))
    else:
        diagnosis = _shift(as_of, -rng.randint(60, 4 * 365))
    w.condition("BreastCancer", diagnosis)
    positive = rng.random() < 0.7
    record.her2_positive = positive
    _receptors(w, diagnosis, positive)
    w.add("Encounter", {"status": "finished", "class": {"code": "AMB"}, "period": {"start": diagnosis.isoformat()}})
    if metastatic:
        _metastatic(w, as_of, diagnosis, recurrence, positive)
    else:
        _early(w, as_of, diagnosis, positive)
    w.lvef_series(_shift(diagnosis, 7), _shift(as_of, -10))
    if rng.random() < 0.1:  # pneumonitis, resolved
        onset = _shift(as_of, -rng.randint(200, 600))
        w.condition("InterstitialLungDisease", onset, resolved=_shift(onset, rng.randint(30, 120)))
    if rng.random() < 0.03:
        w.condition("InterstitialLungDisease", _shift(as_of, -rng.randint(10, 60)))
    if rng.random() < 0.03:
        w.condition("HeartFailure", _shift(as_of, -rng.randint(10, 300)))
    if rng.random() < 0.05:
        drug = rng.choice(["trastuzumab-deruxtecan", "pertuzumab", "tucatinib"])
        code = w.book.code("drugUnavailable", "Her2kgFhirCode")
        w.add("Observation", {"status": "final", "code": code.concept(), "effectiveDateTime": _shift(as_of, -5).isoformat(),
                              "valueCodeableConcept": w.book.drug(drug).concept()})
    if rng.random() < 0.1:
        drugs = rng.choice([["doxorubicin", "cyclophosphamide", "trastuzumab"], ["trastuzumab", "pertuzumab", "docetaxel"],
                            ["trastuzumab-emtansine"], ["trastuzumab-deruxtecan"]])
        start, end = _shift(as_of, 10), _shift(as_of, 90)
        for drug in drugs:
            w.add("MedicationRequest", {"status": "draft", "intent": "proposal", "medicationCodeableConcept": w.book.drug(drug).concept(),
                                        "authoredOn": start.isoformat(),
                                        "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": start.isoformat(), "end": end.isoformat()}}}}]})
    return record


def _receptors(w: _Writer, day: date, positive: bool) -> None:
    rng = w.rng
    if positive:
        if rng.random() < 0.75:
            w.observation("HER2IHCTest", day, {"valueCodeableConcept": {"text": "3+"}})
        else:
            w.observation("HER2IHCTest", day, {"valueCodeableConcept": {"text": "2+"}})
            w.observation("HER2ISHTest", day, {"valueQuantity": {"value": rng.choice([2.3, 2.8, 4.1]), "unit": "{ratio}", "system": UCUM, "code": "{ratio}"}})
    else:
        score = rng.choice(["0", "1+", "2+"])
        w.observation("HER2IHCTest", day, {"valueCodeableConcept": {"text": score}})
        if score == "2+":
            w.observation("HER2ISHTest", day, {"valueQuantity": {"value": rng.choice([1.2, 1.5]), "unit": "{ratio}", "system": UCUM, "code": "{ratio}"}})
    er = rng.choice(["positive", "negative"])
    w.observation("EstrogenReceptorTest", day, w.coded(er))
    w.observation("ProgesteroneReceptorTest", day, w.coded(rng.choice(["positive", "negative"]) if er == "positive" else "negative"))


_LINES_POSITIVE = [
    ["trastuzumab", "pertuzumab", "docetaxel"],
    ["trastuzumab-deruxtecan"],
    ["tucatinib", "trastuzumab", "capecitabine"],
    ["trastuzumab-emtansine"],
]
_LINES_NEGATIVE = [["letrozole"], ["paclitaxel"], ["capecitabine"], ["eribulin"]]
_SITES = ["BoneMetastasis", "LiverMetastasis", "LungMetastasis", "BrainMetastasis"]


def _metastatic(w: _Writer, as_of: date, diagnosis: date, recurrence: bool, positive: bool) -> None:
    rng = w.rng
    if recurrence:
        w.observation("DistantMetastasisCategory", diagnosis, w.coded("m0"))
        surgery = _shift(diagnosis, 30)
        w.add("Procedure", {"status": "completed", "code": w.book.code("BreastCancerSurgery", "SNOMEDCT").concept(), "performedDateTime": surgery.isoformat()})
        adjuvant_end = _shift(surgery, 365)
        if positive:
            w.therapy("trastuzumab", "adjuvant", _shift(surgery, 30), adjuvant_end)
        w.therapy("paclitaxel", "adjuvant", _shift(surgery, 30), _shift(surgery, 120))
        met_date = _shift(adjuvant_end, rng.randint(60, 3 * 365))
        met_date = min(met_date, _shift(as_of, -30))
    else:
        met_date = diagnosis
    w.observation("DistantMetastasisCategory", met_date, w.coded("m1"))
    for site in rng.sample(_SITES, rng.choice([1, 1, 2])):
        w.condition(site, met_date)
    available_days = (as_of - met_date).days
    lines = min(rng.choice([0, 1, 1, 2, 2, 3, 4]), max(0, available_days // 150))
    w.record.metastatic_lines = lines
    regimens = _LINES_POSITIVE if positive else _LINES_NEGATIVE
    start = _shift(met_date, 14)
    span = max(120, (as_of - start).days // max(lines, 1))
    for number in range(lines):
        current = number == lines - 1 and rng.random() < 0.6  # the last line may still be given
        end = None if current else min(_shift(start, span - 20), _shift(as_of, -15))
        for drug in regimens[number]:
            if drug == "docetaxel" and (current or (end is not None and (end - start).days > 140)):
                w.therapy(drug, "metastatic", start, _shift(start, 126))  # six cycles, then maintenance
            else:
                w.therapy(drug, "metastatic", start, end)
        if end is None:
            break
        w.progression(end)
        start = _shift(end, 10)


def _early(w: _Writer, as_of: date, diagnosis: date, positive: bool) -> None:
    rng = w.rng
    w.observation("DistantMetastasisCategory", diagnosis, w.coded("m0"))
    w.observation("TumourSizeMeasurement", diagnosis, {"valueQuantity": {"value": rng.choice([12, 18, 25, 40, 60]), "unit": "mm", "system": UCUM, "code": "mm"}})
    w.observation("RegionalNodesCategory", diagnosis, w.coded(rng.choice(["n0", "n0", "n1", "n2"])))
    stage = rng.choice(["untreated", "neoadjuvant", "surgery"])
    if stage == "neoadjuvant" and (as_of - diagnosis).days > 150 and positive:
        start = _shift(diagnosis, 14)
        for drug in ("trastuzumab", "pertuzumab", "docetaxel", "carboplatin"):
            w.therapy(drug, "neoadjuvant", start, _shift(start, 110))
        surgery = _shift(start, 130)
        w.add("Procedure", {"status": "completed", "code": w.book.code("BreastCancerSurgery", "SNOMEDCT").concept(), "performedDateTime": surgery.isoformat()})
        response = rng.choice(["residual-invasive-disease", "pathologic-complete-response"])
        w.add(
            "Observation",
            {"status": "final", "code": w.book.code("PathologicResponseAssessment", "Her2kgFhirCode").concept(),
             "effectiveDateTime": _shift(surgery, 7).isoformat(), "valueCodeableConcept": w.book.code(response, "Her2kgFhirCode").concept()},
        )
    elif stage == "surgery" and (as_of - diagnosis).days > 30:
        w.add("Procedure", {"status": "completed", "code": w.book.code("BreastCancerSurgery", "SNOMEDCT").concept(), "performedDateTime": _shift(diagnosis, 21).isoformat()})


# -- a whole export ------------------------------------------------------------------------------
def patient_id(rng: random.Random) -> str:
    """A UUID-shaped id (version 4 layout), from the generator's own random numbers."""
    value = rng.getrandbits(128)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{'89ab'[value % 4]}{text[17:20]}-{text[20:32]}"


def records(count: int, seed: int, *, as_of: date) -> Iterator[PatientRecord]:
    rng = random.Random(seed)
    book = codebook()
    for _ in range(count):
        yield patient_record(rng, patient_id(rng), as_of=as_of, book=book)


@dataclass(frozen=True)
class ExportStats:
    patients: int
    resources: dict[str, int]
    files: tuple[str, ...]
    unmatched: int


class _TypedFiles:
    """One NDJSON stream per resource type, split into numbered files after `split` lines."""

    def __init__(self, folder: Path, *, compress: bool, split: int | None) -> None:
        self.folder, self.compress, self.split = folder, compress, split
        self.handles: dict[str, IO[str]] = {}
        self.lines: dict[str, int] = {}
        self.parts: dict[str, int] = {}
        self.names: list[str] = []

    def _name(self, rtype: str, part: int) -> str:
        stem = f"{rtype}.{part:03d}" if self.split else rtype
        return stem + (".ndjson.gz" if self.compress else ".ndjson")

    def write(self, rtype: str, text: str) -> None:
        handle = self.handles.get(rtype)
        if handle is None or (self.split and self.lines[rtype] >= self.split):
            if handle is not None:
                handle.close()
            part = self.parts.get(rtype, -1) + 1
            self.parts[rtype], self.lines[rtype] = part, 0
            name = self._name(rtype, part)
            self.names.append(name)
            path = self.folder / name
            # the file stays open across writes of many records; close() closes every handle
            handle = gzip.open(path, "wt", encoding="utf-8") if self.compress else path.open("w", encoding="utf-8")  # noqa: SIM115
            self.handles[rtype] = handle
        handle.write(text + "\n")
        self.lines[rtype] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _dumps(resource: Resource) -> str:
    return json.dumps(resource, ensure_ascii=False, separators=(",", ":"))


def write_export(
    folder: Path,
    count: int,
    *,
    seed: int = 42,
    as_of: date = date(2026, 11, 1),
    compress: bool = False,
    split: int | None = None,
    manifest: bool = False,
    unmatched: int = 0,
    bundles: Path | None = None,
) -> ExportStats:
    """Write `count` patients as a Bulk export in `folder` (created); see the module doc.

    `unmatched` adds that many resources that belong to no patient (half without a subject, half
    about a patient who is not in the export), for tests of the unmatched listing.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if bundles is not None:
        bundles.mkdir(parents=True, exist_ok=True)
    files = _TypedFiles(folder, compress=compress, split=split)
    per_type: dict[str, int] = {}
    medications: dict[str, Resource] = {}
    try:
        for record in records(count, seed, as_of=as_of):
            for resource in record.resources:
                rtype = str(resource["resourceType"])
                files.write(rtype, _dumps(resource))
                per_type[rtype] = per_type.get(rtype, 0) + 1
            medications.update(record.medications)
            if bundles is not None:
                used = list(record.medications.values())
                entries = [entry(str(r["resourceType"]), str(r["id"]), _dumps(r)) for r in [*record.resources, *used]]
                (bundles / f"{record.patient_id}.json").write_text(bundle_text(entries), encoding="utf-8")
        for med_id in sorted(medications):
            files.write("Medication", _dumps(medications[med_id]))
            per_type["Medication"] = per_type.get("Medication", 0) + 1
        for index in range(unmatched):
            body: Resource = {"resourceType": "Observation", "id": f"unmatched-{index}", "status": "final",
                              "code": {"text": "no patient"}}
            if index % 2:
                body["subject"] = {"reference": f"Patient/not-in-export-{index}"}
            files.write("Observation", _dumps(body))
            per_type["Observation"] = per_type.get("Observation", 0) + 1
    finally:
        files.close()
    if manifest:
        output = [{"type": name.split(".")[0], "url": f"{SERVER}/bulk/files/{name}"} for name in files.names]
        (folder / "manifest.json").write_text(
            json.dumps({"transactionTime": f"{as_of.isoformat()}T00:00:00Z", "request": f"{SERVER}/$export",
                        "requiresAccessToken": True, "output": output, "error": []}, indent=1),
            encoding="utf-8",
        )
    return ExportStats(count, per_type, tuple(files.names), unmatched)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m her2kg.bulk.generate", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, metavar="OUT_DIR")
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-01", help="the date the histories lead up to")
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz files")
    parser.add_argument("--split", type=int, metavar="LINES", help="start a new numbered file after LINES lines")
    parser.add_argument("--manifest", action="store_true", help="write manifest.json as $export does")
    parser.add_argument("--unmatched", type=int, default=0, metavar="N", help="add N resources that belong to no patient")
    parser.add_argument("--bundles", type=Path, metavar="DIR", help="also write one Bundle per patient to DIR")
    args = parser.parse_args(argv)
    stats = write_export(args.out, args.patients, seed=args.seed, as_of=date.fromisoformat(args.as_of), compress=args.gzip,
                         split=args.split, manifest=args.manifest, unmatched=args.unmatched, bundles=args.bundles)
    total = sum(stats.resources.values())
    print(f"{stats.patients} patients, {total} resources in {len(stats.files)} files: "
          + ", ".join(f"{k} {v}" for k, v in sorted(stats.resources.items())), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
