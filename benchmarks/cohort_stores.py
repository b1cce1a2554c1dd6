"""`her2kg cohort` on the embedded store and on Virtuoso: throughput and peak memory.

    python benchmarks/cohort_stores.py [--sizes 1000,10000,100000] [--chunk-size 500]
                                       [--stores embedded,virtuoso] [--virtuoso-limit 1200]

For each size a folder of generated patients (one Turtle file each, `synthetic`, seed 42)
is written once to a temporary folder; writing it is not timed. Each (store, size) then runs
`run_cohort` (what `her2kg cohort` does) in its own subprocess, so that the client's peak memory
(ru_maxrss) is its own. The Virtuoso runs start a private server (`tests/virtuoso_server.py`) and
read its peak memory from /proc/<pid>/status (VmHWM). A Virtuoso size whose predicted time, from
the throughput of the size below it, exceeds --virtuoso-limit seconds is skipped and marked so.

Prints a Markdown table and writes JSON to benchmarks/results/cohort_stores.json.
Needs Virtuoso for the Virtuoso rows (`scripts/ci-virtuoso.sh`). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))  # the synthetic-patient generator is test tooling
AS_OF = date(2026, 11, 1)


def write_cohort(folder: Path, size: int) -> None:
    from synthetic import random_patient

    rng = random.Random(42)
    for index in range(size):
        (folder / f"p{index:06d}.ttl").write_text(random_patient(rng, f"p{index:06d}").to_turtle(), encoding="utf-8")


def worker(store_kind: str, folder: Path, chunk_size: int, buffers: int) -> dict[str, object]:
    """Run one cohort in this process and return its figures."""
    from her2kg.cohort import CohortOptions, run_cohort

    options = CohortOptions(as_of=AS_OF, chunk_size=chunk_size)
    with tempfile.TemporaryDirectory(prefix="her2kg-bench-") as scratch:
        output = Path(scratch) / "out.jsonl"
        if store_kind == "embedded":
            started = time.perf_counter()
            summary = run_cohort(folder, output, options)
            seconds = time.perf_counter() - started
            server_kib = 0
        else:
            sys.path.insert(0, str(HERE.parent / "tests"))  # the private-server helper is test tooling
            from virtuoso_server import VirtuosoSettings, running_virtuoso

            settings = VirtuosoSettings(buffers=buffers, max_dirty_buffers=buffers * 3 // 4)
            with running_virtuoso(Path(scratch) / "virtuoso", settings=settings) as server:
                store = server.store("urn:her2kg:bench", timeout=3600)

                def fresh(_index: int) -> object:
                    store.clear()
                    return store

                started = time.perf_counter()
                summary = run_cohort(folder, output, options, store_for_chunk=fresh)  # type: ignore[arg-type]
                seconds = time.perf_counter() - started
                server_kib = server.memory_kib()[1]
        lines = sum(1 for _ in output.open(encoding="utf-8"))
    return {
        "store": store_kind,
        "files": summary.files_processed,
        "reports": lines,
        "with_errors": summary.reports_with_errors,
        "seconds": round(seconds, 3),
        "files_per_s": round(summary.files_processed / seconds, 1),
        "client_peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "server_peak_mib": round(server_kib / 1024, 1),
    }


def run_worker(store_kind: str, folder: Path, chunk_size: int, buffers: int) -> dict[str, object]:
    command = [sys.executable, __file__, "--worker", store_kind, str(folder), "--chunk-size", str(chunk_size), "--buffers", str(buffers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{store_kind} run on {folder} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--chunk-size", type=int, default=500)
    parser.add_argument("--stores", default="embedded,virtuoso")
    parser.add_argument("--virtuoso-limit", type=float, default=1200.0, help="skip a Virtuoso size predicted to take longer (s)")
    parser.add_argument("--buffers", type=int, default=250_000, help="Virtuoso NumberOfBuffers (8 KiB each)")
    parser.add_argument("--worker", nargs=2, metavar=("STORE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]), args.chunk_size, args.buffers)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    stores = args.stores.split(",")
    rows: list[dict[str, object]] = []
    last_rate: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="her2kg-cohort-") as scratch:
        for size in sizes:
            folder = Path(scratch) / f"cohort-{size}"
            folder.mkdir()
            write_cohort(folder, size)
            for store_kind in stores:
                predicted = size / last_rate[store_kind] if store_kind in last_rate else 0.0
                if store_kind == "virtuoso" and predicted > args.virtuoso_limit:
                    rows.append({"store": store_kind, "files": size, "skipped": f"predicted {predicted / 60:.0f} min"})
                    print(f"{store_kind} {size}: skipped, predicted {predicted:.0f} s", file=sys.stderr)
                    continue
                row = run_worker(store_kind, folder, args.chunk_size, args.buffers)
                row["chunk_size"] = args.chunk_size
                rows.append(row)
                last_rate[store_kind] = float(row["files_per_s"])  # type: ignore[arg-type]
                print(f"{store_kind} {size}: {row}", file=sys.stderr)
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()

    print("| store | patients | chunk | time | patients/s | client peak RSS | server peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        if "skipped" in row:
            print(f"| {row['store']} | {row['files']:,} | | skipped ({row['skipped']}) | | | |")
            continue
        server = f"{row['server_peak_mib']:,.0f} MiB" if row["server_peak_mib"] else "–"
        print(
            f"| {row['store']} | {row['files']:,} | {row['chunk_size']} | {row['seconds']:,.1f} s | {row['files_per_s']:,.0f} "
            f"| {row['client_peak_mib']:,.0f} MiB | {server} |"
        )
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    (results / "cohort_stores.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
