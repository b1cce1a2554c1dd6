"""`her2kg release`: the release artefacts of one version, under the version IRI's path.

For `owl:versionIRI <https://w3id.org/her2kg/releases/0.1.0/ontology>` the files go to
`<out>/releases/0.1.0/`:

- `her2kg-merged.ttl`: every module in one canonical Turtle file, one owl:Ontology with the
  version IRI and no imports;
- `her2kg-reasoned.ttl`: the merged ontology plus the subclass axioms HermiT infers between named
  classes (each marked in `her2kg-inferred.tsv`);
- `shapes.ttl`: the SHACL shapes, merged;
- `docs/`: the documentation site;
- `knowledge-base/`: the source folders (ontology, shapes, queries, examples), so that the next
  release can diff against this one;
- `CHANGELOG.md`: `her2kg diff` (Markdown) against the previous release, or "first release".
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import UsageError
from her2kg.vocabulary import ONTOLOGY_IRI, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph

RELEASE_BASE = "https://w3id.org/her2kg/"
SNAPSHOT = "knowledge-base"
_OWL = PREFIXES["owl"]


@dataclass(frozen=True)
class ReleaseOutcome:
    folder: Path
    version: str
    inferred: int
    previous: str


def merged_graph(root: Path) -> Graph:
    from rdflib import RDF, Graph, URIRef

    from her2kg.knowledge import knowledge_ntriples

    graph = Graph(bind_namespaces="none")
    graph.parse(data=knowledge_ntriples(root), format="nt")
    graph.remove((None, URIRef(_OWL + "imports"), None))
    for module in list(graph.subjects(RDF.type, URIRef(_OWL + "Ontology"))):
        if str(module) != ONTOLOGY_IRI:
            graph.remove((module, None, None))
    return graph


def inferred_subclasses(graph: Graph) -> list[tuple[str, str]]:
    """(class, superclass) pairs between named classes that HermiT infers and the graph does not assert."""
    import owlready2  # type: ignore[import-untyped, unused-ignore]
    from rdflib import RDFS, URIRef

    from her2kg.validation.owl_check import _ntriples_without_imports

    asserted = {(str(s), str(o)) for s, o in graph.subject_objects(RDFS.subClassOf) if isinstance(o, URIRef)}
    world = owlready2.World()
    try:
        import io

        world.get_ontology(ONTOLOGY_IRI + "/merged").load(fileobj=io.BytesIO(_ntriples_without_imports(graph)), format="ntriples")
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        found = set()
        for cls in world.classes():
            for parent in cls.is_a:
                if isinstance(parent, owlready2.ThingClass) and parent is not owlready2.Thing:
                    found.add((cls.iri, parent.iri))
    finally:
        world.close()
    return sorted(found - asserted)


def version_path(graph: Graph) -> tuple[str, str]:
    """(version, relative release folder) from the header's owl:versionInfo and owl:versionIRI."""
    from rdflib import URIRef

    version = graph.value(URIRef(ONTOLOGY_IRI), URIRef(_OWL + "versionInfo"))
    version_iri = graph.value(URIRef(ONTOLOGY_IRI), URIRef(_OWL + "versionIRI"))
    if version is None or version_iri is None:
        raise UsageError("the ontology header needs owl:versionInfo and owl:versionIRI to make a release")
    iri = str(version_iri)
    if not iri.startswith(RELEASE_BASE) or not iri.endswith("/ontology"):
        raise UsageError(f"owl:versionIRI {iri} is not of the form {RELEASE_BASE}releases/<version>/ontology")
    folder = iri[len(RELEASE_BASE) : -len("/ontology")]
    if f"/{version}" not in f"/{folder}":
        raise UsageError(f"owl:versionIRI {iri} does not name owl:versionInfo {version}; make them agree")
    return str(version), folder


def previous_release(out: Path, current: Path) -> Path | None:
    """The latest other release under `out/releases/` that kept its knowledge-base snapshot."""
    releases = out / "releases"
    if not releases.is_dir():
        return None
    candidates = [p for p in releases.iterdir() if p.is_dir() and p.resolve() != current.resolve() and (p / SNAPSHOT / "ontology").is_dir()]
    return max(candidates, key=lambda p: [int(x) if x.isdigit() else x for x in p.name.replace("-", ".").split(".")], default=None)


def make_release(root: Path, out: Path, *, previous: str | None, reason: bool = True, as_of: date | None = None) -> ReleaseOutcome:
    from rdflib import RDFS, Graph, URIRef

    from her2kg.turtle_format import format_graph
    from her2kg.workbench.docs_site import write_site
    from her2kg.workbench.semantic_diff import diff_folders, knowledge_folder, render

    graph = merged_graph(root)
    version, relative = version_path(graph)
    folder = out / relative
    if folder.exists():
        raise UsageError(f"{folder} exists; a release is written once (remove it to write it again)")
    folder.mkdir(parents=True)
    (folder / "her2kg-merged.ttl").write_text(format_graph(graph), encoding="utf-8")
    inferred = inferred_subclasses(graph) if reason else []
    reasoned = Graph(bind_namespaces="none")
    reasoned += graph
    for sub, sup in inferred:
        reasoned.add((URIRef(sub), RDFS.subClassOf, URIRef(sup)))
    (folder / "her2kg-reasoned.ttl").write_text(format_graph(reasoned), encoding="utf-8")
    (folder / "her2kg-inferred.tsv").write_text("class\tinferred_superclass\n" + "".join(f"{a}\t{b}\n" for a, b in inferred), encoding="utf-8")
    shapes = Graph(bind_namespaces="none")
    for path in sorted((root / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    (folder / "shapes.ttl").write_text(format_graph(shapes), encoding="utf-8")
    write_site(folder / "docs", root)
    for name in ("ontology", "shapes", "queries", "examples"):
        if (root / name).is_dir():
            shutil.copytree(root / name, folder / SNAPSHOT / name)
    earlier = previous or (str(p / SNAPSHOT) if (p := previous_release(out, folder)) else None)
    if earlier is None:
        changelog = f"# her2kg {version}\n\nFirst release.\n"
    else:
        with knowledge_folder(earlier, root) as old:
            result = diff_folders(old, folder / SNAPSHOT, patients=sorted((folder / SNAPSHOT / "examples").glob("*.ttl")),
                                  as_of=as_of or date.today(), old_name=earlier, new_name=version)
        changelog = f"# her2kg {version}\n\n" + render(result, markdown=True)
    (folder / "CHANGELOG.md").write_text(changelog, encoding="utf-8")
    return ReleaseOutcome(folder, version, len(inferred), earlier or "")
