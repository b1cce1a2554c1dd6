"""`her2kg docs --out DIR`: a static HTML site of the knowledge base for clinicians and knowledge engineers.

One page per recommendation, regimen, drug, source, rule and clinical statement, an ontology
reference (every class and property with its label, definition, domain and range), an index and
a client-side search (a script and a JavaScript index, so the site works from a file:// URL and
under a strict content-security policy: no inline script). Every page is generated from the
merged knowledge base and the rule files; nothing is written by hand.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.vocabulary import BASE, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

    from her2kg.rules import Rule

RDF_TYPE = PREFIXES["rdf"] + "type"
LABEL = PREFIXES["rdfs"] + "label"
DEFINITION = PREFIXES["skos"] + "definition"
COMMENT = PREFIXES["rdfs"] + "comment"
NOTATION = PREFIXES["skos"] + "notation"
SOURCE = PREFIXES["dcterms"] + "source"
SUBCLASS = PREFIXES["rdfs"] + "subClassOf"

CODE_LINKS = {
    "NCIt": "https://ncit.nci.nih.gov/ncitbrowser/ConceptReport.jsp?dictionary=NCI_Thesaurus&code={}",
    "RxNorm": "https://mor.nlm.nih.gov/RxNav/search?searchBy=RXCUI&searchTerm={}",
    "SNOMEDCT": "https://browser.ihtsdotools.org/?perspective=full&conceptId1={}",
    "ChEBI": "https://www.ebi.ac.uk/chebi/searchId.do?chebiId=CHEBI:{}",
    "ATC": "https://atcddd.fhi.no/atc_ddd_index/?code={}",
    "LOINC": "https://loinc.org/{}",
    "ICD10CM": "https://www.icd10data.com/search?s={}",
}
IDENTIFIER_LINKS = {"doi": "https://doi.org/{}", "pmid": "https://pubmed.ncbi.nlm.nih.gov/{}/", "nctId": "https://clinicaltrials.gov/study/{}", "url": "{}"}
KINDS = ("recommendation", "regimen", "drug", "source", "statement", "rule")
STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;line-height:1.45}
nav a{margin-right:1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top;text-align:left}
code,pre{background:#f5f5f5}pre{padding:.5rem;overflow:auto}#results li{margin:.2rem 0}.kind{color:#666;font-size:.85em}
"""
SEARCH_JS = """(function(){
  var input=document.getElementById('search');var list=document.getElementById('results');
  if(!input||!list||!window.HER2KG_INDEX){return;}
  input.addEventListener('input',function(){
    var words=input.value.toLowerCase().split(/\\s+/).filter(Boolean);list.textContent='';
    if(!words.length){return;}
    window.HER2KG_INDEX.filter(function(e){var t=(e.title+' '+e.text).toLowerCase();
      return words.every(function(w){return t.indexOf(w)>=0;});}).slice(0,50).forEach(function(e){
      var li=document.createElement('li');var a=document.createElement('a');a.href=e.href;a.textContent=e.title;
      var k=document.createElement('span');k.className='kind';k.textContent=' '+e.kind;li.appendChild(a);li.appendChild(k);list.appendChild(li);});
  });
})();
"""


@dataclass(frozen=True)
class Page:
    kind: str
    iri: str
    title: str
    href: str


def local(iri: str) -> str:
    return iri[len(BASE):] if iri.startswith(BASE) else iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


