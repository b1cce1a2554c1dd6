"""One-off migration to OWL 2 DL: date properties become annotation properties.

`xsd:date` is not in the OWL 2 datatype map, so a data property with range `xsd:date` takes the
ontology out of OWL 2 DL (HermiT refuses it unless told to ignore datatypes). her2kg's dates are
compared by the SPARQL rules, never by the OWL reasoner, so every property whose range is
`xsd:date` is declared `owl:AnnotationProperty` instead of `owl:DatatypeProperty` (and loses
`owl:FunctionalProperty`, which annotation properties cannot carry; the SHACL shapes keep the
at-most-one constraint). The triples the rules read (`?r h:validFrom ?date`) do not change, so no
rule changes. Files are rewritten in the canonical form; only the declarations differ.

    python -m her2kg.workbench.owl_dl_dates [--kb DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from her2kg.vocabulary import PREFIXES

_OWL = PREFIXES["owl"]
_XSD_DATE = PREFIXES["xsd"] + "date"


def migrate(root: Path) -> list[str]:
    """Rewrite the modules under `root`; return the IRIs of the properties changed."""
    from rdflib import RDF, RDFS, URIRef

    from her2kg.resources import ontology_files
    from her2kg.turtle_format import format_graph, parse_turtle

    changed: list[str] = []
    for path in ontology_files(root):
        text = path.read_text(encoding="utf-8")
        parsed = parse_turtle(text, source=str(path))
        graph = parsed.graph
        properties = sorted(
            {s for s in graph.subjects(RDFS.range, URIRef(_XSD_DATE)) if (s, RDF.type, URIRef(_OWL + "DatatypeProperty")) in graph},
            key=str,
        )
        if not properties:
            continue
        for prop in properties:
            graph.remove((prop, RDF.type, URIRef(_OWL + "DatatypeProperty")))
            graph.remove((prop, RDF.type, URIRef(_OWL + "FunctionalProperty")))
            graph.add((prop, RDF.type, URIRef(_OWL + "AnnotationProperty")))
            changed.append(str(prop))
        path.write_text(format_graph(graph, declared=dict(parsed.declared)), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m her2kg.workbench.owl_dl_dates", description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=Path, default=None, metavar="DIR", help="knowledge-base folder (default: the checkout)")
    args = parser.parse_args(argv)
    from her2kg.resources import data_root

    for iri in migrate(args.kb or data_root()):
        print(f"annotation property now: {iri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
