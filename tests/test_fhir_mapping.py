"""The FHIR code mapping lives in the knowledge base: every required code is mapped there, every
term the importer writes is declared there, and a notation added in Turtle changes the import."""

from __future__ import annotations

import csv
from pathlib import Path

import pyoxigraph as ox
import pytest

from her2kg.fhir import CodeMapping, import_bundle, load_code_mapping, terms
from her2kg.knowledge import knowledge_ntriples
from her2kg.vocabulary import BASE

SHARED = Path(__file__).resolve().parents[2] / "shared"
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
    assert mapping.lookup(SYSTEMS["ICD10"], "C79.51") == ()
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
