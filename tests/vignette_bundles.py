"""The project's own clinical vignettes as FHIR R4 bundles, each written from the clinical statements
(S01-S22) before its report was looked at, with what her2kg must conclude.

`python tests/vignette_bundles.py` rewrites tests/data/vignettes/; a test keeps the files current.
Each vignette targets one way the patient's past can mislead a reasoner (see `docs/report.md`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).parent / "data" / "vignettes"
LOINC, SCT, RXNORM = "http://loinc.org", "http://snomed.info/sct", "http://www.nlm.nih.gov/research/umls/rxnorm"
PHASE_URL = "https://w3id.org/her2kg/fhir/StructureDefinition/therapy-phase"
RX = {
    "trastuzumab": "224905", "pertuzumab": "1298944", "trastuzumab-deruxtecan": "2267582", "lapatinib": "480167",
    "tucatinib": "2361285", "neratinib": "1940643", "docetaxel": "72962", "paclitaxel": "56946", "capecitabine": "194000",
    "cyclophosphamide": "3002", "doxorubicin": "3639", "letrozole": "72965",
}
NCIT = {
    "trastuzumab": "C1647", "pertuzumab": "C38692", "T-DM1": "C82492", "T-DXd": "C128799", "lapatinib": "C26653", "tucatinib": "C77896",
    "neratinib": "C49094", "capecitabine": "C1794", "letrozole": "C1527", "paclitaxel": "C1411", "docetaxel": "C1526",
}


class Record:
    """Builds one patient's bundle entry by entry."""

    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.entries: list[dict[str, Any]] = [{"resourceType": "Patient", "id": pid, "gender": "female", "birthDate": "1966-05-04"}]

    def _add(self, resource: dict[str, Any]) -> Record:
        resource["id"] = f"{self.pid}-{len(self.entries)}"
        resource["subject"] = {"reference": f"Patient/{self.pid}"}
        self.entries.append(resource)
        return self

    def observation(self, loinc: str, when: str, **value: Any) -> Record:
        return self._add({"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": LOINC, "code": loinc}]},
                          "effectiveDateTime": when, **value})

    def coded(self, loinc: str, when: str, snomed: str) -> Record:
        return self.observation(loinc, when, valueCodeableConcept={"coding": [{"system": SCT, "code": snomed}]})

    def her2_positive(self, when: str = "2024-01-10") -> Record:
        return self.coded("85319-2", when, "10828004")

    def receptors(self, er: str, when: str = "2024-01-10") -> Record:
        answer = {"positive": "10828004", "negative": "260385009"}
        return self.coded("85337-4", when, answer[er]).coded("85339-0", when, answer["negative"])

    def lvef(self, percent: float, when: str) -> Record:
        return self.observation("10230-1", when, valueQuantity={"value": percent, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"})

    def distant(self, when: str, m: str = "1229903009") -> Record:
        return self.coded("21907-1", when, m)

    def condition(self, snomed: str, onset: str, status: str = "active", abated: str | None = None) -> Record:
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": status}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]},
            "code": {"coding": [{"system": SCT, "code": snomed}]},
            "onsetDateTime": onset,
        }
        if abated:
            resource["abatementDateTime"] = abated
        return self._add(resource)

    def breast_cancer(self, onset: str = "2024-01-10") -> Record:
        return self.condition("254837009", onset)

    def progression(self, when: str) -> Record:
        return self.coded("97509-4", when, "271299001")

    def medication(self, drug: str, phase: str, start: str, end: str | None, *, status: str | None = None,
                   code: str | None = None, text: str | None = None) -> Record:
        concept: dict[str, Any] = {"coding": [{"system": RXNORM, "code": code or RX[drug]}]}
        if text:
            concept = {"coding": [{"system": RXNORM, "code": code or "0", "display": text}], "text": text}
        period = {"start": start, **({"end": end} if end else {})}
        return self._add({"resourceType": "MedicationStatement", "status": status or ("active" if end is None else "completed"),
                          "medicationCodeableConcept": concept, "effectivePeriod": period,
                          "extension": [{"url": PHASE_URL, "valueCode": phase}]})

    def plan(self, *drugs: str, start: str = "2026-12-01", end: str = "2027-03-01") -> Record:
        """Draft orders; a drug key may be an RxNorm product code given as `rxnorm:<code>`."""
        for drug in drugs:
            code = drug.removeprefix("rxnorm:") if drug.startswith("rxnorm:") else RX[drug]
            self._add({"resourceType": "MedicationRequest", "status": "draft", "intent": "proposal",
                       "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
                       "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": start, "end": end}}}}]})
        return self

    def bundle(self) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in self.entries]}


