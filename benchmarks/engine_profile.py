"""Where the set-at-a-time engine spends its time: per rule and per stratum.

    python benchmarks/engine_profile.py [--size 10000] [--chunk 500] [--top 30]

Runs the same cohort as benchmarks/engine_throughput.py (seed 42) through the embedded store,
chunk by chunk, and sums the engine's own per-rule and per-stratum timings over the chunks.
Prints three Markdown tables: load / rules / query, the strata, and the slowest rules.
Cohort generation and conversion to N-Triples are not timed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))  # the synthetic-patient generator is test tooling


def profile(size: int, chunk: int) -> dict:
    from engine_throughput import cohort_chunks, patient_ntriples

    from her2kg.engine import run_rules
    from her2kg.knowledge import prepared_knowledge_ntriples
    from her2kg.report.extract import read_decisions
    from her2kg.rules import load_rules
    from her2kg.stores.embedded import EmbeddedStore

    rules = [r for r in load_rules() if r.scope == "patient"]
    kb = prepared_knowledge_ntriples()
    phases = {"load": 0.0, "rules": 0.0, "query": 0.0}
    strata: dict[int, float] = defaultdict(float)
    stratum_rules: dict[int, int] = defaultdict(int)
    per_rule: dict[str, float] = defaultdict(float)
    rule_stratum = {r.id: r.stratum for r in rules}
    for part in cohort_chunks(size, chunk):
        text = "".join(patient_ntriples(part))
        t0 = time.perf_counter()
        store = EmbeddedStore(input_checked=True)  # as her2kg recommend loads its own N-Triples
        store.load_ntriples(kb)
        store.load_ntriples(text)
        t1 = time.perf_counter()
        run = run_rules(store, rules)
        t2 = time.perf_counter()
        read_decisions(store, [b.patient_id for b in part])
        t3 = time.perf_counter()
        phases["load"] += t1 - t0
        phases["rules"] += t2 - t1
        phases["query"] += t3 - t2
        for s in run.strata:
            strata[s.stratum] += s.seconds
            stratum_rules[s.stratum] = len(s.rules)
            for r in s.rules:
                per_rule[r.rule_id] += r.seconds
    return {"phases": phases, "strata": dict(strata), "stratum_rules": dict(stratum_rules), "rules": dict(per_rule), "rule_stratum": rule_stratum}


def tables(result: dict, size: int, chunk: int, top: int) -> str:
    phases, strata, per_rule = result["phases"], result["strata"], result["rules"]
    total = sum(phases.values())
    rules_total = phases["rules"] or 1e-9
    lines = [f"{size:,} patients, {chunk:,} per store: {total:.2f} s", "", "| phase | seconds | share |", "|---|---:|---:|"]
    lines += [f"| {k} | {v:.2f} | {v / total:.0%} |" for k, v in phases.items()]
    lines += ["", "| stratum | rules | seconds | share of rules |", "|---:|---:|---:|---:|"]
    lines += [f"| {k} | {result['stratum_rules'][k]} | {v:.3f} | {v / rules_total:.1%} |" for k, v in sorted(strata.items())]
    ranked = sorted(per_rule.items(), key=lambda kv: -kv[1])
    lines += ["", f"| rule (slowest {min(top, len(ranked))} of {len(ranked)}) | stratum | seconds | share of rules |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {result['rule_stratum'][k]} | {v:.3f} | {v / rules_total:.1%} |" for k, v in ranked[:top]]
    rest = sum(v for _, v in ranked[top:])
    lines.append(f"| (the other {max(0, len(ranked) - top)}) | | {rest:.3f} | {rest / rules_total:.1%} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--chunk", type=int, default=500, help="patients per store, as in engine_throughput.py")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    print(tables(profile(args.size, args.chunk), args.size, args.chunk, args.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
