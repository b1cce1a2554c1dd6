"""Cost of checking patient-input constraints two ways, for 1 and N patients.

    python benchmarks/input_constraints.py [--sizes 1,1000]

  rules  the input-constraint notice rules (`her2kg.notices.INPUT_CONSTRAINTS`) on the embedded
         store, after the strata below them, over all patients at once: the way `recommend` and
         `validate PATIENT` check them. Also the whole `recommend_many` for reference.
  shacl  the SPARQL-based SHACL constraints that used to define the same checks (contradictory
         HER2 results, end before start) plus the LVEF range, with pySHACL over one graph of all
         patients and the knowledge base (the way `validate PATIENT` used to check them; it ran
         one file at a time).
Cohort generation is not timed. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the synthetic-patient generator is test tooling

CONSTRAINT_SHAPES = """
@prefix h: <https://w3id.org/her2kg/> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix shape: <https://w3id.org/her2kg/shapes/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .

<https://w3id.org/her2kg/shapes/bench> a owl:Ontology ;
    sh:declare [ sh:namespace "https://w3id.org/her2kg/"^^xsd:anyURI ; sh:prefix "h" ] .

shape:Contradictory a sh:SPARQLConstraint ;
    sh:prefixes <https://w3id.org/her2kg/shapes/bench> ;
    sh:select \"\"\"SELECT DISTINCT $this ?value WHERE {
  $this h:hasObservation ?value .
  { ?value a h:HER2IHCTest . ?value h:result ?positive . FILTER (?positive IN (h:ihc-3plus, h:positive)) }
  UNION { ?value a h:HER2ISHTest . ?value h:result h:positive . }
  $this h:hasObservation ?other .
  { ?other a h:HER2IHCTest . ?other h:result ?negative . FILTER (?negative IN (h:ihc-0, h:ihc-1plus, h:negative)) }
  UNION { ?other a h:HER2ISHTest . ?other h:result h:negative . }
  FILTER NOT EXISTS { $this h:hasObservation ?resolution . ?resolution a h:HER2StatusInterpretation . }
}\"\"\" .
shape:EndBeforeStart a sh:SPARQLConstraint ;
    sh:prefixes <https://w3id.org/her2kg/shapes/bench> ;
    sh:select \"\"\"SELECT $this ?value WHERE { $this h:startDate ?start . $this h:endDate ?value . FILTER (?value < ?start) }\"\"\" .
shape:PatientShape a sh:NodeShape ; sh:targetClass h:Patient ; sh:sparql shape:Contradictory .
shape:TherapyShape a sh:NodeShape ; sh:targetClass h:TherapyExposure ; sh:sparql shape:EndBeforeStart .
shape:LVEFShape a sh:NodeShape ; sh:targetClass h:LVEFMeasurement ;
    sh:property [ sh:path h:percentValue ; sh:minInclusive 0 ; sh:maxInclusive 100 ] .
"""


def cohort(n: int) -> list:
    from synthetic import random_patient

    rng = random.Random(42)
    return [random_patient(rng, f"c{i}") for i in range(n)]


def time_rules(builders: list) -> tuple[float, float]:
    from her2kg.engine import run_rules
    from her2kg.knowledge import prepared_knowledge_ntriples
    from her2kg.notices import INPUT_CONSTRAINTS
    from her2kg.patients import evaluation_triples, read_turtle
    from her2kg.rules import RuleScope, load_rules
    from her2kg.stores.embedded import EmbeddedStore
    from synthetic import turtle_document

    rules = [r for r in load_rules() if r.scope is RuleScope.PATIENT]
    checks = [r for r in rules if r.id in INPUT_CONSTRAINTS]
    top = max(r.stratum for r in checks)
    store = EmbeddedStore(input_checked=True)
    store.load_ntriples(prepared_knowledge_ntriples())
    patients = read_turtle("bench", turtle_document(builders).encode("utf-8"))
    store.load_ntriples(patients.ntriples + evaluation_triples(patients.patient_iris, "2026-11-01", []))
    run_rules(store, [r for r in rules if r.stratum <= top and r not in checks])
    started = time.perf_counter()
    run_rules(store, checks)
    only = time.perf_counter() - started

    from her2kg.api import Patient, recommend_many

    started = time.perf_counter()
    recommend_many([Patient.from_turtle(turtle_document(builders))], as_of=date(2026, 11, 1))
    return only, time.perf_counter() - started


def time_shacl(builders: list) -> float:
    import pyshacl
    from rdflib import Graph

    from her2kg.knowledge import knowledge_ntriples
    from synthetic import turtle_document

    data = Graph()
    data.parse(data=knowledge_ntriples(), format="nt")
    data.parse(data=turtle_document(builders), format="turtle")
    shapes = Graph().parse(data=CONSTRAINT_SHAPES, format="turtle")
    started = time.perf_counter()
    pyshacl.validate(data, shacl_graph=shapes, inference="none", inplace=True, advanced=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1,1000")
    args = parser.parse_args()
    print("| patients | constraint rules (s) | whole recommend_many (s) | SHACL constraints, pySHACL (s) |")
    print("|---:|---:|---:|---:|")
    for size in (int(s) for s in args.sizes.split(",")):
        builders = cohort(size)
        rules_only, whole = time_rules(builders)
        shacl = time_shacl(builders)
        print(f"| {size} | {rules_only:.4f} | {whole:.2f} | {shacl:.2f} |", flush=True)


if __name__ == "__main__":
    main()