def metastatic(pid: str, *, er: str = "negative", since: str = "2024-01-10") -> Record:
    return (Record(pid).breast_cancer(since).her2_positive(since).receptors(er, since).lvef(62, since).distant(since)
            .condition("94222008", since))


def thp_first_line(r: Record, start: str = "2024-01-20", taxane_end: str = "2024-06-20", hp_end: str | None = None) -> Record:
    r.medication("trastuzumab", "metastatic", start, hp_end).medication("pertuzumab", "metastatic", start, hp_end)
    return r.medication("docetaxel", "metastatic", start, taxane_end)


VIGNETTES: dict[str, tuple[str, Callable[[], Record], dict[str, Any]]] = {}


def vignette(name: str, title: str, expect: dict[str, Any]) -> Callable[[Callable[[], Record]], Callable[[], Record]]:
    def register(build: Callable[[], Record]) -> Callable[[], Record]:
        VIGNETTES[name] = (title, build, {"as_of": "2026-11-01", "title": title, **expect})
        return build
    return register


@vignette("h01-progressed-on-tucatinib", "Third line after progression on tucatinib + trastuzumab + capecitabine (S06)", {
    "exit": 0, "her2": "positive", "setting": "metastatic", "line": 4,
    "permitted_excludes": [{"all": [NCIT["tucatinib"]]}],
    "forbidden_includes": [{"all": [NCIT["tucatinib"]]}],
    "permitted_includes": [{"all": [NCIT["lapatinib"], NCIT["capecitabine"]]}],
    "history_regimens": ["h:regimen-thp", "h:regimen-tdxd", "h:regimen-tucatinib-trastuzumab-capecitabine"],
})
def _h01() -> Record:
    r = thp_first_line(metastatic("h01"), hp_end="2024-09-01").progression("2024-09-01")
    r.medication("trastuzumab-deruxtecan", "metastatic", "2024-09-15", "2025-08-01").progression("2025-08-01")
    for drug in ("tucatinib", "trastuzumab", "capecitabine"):
        r.medication(drug, "metastatic", "2025-08-15", "2026-09-20", status="stopped")
    return r.progression("2026-10-01")


@vignette("h02-maintenance-hp", "Maintenance after first-line THP: the taxane ended, HP goes on (S02)", {
    "exit": 0, "her2": "positive", "setting": "metastatic", "phase": "maintenance",
    "permitted_includes": [{"all": [NCIT["trastuzumab"], NCIT["pertuzumab"]], "none": [NCIT["docetaxel"], NCIT["paclitaxel"]], "preference": "preferred"}],
    "permitted_excludes": [{"any": [NCIT["docetaxel"], NCIT["paclitaxel"]]}, {"all": [NCIT["T-DXd"]]}],
    "proposed_verdict": ["permitted"],
})
def _h02() -> Record:
    return thp_first_line(metastatic("h02", since="2026-01-10"), start="2026-01-20", taxane_end="2026-06-20").plan("trastuzumab", "pertuzumab")


@vignette("h03-maintenance-endocrine", "Hormone receptor-positive maintenance: HP + letrozole once the taxane ended (ASCO rec 7.0)", {
    "exit": 0, "her2": "positive", "phase": "maintenance",
    "permitted_includes": [{"all": [NCIT["trastuzumab"], NCIT["pertuzumab"], NCIT["letrozole"]]}],
    "proposed_verdict": ["permitted"],
})
def _h03() -> Record:
    r = thp_first_line(metastatic("h03", er="positive", since="2026-01-10"), start="2026-01-20", taxane_end="2026-06-20")
    return r.plan("trastuzumab", "pertuzumab", "letrozole")


@vignette("h04-maintenance-stops-her2", "Maintenance plan that stops HER2 therapy with the chemotherapy (S02 pitfall)", {
    "exit": 0, "phase": "maintenance", "proposed_verdict": ["not-recommended"],
})
def _h04() -> Record:
    r = thp_first_line(metastatic("h04", er="positive", since="2026-01-10"), start="2026-01-20", taxane_end="2026-06-20")
    return r.plan("letrozole")


@vignette("h05-recurrence-after-adjuvant-tdm1", "Recurrence four months after adjuvant T-DM1: an early recurrence, second line (S07)", {
    "exit": 0, "her2": "positive", "setting": "metastatic", "line": 2,
    "permitted_includes": [{"all": [NCIT["T-DXd"]], "preference": "preferred"}],
    "permitted_excludes": [{"all": [NCIT["trastuzumab"], NCIT["pertuzumab"], NCIT["docetaxel"]]}, {"all": [NCIT["T-DM1"]]}],
})
def _h05() -> Record:
    r = Record("h05").breast_cancer("2024-03-01").her2_positive("2024-03-01").receptors("negative", "2024-03-01").lvef(63, "2026-09-05")
    r.coded("21907-1", "2024-03-01", "1229901006")
    for drug in ("trastuzumab", "pertuzumab", "docetaxel"):
        r.medication(drug, "neoadjuvant", "2024-03-15", "2024-07-01")
    r._add({"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": SCT, "code": "64368001"}]}, "performedDateTime": "2024-07-20"})
    r.medication("trastuzumab-emtansine", "adjuvant", "2024-08-20", "2025-05-01", code="1658084")
    return r.distant("2025-09-01").condition("94222008", "2025-09-01")


