"""Patient isolation by construction: no input can change another patient's report.

A patient file's patients are the exact IRIs `https://w3id.org/her2kg/patient/<id>` it declares
`a h:Patient` with an `h:patientId`; it may state facts only about them and nodes under them.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from her2kg.patients import read_turtle
from her2kg.pipeline import recommend_files, recommend_texts
from her2kg.resources import examples_dir

AS_OF = date(2026, 11, 1)
VICTIM_ID = "example-met-1l"
VICTIM = f"https://w3id.org/her2kg/patient/{VICTIM_ID}"
PREFIXES = "@prefix h: <https://w3id.org/her2kg/> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"


def _victim_text() -> str:
    return (examples_dir() / "metastatic-first-line.ttl").read_text(encoding="utf-8")


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    report = dict(report)
    report.pop("source", None)
    return report


def _victim_report(reports: list[Any]) -> dict[str, Any]:
    mine = [r.to_json() for r in reports if r.patient == VICTIM_ID]
    assert len(mine) == 1, [r.patient for r in reports]
    return _comparable(mine[0])


@pytest.fixture(scope="module")
def victim_alone() -> dict[str, Any]:
    return _victim_report(recommend_texts([("victim.ttl", "turtle", _victim_text())], as_of=AS_OF))


HEART_FAILURE_ON_VICTIM = f"""
<{VICTIM}> h:hasCondition <{VICTIM}/condition/99> .
<{VICTIM}/condition/99> a h:HeartFailure ; h:onsetDate "2026-10-01"^^xsd:date .
<{VICTIM}/observation/5> h:percentValue 20.0 .
"""

ATTACKS = {
    "namespace-as-patient": f"""<https://w3id.org/her2kg/patient> a h:Patient ; h:patientId "x" .{HEART_FAILURE_ON_VICTIM}""",
    "base-with-slash-as-patient": f"""<https://w3id.org/her2kg/patient/> a h:Patient ; h:patientId "x" .{HEART_FAILURE_ON_VICTIM}""",
    "relative-base": f"""@base <https://w3id.org/her2kg/patient/> .\n<> a h:Patient ; h:patientId "x" .{HEART_FAILURE_ON_VICTIM}""",
    "bare-base": f"""<https://w3id.org/her2kg/> a h:Patient ; h:patientId "x" .{HEART_FAILURE_ON_VICTIM}""",
    "prefix-of-the-victim": f"""<https://w3id.org/her2kg/patient/example-met> a h:Patient ; h:patientId "example-met" .{HEART_FAILURE_ON_VICTIM}""",
    "own-patient-pointing-at-victim-nodes": """<https://w3id.org/her2kg/patient/attacker> a h:Patient ; h:patientId "attacker" ;
        h:hasObservation <https://w3id.org/her2kg/patient/example-met-1l/observation/5> ."""
    + HEART_FAILURE_ON_VICTIM,
    "patient-without-id": f"""<https://w3id.org/her2kg/patient/anon> a h:Patient .{HEART_FAILURE_ON_VICTIM}""",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_attacker_file_cannot_change_the_victims_report(name: str, victim_alone: dict[str, Any]) -> None:
    attacker = PREFIXES + ATTACKS[name]
    for order in ((0, 1), (1, 0)):
        documents = [("victim.ttl", "turtle", _victim_text()), ("attacker.ttl", "turtle", attacker)]
        reports = recommend_texts([documents[i] for i in order], as_of=AS_OF)
        assert _victim_report(reports) == victim_alone, name


@pytest.mark.parametrize(
    "iri",
    [
        "https://w3id.org/her2kg/patient",
        "https://w3id.org/her2kg/patient/",
        "https://w3id.org/her2kg/",
        "https://w3id.org/her2kg/patient/a/b",
        "https://example.org/patient/1",
    ],
)
def test_only_single_segment_patient_iris_are_patients(iri: str) -> None:
    read = read_turtle("x.ttl", (PREFIXES + f'<{iri}> a h:Patient ; h:patientId "p" .').encode())
    assert read.patient_iris == ()
    assert read.notices[0].code == "no-patient"


