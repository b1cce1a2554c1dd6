"""A Bulk export through `her2kg cohort`, `her2kg spark-cohort` (local[1], local[2]) and the plain-Python floor.

    python benchmarks/bulk_spark.py [--patients 100000] [--seed 42] [--runs cohort,spark1,spark2,plain]

One generated FHIR Bulk Data export (`her2kg.bulk.generate`, seed 42, gzipped NDJSON split into
files of 50,000 lines, with a manifest) is written to a temporary folder; writing it is not timed.
Each run is a separate command in its own process tree, timed from start to exit (Spark runs
include starting the JVM and the Python workers). Peak memory is the largest sum of the resident
memory (VmRSS) of the whole process tree (driver, JVM, Python workers), sampled every 0.2 s; CPU
time is the user + system time of every process of the tree, as last sampled (a process that
lives less than 0.2 s may be missed). On a shared machine, wall times depend on the other load
(the table prints the load average); CPU times much less so.
The plain-Python floor is `benchmarks/engine_throughput.py --child plain N`: the same number of
patients decided by `plain_decide.py` from facts already in memory (no input reading, no report
writing), with its own ru_maxrss.

Prints one Markdown table with the ratios of this run; writes JSON to benchmarks/results/bulk_spark.json.
Needs the `spark` extra and Java 17. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
AS_OF = "2026-11-01"


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


TICKS = os.sysconf("SC_CLK_TCK")


def tree_sample(root: int, cpu: dict[int, float]) -> int:
    """The resident memory (KiB) of `root` and its descendants; records each one's CPU seconds in `cpu`."""
    tree = _children()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            cpu[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
            with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


def timed(command: list[str]) -> dict[str, float]:
    """Run `command`; its wall time and the peak RSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    cpu: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_sample(process.pid, cpu))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = process.communicate()
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{err[-3000:]}")
    return {"seconds": seconds, "peak_mib": peak / 1024, "cpu_seconds": sum(cpu.values())}


def count_lines(paths: list[Path]) -> int:
    return sum(1 for path in paths for _ in path.open("rb"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--runs", default="cohort,spark1,spark2,plain")
    parser.add_argument("--chunk-size", type=int, default=500)
    args = parser.parse_args()
    runs = args.runs.split(",")
    her2kg = [sys.executable, "-m", "her2kg"]
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="her2kg-bulk-bench-") as scratch:
        root = Path(scratch)
        from her2kg.bulk.generate import write_export

        started = time.perf_counter()
        stats = write_export(root / "export", args.patients, seed=args.seed, as_of=date.fromisoformat(AS_OF),
                             compress=True, split=50_000, manifest=True)
        resources = sum(stats.resources.values())
        size = sum(p.stat().st_size for p in (root / "export").iterdir())
        print(f"export: {args.patients:,} patients, {resources:,} resources, {len(stats.files)} files, "
              f"{size / 2**20:.0f} MiB gzipped, written in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        load_before = os.getloadavg()[0]
        for run in runs:
            if run == "cohort":
                out = root / "cohort.jsonl"
                results[run] = timed([*her2kg, "cohort", str(root / "export"), "--out", str(out), "--as-of", AS_OF,
                                      "--chunk-size", str(args.chunk_size)])
                results[run]["reports"] = count_lines([out])
            elif run in ("spark1", "spark2"):
                cores = run[-1]
                out = root / f"spark{cores}"
                results[run] = timed([*her2kg, "spark-cohort", str(root / "export"), str(out), "--master", f"local[{cores}]",
                                      "--as-of", AS_OF, "--chunk-size", str(args.chunk_size), "--conf", "spark.ui.enabled=false",
                                      "--conf", "spark.driver.memory=2g"])
                results[run]["reports"] = count_lines(sorted(out.glob("part-*")))
            elif run == "plain":
                child = subprocess.run([sys.executable, str(HERE / "engine_throughput.py"), "--child", "plain", str(args.patients)],
                                       check=True, capture_output=True, text=True)
                plain = json.loads(child.stdout.strip().splitlines()[-1])
                results[run] = {"seconds": plain["seconds"], "peak_mib": plain["peak_mib"], "reports": args.patients,
                                "cpu_seconds": plain["seconds"]}
            results[run]["load_after"] = os.getloadavg()[0]
            print(f"{run}: {results[run]}", file=sys.stderr)
    names = {"cohort": "`her2kg cohort` (one process)", "spark1": "`her2kg spark-cohort --master local[1]`",
             "spark2": "`her2kg spark-cohort --master local[2]`", "plain": "plain-Python floor (decisions only)"}
    floor = results.get("plain", {}).get("seconds")
    lines = ["| run | patients | time | patients/s | CPU time | peak memory | time vs plain floor |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for run, r in results.items():
        rate = r["reports"] / r["seconds"] if r["seconds"] else 0.0
        ratio = f"{r['seconds'] / floor:.0f}x" if floor and run != "plain" else "1x" if run == "plain" else "-"
        lines.append(f"| {names[run]} | {int(r['reports']):,} | {r['seconds']:.1f} s | {rate:,.0f} | {r['cpu_seconds']:.1f} s "
                     f"| {r['peak_mib']:,.0f} MiB | {ratio} |")
    if "spark1" in results and "spark2" in results:
        scaling = results["spark1"]["seconds"] / results["spark2"]["seconds"]
        lines.append("")
        lines.append(f"Scaling local[2] / local[1]: {scaling:.2f}x (throughput ratio; goal 1.7 on 2 cores)")
    lines.append(f"Machine: {os.cpu_count()} cores; 1-minute load average {load_before:.1f} before the first run, "
                 + ", ".join(f"{results[r]['load_after']:.1f} after {r}" for r in results) + ".")
    if "cohort" in results and "spark2" in results:
        lines.append(f"local[2] / one-process cohort: {results['cohort']['seconds'] / results['spark2']['seconds']:.2f}x")
    print("\n".join(lines))
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    (out_dir / "bulk_spark.json").write_text(json.dumps({"patients": args.patients, "resources": resources, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
