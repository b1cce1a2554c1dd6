"""Hypothesis strategies for patients whose safety-relevant facts are known to the test."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from her2kg.synthetic import PatientBuilder

ANTIBODY_BASED = {"C1647", "C38692", "C82492", "C128799", "C91733"}  # trastuzumab, pertuzumab, T-DM1, T-DXd, margetuximab
HER2_TARGETED = ANTIBODY_BASED | {"C26653", "C77896", "C49094"}  # + lapatinib, tucatinib, neratinib
TDXD = "C128799"


@dataclass(frozen=True)
class Facts:
    her2: str  # positive | negative | equivocal | missing
    heart_failure: bool
    lvef_decline: bool
    pregnant: bool
    ild: bool


HER2_INPUTS = {
    "ihc3": ("positive", lambda b: b.ihc("ihc-3plus")),
    "ihc2-ish-pos": ("positive", lambda b: b.ihc("ihc-2plus").ish(result="positive")),
    "ish-group1": ("positive", lambda b: b.ihc("ihc-2plus").ish(ratio=2.6, copies=5.0)),
    "ihc1": ("negative", lambda b: b.ihc("ihc-1plus")),
    "ihc0": ("negative", lambda b: b.ihc("ihc-0")),
    "ihc2-ish-neg": ("negative", lambda b: b.ihc("ihc-2plus").ish(ratio=1.3, copies=2.5)),
    "ihc2": ("equivocal", lambda b: b.ihc("ihc-2plus")),
    "none": ("missing", lambda b: b),
}


@st.composite
def patients(draw: st.DrawFn, patient_id: str) -> tuple[Facts, PatientBuilder]:
    b = PatientBuilder(patient_id)
    her2_key = draw(st.sampled_from(sorted(HER2_INPUTS)))
    her2, add_her2 = HER2_INPUTS[her2_key]
    add_her2(b)
    er = draw(st.sampled_from(["positive", "negative", None]))
    if er:
        b.er(er)
        b.pr(draw(st.sampled_from(["positive", "negative"])))
    lvef = draw(st.sampled_from([None, 35.0, 48.0, 55.0, 63.0]))
    if lvef is not None:
        b.lvef(lvef, "2026-06-01")
    facts = Facts(
        her2=her2,
        heart_failure=draw(st.booleans()),
        lvef_decline=draw(st.booleans()) and draw(st.booleans()),
        pregnant=draw(st.booleans()) and draw(st.booleans()),
        ild=draw(st.booleans()) and draw(st.booleans()),
    )
    for flag, cls in ((facts.heart_failure, "HeartFailure"), (facts.lvef_decline, "SignificantLVEFDecline"),
                      (facts.pregnant, "Pregnancy"), (facts.ild, "InterstitialLungDisease")):
        if flag:
            b.condition(cls, "2026-03-01")
    if draw(st.booleans()):
        site = draw(st.sampled_from(["BoneMetastasis", "BrainMetastasis", "LiverMetastasis"]))
        b.metastatic("2024-01-10", site)
        regimens = [["trastuzumab", "pertuzumab", "docetaxel"], ["trastuzumab-deruxtecan"], ["trastuzumab-emtansine"]]
        for i in range(draw(st.integers(0, 3))):
            for drug in regimens[i]:
                b.therapy(drug, "metastatic", f"{2024 + i}-02-01", f"{2024 + i}-12-01")
            b.progression(f"{2024 + i}-12-01")
        if draw(st.booleans()):
            b.burden("low-burden")
    else:
        b.non_metastatic("2026-02-01").tumour_size(draw(st.sampled_from([12.0, 25.0, 55.0])))
        b.n_category(draw(st.sampled_from(["n0", "n1", "n2"])))
        stage = draw(st.sampled_from(["untreated", "residual", "pcr", "upfront"]))
        if stage in ("residual", "pcr"):
            for drug in ("trastuzumab", "pertuzumab", "docetaxel", "carboplatin"):
                b.therapy(drug, "neoadjuvant", "2026-02-15", "2026-06-01")
            b.surgery("2026-06-20").pathologic_response(
                "residual-invasive-disease" if stage == "residual" else "pathologic-complete-response"
            )
        elif stage == "upfront":
            b.surgery("2026-03-01")
    if draw(st.booleans()) and draw(st.booleans()):
        b.unavailable(draw(st.sampled_from(["trastuzumab-deruxtecan", "pertuzumab"])))
    if draw(st.booleans()) and draw(st.booleans()):
        drugs = draw(st.sampled_from([["doxorubicin", "cyclophosphamide", "trastuzumab"], ["trastuzumab", "pertuzumab", "docetaxel"], ["trastuzumab-emtansine"]]))
        b.plan([(d, "2026-12-01", "2027-03-01") for d in drugs])
    return facts, b


def cohorts(size: int) -> st.SearchStrategy[list[tuple[Facts, PatientBuilder]]]:
    return st.tuples(*[patients(f"h{i}") for i in range(size)]).map(list)
