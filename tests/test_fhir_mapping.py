"""The FHIR code mapping lives in the knowledge base: every required code is mapped there, every
term the importer writes is declared there, and a notation added in Turtle changes the import."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from her2kg.fhir import CodeMapping, import_bundle, load_code_mapping, terms
from her2kg.knowledge import knowledge_ntriples
from her2kg.vocabulary import BASE
from shared_files import SHARED_DIR

SHARED = SHARED_DIR
FHIR_CODES = SHARED / "spec" / "fhir-codes.tsv"
DRUG_CODES = SHARED / "spec" / "codes.tsv"

SYSTEMS = {
    "LOINC": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "RXN": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "ICD10": "http://hl7.org/fhir/sid/icd-10-cm",
    "H2K": "https://w3id.org/her2kg/fhir/CodeSystem/her2kg",
}

# What each code of fhir-codes.tsv must mean (the table gives meanings in words).
EXPECTED = {
    ("LOINC", "48676-1"): "HER2StatusInterpretation",
    ("LOINC", "85319-2"): "HER2IHCTest",
    ("LOINC", "18474-7"): "HER2IHCTest",
    ("LOINC", "72383-3"): "HER2IHCTest",
    ("LOINC", "85318-4"): "HER2ISHTest",
    ("LOINC", "31150-6"): "HER2ISHTest",
    ("LOINC", "49683-6"): "HER2ISHTest",
    ("LOINC", "85337-4"): "EstrogenReceptorTest",
    ("LOINC", "16112-5"): "EstrogenReceptorTest",
    ("LOINC", "40556-3"): "EstrogenReceptorTest",
    ("LOINC", "85339-0"): "ProgesteroneReceptorTest",
    ("LOINC", "16113-3"): "ProgesteroneReceptorTest",
    ("LOINC", "40557-1"): "ProgesteroneReceptorTest",
    ("LOINC", "10480-2"): "CombinedHormoneReceptorTest",
    ("SCT", "10828004"): "positive",
    ("SCT", "260385009"): "negative",
    ("SCT", "42425007"): "equivocal",
    ("SCT", "82334004"): "indeterminate",
    ("LOINC", "LA6576-8"): "positive",
    ("LOINC", "LA6577-6"): "negative",
    ("LOINC", "LA11885-3"): "equivocal",
    ("LOINC", "10230-1"): "LVEFMeasurement",
    ("LOINC", "18043-0"): "LVEFMeasurement",
    ("LOINC", "21889-1"): "TumourSizeMeasurement",
    ("LOINC", "33728-7"): "sizeMillimetres",
    ("LOINC", "21908-9"): "StageGroupObservation",
    ("SCT", "399537006"): "StageGroupObservation",
    ("LOINC", "21905-5"): "PrimaryTumourCategory",
    ("LOINC", "21906-3"): "RegionalNodesCategory",
    ("LOINC", "21907-1"): "DistantMetastasisCategory",
    ("SCT", "399387003"): "DistantMetastasisCategory",
    ("SCT", "1229901006"): "m0",
    ("SCT", "1229903009"): "m1",
    ("SCT", "1229916009"): "m1",
    ("SCT", "30893008"): "m0",
    ("SCT", "1229967007"): "n0",
    ("SCT", "1229973008"): "n1",
    ("SCT", "1229978004"): "n2",
    ("SCT", "1229984001"): "n3",
    ("SCT", "399534004"): "RegionalNodesCategory",
    ("SCT", "399504009"): "PrimaryTumourCategory",
    ("LOINC", "97509-4"): "DiseaseStatusAssessment",
    ("SCT", "271299001"): "disease-progression",
    ("SCT", "268910001"): "disease-improved",
    ("SCT", "359746009"): "stable-disease",
    ("SCT", "258228008"): "stage-4",
    ("SCT", "254837009"): "BreastCancer",
    ("SCT", "353431000119107"): "BreastCancer",
    ("SCT", "408643008"): "BreastCancer",
    ("ICD10", "C50.911"): "BreastCancer",
    ("SCT", "427685000"): "HER2PositiveBreastCancer",
    ("SCT", "431396003"): "HER2NegativeBreastCancer",
    ("SCT", "94225005"): "BrainMetastasis",
    ("SCT", "94381002"): "LiverMetastasis",
    ("SCT", "94222008"): "BoneMetastasis",
    ("SCT", "94391008"): "LungMetastasis",  # confirmed before mapping (see fhir-mapping.ttl)
    ("SCT", "94181007"): "RegionalNodalMetastasis",
    ("SCT", "42343007"): "HeartFailure",
    ("SCT", "84114007"): "HeartFailure",
    ("ICD10", "I50.22"): "HeartFailure",
    ("SCT", "77386006"): "Pregnancy",
    ("SCT", "233703007"): "InterstitialLungDisease",
    ("SCT", "205237003"): "InterstitialLungDisease",  # confirmed before mapping
    ("SCT", "64368001"): "BreastCancerSurgery",
    ("SCT", "392021009"): "BreastCancerSurgery",
    ("H2K", "pathologic-response"): "PathologicResponseAssessment",
    ("H2K", "residual-invasive-disease"): "residual-invasive-disease",
    ("H2K", "pathologic-complete-response"): "pathologic-complete-response",
    ("H2K", "disease-burden"): "DiseaseBurdenAssessment",
    ("H2K", "low"): "low-burden",
    ("H2K", "high"): "high-burden",
    ("H2K", "drug-unavailable"): "drugUnavailable",
    ("H2K", "lvef-significant-decline"): "SignificantLVEFDecline",
    ("H2K", "neoadjuvant"): "neoadjuvant-phase",
    ("H2K", "adjuvant"): "adjuvant-phase",
    ("H2K", "metastatic"): "metastatic-phase",
}

PRODUCTS = {
    "1922509": "trastuzumab",
    "1658084": "trastuzumab-emtansine",
    "1790099": "doxorubicin",
    "583214": "paclitaxel",
    "1734919": "cyclophosphamide",
    "198240": "tamoxifen",
    "199224": "anastrozole",
    "200064": "letrozole",
    "310261": "exemestane",
    "672149": "lapatinib",
}


@pytest.fixture(scope="module")
def mapping() -> CodeMapping:
    return load_code_mapping()


@pytest.fixture(scope="module")
def kb() -> ox.Store:
    store = ox.Store()
    store.bulk_load(knowledge_ntriples().encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def _rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


@pytest.mark.shared
def test_every_code_of_the_fhir_code_table_has_an_expectation() -> None:
    listed = set()
    for row in _rows(FHIR_CODES):
        if (
            row["resource"] != "Extension"
            and row["system"] in SYSTEMS
            and row["code"]
            and not row["code"].startswith("(")
        ):
            listed.add((row["system"], row["code"]))
    missing = {key for key in listed if key not in EXPECTED and key[0] != "RXN"}
    assert not missing, f"add these fhir-codes.tsv codes to EXPECTED: {sorted(missing)}"


@pytest.mark.parametrize(("key", "local"), sorted(EXPECTED.items()))
def test_fhir_code_table_codes_map_to_their_concept(mapping: CodeMapping, key: tuple[str, str], local: str) -> None:
    system, code = key
    found = [c.iri for c in mapping.lookup(SYSTEMS[system], code)]
    assert BASE + local in found, f"{system} {code} maps to {found}, expected h:{local}"


@pytest.mark.parametrize(("code", "drug"), sorted(PRODUCTS.items()))
def test_products_of_the_table_map_to_their_ingredient(mapping: CodeMapping, code: str, drug: str) -> None:
    products = [c for c in mapping.lookup(SYSTEMS["RXN"], code) if c.is_a(terms.DRUG_PRODUCT)]
    assert products, f"RxNorm {code} is not a drug product of the knowledge base"
    assert products[0].ingredients == (BASE + drug,)


@pytest.mark.shared
def test_every_verified_drug_ingredient_code_maps_to_its_drug(mapping: CodeMapping) -> None:
    problems = []
    for row in _rows(DRUG_CODES):
        code = row["rxnorm_ingredient"].strip()
        if not code or "unverified" in code:
            continue
        found = [c.iri for c in mapping.lookup(SYSTEMS["RXN"], code) if c.is_a(terms.DRUG)]
        if found != [BASE + row["key"]]:
            problems.append(f"RxNorm {code} -> {found}, expected h:{row['key']}")
    assert not problems, "; ".join(problems)


def test_every_product_ingredient_is_a_declared_drug(kb: ox.Store) -> None:
    query = f"""
    PREFIX h: <{BASE}>
    SELECT ?product ?ingredient WHERE {{
      ?product a h:DrugProduct ; h:hasActiveIngredient ?ingredient .
      FILTER NOT EXISTS {{ ?ingredient a ?cls . ?cls <http://www.w3.org/2000/01/rdf-schema#subClassOf>* h:Drug }}
    }}"""
    dangling = [(s["product"].value, s["ingredient"].value) for s in kb.query(query)]
    assert not dangling, f"products whose ingredient is not a drug of drugs.ttl: {dangling}"


def test_every_notation_datatype_names_its_code_system(kb: ox.Store) -> None:
    query = f"""
    PREFIX h: <{BASE}>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    SELECT DISTINCT ?dt WHERE {{
      ?c skos:notation ?code . BIND(DATATYPE(?code) AS ?dt)
      FILTER(STRSTARTS(STR(?dt), "{BASE}"))
      FILTER NOT EXISTS {{ ?dt h:codeSystemUri ?system }}
    }}"""
    assert [s["dt"].value for s in kb.query(query)] == []


def test_every_term_the_importer_writes_is_declared(kb: ox.Store) -> None:
    names = [
        value
        for name, value in vars(terms).items()
        if name.isupper() and isinstance(value, str) and value.startswith(BASE)
    ]
    names = [iri for iri in names if iri != BASE and not iri.startswith(BASE + "fhir/")]
    undeclared = [
        iri
        for iri in names
        if not any(True for _ in kb.quads_for_pattern(ox.NamedNode(iri), ox.NamedNode(terms.RDF_TYPE), None))
    ]
    assert not undeclared, f"terms used by the importer but not declared in ontology/: {undeclared}"


def test_icd10_prefixes_match_subcodes_only(mapping: CodeMapping) -> None:
    assert [c.iri for c in mapping.lookup(SYSTEMS["ICD10"], "C50.912")] == [BASE + "BreastCancer"]
    assert [c.iri for c in mapping.lookup(SYSTEMS["ICD10"], "C78.02")] == [BASE + "LungMetastasis"]
    assert mapping.lookup(SYSTEMS["ICD10"], "C78.1") == ()  # mediastinum: not under the lung prefix C78.0
    assert mapping.lookup(SYSTEMS["ICD10"], "C79.89") == ()
    assert mapping.lookup(SYSTEMS["SCT"], "C50.912") == ()  # prefixes belong to their system


def test_confirmed_extra_codes_carry_their_source(kb: ox.Store) -> None:
    """Codes beyond the project's table are annotated with where they were confirmed."""
    query = """
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?target ?source WHERE {
      ?axiom a owl:Axiom ; owl:annotatedTarget ?target ; dcterms:source ?source .
    }"""
    sources = {s["target"].value: s["source"].value for s in kb.query(query)}
    for code in ("94391008", "205237003", "74860-8", "261638004", "1229852009"):
        assert code in sources and sources[code].startswith("Confirmed"), code


def _bundle(code: dict[str, str]) -> dict[str, object]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "x"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "id": "pleura",
                    "code": {"coding": [code]},
                    "onsetDateTime": "2024-01-01",
                    "subject": {"reference": "Patient/x"},
                }
            },
        ],
    }


