"""Rule files: discovery and strict parsing of their headers.

A rule file is a SPARQL 1.1 Update (`INSERT { ... } WHERE { ... }`) in `queries/rules/`,
starting with a block of `# key: value` lines:

    # id:          her2-positive-from-ihc
    # title:       HER2-positive by IHC 3+
    # kind:        derivation
    # statements:  S22
    # source:      ASCO/CAP 2018 HER2 testing guideline
    # description: (optional, may continue on following '#   ' lines)

Rules run stratum by stratum. The strata are computed from what each rule reads and writes
(`her2kg.strata`): a rule may read, and negate (FILTER NOT EXISTS), only facts that rules of lower
strata derive, so a new rule needs no number. An optional `# stratum: N` is a lower bound; one
that contradicts what the rule reads is an error naming both rules, and so is a cycle. A rule runs
once, unless it is marked `# recursive: yes` (it reads its own output): it then runs until it adds
no triple (with a cap).
A rule marked `# scope: knowledge` reads and writes knowledge-base facts only (pre-joins, the
closure of knowledge-base individuals): it runs once per process on the knowledge base
(`her2kg.knowledge.prepared_knowledge_ntriples`), not once per batch of patients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

from her2kg.errors import RuleError
from her2kg.query_header import HeaderError, read_header
from her2kg.resources import queries_dir
from her2kg.strata import RuleTerms, StratumError, compute_strata, rule_terms, type_position_terms
from her2kg.vocabulary import RULE_BASE


class RuleKind(StrEnum):
    """What a rule concludes (header `kind:`)."""

    CLOSURE = "closure"
    DERIVATION = "derivation"
    SITUATION = "situation"
    RECOMMENDATION = "recommendation"
    SAFETY = "safety"
    MONITORING = "monitoring"
    PROPOSAL = "proposal"
    NOTICE = "notice"


class RuleScope(StrEnum):
    """What a rule reads and writes (header `scope:`): patient facts, or knowledge-base facts only."""

    PATIENT = "patient"
    KNOWLEDGE = "knowledge"


REQUIRED_KEYS = ("id", "title", "kind", "source", "statements")
OPTIONAL_KEYS = ("description", "recursive", "scope", "history", "stratum")
SCOPES = tuple(str(s) for s in RuleScope)
RULE_KINDS = tuple(str(k) for k in RuleKind)
_STATEMENT_ID = re.compile(r"^S\d{2}$")


@dataclass(frozen=True)
class Rule:
    """One rule file: its header fields and its SPARQL text."""

    id: str
    title: str
    kind: RuleKind
    source: str
    stratum: int
    statements: tuple[str, ...]
    description: str
    path: Path
    text: str
    recursive: bool = False
    scope: RuleScope = RuleScope.PATIENT  # KNOWLEDGE: reads and writes knowledge-base facts only
    depends_on_history: bool = False  # its conclusions rest on the recorded therapy history
    declared_stratum: int | None = None  # the header's `stratum:`, a lower bound; `stratum` is computed

    @property
    def iri(self) -> str:
        return RULE_BASE + self.id


def parse_rule(path: Path) -> Rule:
    """Parse one rule file; raise RuleError naming the file when its header is malformed."""
    try:
        header = read_header(path, allowed=REQUIRED_KEYS + OPTIONAL_KEYS)
        header.require(REQUIRED_KEYS)
    except HeaderError as exc:
        raise RuleError(path.stem, str(path), str(exc)) from None
    fields = header.fields
    if fields["id"] != path.stem:
        raise RuleError(fields["id"], str(path), f"id '{fields['id']}' differs from the file name '{path.stem}'")
    try:
        kind = RuleKind(fields["kind"])
    except ValueError:
        raise RuleError(fields["id"], str(path), f"kind must be one of {', '.join(RULE_KINDS)}") from None
    declared: int | None = None
    if "stratum" in fields:
        try:
            declared = int(fields["stratum"])
        except ValueError:
            raise RuleError(fields["id"], str(path), "stratum must be an integer (or leave it out: it is computed)") from None
    statements = tuple(s.strip() for s in fields["statements"].split(",") if s.strip() and s.strip() != "-")
    bad = [s for s in statements if not _STATEMENT_ID.match(s)]
    if bad:
        raise RuleError(fields["id"], str(path), f"statements must look like S01: {bad}")
    return Rule(
        id=fields["id"],
        title=fields["title"],
        kind=kind,
        source=fields["source"],
        stratum=declared if declared is not None else 0,
        statements=statements,
        description=fields.get("description", ""),
        path=path,
        text=header.text,
        recursive=_parse_bool(fields.get("recursive", "no"), fields["id"], path),
        scope=_parse_scope(fields.get("scope", "patient"), fields["id"], path),
        depends_on_history=_parse_history(fields.get("history", "independent"), fields["id"], path),
        declared_stratum=declared,
    )


def _parse_scope(value: str, rule_id: str, path: Path) -> RuleScope:
    try:
        return RuleScope(value)
    except ValueError:
        raise RuleError(rule_id, str(path), f"scope must be one of {', '.join(SCOPES)}, not {value!r}") from None


def _parse_history(value: str, rule_id: str, path: Path) -> bool:
    if value not in ("dependent", "independent"):
        raise RuleError(rule_id, str(path), f"history must be dependent or independent, not {value!r}")
    return value == "dependent"


def _parse_bool(value: str, rule_id: str, path: Path) -> bool:
    if value in ("yes", "true"):
        return True
    if value in ("no", "false"):
        return False
    raise RuleError(rule_id, str(path), f"recursive must be yes or no, not {value!r}")


def load_rules(folder: Path | None = None) -> tuple[Rule, ...]:
    """Load every `*.rq` rule of a folder (default: `queries/rules/`), with computed strata, ordered by stratum then id."""
    root = folder if folder is not None else queries_dir() / "rules"
    rules = [parse_rule(p) for p in sorted(root.glob("*.rq"))]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(rule.id, str(rule.path), "duplicate rule id")
        seen.add(rule.id)
    return tuple(sorted(with_computed_strata(rules), key=lambda r: (r.stratum, r.id)))


def with_computed_strata(rules: Sequence[Rule]) -> tuple[Rule, ...]:
    """The rules with `stratum` computed from what they read and write (see `her2kg.strata`)."""
    terms = []
    for rule in rules:
        try:
            reads, writes = rule_terms(rule.text)
        except ValueError as exc:
            raise RuleError(rule.id, str(rule.path), str(exc)) from None
        terms.append(RuleTerms(rule.id, reads, writes, rule.recursive, rule.declared_stratum, rule.scope is RuleScope.KNOWLEDGE))
    classes = frozenset().union(*(type_position_terms(rule.text) for rule in rules))
    by_id = {rule.id: rule for rule in rules}
    try:
        strata = compute_strata(terms, classes)
    except StratumError as exc:
        first = by_id[exc.rule_ids[0]]
        raise RuleError(first.id, str(first.path), str(exc)) from None
    return tuple(replace(rule, stratum=strata[rule.id]) for rule in rules)