def test_dropped_triples_are_counted_in_a_warning() -> None:
    read = read_turtle("attacker.ttl", (PREFIXES + ATTACKS["own-patient-pointing-at-victim-nodes"]).encode())
    assert read.patient_iris == ("https://w3id.org/her2kg/patient/attacker",)
    warning = [n for n in read.notices if n.code == "ignored-triples"]
    # the link to the victim's observation, and the 4 facts about the victim's nodes
    assert warning and warning[0].message.startswith("5 triple(s)")


def test_a_claimed_victim_iri_makes_both_files_errors(tmp_path: Path) -> None:
    victim = tmp_path / "victim.ttl"
    victim.write_text(_victim_text(), encoding="utf-8")
    attacker = tmp_path / "attacker.ttl"
    attacker.write_text(PREFIXES + f'<{VICTIM}> a h:Patient ; h:patientId "{VICTIM_ID}" .' + HEART_FAILURE_ON_VICTIM, encoding="utf-8")
    for paths in ([victim, attacker], [attacker, victim]):
        reports = recommend_files([str(p) for p in paths], as_of=AS_OF)
        assert len(reports) == 2
        for report in reports:
            assert [e.code for e in report.errors] == ["duplicate-patient"]
            assert not report.permitted


def test_a_multi_patient_document_gives_one_report_per_patient() -> None:
    two = _victim_text() + "\n" + _victim_text().replace("example-met-1l", "second-patient")
    reports = recommend_texts([("two.ttl", "turtle", two)], as_of=AS_OF)
    assert sorted(r.patient for r in reports) == ["example-met-1l", "second-patient"]


def _many_patients(count: int) -> bytes:
    lines = [PREFIXES]
    for i in range(count):
        iri = f"https://w3id.org/her2kg/patient/p{i}"
        lines.append(f'<{iri}> a h:Patient ; h:patientId "p{i}" ; h:hasObservation <{iri}/observation/1> .')
        lines.append(f"<{iri}/observation/1> a h:LVEFMeasurement ; h:percentValue 60.0 .")
    return "\n".join(lines).encode()


@pytest.mark.slow
def test_reading_many_patients_in_one_file_is_linear() -> None:
    def seconds(count: int) -> float:
        data = _many_patients(count)
        started = time.perf_counter()
        read = read_turtle("many.ttl", data)
        elapsed = time.perf_counter() - started
        assert len(read.patient_iris) == count and not read.notices
        return elapsed

    seconds(200)  # warm the vocabulary cache
    small, large = min(seconds(1000) for _ in range(2)), min(seconds(4000) for _ in range(2))
    assert large < 8 * small + 0.05, f"1,000 patients {small:.3f} s, 4,000 patients {large:.3f} s: not linear"
    assert seconds(2000) < 2.0


# -- generated attackers --------------------------------------------------------------------------

_SUBJECTS = [
    VICTIM,
    f"{VICTIM}/observation/5",
    f"{VICTIM}/condition/2",
    f"{VICTIM}/new-node",
    "https://w3id.org/her2kg/patient",
    "https://w3id.org/her2kg/patient/",
    "https://w3id.org/her2kg/",
    "https://w3id.org/her2kg/patient/attacker",
    "https://w3id.org/her2kg/patient/attacker/observation/1",
    "https://w3id.org/her2kg/patient/example-met",
    "https://w3id.org/her2kg/trastuzumab",
    "https://w3id.org/her2kg/HeartFailure",
]
_FACTS = [
    "a h:Patient",
    'h:patientId "attacker"',
    f'h:patientId "{VICTIM_ID}x"',
    f"h:hasCondition <{VICTIM}/condition/99>",
    "h:hasCondition <https://w3id.org/her2kg/patient/attacker/condition/1>",
    f"h:hasObservation <{VICTIM}/observation/5>",
    "a h:HeartFailure",
    "a h:Pregnancy",
    "a h:LVEFMeasurement",
    "h:percentValue 20.0",
    'h:onsetDate "2026-10-01"^^xsd:date',
    'h:effectiveDate "2026-10-02"^^xsd:date',
    "h:result h:ihc-0",
    "h:result h:negative",
    "a h:InterstitialLungDisease",
]