class Site:
    def __init__(self, graph: Graph, rules: Iterable[Rule], version: str) -> None:
        self.g = graph
        self.rules = sorted(rules, key=lambda r: r.id)
        self.version = version
        self.by_subject: dict[str, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
        for s, p, o in graph:
            self.by_subject[str(s)][str(p)].append(o)
        self.pages: dict[str, Page] = {}
        for kind, iris in self._entities().items():
            for iri in iris:
                self.pages[iri] = Page(kind, iri, self.label(iri), f"{kind}/{local(iri)}.html")
        for rule in self.rules:
            self.pages[rule.iri] = Page("rule", rule.iri, f"{rule.id}: {rule.title}", f"rule/{rule.id}.html")

    # --- reading ----------------------------------------------------------------------------
    def values(self, iri: str, prop: str) -> list[Node]:
        return sorted(self.by_subject.get(iri, {}).get(prop, []), key=str)

    def first(self, iri: str, prop: str) -> str:
        found = self.values(iri, prop)
        return str(found[0]) if found else ""

    def label(self, iri: str) -> str:
        return self.first(iri, LABEL) or local(iri)

    def types(self, iri: str) -> set[str]:
        return {str(t) for t in self.by_subject.get(iri, {}).get(RDF_TYPE, [])}

    def _subclasses(self, root: str) -> set[str]:
        found, stack = {root}, [root]
        while stack:
            current = stack.pop()
            for s, p_o in self.by_subject.items():
                if any(str(o) == current for o in p_o.get(SUBCLASS, [])) and s not in found:
                    found.add(s)
                    stack.append(s)
        return found

    def _entities(self) -> dict[str, list[str]]:
        drug_classes = self._subclasses(BASE + "Drug") - {BASE + "DrugProduct"}
        source_classes = self._subclasses(BASE + "Source")
        out: dict[str, list[str]] = {k: [] for k in KINDS if k != "rule"}
        for iri in sorted(self.by_subject):
            if not iri.startswith(BASE):
                continue
            kinds = self.types(iri)
            if BASE + "Recommendation" in kinds:
                out["recommendation"].append(iri)
            elif BASE + "Regimen" in kinds:
                out["regimen"].append(iri)
            elif BASE + "ClinicalStatement" in kinds:
                out["statement"].append(iri)
            elif kinds & source_classes:
                out["source"].append(iri)
            elif kinds & drug_classes:
                out["drug"].append(iri)
        return out

    # --- writing ----------------------------------------------------------------------------
    def link(self, node: Node, depth: int) -> str:
        from rdflib import BNode, Literal

        if isinstance(node, Literal):
            return html.escape(str(node))
        if isinstance(node, BNode):
            return "<em>(anonymous class expression)</em>"
        iri = str(node)
        page = self.pages.get(iri)
        text = html.escape(self.label(iri) if iri.startswith(BASE) else _curie(iri))
        if page is not None:
            return f'<a href="{"../" * depth}{page.href}">{text}</a>'
        if iri.startswith(BASE) and (self.types(iri) & {PREFIXES["owl"] + "Class", PREFIXES["owl"] + "ObjectProperty", PREFIXES["owl"] + "DatatypeProperty", PREFIXES["owl"] + "AnnotationProperty"}):
            return f'<a href="{"../" * depth}reference.html#{html.escape(local(iri))}">{text}</a>'
        return text

    def facts(self, iri: str, depth: int) -> str:
        rows = []
        skip = {LABEL, DEFINITION, PREFIXES["rdfs"] + "isDefinedBy"}
        for prop in sorted(self.by_subject.get(iri, {}), key=lambda p: (p != RDF_TYPE, self.label(p) if p.startswith(BASE) else _curie(p))):
            if prop in skip:
                continue
            name = self.label(prop) if prop.startswith(BASE) else _curie(prop)
            cells = "<br>".join(self.link(v, depth) for v in self.values(iri, prop))
            rows.append(f"<tr><th>{html.escape(name)}</th><td>{cells}</td></tr>")
        return "<table>" + "".join(rows) + "</table>"

    def frame(self, title: str, body: str, depth: int) -> str:
        up = "../" * depth
        nav = "".join(f'<a href="{up}index.html#{k}">{k}s</a>' for k in KINDS) + f'<a href="{up}reference.html">ontology reference</a>'
        return (
            f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} - her2kg {html.escape(self.version)}</title>'
            f'<link rel="stylesheet" href="{up}style.css"></head><body><nav><a href="{up}index.html">her2kg {html.escape(self.version)}</a>{nav}</nav>'
            f"<h1>{html.escape(title)}</h1>{body}</body></html>\n"
        )

    def entity_page(self, page: Page) -> str:
        iri = page.iri
        parts = [f"<p>{html.escape(self.first(iri, DEFINITION))}</p>", f"<p><code>{html.escape(_curie(iri))}</code></p>"]
        if page.kind == "recommendation":
            parts.append(self._recommendation(iri))
        elif page.kind == "regimen":
            parts.append("<h2>Components</h2>" + self._components(iri, 1))
            parts.append("<h2>Recommended by</h2>" + self._referrers(iri, BASE + "recommendsRegimen"))
        elif page.kind == "drug":
            parts.append("<h2>Codes</h2>" + self._codes(iri))
        elif page.kind == "source":
            parts.append("<h2>Identifiers</h2>" + self._identifiers(iri))
        elif page.kind == "statement":
            parts.append("<h2>Encoded by</h2>" + self._referrers(iri, BASE + "encodesStatement"))
            statement_id = self.first(iri, BASE + "statementId")
            rules = [r for r in self.rules if statement_id in r.statements]
            parts.append("<h2>Rules</h2>" + self._rule_list(rules))
        parts.append("<h2>All statements</h2>" + self.facts(iri, 1))
        return self.frame(page.title, "".join(parts), 1)

    def _recommendation(self, iri: str) -> str:
        out = []
        for regimen in self.values(iri, BASE + "recommendsRegimen"):
            out.append(f"<h2>Regimen: {self.link(regimen, 1)}</h2>" + self._components(str(regimen), 1))
        out.append("<h2>Sources</h2><ul>" + "".join(
            f"<li>{self.link(s, 1)} {self._identifiers(str(s))}</li>" for s in self.values(iri, SOURCE)) + "</ul>")
        out.append("<h2>Rules that use it</h2>" + self._rule_list(self.rules_using(iri)))
        return "".join(out)

    def rules_using(self, iri: str) -> list[Rule]:
        """Rules that name the term, or that read the property linking it to its kind of use."""
        props = {p for p in self.by_subject.get(iri, {}) if p.startswith(BASE)}
        tokens = {f"h:{local(iri)}"} | {f"h:{local(p)}" for p in props if local(p) in ("recommendsRegimen", "forDecisionPoint", "validFrom", "requiresPatientClass")}
        return [r for r in self.rules if any(token in r.text for token in tokens)]

    def _components(self, regimen: str, depth: int) -> str:
        rows = []
        for component in self.values(regimen, BASE + "hasComponent"):
            c = str(component)
            drugs = ", ".join(self.link(d, depth) for d in self.values(c, BASE + "drug") + self.values(c, BASE + "drugOption"))
            doses = "<br>".join(html.escape(self.first(str(d), BASE + "scheduleText") or self.label(str(d))) for d in self.values(c, BASE + "hasDose"))
            rows.append(f"<tr><td>{html.escape(self.first(c, BASE + 'step'))}</td><td>{drugs}</td><td>{doses or '<em>no dose recorded</em>'}</td></tr>")
        return "<table><tr><th>step</th><th>drug</th><th>dose</th></tr>" + "".join(rows) + "</table>"

    def _codes(self, iri: str) -> str:
        items = []
        for code in self.values(iri, NOTATION):
            system = local(str(getattr(code, "datatype", "") or ""))
            pattern = CODE_LINKS.get(system)
            value = html.escape(str(code))
            items.append(f'<li>{html.escape(system)} <a href="{html.escape(pattern.format(code))}">{value}</a></li>' if pattern else f"<li>{html.escape(system)} {value}</li>")
        return "<ul>" + "".join(items) + "</ul>" if items else "<p>No code recorded.</p>"

    def _identifiers(self, iri: str) -> str:
        links = []
        for prop, pattern in IDENTIFIER_LINKS.items():
            for value in self.values(iri, BASE + prop):
                links.append(f'<a href="{html.escape(pattern.format(value))}">{html.escape(prop)} {html.escape(str(value))}</a>')
        return " ".join(links)

    def _referrers(self, iri: str, prop: str) -> str:
        users = sorted(s for s, p_o in self.by_subject.items() if any(str(o) == iri for o in p_o.get(prop, [])))
        return "<ul>" + "".join(f"<li>{self.link(_uri(s), 1)}</li>" for s in users) + "</ul>" if users else "<p>None.</p>"

    def _rule_list(self, rules: Iterable[Rule]) -> str:
        items = "".join(f'<li><a href="../rule/{r.id}.html">{html.escape(r.id)}</a>: {html.escape(r.title)}</li>' for r in rules)
        return f"<ul>{items}</ul>" if items else "<p>None.</p>"

    def rule_page(self, rule: Rule) -> str:
        statements = ", ".join(
            self.link(_uri(BASE + s), 1) if (BASE + s) in self.pages else html.escape(s) for s in rule.statements
        ) or "-"
        body = (
            f"<p>{html.escape(rule.description)}</p><table><tr><th>kind</th><td>{html.escape(rule.kind)}</td></tr>"
            f"<tr><th>stratum</th><td>{rule.stratum}</td></tr><tr><th>source</th><td>{html.escape(rule.source)}</td></tr>"
            f"<tr><th>statements</th><td>{statements}</td></tr></table><h2>SPARQL</h2><pre>{html.escape(rule.text)}</pre>"
        )
        return self.frame(f"{rule.id}: {rule.title}", body, 1)

    def reference_page(self) -> str:
        owl = PREFIXES["owl"]
        sections = []
        for title, kinds in (("Classes", {owl + "Class"}), ("Properties", {owl + "ObjectProperty", owl + "DatatypeProperty", owl + "AnnotationProperty"})):
            rows = []
            for iri in sorted(i for i in self.by_subject if i.startswith(BASE) and self.types(i) & kinds):
                extra = "".join(
                    f"<br><span class='kind'>{name}:</span> " + ", ".join(self.link(v, 0) for v in self.values(iri, prop))
                    for name, prop in (("subclass of", SUBCLASS), ("domain", PREFIXES["rdfs"] + "domain"), ("range", PREFIXES["rdfs"] + "range"))
                    if self.values(iri, prop)
                )
                rows.append(f'<tr id="{html.escape(local(iri))}"><td><code>h:{html.escape(local(iri))}</code><br>{html.escape(self.label(iri))}</td>'
                            f"<td>{html.escape(self.first(iri, DEFINITION))}{extra}</td></tr>")
            sections.append(f"<h2>{title}</h2><table>{''.join(rows)}</table>")
        return self.frame("Ontology reference", "".join(sections), 0)

    def index_page(self) -> str:
        parts = ['<p><label for="search">Search</label> <input id="search" type="search" autocomplete="off"></p><ul id="results"></ul>']
        for kind in KINDS:
            pages = sorted((p for p in self.pages.values() if p.kind == kind), key=lambda p: p.title.lower())
            items = "".join(f'<li><a href="{p.href}">{html.escape(p.title)}</a></li>' for p in pages)
            parts.append(f'<h2 id="{kind}">{kind.capitalize()}s ({len(pages)})</h2><ul>{items}</ul>')
        parts.append('<script src="search-index.js"></script><script src="search.js"></script>')
        return self.frame(f"her2kg knowledge base {self.version}", "".join(parts), 0)

    def search_index(self) -> str:
        entries = [
            {"title": p.title, "kind": p.kind, "href": p.href, "text": self.first(p.iri, DEFINITION)}
            for p in sorted(self.pages.values(), key=lambda p: (p.kind, p.href))
        ]
        return "window.HER2KG_INDEX = " + json.dumps(entries, ensure_ascii=False, sort_keys=True) + ";\n"


