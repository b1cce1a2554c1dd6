"""Content tests of the knowledge base: drug codes, recommendations, regimens, statements,
labels and definitions."""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

from her2kg.knowledge import knowledge_ntriples
from her2kg.stores.embedded import EmbeddedStore
from her2kg.vocabulary import BASE
from shared_files import SHARED_DIR

CODES_TSV = SHARED_DIR / "spec" / "codes.tsv"
UNVERIFIED_COLUMNS = {("trastuzumab-emtansine", "rxnorm_ingredient")}
PREFIXES = f"""
PREFIX h: <{BASE}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""


@cache
def store() -> EmbeddedStore:
    s = EmbeddedStore()
    s.load_ntriples(knowledge_ntriples())
    return s


def select(body: str) -> list[dict[str, str]]:
    return store().select(PREFIXES + body)


def ask(body: str) -> bool:
    return bool(store().native.query(PREFIXES + body))


def local(iri: str) -> str:
    return iri[len(BASE) :] if iri.startswith(BASE) else iri


def codes_rows() -> list[dict[str, str]]:
    if not CODES_TSV.is_file():
        pytest.skip(f"the shared drug list {CODES_TSV.name} is not beside the checkout")
    lines = [line for line in CODES_TSV.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def notations(subject: str) -> dict[str, set[str]]:
    rows = select(f"SELECT ?code ?system WHERE {{ <{subject}> skos:notation ?code . BIND (DATATYPE(?code) AS ?system) }}")
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        out[local(row["system"])].add(row["code"])
    return out


# --- drugs ------------------------------------------------------------------------------------


def test_every_listed_drug_has_the_listed_codes() -> None:
    rows = codes_rows()
    assert len(rows) == 24
    for row in rows:
        iri = BASE + row["key"]
        assert ask(f"ASK {{ <{iri}> a/rdfs:subClassOf* h:Drug }}"), f"{row['key']} is not a drug"
        codes = notations(iri)
        for column, system in (("ncit", "NCIt"), ("rxnorm_ingredient", "RxNorm"), ("snomed_substance", "SNOMEDCT")):
            if (row["key"], column) in UNVERIFIED_COLUMNS:
                continue
            expected = row[column].strip()
            if expected:
                assert codes.get(system) == {expected}, f"{row['key']}: {system} {codes.get(system)} != {expected}"
            else:
                assert system not in codes, f"{row['key']}: unexpected {system} code {codes[system]}"


def test_tdm1_rxnorm_ingredient_is_the_confirmed_one_with_its_source() -> None:
    """The project's list marks the T-DM1 RxNorm ingredient unverified; it was confirmed as 1371041
    ("ado-trastuzumab emtansine") and carries the source of that confirmation."""
    assert notations(BASE + "trastuzumab-emtansine").get("RxNorm") == {"1371041"}
    assert ask(
        """ASK { ?a owl:annotatedSource h:trastuzumab-emtansine ; owl:annotatedProperty skos:notation ;
                  owl:annotatedTarget "1371041"^^h:RxNorm ; dcterms:source ?s }"""
    )


ATC_CODES = {
    "trastuzumab": "L01FD01",
    "pertuzumab": "L01FD02",
    "trastuzumab-emtansine": "L01FD03",
    "trastuzumab-deruxtecan": "L01FD04",
    "margetuximab": "L01FD06",
    "lapatinib": "L01EH01",
    "neratinib": "L01EH02",
    "tucatinib": "L01EH03",
    "docetaxel": "L01CD02",
    "paclitaxel": "L01CD01",
    "capecitabine": "L01BC06",
    "vinorelbine": "L01CA04",
    "gemcitabine": "L01BC05",
    "eribulin": "L01XX41",
    "carboplatin": "L01XA02",
    "cyclophosphamide": "L01AA01",
    "doxorubicin": "L01DB01",
    "epirubicin": "L01DB03",
    "tamoxifen": "L02BA01",
    "letrozole": "L02BG04",
    "anastrozole": "L02BG03",
    "exemestane": "L02BG06",
    "fulvestrant": "L02BA03",
}


def test_every_listed_drug_has_its_atc_code() -> None:
    """One WHO ATC code per drug; nab-paclitaxel has none of its own (ATC gives every paclitaxel
    formulation L01CD01, which maps to paclitaxel only, so that a code names one drug)."""
    rows = codes_rows()
    for row in rows:
        expected = ATC_CODES.get(row["key"])
        assert notations(BASE + row["key"]).get("ATC") == ({expected} if expected else None), row["key"]
    assert set(ATC_CODES) == {row["key"] for row in rows} - {"nab-paclitaxel"}


def test_every_listed_drug_has_one_label_and_an_ncit_exact_match() -> None:
    for row in codes_rows():
        iri = BASE + row["key"]
        labels = select(f"SELECT ?l WHERE {{ <{iri}> rdfs:label ?l }}")
        assert [r["l"] for r in labels] == [row["label"].split(" (")[0]]
        match = select(f"SELECT ?m WHERE {{ <{iri}> skos:exactMatch ?m }}")
        assert [r["m"] for r in match] == [f"http://purl.obolibrary.org/obo/NCIT_{row['ncit']}"]


def test_drugs_are_typed_with_their_class() -> None:
    expected = {
        "trastuzumab": "AntiHER2MonoclonalAntibody",
        "pertuzumab": "AntiHER2MonoclonalAntibody",
        "margetuximab": "AntiHER2MonoclonalAntibody",
        "trastuzumab-emtansine": "AntiHER2AntibodyDrugConjugate",
        "trastuzumab-deruxtecan": "AntiHER2AntibodyDrugConjugate",
        "lapatinib": "HER2TyrosineKinaseInhibitor",
        "tucatinib": "HER2TyrosineKinaseInhibitor",
        "neratinib": "HER2TyrosineKinaseInhibitor",
        "docetaxel": "Taxane",
        "paclitaxel": "Taxane",
        "nab-paclitaxel": "Taxane",
        "capecitabine": "Fluoropyrimidine",
        "vinorelbine": "VincaAlkaloid",
        "gemcitabine": "Antimetabolite",
        "eribulin": "MicrotubuleInhibitor",
        "carboplatin": "PlatinumAgent",
        "cyclophosphamide": "AlkylatingAgent",
        "doxorubicin": "Anthracycline",
        "epirubicin": "Anthracycline",
        "tamoxifen": "SelectiveEstrogenReceptorModulator",
        "letrozole": "AromataseInhibitor",
        "anastrozole": "AromataseInhibitor",
        "exemestane": "AromataseInhibitor",
        "fulvestrant": "SelectiveEstrogenReceptorDegrader",
    }
    for key, cls in expected.items():
        assert ask(f"ASK {{ h:{key} a h:{cls} }}"), f"{key} is not a {cls}"
    assert ask("ASK { h:nab-paclitaxel h:formulationOf h:paclitaxel }")


def test_boxed_warnings_have_a_label_source() -> None:
    rows = select(
        """SELECT ?drug ?warning WHERE {
             ?drug h:hasBoxedWarning ?warning .
             FILTER NOT EXISTS { ?warning a h:BoxedWarning ; dcterms:source ?s . ?s a h:LabelSource }
           }"""
    )
    assert not rows, rows
    drugs = {local(r["drug"]) for r in select("SELECT DISTINCT ?drug WHERE { ?drug h:hasBoxedWarning ?w }")}
    assert drugs == {"trastuzumab", "pertuzumab", "trastuzumab-emtansine", "trastuzumab-deruxtecan"}


# --- recommendations --------------------------------------------------------------------------

REQUIRED_RECOMMENDATION_PROPERTIES = (
    "recommendsRegimen",
    "forDecisionPoint",
    "preference",
    "evidenceQuality",
    "recommendationStrength",
    "validFrom",
)


def recommendations() -> list[str]:
    return [r["r"] for r in select("SELECT ?r WHERE { ?r a h:Recommendation }")]


def test_there_are_recommendations() -> None:
    assert len(recommendations()) >= 30


@pytest.mark.parametrize("prop", REQUIRED_RECOMMENDATION_PROPERTIES)
def test_every_recommendation_has_exactly_one(prop: str) -> None:
    rows = select(
        f"""SELECT ?r (COUNT(?v) AS ?n) WHERE {{
              ?r a h:Recommendation . OPTIONAL {{ ?r h:{prop} ?v }}
            }} GROUP BY ?r"""
    )
    bad = [(local(r["r"]), r["n"]) for r in rows if r["n"] != "1"]
    assert not bad, f"recommendations without exactly one h:{prop}: {bad}"


def test_recommendation_values_have_the_right_types() -> None:
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:Recommendation ;
                h:recommendsRegimen ?regimen ; h:forDecisionPoint ?dp ; h:preference ?pref ;
                h:evidenceQuality ?q ; h:recommendationStrength ?s ; h:validFrom ?from .
             FILTER NOT EXISTS {
               ?regimen a h:Regimen . ?dp a h:DecisionPoint . ?pref a h:Preference .
               ?q a h:EvidenceQuality ; h:inScheme ?scheme . ?s a h:RecommendationStrength ; h:inScheme ?scheme .
               FILTER (DATATYPE(?from) = xsd:date)
             }
           }"""
    )
    assert not rows, f"recommendations with mistyped values or mixed grading schemes: {rows}"


