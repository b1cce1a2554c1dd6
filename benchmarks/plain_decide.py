"""The decisions of the rules, hand-written in plain Python: the floor of the benchmark and the
oracle of the differential test (tests/test_oracle_agreement.py).

It reads the knowledge base once into indexes, then decides each synthetic patient from the
facts its `PatientBuilder` recorded. It covers what the synthetic generators produce; it is a
reference for measurement and testing, not part of the product.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from her2kg.knowledge import knowledge_ntriples
from her2kg.stores.embedded import EmbeddedStore

H = "https://w3id.org/her2kg/"


@dataclass(frozen=True)
class KnowledgeIndexes:
    recommendations: dict[str, dict[str, object]]
    regimen_required: dict[str, set[str]]
    regimen_choices: dict[str, list[set[str]]]
    contraindicated: dict[str, set[str]]  # patient class -> drugs
    drug_classes: dict[str, set[str]]
    thresholds: dict[str, float]
    characteristic: dict[str, set[str]]  # regimen -> agents whose progression rules it out


def build_indexes() -> KnowledgeIndexes:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    q = store.select
    p = "PREFIX h: <https://w3id.org/her2kg/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    recs: dict[str, dict[str, object]] = defaultdict(lambda: {"dps": set(), "requires": set(), "excluded": set(), "not_received": set(), "needs_unavailable": set()})
    for r in q(p + "SELECT ?r ?reg ?dp ?from WHERE { ?r a h:Recommendation ; h:recommendsRegimen ?reg ; h:forDecisionPoint ?dp ; h:validFrom ?from }"):
        rec = recs[r["r"]]
        rec["regimen"] = r["reg"]
        rec["from"] = date.fromisoformat(r["from"])
        rec["dps"].add(r["dp"])  # type: ignore[union-attr]
    for prop, key in (("requiresPatientClass", "requires"), ("excludedForPatientClass", "excluded"),
                      ("notIfReceived", "not_received"), ("requiresUnavailable", "needs_unavailable")):
        for r in q(p + f"SELECT ?r ?x WHERE {{ ?r h:{prop} ?x }}"):
            recs[r["r"]][key].add(r["x"])  # type: ignore[union-attr]
    drug_classes: dict[str, set[str]] = defaultdict(set)
    for r in q(p + "SELECT ?d ?c WHERE { ?d a ?k . ?k rdfs:subClassOf* h:Drug . ?k rdfs:subClassOf* ?c }"):
        drug_classes[r["d"]].add(r["c"])
    required: dict[str, set[str]] = defaultdict(set)
    choices: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in q(p + "SELECT ?reg ?c ?d ?o WHERE { ?reg a h:Regimen ; h:hasComponent ?c . OPTIONAL { ?c h:drug ?d } OPTIONAL { ?c h:drugOption ?o } }"):
        if "d" in r:
            required[r["reg"]].add(r["d"])
        if "o" in r:
            choices[r["reg"]][r["c"]].add(r["o"])
    contraindicated: dict[str, set[str]] = defaultdict(set)
    for r in q(p + "SELECT ?cls ?k ?d WHERE { ?ci a h:ContraindicationRule ; h:appliesToPatientClass ?cls . OPTIONAL { ?ci h:contraindicatedDrugClass ?k } OPTIONAL { ?ci h:contraindicatedDrug ?d } }"):
        if "d" in r:
            contraindicated[r["cls"]].add(r["d"])
        if "k" in r:
            contraindicated[r["cls"]].update(d for d, cs in drug_classes.items() if r["k"] in cs)
    thresholds = {r["x"][len(H):]: float(r["v"]) for r in q(p + "SELECT ?x ?v WHERE { ?x a h:Parameter ; h:parameterValue ?v }")}
    characteristic: dict[str, set[str]] = defaultdict(set)
    for r in q(p + "SELECT ?reg ?d WHERE { ?reg h:characteristicAgent ?d }"):
        characteristic[r["reg"]].add(r["d"])
    return KnowledgeIndexes(
        dict(recs), dict(required), {k: list(v.values()) for k, v in choices.items()}, dict(contraindicated), dict(drug_classes), thresholds,
        dict(characteristic),
    )


DP_LINES = {1: "dp-metastatic-line-1", 2: "dp-metastatic-line-2"}


def _her2(obs: list[tuple], conditions: set[str]) -> str | None:
    ihc = {({"ihc-3plus": "positive", "ihc-2plus": "equivocal", "ihc-1plus": "negative", "ihc-0": "negative"}).get(r, r)
           for kind, cls, r, _, _ in obs if cls == "HER2IHCTest" and r}
    interp = {r for _, cls, r, _, _ in obs if cls == "HER2StatusInterpretation" and r}
    ish: set[str] = set()
    copies = [dict(v).get("her2CopyNumber") for _, cls, _, _, v in obs if cls == "HER2ISHTest" and "her2CopyNumber" in dict(v)]
    for _, cls, r, _, values in obs:
        if cls != "HER2ISHTest":
            continue
        if r in ("positive", "negative", "equivocal"):
            ish.add(r)
        v = dict(values)
        if "ishRatio" in v:
            ratio, cmp = float(v["ishRatio"]), v.get("ratioComparator", "=")
            high = ratio >= 2.0 and cmp in ("=", ">", ">=")
            low = (ratio < 2.0 and cmp in ("=", "<", "<=")) or (ratio <= 2.0 and cmp == "<")
            for c in copies or [-1.0]:
                c = float(c)
                for i in ihc or {"indeterminate"}:
                    if high:
                        ish.add("positive" if c < 0 or c >= 4 or i == "positive" else "negative")
                    elif low:
                        if c >= 6:
                            ish.add("positive" if i in ("positive", "equivocal") else "negative" if i == "negative" else "equivocal")
                        elif c >= 4:
                            ish.add("positive" if i == "positive" else "negative")
                        else:
                            ish.add("negative")
                    else:
                        ish.add("equivocal")
    if interp:
        statuses = interp
    elif ish & {"positive", "negative"}:
        statuses = ish & {"positive", "negative"}
    elif ihc:
        statuses = {s for s in ihc if s != "equivocal" or not ihc & {"positive", "negative"}}
    elif "equivocal" in ish:
        statuses = {"equivocal"}
    else:
        statuses = {s for c, s in (("HER2PositiveBreastCancer", "positive"), ("HER2NegativeBreastCancer", "negative")) if c in conditions}
    return next(iter(statuses)) if len(statuses) == 1 else ("conflict" if statuses else None)


HISTORICAL_STATUSES = {"resolved", "inactive", "remission"}


def _months(earlier: str, later: str) -> int:
    """Whole calendar months from one ISO date to a later one, as the rules count them."""
    d1, d2 = date.fromisoformat(earlier), date.fromisoformat(later)
    return (d2.year - d1.year) * 12 + d2.month - d1.month - (1 if d2.day < d1.day else 0)


def _is_a(kb: KnowledgeIndexes, drug: str, cls: str) -> bool:
    return H + cls in kb.drug_classes.get(H + drug, set())


def _lvef_classes(lvefs: list[tuple[str, float]], therapies: list[tuple], heart_failure: bool, kb: KnowledgeIndexes) -> set[str]:
    """LVEFFallPatient (withhold) and SignificantLVEFDeclinePatient (persistent fall or heart failure)."""
    starts = [t[3] for t in therapies if t[3] and _is_a(kb, t[1], "AntiHER2AntibodyBasedAgent")]
    if not starts or not lvefs:
        return set()
    course = max(starts)
    before = [d for d, _ in lvefs if d <= course]
    if not before:
        return set()
    base_date = max(before)
    base = max(v for d, v in lvefs if d == base_date)
    last = max(d for d, _ in lvefs)
    if last <= base_date:
        return set()
    latest = min(v for d, v in lvefs if d == last)
    large, small = kb.thresholds["param-lvef-fall-withhold-points"], kb.thresholds["param-lvef-fall-below-normal-points"]
    lower = kb.thresholds["param-lvef-lower-limit-normal"]

    def meets(value: float) -> bool:
        return base - value >= large or (base - value >= small and value < lower)

    if not meets(latest):
        return set()
    classes = {"LVEFFallPatient"}
    persistent = any(meets(v) and _months(d, last) >= kb.thresholds["param-lvef-persistence-months"] for d, v in lvefs)
    if heart_failure or persistent:
        classes.add("SignificantLVEFDeclinePatient")
    return classes


def _progressed_on(therapies: list[tuple], progressions: list[str], since: str | None, kb: KnowledgeIndexes) -> set[str]:
    window = kb.thresholds["param-progression-attribution-months"]
    drugs: set[str] = set()
    for _, drug, phase, start, end, _ongoing, ended_by in therapies:
        if ended_by == "progression":
            drugs.add(H + drug)
        elif phase == "metastatic" and start:
            if any(found > start and (end is None or found <= end or _months(end, found) < window) for found in progressions):
                drugs.add(H + drug)
        elif phase in ("adjuvant", "neoadjuvant") and start and since and since > start:
            if end is None or since <= end or _months(end, since) < window:
                drugs.add(H + drug)
    return drugs


def _maintenance(therapies: list[tuple], as_of: str, kb: KnowledgeIndexes) -> bool:
    def going(t: tuple) -> bool:
        return bool(t[5]) or (t[4] is not None and t[4] >= as_of)

    met = [t for t in therapies if t[2] == "metastatic"]
    for h in (t for t in met if t[1] == "trastuzumab" and t[3] and going(t)):
        if not any(t[1] == "pertuzumab" and going(t) for t in met):
            continue
        if any(_is_a(kb, t[1], "Taxane") and t[4] and h[3] < t[4] < as_of for t in met):
            return True
    return False


def decide(facts: list[tuple], as_of: date, kb: KnowledgeIndexes) -> tuple[set[str], set[str]]:
    """Return (permitted recommendation IRIs, forbidden regimen IRIs) for one patient."""
    obs = [f for f in facts if f[0] == "observation"]
    conditions = {f[1] for f in facts if f[0] == "condition"}
    current = {f[1] for f in facts if f[0] == "condition" and f[3] not in HISTORICAL_STATUSES}
    therapies = [f for f in facts if f[0] == "therapy"]
    unidentified = [f for f in facts if f[0] == "unidentified"]
    unavailable = {H + f[1] for f in facts if f[0] == "unavailable"}
    surgery = any(f[0] == "surgery" for f in facts)
    results = {(cls, r) for _, cls, r, _, _ in obs}
    classes: set[str] = set()
    her2 = _her2(obs, conditions)
    if her2 == "positive":
        classes.add("HER2PositivePatient")
    elif her2 == "negative":
        classes.add("HER2NegativePatient")
    elif her2 == "equivocal":
        classes.add("HER2EquivocalPatient")
    hr = {r for c, r in results if c in ("EstrogenReceptorTest", "ProgesteroneReceptorTest")}
    if "positive" in hr:
        classes.add("HormoneReceptorPositivePatient")
    distant = {"DistantMetastasis", "BrainMetastasis", "LiverMetastasis", "BoneMetastasis", "LungMetastasis"}
    metastatic_dates = [f[2] for f in facts if f[0] == "condition" and f[1] in distant] + [d for _, c, r, d, _ in obs if c == "DistantMetastasisCategory" and r == "m1"]
    metastatic = bool(metastatic_dates)
    non_met_staging = ("DistantMetastasisCategory", "m0") in results
    la = bool({("RegionalNodesCategory", "n2"), ("RegionalNodesCategory", "n3"), ("PrimaryTumourCategory", "t4")} & results)
    non_metastatic = non_met_staging and not metastatic
    node_pos = bool({("RegionalNodesCategory", n) for n in ("n1", "n2", "n3")} & results)
    sizes = [float(dict(v)["sizeMillimetres"]) for _, c, _, _, v in obs if c == "TumourSizeMeasurement"]
    larger = any(s > kb.thresholds["param-tumour-size-threshold-mm"] for s in sizes)
    for cls, name in (("HeartFailure", "HeartFailurePatient"), ("SignificantLVEFDecline", "SignificantLVEFDeclinePatient"),
                      ("Pregnancy", "PregnantPatient")):
        if cls in current:
            classes.add(name)
    for cls, name in (("InterstitialLungDisease", "InterstitialLungDiseasePatient"), ("BrainMetastasis", "CNSMetastasisPatient")):
        if cls in conditions:
            classes.add(name)
    lvefs = sorted(((d, float(dict(v)["percentValue"])) for _, c, _, d, v in obs if c == "LVEFMeasurement"), key=lambda x: (x[0], -x[1]))
    classes |= _lvef_classes(lvefs, therapies, "HeartFailurePatient" in classes, kb)
    if lvefs:
        last = max(d for d, _ in lvefs)
        if min(v for d, v in lvefs if d == last) < kb.thresholds["param-lvef-start-threshold"]:
            classes.add("LowLVEFPatient")
    if ("DiseaseBurdenAssessment", "low-burden") in results:
        classes.add("LowDiseaseBurdenPatient")
    if classes & {"HeartFailurePatient", "SignificantLVEFDeclinePatient", "LowLVEFPatient"}:
        classes.add("HER2TherapyContraindicatedPatient")
    dp = None
    since = min(metastatic_dates) if metastatic else None
    all_progressions = sorted(d for _, c, r, d, _ in obs if c == "DiseaseStatusAssessment" and r == "disease-progression")
    progressed = _progressed_on(therapies, all_progressions, since, kb)
    if metastatic:
        since = min(metastatic_dates)
        early = False
        adjuvant = [t for t in therapies if _is_a(kb, t[1], "HER2TargetedAgent") and t[2] in ("adjuvant", "neoadjuvant")]
        if adjuvant:
            ends = [since if t[5] else t[4] for t in adjuvant if t[4] or t[5]]
            if ends:
                last_dose = max(ends)
                if last_dose >= since:
                    early = True
                else:
                    d1, d2 = date.fromisoformat(last_dose), date.fromisoformat(since)
                    months = (d2.year - d1.year) * 12 + d2.month - d1.month - (1 if d2.day < d1.day else 0)
                    threshold = kb.thresholds["param-recurrence-threshold-months"]
                    early = months < threshold or (months == threshold and d2.day == d1.day)
        progressions = sorted(d for _, c, r, d, _ in obs if c == "DiseaseStatusAssessment" and r == "disease-progression")
        ends_of_lines = set()
        for t in therapies + [(None, None, f[2], f[3]) for f in unidentified]:
            if t[2] == "metastatic" and t[3]:
                after = [d for d in progressions if d > t[3]]
                if after:
                    ends_of_lines.add(after[0])
        line = len(ends_of_lines) + 1 + (1 if early else 0)
        maintenance = not ends_of_lines and not early and _maintenance(therapies, as_of.isoformat(), kb)
        if "HER2PositivePatient" in classes:
            dp = "dp-metastatic-maintenance" if maintenance else DP_LINES.get(line, "dp-metastatic-line-3-plus")
        if "HormoneReceptorPositivePatient" in classes and classes & {"LowDiseaseBurdenPatient", "HER2TherapyContraindicatedPatient"}:
            classes.add("EndocrineAloneCandidatePatient")
    elif non_metastatic:
        if node_pos or la:
            classes.add("HighRiskEarlyDiseasePatient")
        if not la and not larger and any(s <= kb.thresholds["param-tumour-size-threshold-mm"] for s in sizes) and ("RegionalNodesCategory", "n0") in results and not node_pos:
            classes.add("SmallNodeNegativeTumourPatient")
        if la or larger or node_pos:
            classes.update({"NeoadjuvantPertuzumabCandidatePatient", "StageIIOrIIIPatient"})
        neo = any(t[2] == "neoadjuvant" for t in therapies)
        residual = ("PathologicResponseAssessment", "residual-invasive-disease") in results
        pcr = ("PathologicResponseAssessment", "pathologic-complete-response") in results
        if "HER2PositivePatient" in classes:
            if not surgery:
                dp = "dp-neoadjuvant"
            elif neo and residual:
                dp = "dp-adjuvant-residual-disease"
            elif neo and pcr:
                dp = "dp-adjuvant-after-complete-response"
            elif not neo:
                dp = "dp-adjuvant-upfront-surgery"
    if "HormoneReceptorPositivePatient" not in classes and hr == {"negative"}:
        pass
    must_not = set()
    for cls in classes:
        must_not |= kb.contraindicated.get(H + cls, set())
    received = {H + t[1] for t in therapies}
    permitted: set[str] = set()
    forbidden: set[str] = set()
    if dp is None:
        return permitted, forbidden
    for rec, info in kb.recommendations.items():
        if H + dp not in info["dps"]:  # type: ignore[operator]
            continue
        if any(c[len(H):] not in classes for c in info["requires"]):  # type: ignore[union-attr]
            continue
        if any(c[len(H):] in classes for c in info["excluded"]):  # type: ignore[union-attr]
            continue
        if info["not_received"] & received:  # type: ignore[operator]
            continue
        if any(d not in unavailable and d not in must_not for d in info["needs_unavailable"]):  # type: ignore[union-attr]
            continue
        if info["from"] > as_of:  # type: ignore[operator]
            continue
        regimen = str(info["regimen"])
        required = kb.regimen_required.get(regimen, set())
        blocked_choice = any(not (options - must_not) for options in kb.regimen_choices.get(regimen, []))
        if required & must_not or blocked_choice or kb.characteristic.get(regimen, set()) & progressed:
            forbidden.add(regimen)
        elif not required & unavailable:
            permitted.add(rec)
    return permitted, forbidden
