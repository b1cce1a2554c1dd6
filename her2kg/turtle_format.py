"""The canonical Turtle form of the files in `ontology/` and `shapes/`.

Two files with the same triples and the same prefix declarations are written byte for byte
alike, so that a diff shows only what changed in meaning:

- `@prefix` lines sorted by prefix name. Only the project's prefixes the output uses are declared
  (`her2kg.vocabulary.PREFIXES` and `shape:`); every other IRI is written in full, whatever
  prefixes the source declared, so that one graph has one byte form.
- Subjects: the `owl:Ontology` first (its IRI always written in full), then the named subjects
  sorted by how they are written (CURIE or `<IRI>`), then unreferenced blank-node subjects
  (`[] ...`) sorted by their text.
- Within a subject: `rdf:type` first (as `a`), then the predicates sorted by CURIE; the objects of
  one predicate sorted IRIs first, then literals, then blank nodes, each group by its text, one
  object per line when there are several.
- A blank node used once as an object (an OWL restriction, a SHACL property shape) is written
  inline as `[ ... ]` in the same order, an RDF list as `( ... )`; one used as no object (an
  `owl:AllDisjointClasses` axiom) opens its own `[] a ... .` statement. Blank nodes shared by
  several triples (rare; the knowledge files have none) get `_:bN` labels.
- Literals in their shortest correct form: integers, decimals, doubles and booleans bare when the
  bare token reads back as the same literal; plain strings without a datatype (an `xsd:string`
  datatype is dropped: in RDF 1.1 it is the same literal); language tags kept;
  strings that contain a line break in triple quotes. (rdflib, which reads the file, already
  normalises non-canonical numbers: `007` becomes `7`.)

Comments are not kept: the formatter works on the parsed graph, so a `# comment` is lost when a
file is rewritten. Explain a term with `rdfs:comment` or `skos:definition` instead.

The output is stable (formatting formatted text changes nothing) and isomorphic to the input.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import InputError
from her2kg.vocabulary import PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

RDF_NS = PREFIXES["rdf"]
XSD_NS = PREFIXES["xsd"]
_RDF_TYPE = RDF_NS + "type"
_RDF_FIRST = RDF_NS + "first"
_RDF_REST = RDF_NS + "rest"
_RDF_NIL = RDF_NS + "nil"
_OWL_ONTOLOGY = PREFIXES["owl"] + "Ontology"
_INDENT = "    "

# Turtle 1.1 grammar tokens for the bare numeric and boolean forms.
_BARE_TOKENS = {
    XSD_NS + "integer": re.compile(r"[+-]?[0-9]+"),
    XSD_NS + "decimal": re.compile(r"[+-]?[0-9]*\.[0-9]+"),
    XSD_NS + "double": re.compile(r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+"),
    XSD_NS + "boolean": re.compile(r"true|false"),
}
# A conservative PN_LOCAL: letters, digits, '_', '-' and inner '.'.
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_PREFIX_NAME = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9_\-]|[A-Za-z])?")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


_RDFLIB_WHY = re.compile(r"Bad syntax \((.*?)\) at \^", re.DOTALL)


class TurtleSyntaxError(InputError):
    """A Turtle document does not parse; `line` is 1-based (0 when the parser gave none)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}" if line else path, message)
        self.file = path
        self.line = line
        self.reason = message


@dataclass(frozen=True)
class ParsedTurtle:
    """A Turtle document parsed for formatting: its graph and the prefixes it declares."""

    graph: Graph
    declared: tuple[tuple[str, str], ...]


def parse_turtle(text: str, *, source: str = "<string>") -> ParsedTurtle:
    """Parse Turtle text; keep the prefixes it declares (and no library defaults).

    Raises TurtleSyntaxError, naming `source` and the line, on malformed input.
    """
    from rdflib import Graph

    graph = Graph(bind_namespaces="none")
    try:
        graph.parse(data=text, format="turtle")
    except SyntaxError as exc:  # rdflib's BadSyntax is a SyntaxError
        raise _syntax_error(source, exc) from None
    except ValueError as exc:  # e.g. an IRI rdflib refuses
        raise TurtleSyntaxError(source, 0, f"Turtle syntax error: {exc}") from None
    declared = tuple(sorted((prefix, str(ns)) for prefix, ns in graph.namespaces()))
    return ParsedTurtle(graph=graph, declared=declared)


def _syntax_error(source: str, exc: SyntaxError) -> TurtleSyntaxError:
    lines = getattr(exc, "lines", None)
    line = lines + 1 if isinstance(lines, int) else (exc.lineno or 0)
    text = str(exc)
    match = _RDFLIB_WHY.search(text)
    reason = match.group(1) if match else text.splitlines()[0] if text else type(exc).__name__
    return TurtleSyntaxError(source, line, f"Turtle syntax error: {reason}")