@vignette("h06-resolved-ild-second-line", "Second line with pneumonitis in the past, recorded as resolved (S21)", {
    "exit": 0, "her2": "positive", "line": 2,
    "permitted_excludes": [{"all": [NCIT["T-DXd"]]}],
    "forbidden_includes": [{"all": [NCIT["T-DXd"]]}],
    "permitted_includes": [{"all": [NCIT["T-DM1"]], "preference": "preferred"}],
})
def _h06() -> Record:
    r = thp_first_line(metastatic("h06"), hp_end="2026-09-01").progression("2026-09-01")
    return r.condition("233703007", "2025-02-01", status="resolved", abated="2025-06-01")


@vignette("h07-lvef-fall-on-maintenance", "LVEF falls from 64% to 47% on maintenance HP (S16: withhold, not discontinue)", {
    "exit": 0, "her2": "positive", "phase": "maintenance",
    "permitted_excludes": [{"any": [NCIT["trastuzumab"], NCIT["pertuzumab"]]}],
    "forbidden_includes": [{"all": [NCIT["trastuzumab"], NCIT["pertuzumab"]]}],
    "forbidden_actions": ["withhold"],
})
def _h07() -> Record:
    r = Record("h07").breast_cancer("2026-01-10").her2_positive("2026-01-10").receptors("negative", "2026-01-10").lvef(64, "2026-01-12")
    r.distant("2026-01-10").condition("94222008", "2026-01-10")
    thp_first_line(r, start="2026-01-20", taxane_end="2026-06-20")
    return r.lvef(58, "2026-04-20").lvef(47, "2026-10-15")


@vignette("h08-adjuvant-plan-not-covered", "Node-negative 3 cm tumour after primary surgery, AC then paclitaxel + trastuzumab proposed: not covered", {
    "exit": 0, "her2": "positive", "proposed_verdict": ["not-covered"], "warnings": True,
})
def _h08() -> Record:
    r = Record("h08").breast_cancer("2026-08-01").her2_positive("2026-08-01").receptors("negative", "2026-08-01").lvef(65, "2026-09-01")
    r.coded("21907-1", "2026-08-01", "1229901006").coded("21906-3", "2026-08-01", "1229967007")
    r.observation("21889-1", "2026-08-01", valueQuantity={"value": 30, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"})
    r._add({"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": SCT, "code": "64368001"}]}, "performedDateTime": "2026-09-10"})
    r.plan("doxorubicin", "cyclophosphamide", start="2026-11-15", end="2027-01-15")
    return r.plan("paclitaxel", "trastuzumab", start="2027-01-20", end="2027-04-20")


@vignette("h09-second-line-tucatinib-brain", "Second line with brain metastases: tucatinib + trastuzumab + capecitabine among the options (S06, label)", {
    "exit": 0, "her2": "positive", "line": 2,
    "permitted_includes": [{"all": [NCIT["tucatinib"], NCIT["trastuzumab"], NCIT["capecitabine"]]}, {"all": [NCIT["T-DXd"]], "preference": "preferred"}],
    "permitted_not_preferred": [{"all": [NCIT["tucatinib"]]}],
})
def _h09() -> Record:
    r = thp_first_line(metastatic("h09"), hp_end="2026-09-01").progression("2026-09-01")
    return r.condition("94225005", "2026-09-01")


@vignette("h10-small-node-negative-adjuvant", "Node-negative 1.5 cm tumour after primary surgery: weekly paclitaxel + trastuzumab (APT)", {
    "exit": 0, "her2": "positive",
    "permitted_includes": [{"all": [NCIT["paclitaxel"], NCIT["trastuzumab"]], "none": [NCIT["pertuzumab"]], "preference": "preferred"}],
    "permitted_excludes": [{"all": [NCIT["pertuzumab"]]}],
})
def _h10() -> Record:
    r = Record("h10").breast_cancer("2026-08-01").her2_positive("2026-08-01").receptors("negative", "2026-08-01").lvef(65, "2026-09-01")
    r.coded("21907-1", "2026-08-01", "1229901006").coded("21906-3", "2026-08-01", "1229967007")
    r.observation("21889-1", "2026-08-01", valueQuantity={"value": 15, "unit": "mm", "system": "http://unitsofmeasure.org", "code": "mm"})
    return r._add({"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": SCT, "code": "64368001"}]}, "performedDateTime": "2026-09-10"})


