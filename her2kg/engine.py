"""Run rule files over a store, stratum by stratum.

The engine is set-at-a-time: one pass of a rule covers every patient in the store. The strata
are computed from what the rules read and write (`her2kg.strata`), so a rule reads only what lower
strata derive and a stratum runs once; a rule marked `recursive` (it reads its own output) runs
to a fixpoint, and one that still adds triples after `max_passes` passes is an error that names
it. The returned `EngineRun` gives the time of each stratum and of each rule in it
(`benchmarks/engine_profile.py` prints them as tables).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from her2kg.errors import RuleError
from her2kg.rules import Rule
from her2kg.stores.base import TripleStore

DEFAULT_MAX_PASSES = 8


@dataclass(frozen=True)
class RuleRun:
    """The time one rule took in a stratum (summed over the stratum's passes)."""

    rule_id: str
    seconds: float


@dataclass(frozen=True)
class StratumRun:
    stratum: int
    passes: int
    triples_added: int  # -1 when the stratum ran once and the store was not counted
    seconds: float
    rules: tuple[RuleRun, ...] = ()


@dataclass(frozen=True)
class EngineRun:
    """What a run of the engine did, per stratum."""

    strata: tuple[StratumRun, ...]

    @property
    def triples_added(self) -> int:
        return sum(s.triples_added for s in self.strata if s.triples_added > 0)


def run_rules(store: TripleStore, rules: Sequence[Rule], *, max_passes: int = DEFAULT_MAX_PASSES) -> EngineRun:
    """Apply `rules` to `store` until no stratum adds a triple; return what was done."""
    runs: list[StratumRun] = []
    ordered = sorted(rules, key=lambda r: (r.stratum, r.id))
    for stratum, group in groupby(ordered, key=lambda r: r.stratum):
        stratum_rules = list(group)
        started = time.perf_counter()
        timings = dict.fromkeys((r.id for r in stratum_rules), 0.0)
        recursive = [rule for rule in stratum_rules if rule.recursive]
        if not recursive:
            for rule in stratum_rules:
                timings[rule.id] += _apply(store, rule)
            runs.append(StratumRun(stratum, 1, -1, time.perf_counter() - started, _rule_runs(timings)))
            continue
        before = store.triple_count()
        size = before
        passes = 0
        pass_rules = stratum_rules  # every rule once, then the recursive ones until nothing is added
        while True:
            passes += 1
            if passes > max_passes:
                names = ", ".join(r.id for r in recursive)
                first = recursive[0]
                raise RuleError(
                    first.id,
                    str(first.path),
                    f"stratum {stratum} still adds triples after {max_passes} passes (rules: {names}); "
                    "a rule probably mints a new node on every pass",
                )
            for rule in pass_rules:
                timings[rule.id] += _apply(store, rule)
            pass_rules = recursive
            new_size = store.triple_count()
            if new_size == size:
                break
            size = new_size
        runs.append(StratumRun(stratum, passes, size - before, time.perf_counter() - started, _rule_runs(timings)))
    return EngineRun(tuple(runs))


def _rule_runs(timings: dict[str, float]) -> tuple[RuleRun, ...]:
    return tuple(RuleRun(rule_id, seconds) for rule_id, seconds in timings.items())


def _apply(store: TripleStore, rule: Rule) -> float:
    """Run one rule; return the seconds it took."""
    started = time.perf_counter()
    try:
        store.update(rule.text)
    except Exception as exc:  # the store's own error type varies by backend
        raise RuleError(rule.id, str(rule.path), f"the store rejected the rule: {exc}") from exc
    return time.perf_counter() - started