def test_a_notation_added_in_turtle_changes_the_import() -> None:
    """Pleural metastasis (SNOMED 94493005) is unknown until a notation maps it."""
    code = {"system": "http://snomed.info/sct", "code": "94493005", "display": "Secondary malignant neoplasm of pleura"}
    plain = import_bundle(_bundle(code), mapping=load_code_mapping(), source="pleura.json")
    assert "DistantMetastasis" not in plain.ntriples
    assert [w.code for w in plain.warnings] == ["fhir-unknown-code"]

    extra = '@prefix h: <https://w3id.org/her2kg/> .\nh:DistantMetastasis <http://www.w3.org/2004/02/skos/core#notation> "94493005"^^h:SNOMEDCT .\n'
    extended = load_code_mapping(knowledge_ntriples(), extra_turtle=extra)
    result = import_bundle(_bundle(code), mapping=extended, source="pleura.json")
    assert (
        f"<{BASE}patient/x/condition/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{BASE}DistantMetastasis>"
        in result.ntriples
    )
    assert result.warnings == ()


def test_a_new_code_system_datatype_needs_no_code_change() -> None:
    code = {"system": "http://example.org/local", "code": "LUNG-MET"}
    assert "LungMetastasis" not in import_bundle(_bundle(code), mapping=load_code_mapping(), source="x").ntriples
    extra = """@prefix h: <https://w3id.org/her2kg/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
h:LocalCode a rdfs:Datatype ; h:codeSystemUri "http://example.org/local" .
h:LungMetastasis <http://www.w3.org/2004/02/skos/core#notation> "LUNG-MET"^^h:LocalCode .
"""
    mapping = load_code_mapping(knowledge_ntriples(), extra_turtle=extra)
    assert "LungMetastasis" in import_bundle(_bundle(code), mapping=mapping, source="x").ntriples