@vignette("h11-unidentified-kadcyla", "Prior T-DM1 recorded under a code the knowledge base does not know, named in its text: an error, not line 2", {
    "exit": 1, "errors": True, "permitted_empty": True,
})
def _h11() -> Record:
    r = thp_first_line(metastatic("h11"), hp_end="2025-01-01").progression("2025-01-01")
    r.medication("trastuzumab-deruxtecan", "metastatic", "2025-01-15", "2025-10-01").progression("2025-10-01")
    return r.medication("", "metastatic", "2025-10-20", "2026-09-01", code="999999999", text="Kadcyla 100 MG Injection").progression("2026-09-01")


@vignette("h12-unidentified-study-drug", "Prior study drug the importer cannot identify: the report warns first that the history may be incomplete", {
    "exit": 0, "her2": "positive", "history_complete": False, "warning_codes": ["therapy-history-incomplete"],
})
def _h12() -> Record:
    r = thp_first_line(metastatic("h12"), hp_end="2026-09-01").progression("2026-09-01")
    return r.medication("", "metastatic", "2025-01-10", "2025-03-01", code="999999998", text="investigational agent ABC-123")


@vignette("h13-neratinib-adjuvant-no-progression", "Neratinib given as extended adjuvant therapy years ago: neratinib + capecitabine stays an option at line 3 (near miss)", {
    "exit": 0, "her2": "positive", "line": 3,
    "permitted_includes": [{"all": [NCIT["neratinib"], NCIT["capecitabine"]]}],
})
def _h13() -> Record:
    r = Record("h13").breast_cancer("2019-01-10").her2_positive("2019-01-10").receptors("negative", "2019-01-10").lvef(62, "2024-01-10")
    r.coded("21907-1", "2019-01-10", "1229901006")
    r._add({"resourceType": "Procedure", "status": "completed", "code": {"coding": [{"system": SCT, "code": "64368001"}]}, "performedDateTime": "2019-02-10"})
    r.medication("trastuzumab", "adjuvant", "2019-03-01", "2020-03-01").medication("neratinib", "adjuvant", "2020-04-01", "2021-04-01")
    r.distant("2024-01-10").condition("94222008", "2024-01-10")
    thp_first_line(r, hp_end="2024-09-01").progression("2024-09-01")
    return r.medication("trastuzumab-deruxtecan", "metastatic", "2024-09-15", "2026-09-01").progression("2026-09-01")


PHESGO, HYLECTA = "rxnorm:2382605", "rxnorm:2119715"  # RxNorm brand names, subcutaneous (ontology/modules/fhir-mapping.ttl)


@vignette("h14-first-line-subcutaneous-phesgo", "First line planned with subcutaneous pertuzumab/trastuzumab (Phesgo) and docetaxel: THP by another route", {
    "exit": 0, "her2": "positive", "line": 1, "proposed_verdict": ["permitted"],
})
def _h14() -> Record:
    return metastatic("h14", since="2026-09-15").plan(PHESGO, "docetaxel")


@vignette("h15-subcutaneous-trastuzumab-outside-label", "Third line planned with subcutaneous trastuzumab and capecitabine: no regimen of the knowledge base gives trastuzumab that way", {
    "exit": 0, "her2": "positive", "line": 3, "proposed_verdict": ["not-covered"],
})
def _h15() -> Record:
    r = thp_first_line(metastatic("h15"), hp_end="2025-01-01").progression("2025-01-01")
    r.medication("trastuzumab-deruxtecan", "metastatic", "2025-01-15", "2026-09-01").progression("2026-09-01")
    return r.plan(HYLECTA, "capecitabine")


@vignette("h16-intravenous-trastuzumab-capecitabine", "Third line planned with intravenous trastuzumab and capecitabine: an option (S06; near miss of h15)", {
    "exit": 0, "her2": "positive", "line": 3, "proposed_verdict": ["permitted"],
})
def _h16() -> Record:
    r = thp_first_line(metastatic("h16"), hp_end="2025-01-01").progression("2025-01-01")
    r.medication("trastuzumab-deruxtecan", "metastatic", "2025-01-15", "2026-09-01").progression("2026-09-01")
    return r.plan("trastuzumab", "capecitabine")


def write(folder: Path = FOLDER) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (_, build, expect) in VIGNETTES.items():
        for suffix, data in ((".json", build().bundle()), (".expect.json", expect)):
            path = folder / f"{name}{suffix}"
            path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
            written.append(path)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else FOLDER):
        print(path.name)
