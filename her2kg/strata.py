"""Strata computed from what each rule reads and writes.

A rule *writes* the terms (IRIs of predicates, classes and individuals) of its `INSERT` template,
plus the IRIs its `WHERE` binds into a template variable with `BIND(... AS ?v)` or `VALUES ?v {...}`
(a class chosen by `IF`, say). A template that types a node with a variable bound by a graph pattern
(`?x a ?super`, the superclass closures) writes *every class*. A rule *reads* the IRIs of its
`WHERE`, negated or not, except those it only binds into a variable that the template alone uses;
a type read through a variable bound by a graph pattern (`?p a ?class`, the class taken from the
knowledge base) reads every class, so the rule runs after every rule that writes a class.
`rdf:type` itself and XML Schema datatypes are not terms: what matters is which class or
predicate is read.

A class is a term in type position (after `a` or `rdf:type`) or, by the ontology's naming
convention, a term whose local name starts with a capital letter (this catches a class reached
through a variable, `VALUES ?c { h:Taxane } ?d a ?c`). A closure rule (it reads
`?x a ?class` and writes `?x a ?super`) closes the types asserted in its input: its own generic
read is not counted, so it runs before the rules that read the classes it adds.

A rule that reads a term must run after every other rule that writes it. A rule that reads its own
output must be marked `# recursive: yes` (it then runs to a fixpoint). A cycle between different
rules is an error naming both rules and the term. The stratum of a rule is 0 when it reads nothing
another rule writes, else one more than the highest stratum of those rules; a stratum stated in
the header is a lower bound, and one that the rule's inputs force higher is an error naming both
rules.

>>> reads, writes = rule_terms('''PREFIX h: <https://w3id.org/her2kg/>
... INSERT { ?p a ?class }
... WHERE { ?p h:stage ?s . BIND(IF(?s = 4, h:LatePatient, h:EarlyPatient) AS ?class) }''')
>>> sorted(t.rsplit("/", 1)[1] for t in writes)
['EarlyPatient', 'LatePatient']
>>> sorted(t.rsplit("/", 1)[1] for t in reads)
['stage']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
EVERY_CLASS = "*every class*"  # what a closure rule (`?x a ?super`) writes

_PREFIX = re.compile(r"^\s*PREFIX\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>", re.IGNORECASE | re.MULTILINE)
_PREFIX_LINE = re.compile(r"^\s*PREFIX\b.*$", re.IGNORECASE | re.MULTILINE)
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'')
_TERM = re.compile(r"<([^<>\s]*)>|(?<![\w?$:-])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*(?<!-))")
_OBJECT = r"(?:\?\w+|[\w-]*:[\w-]+|<[^>]*>)"
_TYPE_OBJECTS = re.compile(r"(?:(?<![\w?$:-])a|rdf:type|<" + re.escape(RDF_TYPE) + r">)\s+(" + _OBJECT + r"(?:\s*,\s*" + _OBJECT + r")*)")
_VALUES = re.compile(r"\bVALUES\s*(\?\w+|\((?:\s*\?\w+)+\s*\))\s*\{", re.IGNORECASE)
_BIND = re.compile(r"\bBIND\s*\(", re.IGNORECASE)


class StratumError(ValueError):
    """Rules whose reads and writes admit no order, or contradict a stated stratum."""

    def __init__(self, rule_ids: Sequence[str], message: str) -> None:
        super().__init__(message)
        self.rule_ids = tuple(rule_ids)


@dataclass(frozen=True)
class RuleTerms:
    """What one rule reads (its WHERE) and writes (its INSERT template), as full IRIs."""

    rule_id: str
    reads: frozenset[str]
    writes: frozenset[str]
    recursive: bool = False
    declared_stratum: int | None = None
    knowledge: bool = False  # scope knowledge: runs on the knowledge base alone, before any patient rule


def rule_terms(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(reads, writes) of a rule text `INSERT { ... } WHERE { ... }`; header comments are skipped.

    Writes are the predicates and classes of the template; reads are every IRI of the WHERE.
    """
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(body)}
    body = _STRING.sub('""', _PREFIX_LINE.sub("", body))
    insert_at = re.search(r"\bINSERT\b", body, re.IGNORECASE)
    where_at = re.search(r"\bWHERE\b", body, re.IGNORECASE)
    if insert_at is None or where_at is None or where_at.start() < insert_at.start():
        raise ValueError("a rule must read `INSERT { ... } WHERE { ... }`")
    template, where = body[insert_at.end() : where_at.start()], body[where_at.end() :]
    bindings = _bindings(where)
    bound = {v: set(_terms(" ".join(texts), prefixes)) for v, texts in bindings.items()}
    writes: set[str] = set()
    for position, token in _template_slots(template):
        if token.startswith("?"):
            values = bound.get(token[1:], set())
            if values:
                writes |= values
            elif position == "class":
                writes.add(EVERY_CLASS)
            else:
                raise ValueError(f"the template's predicate {token} is neither an IRI nor bound by BIND or VALUES")
        else:
            writes |= set(_terms(token, prefixes))
    # an IRI that the WHERE only binds into a variable used by the template alone is written, not read
    occurrences = Counter(_terms(where, prefixes))
    template_only = [v for v in bindings if re.search(rf"\?{v}\b", template) and len(re.findall(rf"\?{v}\b", where)) == 1]
    binding_only = Counter(_terms(" ".join(t for v in template_only for t in bindings[v]), prefixes))
    reads = {t for t, n in occurrences.items() if n > binding_only[t]}
    for match in _TYPE_OBJECTS.finditer(where):
        if any(not bound.get(v) for v in re.findall(r"\?(\w+)", match.group(1))):
            reads.add(EVERY_CLASS)  # `?p a ?class`, the class found by a graph pattern
    ignored = {RDF_TYPE}
    return frozenset(t for t in reads if t not in ignored and not t.startswith(XSD)), frozenset(
        t for t in writes if t not in ignored and not t.startswith(XSD)
    )