def test_every_recommendation_has_a_source_and_a_statement() -> None:
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:Recommendation .
             FILTER NOT EXISTS { ?r dcterms:source ?s . ?s a/rdfs:subClassOf* h:Source }
           }"""
    )
    assert not rows, f"recommendations without a source: {rows}"
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:Recommendation .
             FILTER NOT EXISTS { ?r h:encodesStatement ?s . ?s a h:ClinicalStatement }
           }"""
    )
    assert not rows, f"recommendations without a statement: {rows}"


def test_recommendation_conditions_name_existing_terms() -> None:
    rows = select(
        """SELECT ?r ?c WHERE {
             { ?r h:requiresPatientClass ?c } UNION { ?r h:excludedForPatientClass ?c }
             FILTER NOT EXISTS { ?c rdfs:subClassOf+ h:DerivedPatientClass }
           }"""
    )
    assert not rows, f"conditions naming no derived patient class: {rows}"
    rows = select(
        """SELECT ?r ?d WHERE {
             { ?r h:notIfReceived ?d } UNION { ?r h:requiresUnavailable ?d }
             FILTER NOT EXISTS { ?d a/rdfs:subClassOf* h:Drug }
           }"""
    )
    assert not rows, f"conditions naming no drug: {rows}"


def test_newer_approvals_are_dated_by_their_approval() -> None:
    expected = {
        "rec-met-l1-tdxd-pertuzumab": "2025-12-15",
        "rec-adj-residual-tdxd": "2026-05-15",
        "rec-neo-tdxd-then-thp": "2026-05-15",
        "rec-met-l1-thp": "2012-06-08",
        "rec-met-l2-tdxd": "2022-05-04",
        "rec-adj-residual-tdm1": "2019-05-03",
    }
    for rec, date in expected.items():
        assert ask(f'ASK {{ h:{rec} h:validFrom "{date}"^^xsd:date }}'), rec