def test_bad_extra_turtle_is_a_knowledge_base_error() -> None:
    from her2kg.errors import KnowledgeBaseError

    with pytest.raises(KnowledgeBaseError, match="does not parse"):
        load_code_mapping(knowledge_ntriples(), extra_turtle="this is not turtle")


# --- real-world codes: products, ATC, AJCC, ICD-10-CM (each with its source) -------------------

RXN, ATC, AJCC, SCT, ICD = (
    SYSTEMS["RXN"],
    "http://www.whocc.no/atc",
    "http://cancerstaging.org",
    SYSTEMS["SCT"],
    SYSTEMS["ICD10"],
)

# One or more codes of every RxNorm concept class the mapping holds, with the knowledge-base
# ingredients and the route each must carry (checked against RxNorm names by hand).
PRODUCT_EXPECTATIONS = {
    "1940648": ({"neratinib"}, "route-oral"),  # SCD neratinib 40 MG Oral Tablet
    "2361296": ({"tucatinib"}, "route-oral"),  # SBD Tukysa 150 MG Oral Tablet
    "101306": ({"trastuzumab"}, "route-intravenous"),  # BN Herceptin
    "2179754": ({"trastuzumab"}, "route-intravenous"),  # BN Ogivri (biosimilar)
    "2472791": ({"trastuzumab"}, "route-intravenous"),  # SCD trastuzumab-qyyp 150 MG Injection
    "2119714": ({"trastuzumab"}, "route-subcutaneous"),  # SCD hyaluronidase-oysk / trastuzumab-oysk
    "2119715": ({"trastuzumab"}, "route-subcutaneous"),  # BN Herceptin Hylecta
    "2382605": ({"pertuzumab", "trastuzumab"}, "route-subcutaneous"),  # BN Phesgo
    "2382604": ({"pertuzumab", "trastuzumab"}, "route-subcutaneous"),  # SCD of Phesgo
    "1298953": ({"pertuzumab"}, "route-intravenous"),  # SBD Perjeta 420 MG per 14 ML Injection
    "2267581": ({"trastuzumab-deruxtecan"}, "route-intravenous"),  # SBD Enhertu 100 MG Injection
    "1658084": ({"trastuzumab-emtansine"}, "route-intravenous"),  # SCD (table code, route added)
    "583218": ({"nab-paclitaxel"}, "route-intravenous"),  # SBD Abraxane 100 MG Injection
    "312199": ({"paclitaxel"}, "route-intravenous"),  # SCD paclitaxel 6 MG/ML Injectable Solution
    "1156710": ({"gemcitabine"}, "route-intravenous"),  # SCDG gemcitabine Injectable Product
    "1164214": ({"tamoxifen"}, "route-oral"),  # SCDG tamoxifen Oral Product
    "1170752": ({"anastrozole"}, "route-oral"),  # SBDG Arimidex Oral Product
    "597195": ({"carboplatin"}, "route-intravenous"),  # SCD carboplatin 10 MG/ML Injectable Solution
    "1732186": ({"epirubicin"}, "route-intravenous"),  # SCD 100 ML epirubicin hydrochloride 2 MG/ML
    "727762": ({"fulvestrant"}, None),  # SCD fulvestrant prefilled syringe: intramuscular, no route term
}