_TEMPLATE_TOKEN = re.compile(r'<[^<>\s]*>|""(?:\^\^\S+|@[\w-]+)?|[^\s{}.;,]+|[{}.;,]')


def _template_slots(template: str) -> Iterator[tuple[str, str]]:
    """("predicate" | "class", token) for each predicate and each object of `a` in a template."""
    state = "subject"
    predicate = ""
    for token in _TEMPLATE_TOKEN.findall(template):
        if token in "{}.":
            state = "subject"
        elif token == ";":
            state = "predicate"
        elif token == ",":
            state = "object"
        elif state == "subject":
            state = "predicate"
        elif state == "predicate":
            predicate = token
            state = "object"
            if token not in ("a", "rdf:type", f"<{RDF_TYPE}>"):
                yield "predicate", token
        elif state == "object":
            if predicate in ("a", "rdf:type", f"<{RDF_TYPE}>"):
                yield "class", token
            state = "after object"


def is_class(term: str, typed: frozenset[str]) -> bool:
    """A term in type position somewhere, or one whose local name starts with a capital letter."""
    local = re.split(r"[/#]", term)[-1]
    return term in typed or (local[:1].isupper())


def type_position_terms(text: str) -> frozenset[str]:
    """The IRIs a rule text uses in type position (`?x a h:C, h:D`)."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    prefixes = {m.group(1) or "": m.group(2) for m in _PREFIX.finditer(body)}
    body = _PREFIX_LINE.sub("", body)
    found: set[str] = set()
    for match in _TYPE_OBJECTS.finditer(body):
        found |= set(_terms(match.group(1), prefixes))
    return frozenset(found)


def _terms(text: str, prefixes: Mapping[str, str]) -> Iterator[str]:
    for match in _TERM.finditer(text):
        if match.group(1) is not None:
            yield match.group(1)
        elif match.group(2) is not None or match.group(3) is not None:
            prefix = match.group(2) or ""
            if prefix in prefixes:
                yield prefixes[prefix] + match.group(3)


def _bindings(where: str) -> dict[str, list[str]]:
    """Variable -> the texts that `BIND(text AS ?v)` or the cells of `VALUES` put into it."""
    bound: dict[str, list[str]] = {}
    for match in _BIND.finditer(where):
        inner = _balanced(where, match.end() - 1, "(", ")")
        alias = re.search(r"\bAS\s+\?(\w+)\s*$", inner, re.IGNORECASE)
        if alias:
            bound.setdefault(alias.group(1), []).append(inner[: alias.start()])
    for match in _VALUES.finditer(where):
        block = _balanced(where, match.end() - 1, "{", "}")
        variables = re.findall(r"\?(\w+)", match.group(1))
        rows = re.findall(r"\(([^()]*)\)", block) if match.group(1).startswith("(") else block.split()
        for row in rows:
            cells = row.split() if match.group(1).startswith("(") else [row]
            for variable, cell in zip(variables, cells, strict=False):
                bound.setdefault(variable, []).append(cell)
    return bound


def _balanced(text: str, start: int, opening: str, closing: str) -> str:
    """The text between the bracket at `start` and its partner."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == opening:
            depth += 1
        elif text[i] == closing:
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    raise ValueError(f"unbalanced {opening!r} in a rule")


