"""Competency questions (`queries/cq/*.rq`) against their committed answers (`*.tsv`).

A .tsv holds the variable names on its first line and then one row per answer, tab-separated,
sorted (byte order); IRIs under https://w3id.org/her2kg/ are written as h: CURIEs, literals by
their lexical form and unbound variables as empty cells. `write_expected` writes that form.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from her2kg.vocabulary import BASE


@dataclass(frozen=True)
class Answer:
    variables: tuple[str, ...]
    rows: frozenset[tuple[str, ...]]

    def tsv(self) -> str:
        lines = ["\t".join(self.variables), *("\t".join(row) for row in sorted(self.rows))]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class CqOutcome:
    path: Path
    ok: bool
    message: str


def cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return "h:" + term.value[len(BASE) :] if term.value.startswith(BASE) else term.value
    return term.value


def run_question(store: ox.Store, path: Path) -> Answer:
    solutions = store.query(path.read_text(encoding="utf-8"))
    if not isinstance(solutions, ox.QuerySolutions):
        raise ValueError(f"{path.name}: a competency question is a SELECT query")
    names = tuple(v.value for v in solutions.variables)
    return Answer(names, frozenset(tuple(cell(s[n]) for n in names) for s in solutions))


def read_expected(path: Path) -> Answer:
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        raise ValueError(f"{path.name} is empty; run `her2kg check --update` to write it")
    return Answer(tuple(lines[0].split("\t")), frozenset(tuple(line.split("\t")) for line in lines[1:] if line.strip()))


def compare(store: ox.Store, folder: Path, *, update: bool = False) -> list[CqOutcome]:
    """Run every question of `folder`; with `update`, rewrite each answer file that differs."""
    outcomes: list[CqOutcome] = []
    for path in sorted(folder.glob("*.rq")):
        expected_path = path.with_suffix(".tsv")
        try:
            actual = run_question(store, path)
        except (SyntaxError, ValueError) as exc:
            outcomes.append(CqOutcome(path, False, f"does not run: {exc}"))
            continue
        current = expected_path.read_text(encoding="utf-8") if expected_path.is_file() else None
        if current == actual.tsv():
            outcomes.append(CqOutcome(path, True, "answer as committed"))
            continue
        if update:
            expected_path.write_text(actual.tsv(), encoding="utf-8")
            outcomes.append(CqOutcome(path, True, f"rewrote {expected_path.name}"))
            continue
        if current is None:
            outcomes.append(CqOutcome(path, False, f"has no expected answer {expected_path.name}"))
            continue
        expected = read_expected(expected_path)
        if expected.variables != actual.variables:
            message = f"selects {', '.join(actual.variables)}; {expected_path.name} expects {', '.join(expected.variables)}"
        else:
            missing = sorted(expected.rows - actual.rows)
            unexpected = sorted(actual.rows - expected.rows)
            parts = []
            if missing:
                parts.append(f"{len(missing)} expected row(s) missing, first {chr(9).join(missing[0])!r}")
            if unexpected:
                parts.append(f"{len(unexpected)} unexpected row(s), first {chr(9).join(unexpected[0])!r}")
            message = "; ".join(parts) or f"{expected_path.name} is not in the committed form (sorted rows)"
        outcomes.append(CqOutcome(path, False, message + "; if the change is intended, run `her2kg check --update`"))
    return outcomes
