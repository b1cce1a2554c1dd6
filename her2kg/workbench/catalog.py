"""`ontology/catalog-v001.xml`: every import IRI mapped to its local file (Protégé's XML catalog),
and loading the knowledge base into owlready2 offline through the same mapping.

Protégé reads `catalog-v001.xml` next to the ontology it opens and never fetches an import it
maps. Owlready2 reads no catalog and no Turtle, so `load_owlready2` converts each mapped file to
N-Triples and loads the modules before the header: an import already loaded is never fetched.
"""

from __future__ import annotations

import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from her2kg.vocabulary import ONTOLOGY_IRI

CATALOG = "catalog-v001.xml"
_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"


def catalog_entries(ontology_dir: Path) -> list[tuple[str, str]]:
    """(import IRI, path relative to ontology/) for the header and every module file, sorted."""
    entries = [(ONTOLOGY_IRI, "her2kg.ttl")]
    entries += [(f"{ONTOLOGY_IRI}/{p.stem}", f"modules/{p.name}") for p in sorted((ontology_dir / "modules").glob("*.ttl"))]
    return sorted(entries)


def catalog_xml(ontology_dir: Path) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        f'<catalog prefer="public" xmlns="{_NS}">',
        *(f'    <uri id="her2kg" name="{iri}" uri="{path}"/>' for iri, path in catalog_entries(ontology_dir)),
        "</catalog>",
    ]
    return "\n".join(lines) + "\n"


def read_catalog(path: Path) -> dict[str, Path]:
    """Import IRI -> file, from a catalog file (paths relative to the catalog's folder)."""
    root = ET.parse(path).getroot()
    return {uri.attrib["name"]: (path.parent / uri.attrib["uri"]) for uri in root.iter(f"{{{_NS}}}uri")}


def load_owlready2(ontology_dir: Path) -> tuple[Any, Any]:
    """A fresh owlready2 World with the knowledge base loaded offline; returns (world, header ontology).

    The caller closes the world (`world.close()`).
    """
    import owlready2  # type: ignore[import-untyped, unused-ignore]
    import pyoxigraph as ox

    mapping = read_catalog(ontology_dir / CATALOG)
    world = owlready2.World()
    with tempfile.TemporaryDirectory(prefix="her2kg-catalog-") as folder:
        order = sorted(iri for iri in mapping if iri != ONTOLOGY_IRI) + [ONTOLOGY_IRI]
        header = None
        for iri in order:
            target = Path(folder) / (iri.rsplit("/", 1)[-1] + ".nt")
            triples = ox.parse(path=str(mapping[iri]), format=ox.RdfFormat.TURTLE)
            ox.serialize(triples, output=str(target), format=ox.RdfFormat.N_TRIPLES)
            with target.open("rb") as handle:
                loaded = world.get_ontology(iri).load(fileobj=handle, format="ntriples")
            header = loaded if iri == ONTOLOGY_IRI else header
    return world, header