def format_turtle(text: str, *, source: str = "<string>") -> str:
    """Return the canonical form of a Turtle document (see the module docstring)."""
    parsed = parse_turtle(text, source=source)
    return format_graph(parsed.graph, declared=dict(parsed.declared))


def format_file(path: Path) -> str:
    """Return the canonical form of a Turtle file (the file is not changed)."""
    return format_turtle(path.read_text(encoding="utf-8"), source=str(path))


def is_canonical(path: Path) -> bool:
    """True when a Turtle file is already in canonical form."""
    text = path.read_text(encoding="utf-8")
    return format_turtle(text, source=str(path)) == text


def format_graph(graph: Graph, *, declared: Mapping[str, str] | None = None) -> str:
    """Write a graph in canonical Turtle, with the her2kg prefixes plus `declared`."""
    return _Writer(graph, _prefix_table(declared or {})).write()


PROJECT_PREFIXES: dict[str, str] = {**PREFIXES, "shape": PREFIXES["h"] + "shapes/"}


def _prefix_table(declared: Mapping[str, str]) -> list[tuple[str, str]]:
    """The project's (prefix, namespace) pairs; a file's other prefixes are not kept.

    `declared` is accepted for callers that pass a file's own prefixes; only the project's
    prefixes are written, so that one graph has one byte form whatever prefixes its source used.
    """
    del declared
    table = list(PROJECT_PREFIXES.items())
    # Longest namespace first, so that a nested namespace wins over its parent.
    return sorted(table, key=lambda pair: (-len(pair[1]), pair[0]))


class _Writer:
    """One formatting run over one graph (holds no state beyond the run)."""

    def __init__(self, graph: Graph, prefixes: list[tuple[str, str]]) -> None:
        from rdflib import BNode

        self._prefixes = prefixes
        self._used: dict[str, str] = {}
        self._graph = graph
        self._by_subject: dict[Node, dict[str, list[Node]]] = defaultdict(lambda: defaultdict(list))
        references: dict[Node, int] = defaultdict(int)
        for s, p, o in graph:
            self._by_subject[s][str(p)].append(o)
            if isinstance(o, BNode):
                references[o] += 1
        self._references = references
        self._labels = self._blank_labels()
        self._ontologies = frozenset(
            str(s)
            for s, objs in self._by_subject.items()
            if any(str(t) == _OWL_ONTOLOGY for t in objs.get(_RDF_TYPE, []))
        )

    # --- blank nodes ----------------------------------------------------------------------
    def _blank_labels(self) -> dict[Node, str]:
        """Labels for blank nodes that cannot be written inline (shared or cyclic)."""
        from rdflib import BNode

        inline_ok: set[Node] = set()
        for node in self._by_subject:
            if isinstance(node, BNode) and self._references.get(node, 0) == 1:
                inline_ok.add(node)
        labelled = {
            node for node in self._all_blank_nodes() if node not in inline_ok and self._references.get(node, 0) > 1
        }
        labelled |= self._cyclic(inline_ok)
        return _signature_labels(self._graph, labelled) if labelled else {}

    def _all_blank_nodes(self) -> set[Node]:
        from rdflib import BNode

        nodes: set[Node] = set()
        for s, _, o in self._graph:
            for term in (s, o):
                if isinstance(term, BNode):
                    nodes.add(term)
        return nodes

    def _cyclic(self, inline_ok: set[Node]) -> set[Node]:
        """Blank nodes that reach themselves through inline-only blank nodes."""
        from rdflib import BNode

        cyclic: set[Node] = set()
        for start in inline_ok:
            stack = [o for objs in self._by_subject[start].values() for o in objs if isinstance(o, BNode)]
            seen: set[Node] = set()
            while stack:
                node = stack.pop()
                if node == start:
                    cyclic.add(start)
                    break
                if node in seen:
                    continue
                seen.add(node)
                stack.extend(
                    o for objs in self._by_subject.get(node, {}).values() for o in objs if isinstance(o, BNode)
                )
        return cyclic

    def _inline(self, node: Node) -> bool:
        from rdflib import BNode

        return isinstance(node, BNode) and node not in self._labels

    def _list_items(self, node: Node) -> list[Node] | None:
        """The items of a well-formed RDF list that starts at a blank node, or None."""
        items: list[Node] = []
        seen: set[Node] = set()
        current = node
        while str(current) != _RDF_NIL:
            if not self._inline(current) or current in seen:
                return None
            seen.add(current)
            props = self._by_subject.get(current, {})
            if set(props) != {_RDF_FIRST, _RDF_REST}:
                return None
            if len(props[_RDF_FIRST]) != 1 or len(props[_RDF_REST]) != 1:
                return None
            if current is not node and self._references.get(current, 0) != 1:
                return None
            items.append(props[_RDF_FIRST][0])
            current = props[_RDF_REST][0]
        return items

    # --- terms ----------------------------------------------------------------------------
    def _iri(self, iri: str) -> str:
        if iri in self._ontologies:
            return "<" + _escape_iri(iri) + ">"
        for prefix, namespace in self._prefixes:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if local == "" or _LOCAL_NAME.fullmatch(local):
                    self._note(prefix)
                    return f"{prefix}:{local}"
        return "<" + _escape_iri(iri) + ">"

    def _note(self, prefix: str) -> None:
        for name, namespace in self._prefixes:
            if name == prefix:
                self._used[name] = namespace

    def _literal(self, literal: Node) -> str:
        from rdflib import Literal

        assert isinstance(literal, Literal)
        lexical = str(literal)
        datatype = str(literal.datatype) if literal.datatype is not None else None
        if literal.language:
            return _quote(lexical) + "@" + literal.language
        if datatype is None or datatype == XSD_NS + "string":  # RDF 1.1: "x"^^xsd:string is "x"
            return _quote(lexical)
        token = _BARE_TOKENS.get(datatype)
        if token is not None and token.fullmatch(lexical) and Literal(lexical, datatype=literal.datatype) == literal:
            return lexical
        return _quote(lexical) + "^^" + self._iri(datatype)

    def _term(self, node: Node, depth: int) -> str:
        from rdflib import BNode, Literal

        if isinstance(node, Literal):
            return self._literal(node)
        if isinstance(node, BNode):
            if node in self._labels:
                return self._labels[node]
            items = self._list_items(node)
            if items is not None:
                return "( " + " ".join(self._term(item, depth + 1) for item in items) + " )" if items else "()"
            body = self._predicate_list(node, depth + 1)
            return "[ " + body + " ]" if body else "[]"
        if str(node) == _RDF_NIL:
            return "()"
        return self._iri(str(node))

    # --- statements -----------------------------------------------------------------------
    def _predicate_list(self, subject: Node, depth: int) -> str:
        props = self._by_subject.get(subject, {})
        predicates = sorted(props, key=lambda p: (0, "") if p == _RDF_TYPE else (1, self._iri(p)))
        indent = _INDENT * depth
        parts = []
        for predicate in predicates:
            verb = "a" if predicate == _RDF_TYPE else self._iri(predicate)
            objects = [self._term(o, depth + 1) for o in props[predicate]]
            ordered = sorted(
                zip(props[predicate], objects, strict=True), key=lambda pair: (_kind_rank(pair[0]), pair[1])
            )
            joined = (",\n" + indent + _INDENT).join(text for _, text in ordered)
            parts.append(f"{verb} {joined}")
        return (" ;\n" + indent).join(parts)

    def write(self) -> str:
        from rdflib import BNode

        named = [s for s in self._by_subject if not isinstance(s, BNode)]
        named.sort(key=lambda s: (str(s) not in self._ontologies, self._iri(str(s))))
        blocks = [f"{self._iri(str(s))} {self._predicate_list(s, 1)} ." for s in named]
        roots = [
            s
            for s in self._by_subject
            if isinstance(s, BNode) and (s in self._labels or self._references.get(s, 0) == 0)
        ]
        root_blocks = []
        for s in roots:
            head = self._labels.get(s, "[]")
            root_blocks.append(f"{head} {self._predicate_list(s, 1)} .")
        blocks.extend(sorted(root_blocks))
        header = [f"@prefix {p}: <{_escape_iri(ns)}> ." for p, ns in sorted(self._used.items())]
        sections = []
        if header:
            sections.append("\n".join(header))
        sections.extend(blocks)
        return "\n\n".join(sections) + "\n" if sections else ""