# Codes left out on purpose: their RxNorm concept may stand for more than one knowledge-base drug
# (trastuzumab groupings that RxNorm also uses for ado-trastuzumab emtansine products), or a drug the
# knowledge base does not hold (liposomal doxorubicin; letrozole co-packaged with ribociclib).
LEFT_OUT_RXNORM = ("1162762", "1922508", "1658086", "1790115", "1923053")

ATC_EXPECTATIONS = {
    "L01FD01": "trastuzumab",
    "L01FD02": "pertuzumab",
    "L01FD03": "trastuzumab-emtansine",
    "L01FD04": "trastuzumab-deruxtecan",
    "L01FD06": "margetuximab",
    "L01EH01": "lapatinib",
    "L01EH02": "neratinib",
    "L01EH03": "tucatinib",
    "L01CD01": "paclitaxel",
    "L01CD02": "docetaxel",
    "L01BC06": "capecitabine",
    "L01DB01": "doxorubicin",
    "L02BA03": "fulvestrant",
    "L02BG04": "letrozole",
}

STAGING_EXPECTATIONS = {
    (AJCC, "0"): "stage-0",
    (AJCC, "1A"): "stage-1",
    (AJCC, "c1B"): "stage-1",
    (AJCC, "2B"): "stage-2",
    (AJCC, "3C"): "stage-3",
    (AJCC, "c3B"): "stage-3",
    (AJCC, "4"): "stage-4",
    (AJCC, "4A"): "stage-4",  # mcode-omop writes 4A (IVA); breast has no IVA, read as stage IV
    (AJCC, "cT1"): "t1",
    (AJCC, "pT1c"): "t1",
    (AJCC, "cT4d"): "t4",  # inflammatory carcinoma: locally advanced
    (AJCC, "cN2"): "n2",
    (AJCC, "pN3a"): "n3",
    (AJCC, "cM0"): "m0",
    (AJCC, "pM1"): "m1",
    (SCT, "1228948000"): "t4",  # AJCC cT4d
    (SCT, "1228945002"): "t4",  # AJCC cT4a
    (SCT, "1228884006"): "tis",  # AJCC cTis
    (SCT, "1229987008"): "n3",  # AJCC cN3c
    (SCT, "1229981009"): "n2",  # AJCC cN2a
    (SCT, "261613009"): "stage-0",
    (SCT, "261642001"): "stage-4",
}

