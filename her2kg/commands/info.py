"""`her2kg info [--format text|json] [--traceability]`: what the knowledge base holds."""

from __future__ import annotations

import argparse
import json
import sys

COUNTS = {
    "drugs": "?x a ?c . ?c rdfs:subClassOf* h:Drug . FILTER(?c != h:DrugProduct)",
    "regimens": "?x a h:Regimen",
    "recommendations": "?x a h:Recommendation",
    "contraindication_rules": "?x a h:ContraindicationRule",
    "combination_rules": "?x a h:CombinationRule",
    "monitoring_requirements": "?x a h:MonitoringRequirement",
    "sources": "?x a ?c . ?c rdfs:subClassOf* h:Source",
    "clinical_statements": "?x a h:ClinicalStatement",
    "classes": "?x a owl:Class . FILTER(STRSTARTS(STR(?x), STR(h:)))",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--traceability", action="store_true", help="print the statement-to-encoding table (TSV)")


def run(args: argparse.Namespace) -> int:
    from her2kg.knowledge import (
        KNOWLEDGE_INFO_QUERY,
        knowledge_info_from_rows,
        knowledge_ntriples,
    )
    from her2kg.resources import knowledge_base_identity, queries_dir
    from her2kg.rules import load_rules
    from her2kg.stores.embedded import EmbeddedStore
    from her2kg.traceability import traceability_tsv

    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    if args.traceability:
        sys.stdout.write(traceability_tsv(store))
        return 0
    info = knowledge_info_from_rows(store.select(KNOWLEDGE_INFO_QUERY))
    prefix = "PREFIX h: <https://w3id.org/her2kg/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX owl: <http://www.w3.org/2002/07/owl#> "
    counts = {name: int(store.select(prefix + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {pattern} }}")[0]["n"]) for name, pattern in COUNTS.items()}
    counts["rules"] = len(load_rules())
    counts["competency_questions"] = len(list((queries_dir() / "cq").glob("*.rq")))
    counts["triples"] = store.triple_count()
    identity = knowledge_base_identity()
    if args.format == "json":
        document = {
            "iri": info.iri,
            "version": info.version,
            "version_iri": info.version_iri,
            "folder": identity.folder,
            "digest": identity.digest,
            "counts": counts,
        }
        json.dump(document, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    print(f"her2kg knowledge base {info.version}\n  IRI {info.iri}\n  version IRI {info.version_iri}")
    print(f"  folder {identity.folder}\n  digest {identity.digest}")
    for name, value in counts.items():
        print(f"  {name.replace('_', ' ')}: {value}")
    return 0