@st.composite
def attacker_files(draw: st.DrawFn) -> str:
    statements = draw(
        st.lists(st.tuples(st.sampled_from(_SUBJECTS), st.sampled_from(_FACTS)), min_size=1, max_size=12)
    )
    base = draw(st.sampled_from(["", "@base <https://w3id.org/her2kg/patient/> .\n", f"@base <{VICTIM}/> .\n"]))
    relative = draw(st.sampled_from(["", '<> a h:Patient ; h:patientId "rel" .\n', '<x> a h:Patient ; h:patientId "x" .\n']))
    body = "\n".join(f"<{subject}> {fact} ." for subject, fact in statements)
    return PREFIXES + base + relative + body


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(attacker=attacker_files(), victim_first=st.booleans())
def test_random_attacker_files_never_change_the_victims_report(
    attacker: str, victim_first: bool, victim_alone: dict[str, Any]
) -> None:
    documents = [("victim.ttl", "turtle", _victim_text()), ("attacker.ttl", "turtle", attacker)]
    if not victim_first:
        documents.reverse()
    reports = recommend_texts(documents, as_of=AS_OF)
    # a file declares a patient with `a h:Patient` and any h:patientId
    claims_victim = f"<{VICTIM}> a h:Patient" in attacker and f"<{VICTIM}> h:patientId " in attacker
    victim = [r for r in reports if r.source == "victim.ttl"]
    if claims_victim:  # the attacker claimed the victim's own IRI: neither file is reasoned
        assert [e.code for e in victim[0].errors] == ["duplicate-patient"] and not victim[0].permitted
        return
    assert _comparable(victim[0].to_json()) == victim_alone


def test_cohort_chunk_and_served_patients_are_isolated(tmp_path: Path, victim_alone: dict[str, Any]) -> None:
    from her2kg.cohort import CohortOptions, run_cohort
    from her2kg.server.dataset import build_served_data

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-attacker.ttl").write_text(PREFIXES + ATTACKS["namespace-as-patient"], encoding="utf-8")
    (folder / "b-victim.ttl").write_text(_victim_text(), encoding="utf-8")
    output = tmp_path / "out.jsonl"
    run_cohort(folder, output, CohortOptions(as_of=AS_OF, chunk_size=10))
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    victim = [line for line in lines if line.get("patient") == VICTIM_ID]
    assert len(victim) == 1 and _comparable(victim[0]) == victim_alone

    served = build_served_data(folder, as_of=AS_OF)
    assert f"<{VICTIM}/condition/99>".encode() not in served.nquads
    assert b'"20.0"' not in served.nquads and b"20.0e0" not in served.nquads.lower()


def test_fhir_input_keeps_only_its_own_patients_triples(monkeypatch: pytest.MonkeyPatch) -> None:
    import her2kg.fhir
    from her2kg.patients import read_fhir

    real = her2kg.fhir.import_bundle
    own = "https://w3id.org/her2kg/patient/own"

    def with_foreign_triples(bundle: Any, **kwargs: Any) -> Any:
        result = real(bundle, **kwargs)
        extra = (
            f"<{VICTIM}/condition/9> <https://w3id.org/her2kg/onsetDate> \"2026-10-01\" .\n"
            f"<{own}> <https://w3id.org/her2kg/hasCondition> <{VICTIM}/condition/9> .\n"
        )
        return type(result)(**{**result.__dict__, "ntriples": result.ntriples + extra})

    monkeypatch.setattr(her2kg.fhir, "import_bundle", with_foreign_triples)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient", "id": "own"}}]}
    read = read_fhir("own.json", json.dumps(bundle).encode())
    assert read.patient_iris == (own,)
    assert VICTIM not in read.ntriples
    assert f"<{own}>" in read.ntriples