# --- regimens ---------------------------------------------------------------------------------


def test_every_regimen_has_components_and_a_statement() -> None:
    rows = select(
        """SELECT ?g WHERE {
             ?g a h:Regimen .
             FILTER NOT EXISTS { ?g h:hasComponent ?c . ?c a h:RegimenComponent }
           }"""
    )
    assert not rows, rows
    rows = select("SELECT ?g WHERE { ?g a h:Regimen . FILTER NOT EXISTS { ?g h:encodesStatement ?s } }")
    assert not rows, rows


def test_every_component_has_a_drug_or_at_least_two_options() -> None:
    rows = select(
        """SELECT ?c (COUNT(DISTINCT ?d) AS ?drugs) (COUNT(DISTINCT ?o) AS ?options) (COUNT(DISTINCT ?l) AS ?labels)
           WHERE {
             ?c a h:RegimenComponent .
             OPTIONAL { ?c h:drug ?d } OPTIONAL { ?c h:drugOption ?o } OPTIONAL { ?c h:choiceLabel ?l }
           } GROUP BY ?c"""
    )
    assert rows
    for row in rows:
        drugs, options, labels = int(row["drugs"]), int(row["options"]), int(row["labels"])
        single = drugs == 1 and options == 0 and labels == 0
        choice = drugs == 0 and options >= 2 and labels == 1
        assert single or choice, f"{local(row['c'])}: {drugs} drug(s), {options} option(s), {labels} choice label(s)"


