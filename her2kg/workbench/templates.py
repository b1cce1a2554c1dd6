"""Template authoring: knowledge written as TSV rows, built into canonical Turtle modules.

The conventions follow ROBOT's `template` command. A template is a TSV file whose first row names
the columns and whose second row gives each column's template string; every further row is one
term. Template strings:

- `ID`: the term, as a CURIE (`h:regimen-thp`) or a full IRI in angle brackets;
- `TYPE`: its rdf:type values;
- `A p`: a plain string annotation or value; `AL p@en`: a language-tagged string;
  `AT p^^dt`: a typed literal (`AT h:doseAmount^^xsd:decimal`, `AT skos:notation^^h:NCIt`);
- `AI p` and `I p`: an IRI value (annotation or object property), as a CURIE or `<IRI>`;
- a trailing ` SPLIT=|` lets one cell hold several values separated by `|`.

An empty cell adds nothing. Prefixes are the project's (`h:`, `rdfs:`, `skos:`, `dcterms:`, ...).
A folder `templates/<module>/` holds the templates of one module, whose owl:Ontology is a row
like any other (ID `<https://w3id.org/her2kg/ontology/<module>>`, TYPE `owl:Ontology`); every
other her2kg term without `rdfs:isDefinedBy` gets the module's. `her2kg build` writes
`ontology/modules/<module>.ttl` in the canonical form; `export_module` goes the other way, so a
hand-written module can be moved to templates and built back byte for byte.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import InputError
from her2kg.turtle_format import PROJECT_PREFIXES, format_graph
from her2kg.vocabulary import BASE, ONTOLOGY_IRI, PREFIXES

if TYPE_CHECKING:
    from collections.abc import Callable

    from rdflib import Graph
    from rdflib.term import Node

_COLUMN = re.compile(r"^(?P<kind>ID|TYPE|A|AL|AT|AI|I)(?:\s+(?!SPLIT=)(?P<prop>[^\s@^]+(?:\^(?!\^)[^\s@^]*)*))?(?:@(?P<lang>[A-Za-z-]+)|\^\^(?P<dt>\S+))?(?:\s+SPLIT=(?P<split>\S))?$")
RDF_TYPE = PREFIXES["rdf"] + "type"
IS_DEFINED_BY = PREFIXES["rdfs"] + "isDefinedBy"


class TemplateError(InputError):
    """A template cannot be read; the message names the file, row and column."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    prop: str
    lang: str
    datatype: str
    split: str


def expand(term: str, where: str) -> str:
    term = term.strip()
    if term.startswith("<") and term.endswith(">"):
        return term[1:-1]
    prefix, colon, rest = term.partition(":")
    if colon and prefix in PROJECT_PREFIXES:
        return PROJECT_PREFIXES[prefix] + rest
    raise TemplateError(where, f"{term!r} is neither a CURIE with a project prefix ({', '.join(sorted(PROJECT_PREFIXES))}) nor an <IRI>")


def read_template(path: Path) -> Graph:
    from rdflib import Graph, Literal, URIRef

    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8")), delimiter="\t"))
    if len(rows) < 2:
        raise TemplateError(str(path), "a template needs a header row and a template-string row")
    names, strings = rows[0], rows[1]
    if len(names) != len(strings):
        raise TemplateError(f"{path}:2", "the template-string row has not one cell per column")
    columns: list[Column] = []
    for index, (name, string) in enumerate(zip(names, strings, strict=True), start=1):
        match = _COLUMN.match(string.strip())
        if not match or (match["kind"] not in ("ID", "TYPE") and not match["prop"]):
            raise TemplateError(f"{path}:2:{index}", f"column {name!r}: {string!r} is not a template string (ID, TYPE, A p, AL p@en, AT p^^dt, AI p, I p, with optional SPLIT=|)")
        columns.append(Column(name, match["kind"], match["prop"] or "", match["lang"] or "", match["dt"] or "", match["split"] or ""))
    if [c.kind for c in columns].count("ID") != 1:
        raise TemplateError(f"{path}:2", "a template has exactly one ID column")
    graph = Graph(bind_namespaces="none")
    for number, row in enumerate(rows[2:], start=3):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            raise TemplateError(f"{path}:{number}", f"has {len(row)} cells; the header has {len(columns)}")
        where = f"{path}:{number}"
        subject = URIRef(expand(row[[c.kind for c in columns].index("ID")], where))
        for column, cell in zip(columns, row, strict=True):
            if column.kind == "ID" or not cell.strip():
                continue
            values = cell.split(column.split) if column.split else [cell]
            for value in values:
                if column.kind == "TYPE":
                    graph.add((subject, URIRef(RDF_TYPE), URIRef(expand(value, f"{where} ({column.name})"))))
                    continue
                prop = URIRef(expand(column.prop, f"{path}:2 ({column.name})"))
                obj: Node
                if column.kind in ("AI", "I"):
                    obj = URIRef(expand(value, f"{where} ({column.name})"))
                elif column.kind == "AL":
                    obj = Literal(value, lang=column.lang)
                elif column.kind == "AT":
                    obj = Literal(value, datatype=URIRef(expand(column.datatype, f"{path}:2 ({column.name})")))
                else:
                    obj = Literal(value)
                graph.add((subject, prop, obj))
    return graph