def dependencies(rules: Sequence[RuleTerms], classes: frozenset[str] = frozenset()) -> dict[str, dict[str, str]]:
    """rule id -> {rule id it must run after: one term that makes it so}.

    `classes`: terms known to be classes (in type position in some rule); see `is_class`.
    """
    writers: dict[str, list[str]] = {}
    for rule in rules:
        for term in rule.writes:
            writers.setdefault(term, []).append(rule.rule_id)
    every_class = writers.get(EVERY_CLASS, [])
    knowledge = {r.rule_id for r in rules if r.knowledge}
    deps: dict[str, dict[str, str]] = {}
    for rule in rules:
        after: dict[str, str] = {}
        for term in sorted(rule.reads):
            sources = list(writers.get(term, []))
            if rule.knowledge and term != EVERY_CLASS:
                patient = [other for other in sources if other not in knowledge]
                if patient:
                    raise StratumError(
                        [rule.rule_id, patient[0]],
                        f"knowledge-scope rule {rule.rule_id} reads <{term}>, written by patient rule {patient[0]}; "
                        "a knowledge-scope rule runs on the knowledge base alone: make it patient-scope",
                    )
            if term == EVERY_CLASS:
                # a closure rule (it writes every class too) closes the types asserted in its input;
                # any other rule that reads a type through a variable runs after every class it may meet
                if EVERY_CLASS in rule.writes:
                    continue
                sources = sorted({w for t, ws in writers.items() if t == EVERY_CLASS or is_class(t, classes) for w in ws})
                if rule.knowledge:
                    sources = [other for other in sources if other in knowledge]
            elif is_class(term, classes):
                sources += [other for other in every_class if not rule.knowledge or other in knowledge]
            for other in sources:
                if other != rule.rule_id:
                    after.setdefault(other, term)
                elif not rule.recursive and term in rule.writes:
                    raise StratumError(
                        [rule.rule_id],
                        f"rule {rule.rule_id} reads <{term}>, which it writes itself; "
                        "mark it `# recursive: yes` (it then runs to a fixpoint) or read another term",
                    )
        deps[rule.rule_id] = after
    return deps


def compute_strata(rules: Sequence[RuleTerms], classes: frozenset[str] = frozenset()) -> dict[str, int]:
    """rule id -> stratum; raise StratumError on a cycle or a contradicted stated stratum."""
    deps = dependencies(rules, classes)
    sorter = TopologicalSorter({rule_id: set(after) for rule_id, after in deps.items()})
    try:
        order = list(sorter.static_order())
    except CycleError as exc:
        cycle: list[str] = exc.args[1]
        # graphlib lists the cycle so that each node depends on the one after it
        steps = [f"{a} reads <{deps[a][b]}>, written by {b}" for a, b in pairwise(cycle)]
        raise StratumError(sorted(set(cycle)), "rules depend on each other in a cycle: " + "; ".join(steps)) from None
    declared = {r.rule_id: r.declared_stratum for r in rules}
    strata: dict[str, int] = {}
    for rule_id in order:
        after = deps[rule_id]
        needed = 1 + max((strata[other] for other in after), default=-1)
        stated = declared[rule_id]
        if stated is not None and stated < needed:
            culprit = max(after, key=lambda other: strata[other])
            raise StratumError(
                [rule_id, culprit],
                f"rule {rule_id} states stratum {stated}, but it reads <{after[culprit]}>, written by {culprit} "
                f"(stratum {strata[culprit]}); remove the `stratum:` line or raise it to {needed}",
            )
        strata[rule_id] = needed if stated is None else stated
    return strata