def test_every_component_has_one_step_and_belongs_to_one_regimen() -> None:
    rows = select(
        """SELECT ?c (COUNT(DISTINCT ?s) AS ?steps) (COUNT(DISTINCT ?g) AS ?regimens) WHERE {
             ?c a h:RegimenComponent . OPTIONAL { ?c h:step ?s } OPTIONAL { ?g h:hasComponent ?c }
           } GROUP BY ?c"""
    )
    bad = [(local(r["c"]), r["steps"], r["regimens"]) for r in rows if r["steps"] != "1" or r["regimens"] != "1"]
    assert not bad, bad


def test_doses_belong_to_a_drug_of_their_component() -> None:
    rows = select(
        """SELECT ?c ?dose WHERE {
             ?c h:hasDose ?dose .
             FILTER NOT EXISTS {
               ?dose a h:DoseSpecification ; h:drug ?d ; h:doseAmount ?a ; h:doseUnit ?u ; h:route ?r .
               ?c h:drug|h:drugOption ?d . ?u a h:DoseUnit . ?r a h:Route .
               FILTER (?a > 0)
             }
           }"""
    )
    assert not rows, rows


def test_no_regimen_gives_an_anthracycline_with_a_her2_antibody_at_one_step() -> None:
    rows = select(
        """SELECT ?g WHERE {
             ?g h:hasComponent ?a, ?b . ?a h:step ?s ; h:drug|h:drugOption ?x . ?b h:step ?s ; h:drug|h:drugOption ?y .
             ?x a/rdfs:subClassOf* h:Anthracycline . ?y a/rdfs:subClassOf* h:AntiHER2AntibodyBasedAgent .
           }"""
    )
    assert not rows, rows


def test_first_line_thp_keeps_trastuzumab_and_pertuzumab_as_maintenance() -> None:
    rows = select(
        "SELECT ?d WHERE { h:regimen-thp h:hasComponent ?c . ?c h:continuesAsMaintenance true ; h:drug ?d }"
    )
    assert {local(r["d"]) for r in rows} == {"trastuzumab", "pertuzumab"}


# --- statements, sources, safety --------------------------------------------------------------


def test_every_statement_exists_and_is_encoded() -> None:
    for n in range(1, 23):
        sid = f"S{n:02d}"
        assert ask(f'ASK {{ h:{sid} a h:ClinicalStatement ; h:statementId "{sid}" }}'), sid
        assert ask(f"ASK {{ ?term h:encodesStatement h:{sid} . FILTER (?term != h:{sid}) }}"), f"{sid} is not encoded"


def test_every_cited_source_is_a_source() -> None:
    rows = select(
        f"""SELECT DISTINCT ?s WHERE {{
              {{ ?t dcterms:source ?s }} UNION {{ ?t h:alternativeValueSource ?s }}
              FILTER (STRSTARTS(STR(?s), "{BASE}"))
              FILTER NOT EXISTS {{ ?s a/rdfs:subClassOf* h:Source }}
            }}"""
    )
    assert not rows, rows


def test_source_identifiers_are_well_formed() -> None:
    for row in select("SELECT ?s ?v WHERE { ?s h:pmid ?v }"):
        assert row["v"].isdigit(), row
    for row in select("SELECT ?s ?v WHERE { ?s h:doi ?v }"):
        assert row["v"].startswith("10."), row
    for row in select("SELECT ?s ?v WHERE { ?s h:nctId ?v }"):
        assert row["v"].startswith("NCT") and row["v"][3:].isdigit() and len(row["v"]) == 11, row