def build_module(folder: Path) -> str:
    """The canonical Turtle of the module whose templates are in `folder` (named after the module)."""
    from rdflib import Graph, URIRef

    module = URIRef(f"{ONTOLOGY_IRI}/{folder.name}")
    graph = Graph(bind_namespaces="none")
    files = sorted(folder.glob("*.tsv"))
    if not files:
        raise TemplateError(str(folder), "holds no .tsv template")
    for path in files:
        graph += read_template(path)
    for subject in set(graph.subjects()):
        if isinstance(subject, URIRef) and str(subject).startswith(BASE) and subject != module:
            if (subject, URIRef(IS_DEFINED_BY), None) not in graph and not str(subject).startswith(ONTOLOGY_IRI):
                graph.add((subject, URIRef(IS_DEFINED_BY), module))
    return format_graph(graph)


def export_module(turtle: str, module: str) -> dict[str, str]:
    """Templates (file name -> TSV text) holding exactly the triples of a module, one file per kind of term.

    Blank nodes (OWL restrictions) cannot be written as template rows; a module with them is refused.
    """
    from rdflib import BNode, Literal, URIRef

    from her2kg.turtle_format import parse_turtle
    from her2kg.validation.locate import curie

    graph = parse_turtle(turtle).graph
    if any(isinstance(t, BNode) for triple in graph for t in triple):
        raise TemplateError(module, "holds blank nodes (OWL class expressions), which templates cannot express; keep it in Turtle")
    module_iri = f"{ONTOLOGY_IRI}/{module}"
    groups: dict[str, list[URIRef]] = defaultdict(list)
    for subject in sorted({s for s in graph.subjects() if isinstance(s, URIRef)}, key=str):
        types = sorted(str(t) for t in graph.objects(subject, URIRef(RDF_TYPE)) if str(t) != PREFIXES["owl"] + "NamedIndividual")
        groups[_file_name(types[0] if types else "untyped")].append(subject)
    out: dict[str, str] = {}
    for name, subjects in sorted(groups.items()):
        columns: dict[str, tuple[str, str]] = {}  # template string -> (header, kind)
        cells: list[dict[str, list[str]]] = []
        for subject in subjects:
            row: dict[str, list[str]] = defaultdict(list)
            row["ID"].append(_term(str(subject), curie))
            for p, o in sorted(graph.predicate_objects(subject), key=lambda po: (str(po[0]), str(po[1]))):
                prop = _term(str(p), curie)
                if str(p) == RDF_TYPE:
                    string = "TYPE SPLIT=|"
                elif str(p) == IS_DEFINED_BY and str(o) == module_iri:
                    continue  # implied by the folder
                elif isinstance(o, Literal) and o.language:
                    string = f"AL {prop}@{o.language} SPLIT=|"
                elif isinstance(o, Literal) and o.datatype is not None:
                    string = f"AT {prop}^^{_term(str(o.datatype), curie)} SPLIT=|"
                elif isinstance(o, Literal):
                    string = f"A {prop} SPLIT=|"
                else:
                    string = f"I {prop} SPLIT=|"
                columns.setdefault(string, (prop if string != "TYPE SPLIT=|" else "type", string))
                row[string].append(_term(str(o), curie) if isinstance(o, URIRef) else str(o))
            cells.append(row)
        if any("|" in v or "\t" in v or "\n" in v for row in cells for vs in row.values() for v in vs):
            raise TemplateError(module, f"{name}: a value holds '|', a tab or a line break, which a template cell cannot; keep it in Turtle")
        order = ["ID", *sorted(columns, key=lambda s: (s != "TYPE SPLIT=|", s))]
        header = ["id", *(columns[s][0] for s in order[1:])]
        lines = ["\t".join(_unique(header)), "\t".join(order)]
        lines += ["\t".join("|".join(row.get(s, [])) for s in order) for row in cells]
        out[name] = "\n".join(lines) + "\n"
    return out


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _term(iri: str, curie: Callable[[str], str]) -> str:
    short = curie(iri)
    if short.startswith("<"):
        return short
    prefix = short.split(":", 1)[0]
    return short if prefix in PROJECT_PREFIXES else f"<{iri}>"


def _file_name(type_iri: str) -> str:
    local = type_iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "-", local).lower() + ".tsv"