def _kind_rank(node: Node) -> int:
    from rdflib import BNode, Literal

    if isinstance(node, Literal):
        return 1
    if isinstance(node, BNode):
        return 2
    return 0


def _quote(lexical: str) -> str:
    if "\n" in lexical:
        body = lexical.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r")
        return '"""' + body + '"""'
    return '"' + "".join(_ESCAPES.get(c, c) for c in lexical) + '"'


def _escape_iri(iri: str) -> str:
    return "".join(c if c not in '<>"{}|^`\\' and ord(c) > 0x20 else f"\\u{ord(c):04X}" for c in iri)


def _signature_labels(graph: Graph, nodes: set[Node]) -> dict[Node, str]:
    """Label blank nodes by the sorted text of their own triples: stable across runs.

    Two shared blank nodes with identical triples would swap labels between runs without
    changing the graph; the knowledge files use no shared blank nodes at all.
    """
    from rdflib import BNode

    signatures: dict[Node, str] = {}
    for node in nodes:
        own = sorted(f"{p} {'_' if isinstance(o, BNode) else o.n3()}" for _, p, o in graph.triples((node, None, None)))
        incoming = sorted(
            f"{s.n3() if not isinstance(s, BNode) else '_'} {p}" for s, p, _ in graph.triples((None, None, node))
        )
        signatures[node] = "|".join(own) + "||" + "|".join(incoming)
    ordered = sorted(nodes, key=lambda n: signatures[n])
    return {node: f"_:b{i}" for i, node in enumerate(ordered)}