# Near misses: categories that are not (or not safely) one of the rules' categories stay unmapped.
STAGING_LEFT_OUT = ((AJCC, "pN1mi"), (AJCC, "2C"), (AJCC, "ypT2"), (SCT, "1229974002"))  # cN1mi

CONDITION_EXPECTATIONS = {
    "C79.31": "BrainMetastasis",
    "C79.51": "BoneMetastasis",
    "C78.7": "LiverMetastasis",
    "C78.00": "LungMetastasis",
    "C78.01": "LungMetastasis",
    "C77.3": "RegionalNodalMetastasis",
    "C77.2": "DistantMetastasis",
    "C77.5": "DistantMetastasis",
    "Z33.1": "Pregnancy",
    "J84.9": "InterstitialLungDisease",
    "J84.112": "InterstitialLungDisease",
    "J70.4": "InterstitialLungDisease",
    "I50.32": "HeartFailure",
    "C50.411": "BreastCancer",
}

# Near misses: nodes that may be regional for the breast, and codes next to the mapped ones.
CONDITION_LEFT_OUT = ("C77.0", "C77.1", "C77.9", "C78.1", "Z33.2", "J70.1", "C79.52")


def _local(iri: str) -> str:
    return iri[len(BASE) :]


def _product_route(kb: ox.Store, iri: str) -> list[str]:
    query = f"PREFIX h: <{BASE}> SELECT ?r WHERE {{ <{iri}> h:productRoute ?r }}"
    return [_local(s["r"].value) for s in kb.query(query)]


