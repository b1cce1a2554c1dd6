"""Hypothesis strategies for patients whose safety-relevant facts are known to the test."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from synthetic import PatientBuilder

ANTIBODY_BASED = {"C1647", "C38692", "C82492", "C128799", "C91733"}  # trastuzumab, pertuzumab, T-DM1, T-DXd, margetuximab
HER2_TARGETED = ANTIBODY_BASED | {"C26653", "C77896", "C49094"}  # + lapatinib, tucatinib, neratinib
TDXD = "C128799"


NCIT = {
    "trastuzumab": "C1647", "pertuzumab": "C38692", "trastuzumab-emtansine": "C82492", "trastuzumab-deruxtecan": "C128799",
    "lapatinib": "C26653", "tucatinib": "C77896", "neratinib": "C49094",
}


@dataclass(frozen=True)
class Facts:
    her2: str  # positive | negative | equivocal | missing
    heart_failure: bool  # current heart failure
    lvef_decline: bool  # a current recorded significant decline, or a fall from baseline by the label's thresholds
    pregnant: bool  # currently pregnant
    ild: bool  # current or past interstitial lung disease
    progressed_on: frozenset[str] = frozenset()  # drug keys the cancer progressed on in the metastatic setting


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
    serial = draw(st.sampled_from([None, 40.0, 45.0, 52.0, 58.0]))  # a later value against a baseline of 62
    if serial is not None:
        b.lvef(62.0, "2023-12-20")
    if lvef is not None:
        b.lvef(lvef, "2026-06-01")
    if serial is not None:
        b.lvef(serial, "2026-09-01")
    present = {}
    for cls in ("HeartFailure", "SignificantLVEFDecline", "Pregnancy", "InterstitialLungDisease"):
        status = draw(st.sampled_from([None, None, None, None, "active", "resolved", "remission"]))
        if status is None and cls != "HeartFailure":
            continue
        if cls == "HeartFailure" and status is None and not draw(st.booleans()):
            continue
        b.condition(cls, "2025-03-01", status=status, abated="2025-09-01" if status in ("resolved", "remission") else None)
        present[cls] = status not in ("resolved", "remission")
    progressed: set[str] = set()
    on_antibody = False
    if draw(st.booleans()):
        site = draw(st.sampled_from(["BoneMetastasis", "BrainMetastasis", "LiverMetastasis"]))
        b.metastatic("2024-01-10", site)
        later = draw(st.sampled_from([["tucatinib", "trastuzumab", "capecitabine"], ["lapatinib", "capecitabine"], ["neratinib", "capecitabine"]]))
        regimens = [["trastuzumab", "pertuzumab", "docetaxel"], ["trastuzumab-deruxtecan"], ["trastuzumab-emtansine"], later]
        lines = draw(st.integers(0, 4))
        for i in range(lines):
            recorded = draw(st.booleans())
            for drug in regimens[i]:
                b.therapy(drug, "metastatic", f"{2024 + i // 2}-{2 + 6 * (i % 2):02d}-01", f"{2024 + i // 2}-{7 + 6 * (i % 2) - 1:02d}-01",
                          ended_by="progression" if recorded else None)
            if not recorded or draw(st.booleans()):
                b.progression(f"{2024 + i // 2}-{7 + 6 * (i % 2) - 1:02d}-01")
            progressed.update(regimens[i])
            on_antibody = True
        if lines == 0 and draw(st.booleans()):  # maintenance: the taxane has ended, the antibodies go on
            b.therapy("trastuzumab", "metastatic", "2024-02-01", None, ongoing=True).therapy("pertuzumab", "metastatic", "2024-02-01", None, ongoing=True)
            b.therapy("paclitaxel", "metastatic", "2024-02-01", "2024-07-01", ended_by="completion")
            on_antibody = True
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
    fall = serial is not None and on_antibody and (62.0 - serial >= 16 or (62.0 - serial >= 10 and serial < 50))
    facts = Facts(
        her2=her2,
        heart_failure=present.get("HeartFailure", False),
        lvef_decline=present.get("SignificantLVEFDecline", False) or fall,
        pregnant=present.get("Pregnancy", False),
        ild="InterstitialLungDisease" in present,
        progressed_on=frozenset(progressed),
    )
    if draw(st.booleans()) and draw(st.booleans()):
        drugs = draw(st.sampled_from([["doxorubicin", "cyclophosphamide", "trastuzumab"], ["trastuzumab", "pertuzumab", "docetaxel"], ["trastuzumab-emtansine"]]))
        b.plan([(d, "2026-12-01", "2027-03-01") for d in drugs])
    return facts, b


def cohorts(size: int) -> st.SearchStrategy[list[tuple[Facts, PatientBuilder]]]:
    return st.tuples(*[patients(f"h{i}") for i in range(size)]).map(list)
