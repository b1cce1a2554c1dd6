"""Build patients in the her2kg vocabulary from code: for tests, property checks and benchmarks.

>>> from synthetic import PatientBuilder
>>> turtle = PatientBuilder("demo").ihc("ihc-3plus").metastatic("2026-01-10").to_turtle()
>>> "h:HER2IHCTest" in turtle
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from her2kg.vocabulary import patient_iri

_PREFIXES = "@prefix h: <https://w3id.org/her2kg/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"


def _date(value: str) -> str:
    return f'"{value}"^^xsd:date'


@dataclass
class PatientBuilder:
    """Accumulates the facts of one patient and writes them as Turtle or N-Triples-ready Turtle."""

    patient_id: str
    _nodes: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (link, node, predicate-object lines)
    _links: list[str] = field(default_factory=list)
    facts: list[tuple[object, ...]] = field(default_factory=list)  # what was added, as plain tuples

    @property
    def iri(self) -> str:
        return patient_iri(self.patient_id)

    def _add(self, link: str, kind: str, cls: str, lines: list[str]) -> PatientBuilder:
        n = sum(1 for _, node, _ in self._nodes if node.startswith(f"<{self.iri}/{kind}/")) + 1
        node = f"<{self.iri}/{kind}/{n}>"
        self._nodes.append((link, node, [f"a h:{cls}", *lines]))
        return self

    # -- observations ---------------------------------------------------------------------------
    def observation(self, cls: str, *, result: str | None = None, date: str = "2026-01-01", **values: float | str) -> PatientBuilder:
        self.facts.append(("observation", cls, result, date, tuple(sorted(values.items()))))
        lines = [f"h:effectiveDate {_date(date)}"]
        if result:
            lines.append(f"h:result h:{result}")
        for key, value in values.items():
            lines.append(f'h:{key} "{value}"' if isinstance(value, str) else f"h:{key} {float(value)!r}")
        return self._add("h:hasObservation", "observation", cls, lines)

    def ihc(self, score: str, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("HER2IHCTest", result=score, date=date)

    def ish(self, *, ratio: float | None = None, copies: float | None = None, comparator: str | None = None,
            result: str | None = None, date: str = "2026-01-01") -> PatientBuilder:
        values: dict[str, float | str] = {}
        if ratio is not None:
            values["ishRatio"] = ratio
        if copies is not None:
            values["her2CopyNumber"] = copies
        if comparator is not None:
            values["ratioComparator"] = comparator
        return self.observation("HER2ISHTest", result=result, date=date, **values)

    def her2_interpretation(self, result: str, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("HER2StatusInterpretation", result=result, date=date)

    def er(self, result: str) -> PatientBuilder:
        return self.observation("EstrogenReceptorTest", result=result)

    def pr(self, result: str) -> PatientBuilder:
        return self.observation("ProgesteroneReceptorTest", result=result)

    def lvef(self, percent: float, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("LVEFMeasurement", date=date, percentValue=percent)

    def tumour_size(self, millimetres: float, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("TumourSizeMeasurement", date=date, sizeMillimetres=millimetres)

    def t_category(self, value: str) -> PatientBuilder:
        return self.observation("PrimaryTumourCategory", result=value)

    def n_category(self, value: str) -> PatientBuilder:
        return self.observation("RegionalNodesCategory", result=value)

    def m_category(self, value: str, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("DistantMetastasisCategory", result=value, date=date)

    def stage(self, value: str, date: str = "2026-01-01") -> PatientBuilder:
        return self.observation("StageGroupObservation", result=value, date=date)

    def progression(self, date: str) -> PatientBuilder:
        return self.observation("DiseaseStatusAssessment", result="disease-progression", date=date)

    def pathologic_response(self, value: str, date: str = "2026-06-10") -> PatientBuilder:
        return self.observation("PathologicResponseAssessment", result=value, date=date)

    def burden(self, value: str) -> PatientBuilder:
        return self.observation("DiseaseBurdenAssessment", result=value)

    # -- conditions, procedures, therapy -------------------------------------------------------
    def condition(self, cls: str, onset: str | None = "2026-01-01", *, status: str | None = None, abated: str | None = None) -> PatientBuilder:
        """A condition; `status` is a clinical status key (`resolved`, `remission`, ...), absent = active."""
        self.facts.append(("condition", cls, onset, status, abated))
        lines = [f"h:onsetDate {_date(onset)}"] if onset else []
        if status:
            lines.append(f"h:clinicalStatus h:condition-{status}")
        if abated:
            lines.append(f"h:abatementDate {_date(abated)}")
        return self._add("h:hasCondition", "condition", cls, lines)

    def metastatic(self, date: str = "2026-01-01", site: str = "BoneMetastasis") -> PatientBuilder:
        return self.m_category("m1", date=date).condition(site, onset=date)

    def non_metastatic(self, date: str = "2026-01-01") -> PatientBuilder:
        return self.m_category("m0", date=date)

    def surgery(self, date: str) -> PatientBuilder:
        self.facts.append(("surgery", date))
        return self._add("h:hasProcedure", "procedure", "BreastCancerSurgery", [f"h:performedDate {_date(date)}"])

    def therapy(
        self, drug: str, phase: str, start: str | None, end: str | None = None, *, ongoing: bool = False, ended_by: str | None = None
    ) -> PatientBuilder:
        """A therapy exposure; `ended_by` is `completion`, `progression` or `toxicity` (absent = unknown)."""
        self.facts.append(("therapy", drug, phase, start, end, ongoing, ended_by))
        lines = [f"h:drug h:{drug}", f"h:therapyPhase h:{phase}-phase"]
        if ended_by:
            lines.append(f"h:endReason h:ended-by-{ended_by}")
        if start:
            lines.append(f"h:startDate {_date(start)}")
        if end:
            lines.append(f"h:endDate {_date(end)}")
        lines.append("h:exposureStatus h:ongoing-status" if ongoing else "h:exposureStatus h:ended-status")
        return self._add("h:hasTherapy", "therapy", "TherapyExposure", lines)

    def unidentified_therapy(self, text: str, phase: str, start: str, end: str | None = None) -> PatientBuilder:
        """A therapy exposure whose drug the record does not identify."""
        self.facts.append(("unidentified", text, phase, start, end))
        lines = [f'h:recordedText "{text}"', f"h:therapyPhase h:{phase}-phase", f"h:startDate {_date(start)}"]
        if end:
            lines.append(f"h:endDate {_date(end)}")
        return self._add("h:hasTherapy", "therapy", "UnidentifiedTherapyExposure", lines)

    def unavailable(self, drug: str) -> PatientBuilder:
        self.facts.append(("unavailable", drug))
        self._links.append(f"h:drugUnavailable h:{drug}")
        return self

    def plan(self, orders: list[tuple[str, str | None, str | None]] | list[tuple[str, str | None, str | None, str]]) -> PatientBuilder:
        """A proposed plan: (drug, start, end) orders, or (drug, start, end, route) with a route key (`subcutaneous`)."""
        self.facts.append(("plan", tuple(orders)))
        plan_node = f"<{self.iri}/plan/1>"
        order_nodes = []
        for i, order in enumerate(orders, 1):
            drug, start, end = order[0], order[1], order[2]
            lines = [f"h:drug h:{drug}"]
            if len(order) > 3:
                lines.append(f"h:orderRoute h:route-{order[3]}")
            if start:
                lines.append(f"h:startDate {_date(start)}")
            if end:
                lines.append(f"h:endDate {_date(end)}")
            order_nodes.append((f"<{self.iri}/plan/1/order/{i}>", ["a h:ProposedOrder", *lines]))
        self._nodes.append(("h:hasProposedPlan", plan_node, ["a h:ProposedPlan", *[f"h:hasOrder {o}" for o, _ in order_nodes]]))
        for node, lines in order_nodes:
            self._nodes.append(("", node, lines))
        return self

    # -- output ----------------------------------------------------------------------------------
    def body(self) -> str:
        head = [f"<{self.iri}> a h:Patient", f'h:patientId "{self.patient_id}"', *self._links]
        head += [f"{link} {node}" for link, node, _ in self._nodes if link]
        blocks = [" ;\n    ".join(head) + " ."]
        for _, node, lines in self._nodes:
            blocks.append(f"{node} " + " ;\n    ".join(lines) + " .")
        return "\n".join(blocks) + "\n"

    def to_turtle(self) -> str:
        return _PREFIXES + self.body()


def turtle_document(builders: list[PatientBuilder]) -> str:
    """One Turtle document holding several patients."""
    return _PREFIXES + "".join(b.body() for b in builders)


# -- standard patients ------------------------------------------------------------------------------
def metastatic_first_line(patient_id: str = "met-1l") -> PatientBuilder:
    return PatientBuilder(patient_id).ihc("ihc-3plus").er("negative").pr("negative").metastatic("2026-09-01").lvef(60, "2026-09-10")


def early_untreated(patient_id: str = "early") -> PatientBuilder:
    return (
        PatientBuilder(patient_id).ihc("ihc-3plus").er("negative").pr("negative").non_metastatic("2026-09-01")
        .tumour_size(30).n_category("n0").lvef(62, "2026-09-10")
    )


def random_patient(rng: random.Random, patient_id: str) -> PatientBuilder:
    """A random but well-formed patient covering the features the rules read."""
    b = PatientBuilder(patient_id)
    her2 = rng.choice(["ihc-3plus", "ihc-3plus", "ihc-3plus", "ihc-2plus", "ihc-1plus", "ihc-0", "ish-pos", "ish-neg", "none"])
    if her2.startswith("ihc"):
        b.ihc(her2)
        if her2 == "ihc-2plus" and rng.random() < 0.6:
            b.ish(ratio=rng.choice([1.4, 2.4, 3.1]), copies=rng.choice([None, 3.0, 4.5, 6.5]))
    elif her2 == "ish-pos":
        b.ihc("ihc-2plus").ish(result="positive")
    elif her2 == "ish-neg":
        b.ihc("ihc-2plus").ish(result="negative")
    hr = rng.choice(["pos", "neg", "mixed", "unknown"])
    if hr == "pos":
        b.er("positive").pr(rng.choice(["positive", "negative"]))
    elif hr == "neg":
        b.er("negative").pr("negative")
    elif hr == "mixed":
        b.er("negative").pr("positive")
    if rng.random() < 0.85:
        b.lvef(rng.choice([30.0, 45.0, 52.0, 60.0, 65.0]), "2026-06-01")
    for cls, p in (("HeartFailure", 0.08), ("Pregnancy", 0.05), ("InterstitialLungDisease", 0.06), ("SignificantLVEFDecline", 0.04)):
        if rng.random() < p:
            status = rng.choice([None, None, "active", "resolved", "remission", "inactive"])
            b.condition(cls, "2025-03-01", status=status, abated="2025-09-01" if status in ("resolved", "remission", "inactive") else None)
    if rng.random() < 0.5:
        _metastatic_history(rng, b)
    else:
        _early_history(rng, b)
    if rng.random() < 0.2:  # serial LVEF on therapy: a baseline before it and later values, falling or not
        b.lvef(rng.choice([55.0, 62.0, 68.0]), "2023-12-20")
        for when in rng.sample(["2026-07-15", "2026-08-20", "2026-10-01"], rng.randint(1, 2)):
            b.lvef(rng.choice([40.0, 44.0, 47.0, 51.0, 53.0, 58.0]), when)
    if rng.random() < 0.05:
        b.unidentified_therapy("study drug", rng.choice(["metastatic", "adjuvant"]), "2025-07-01", "2025-10-01")
    if rng.random() < 0.15:
        b.unavailable(rng.choice(["trastuzumab-deruxtecan", "pertuzumab", "tucatinib"]))
    if rng.random() < 0.2:
        combos = [["doxorubicin", "cyclophosphamide", "trastuzumab"], ["trastuzumab", "pertuzumab", "docetaxel"],
                  ["trastuzumab-emtansine"], ["trastuzumab-deruxtecan"], ["letrozole", "paclitaxel"], ["trastuzumab", "paclitaxel"],
                  ["trastuzumab", "pertuzumab"], ["trastuzumab", "pertuzumab", "letrozole"], ["letrozole"],
                  ["tucatinib", "trastuzumab", "capecitabine"]]
        orders: list[tuple[str, str | None, str | None]] = [(d, "2026-12-01", "2027-03-01") for d in rng.choice(combos)]
        b.plan(orders)
    return b


def _metastatic_history(rng: random.Random, b: PatientBuilder) -> None:
    kind = rng.choice(["de-novo", "recurrence"])
    site = rng.choice(["BoneMetastasis", "LiverMetastasis", "LungMetastasis", "BrainMetastasis"])
    if kind == "recurrence":
        b.non_metastatic("2021-01-10").surgery("2021-02-01")
        adjuvant_drug = rng.choice(["trastuzumab", "trastuzumab", "trastuzumab-emtansine", "neratinib"])
        if rng.random() < 0.15:  # recurrence while adjuvant HER2 therapy is still being given
            b.therapy(adjuvant_drug, "adjuvant", "2024-09-01", None, ongoing=True)
        else:
            end = rng.choice(["2022-02-01", "2024-06-01", "2025-01-15", "2025-05-10"])
            b.therapy(adjuvant_drug, "adjuvant", "2021-03-01", end, ended_by=rng.choice([None, "completion"]))
        b.therapy("paclitaxel", "adjuvant", "2021-03-01", "2021-06-01")
        b.metastatic("2025-06-01", site)
        start = "2025-06-15"
    else:
        b.metastatic("2024-01-10", site)
        start = "2024-01-20"
    lines = rng.choice([0, 0, 1, 2, 3, 4])
    later = rng.choice([["tucatinib", "trastuzumab", "capecitabine"], ["lapatinib", "capecitabine"], ["neratinib", "capecitabine"]])
    regimens = [["trastuzumab", "pertuzumab", "docetaxel"], ["trastuzumab-deruxtecan"], ["trastuzumab-emtansine"], later, ["trastuzumab", "vinorelbine"]]
    year = int(start[:4])
    for i in range(lines):
        s = f"{year + i}-{start[5:]}"
        e = f"{year + i}-12-01"
        recorded = rng.random() < 0.3  # the record states the progression on the therapy instead of a scan
        for drug in regimens[i]:
            b.therapy(drug, "metastatic", s, e, ended_by="progression" if recorded else None)
        if not recorded or rng.random() < 0.5:
            b.progression(rng.choice([e, f"{year + i}-12-20"]))
    if lines == 0 and rng.random() < 0.7:  # first line going on: maintenance once the taxane has ended
        s = f"{year}-{start[5:]}"
        taxane_end = rng.choice([f"{year}-06-01", f"{year}-07-15", "2026-12-01"])
        b.therapy("trastuzumab", "metastatic", s, None, ongoing=True).therapy("pertuzumab", "metastatic", s, None, ongoing=True)
        b.therapy(rng.choice(["docetaxel", "paclitaxel"]), "metastatic", s, taxane_end, ended_by=rng.choice([None, "completion"]))
    if rng.random() < 0.3:
        b.burden(rng.choice(["low-burden", "high-burden"]))


def _early_history(rng: random.Random, b: PatientBuilder) -> None:
    b.non_metastatic("2026-02-01")
    b.tumour_size(rng.choice([12.0, 18.0, 25.0, 40.0, 60.0]))
    b.n_category(rng.choice(["n0", "n0", "n1", "n2", "n3"]))
    stage = rng.choice(["untreated", "post-neoadjuvant", "upfront-surgery"])
    if stage == "post-neoadjuvant":
        for drug in ("trastuzumab", "pertuzumab", "docetaxel", "carboplatin"):
            b.therapy(drug, "neoadjuvant", "2026-02-15", "2026-06-01")
        b.surgery("2026-06-20")
        b.pathologic_response(rng.choice(["residual-invasive-disease", "pathologic-complete-response"]), "2026-07-01")
    elif stage == "upfront-surgery":
        b.surgery("2026-03-01")