@pytest.mark.parametrize(("code", "expected"), sorted(PRODUCT_EXPECTATIONS.items()))
def test_rxnorm_products_map_to_all_their_ingredients_and_keep_their_route(
    mapping: CodeMapping, kb: ox.Store, code: str, expected: tuple[set[str], str | None]
) -> None:
    ingredients, route = expected
    products = [c for c in mapping.lookup(RXN, code) if c.is_a(terms.DRUG_PRODUCT)]
    assert len(products) == 1, f"RxNorm {code} -> {products}"
    assert {_local(i) for i in products[0].ingredients} == ingredients
    assert _product_route(kb, products[0].iri) == ([route] if route else [])


@pytest.mark.parametrize("code", LEFT_OUT_RXNORM)
def test_ambiguous_or_foreign_rxnorm_concepts_stay_unmapped(mapping: CodeMapping, code: str) -> None:
    assert mapping.lookup(RXN, code) == ()


def test_tdm1_rxnorm_ingredient_maps_to_tdm1_only(mapping: CodeMapping) -> None:
    assert [c.iri for c in mapping.lookup(RXN, "1371041")] == [BASE + "trastuzumab-emtansine"]


@pytest.mark.parametrize(("code", "drug"), sorted(ATC_EXPECTATIONS.items()))
def test_atc_codes_map_to_their_drug(mapping: CodeMapping, code: str, drug: str) -> None:
    assert [c.iri for c in mapping.lookup(ATC, code)] == [BASE + drug]


def test_atc_combination_of_pertuzumab_and_trastuzumab_maps_to_both(mapping: CodeMapping) -> None:
    (combination,) = mapping.lookup(ATC, "L01FY01")
    assert combination.is_a(terms.DRUG_PRODUCT)
    assert {_local(i) for i in combination.ingredients} == {"pertuzumab", "trastuzumab"}


@pytest.mark.parametrize(("key", "local"), sorted(STAGING_EXPECTATIONS.items()))
def test_staging_codes_map_to_their_category(mapping: CodeMapping, key: tuple[str, str], local: str) -> None:
    assert [c.iri for c in mapping.lookup(*key)] == [BASE + local]


@pytest.mark.parametrize("key", STAGING_LEFT_OUT)
def test_staging_codes_outside_the_rules_stay_unmapped(mapping: CodeMapping, key: tuple[str, str]) -> None:
    assert mapping.lookup(*key) == ()


@pytest.mark.parametrize(("code", "local"), sorted(CONDITION_EXPECTATIONS.items()))
def test_icd10cm_conditions_map_to_their_class(mapping: CodeMapping, code: str, local: str) -> None:
    assert [c.iri for c in mapping.lookup(ICD, code)] == [BASE + local]


@pytest.mark.parametrize("code", CONDITION_LEFT_OUT)
def test_icd10cm_codes_next_to_the_mapped_ones_stay_unmapped(mapping: CodeMapping, code: str) -> None:
    assert mapping.lookup(ICD, code) == ()


def _table_codes() -> set[tuple[str, str]]:
    """(datatype local name, code) of every code the project's two code tables list."""
    names = {"LOINC": "LOINC", "SCT": "SNOMEDCT", "RXN": "RxNorm", "ICD10": "ICD10CM", "H2K": "Her2kgFhirCode"}
    listed = {(names[r["system"]], r["code"]) for r in _rows(FHIR_CODES) if r["system"] in names}
    for row in _rows(FHIR_CODES):  # codes the table names in its meaning and value columns
        text = f"{row['meaning']} {row['value']}"
        listed |= {("SNOMEDCT", code) for code in re.findall(r"\b\d{6,18}\b", text)}
        listed |= {("ICD10CM", f"{code}*") for code in re.findall(r"\b([A-Z]\d\d)\.\*", text)}
    for row in _rows(DRUG_CODES):
        listed |= {("NCIt", row["ncit"]), ("SNOMEDCT", row["snomed_substance"].strip())}
        if "unverified" not in row["rxnorm_ingredient"]:
            listed.add(("RxNorm", row["rxnorm_ingredient"].strip()))
    return listed