def test_safety_rules_are_complete() -> None:
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:ContraindicationRule .
             FILTER NOT EXISTS {
               ?r h:appliesToPatientClass ?c ; h:safetyAction ?a ; dcterms:source ?s ; h:encodesStatement ?st .
               ?a a h:SafetyAction .
               { ?r h:contraindicatedDrugClass ?k } UNION { ?r h:contraindicatedDrug ?k }
             }
           }"""
    )
    assert not rows, rows
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:CombinationRule .
             FILTER NOT EXISTS {
               ?r h:firstDrugClass|h:firstDrug ?a ; h:secondDrugClass|h:secondDrug ?b ; h:verdict ?v ;
                  dcterms:source ?s ; h:encodesStatement ?st .
             }
           }"""
    )
    assert not rows, rows
    rows = select(
        """SELECT ?r WHERE {
             ?r a h:MonitoringRequirement .
             FILTER NOT EXISTS {
               ?r h:monitoringTest ?t ; h:monitoringSchedule ?sch ; dcterms:source ?s ; h:encodesStatement ?st .
               { ?r h:monitoredDrugClass ?k } UNION { ?r h:monitoredDrug ?k }
             }
           }"""
    )
    assert not rows, rows


# --- labels and definitions -------------------------------------------------------------------


def terms() -> dict[str, str]:
    """Every her2kg IRI that is declared (typed), except ontology headers, with its kind."""
    rows = select(
        f"""SELECT DISTINCT ?t ?type WHERE {{
              ?t a ?type .
              FILTER (isIRI(?t) && STRSTARTS(STR(?t), "{BASE}"))
              FILTER NOT EXISTS {{ ?t a owl:Ontology }}
            }}"""
    )
    kinds: dict[str, str] = {}
    for row in rows:
        t, ty = row["t"], local(row["type"])
        if ty in ("http://www.w3.org/2002/07/owl#Class", "http://www.w3.org/2000/01/rdf-schema#Datatype"):
            kind = "class"
        elif ty.endswith(("Property",)) and ty.startswith("http://www.w3.org/2002/07/owl#"):
            kind = "property"
        else:
            kind = "individual"
        if kinds.get(t) in ("class", "property"):
            continue
        kinds[t] = kind
    return kinds


def test_every_term_has_exactly_one_label_and_one_definition() -> None:
    rows = select(
        f"""SELECT ?t (COUNT(DISTINCT ?l) AS ?labels) (COUNT(DISTINCT ?d) AS ?definitions) WHERE {{
              ?t a ?type .
              FILTER (isIRI(?t) && STRSTARTS(STR(?t), "{BASE}"))
              FILTER NOT EXISTS {{ ?t a owl:Ontology }}
              OPTIONAL {{ ?t rdfs:label ?l }} OPTIONAL {{ ?t skos:definition ?d }}
            }} GROUP BY ?t"""
    )
    bad = [(local(r["t"]), r["labels"], r["definitions"]) for r in rows if r["labels"] != "1" or r["definitions"] != "1"]
    assert not bad, f"terms without exactly one label and one definition: {bad}"


def test_labels_and_definitions_are_english_and_definitions_end_with_a_period() -> None:
    store_ = store().native
    query = PREFIXES + f"""SELECT ?t ?p ?v WHERE {{
        ?t ?p ?v . VALUES ?p {{ rdfs:label skos:definition }}
        FILTER (isIRI(?t) && STRSTARTS(STR(?t), "{BASE}"))
    }}"""
    for solution in store_.query(query):
        value = solution["v"]
        assert isinstance(value, ox.Literal) and value.language == "en", (solution["t"], value)
        if solution["p"].value.endswith("definition"):
            assert value.value.endswith("."), (solution["t"], value.value)


def test_no_two_terms_of_one_kind_share_a_label() -> None:
    """Labels are unique among classes, among properties and among individuals. A class and the
    property named after it (h:Drug and h:drug) may share a label; an individual may not share a
    label with any other term."""
    kinds = terms()
    rows = select(f'SELECT ?t ?l WHERE {{ ?t rdfs:label ?l . FILTER (STRSTARTS(STR(?t), "{BASE}")) }}')
    by_label: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["t"] in kinds:
            by_label[row["l"].casefold()].append(row["t"])
    clashes = []
    for label, holders in by_label.items():
        if len(holders) < 2:
            continue
        holder_kinds = [kinds[h] for h in holders]
        allowed = len(holders) == 2 and sorted(holder_kinds) == ["class", "property"]
        if not allowed:
            clashes.append((label, [local(h) for h in holders]))
    assert not clashes, f"shared labels: {clashes}"