def _uri(iri: str) -> Node:
    from rdflib import URIRef

    return URIRef(iri)


def _curie(iri: str) -> str:
    from her2kg.validation.locate import curie

    return curie(iri)


def write_site(out: Path, root: Path) -> int:
    """Write the site for the knowledge base under `root` into `out`; return the number of pages."""
    from rdflib import Graph, URIRef

    from her2kg.knowledge import knowledge_ntriples
    from her2kg.rules import load_rules
    from her2kg.vocabulary import ONTOLOGY_IRI

    graph = Graph(bind_namespaces="none")
    graph.parse(data=knowledge_ntriples(root), format="nt")
    version = str(graph.value(URIRef(ONTOLOGY_IRI), URIRef(PREFIXES["owl"] + "versionInfo")) or "")
    site = Site(graph, load_rules(root / "queries" / "rules"), version)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for page in site.pages.values():
        target = out / page.href
        target.parent.mkdir(parents=True, exist_ok=True)
        rule = next((r for r in site.rules if r.iri == page.iri), None)
        target.write_text(site.rule_page(rule) if rule else site.entity_page(page), encoding="utf-8")
        written += 1
    (out / "index.html").write_text(site.index_page(), encoding="utf-8")
    (out / "reference.html").write_text(site.reference_page(), encoding="utf-8")
    (out / "style.css").write_text(STYLE, encoding="utf-8")
    (out / "search.js").write_text(SEARCH_JS, encoding="utf-8")
    (out / "search-index.js").write_text(site.search_index(), encoding="utf-8")
    return written + 2