@pytest.mark.shared  # the project tables it compares with are in ../shared/spec
def test_every_added_code_carries_its_source(kb: ox.Store) -> None:
    """Every product code, ATC, AJCC and ICD-10-CM notation, and every RxNorm, SNOMED CT and
    ICD-10-CM notation outside the project's tables, has an axiom that says where it was confirmed."""
    query = f"""
    PREFIX h: <{BASE}>
    PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
    PREFIX owl: <http://www.w3.org/2002/07/owl#>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?concept ?code ?dt WHERE {{
      ?concept skos:notation ?code . BIND(DATATYPE(?code) AS ?dt)
      VALUES ?dt {{ h:RxNorm h:ATC h:AJCCStagingCode h:ICD10CM h:SNOMEDCT }}
      FILTER NOT EXISTS {{ ?concept a h:Route }}
      FILTER NOT EXISTS {{
        ?axiom owl:annotatedSource ?concept ; owl:annotatedProperty skos:notation ;
               owl:annotatedTarget ?code ; dcterms:source ?source .
      }}
    }}"""
    table = _table_codes()
    unsourced = [
        (_local(s["concept"].value), s["code"].value)
        for s in kb.query(query)
        if (_local(s["dt"].value), s["code"].value) not in table
    ]
    assert not unsourced, f"codes without a source axiom: {sorted(unsourced)}"


def test_every_drug_product_names_only_its_own_ingredients(kb: ox.Store) -> None:
    """The drugs a product's RxNorm name names (by generic or brand name) are exactly its ingredients;
    only a brand of several ingredients (Phesgo) may name none of them."""
    names: dict[str, set[str]] = {}
    for s in kb.query(
        f"""PREFIX h: <{BASE}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?drug ?name WHERE {{ ?drug a/rdfs:subClassOf* h:Drug ; rdfs:label|skos:altLabel ?name }}"""
    ):
        names.setdefault(s["name"].value.lower(), set()).add(_local(s["drug"].value))
    ordered = sorted(names, key=len, reverse=True)
    products: dict[str, tuple[str, set[str]]] = {}
    for s in kb.query(
        f"""PREFIX h: <{BASE}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?p ?label ?i WHERE {{ ?p a h:DrugProduct ; rdfs:label ?label ; h:hasActiveIngredient ?i }}"""
    ):
        products.setdefault(s["p"].value, (s["label"].value, set()))[1].add(_local(s["i"].value))
    problems = []
    for iri, (label, ingredients) in sorted(products.items()):
        text, named = label.lower(), set()
        for name in ordered:
            pattern = re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")
            if pattern.search(text):
                named |= names[name]
                text = pattern.sub(" ", text)
        if (named and named != ingredients) or (not named and len(ingredients) == 1):
            problems.append(f"{_local(iri)} '{label}': names {sorted(named)}, has {sorted(ingredients)}")
    assert not problems, "; ".join(problems)


def test_brand_names_are_names_of_their_drug(kb: ox.Store) -> None:
    expected = {
        "trastuzumab": {
            "Herceptin",
            "Herceptin Hylecta",
            "Hercessi",
            "Herzuma",
            "Kanjinti",
            "Ogivri",
            "Ontruzant",
            "Trazimera",
        },
        "nab-paclitaxel": {"Abraxane"},
        "docetaxel": {"Taxotere"},
        "doxorubicin": {"Adriamycin"},
        "fulvestrant": {"Faslodex"},
    }
    for drug, brands in expected.items():
        query = f"""PREFIX h: <{BASE}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?n WHERE {{ h:{drug} skos:altLabel ?n }}"""
        assert brands <= {s["n"].value for s in kb.query(query)}, drug
