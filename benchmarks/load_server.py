"""Load benchmark of `her2kg serve`: concurrent clients on /sparql and /recommend.

Run by hand (not part of the test suite):

    python benchmarks/load_server.py                  # starts a server on a free loopback port
    python benchmarks/load_server.py --url http://127.0.0.1:7878 --clients 8 --requests 400

For each workload, N client threads (each with its own httpx connection) send a fixed number
of requests in total; the run is also bounded in time (--max-seconds per workload). The
report gives requests per second, median and 99th-percentile latency, and the errors (any
status other than 200, or a failed connection), which must be 0: the exit code is 1
otherwise. Only loopback URLs are accepted.

Workloads:
- `sparql`: a competency question (queries/cq/, --question picks one by file name) by POST;
- `recommend`: a vignette FHIR bundle (shared/vignettes/, --vignette), else the Turtle example.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    content: bytes
    headers: dict[str, str]
    params: dict[str, str]


@dataclass(frozen=True)
class Result:
    name: str
    clients: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]
    error_kinds: tuple[tuple[str, int], ...] = ()

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
        return ordered[index]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def started_server(as_of: str, workers: int, clients: int) -> Iterator[str]:
    """Start `her2kg serve` on a free loopback port; yield its base URL; stop it.

    The recommendation queue holds every client (`max_queue`), so that the benchmark measures
    throughput rather than the server's load shedding (503 beyond the queue).
    """
    port = _free_port()
    config = ROOT / "benchmarks" / "results" / "load-server.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f"[server]\nas_of = {as_of}\n[sparql]\nworkers = {workers}\n"
        f"[recommend]\nconcurrency = {workers}\nmax_queue = {max(clients, 1)}\n"
    )
    command = [sys.executable, "-m", "her2kg", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--config", str(config), "--log-level", "warning"]  # the server's log: load-server.log
    log_path = config.with_suffix(".log")
    log_file = log_path.open("wb")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server stopped; its log is in {log_path}")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not become ready in 120 s")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_file.close()


def sparql_workload(question: str | None) -> Workload:
    folder = ROOT / "queries" / "cq"
    files = sorted(folder.glob("*.rq"))
    if question:
        files = [f for f in files if question in f.name]
    if not files:
        raise SystemExit(f"no competency question matches {question!r} in {folder}")
    text = files[0].read_bytes()
    return Workload(
        name=f"sparql ({files[0].stem})",
        method="POST",
        path="/sparql",
        content=text,
        headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"},
        params={},
    )


def recommend_workload(vignette: str, as_of: str) -> Workload:
    path = SHARED / "vignettes" / f"{vignette}.json"
    if path.is_file():
        expect = SHARED / "vignettes" / f"{vignette}.expect.json"
        if expect.is_file():
            as_of = json.loads(expect.read_text()).get("as_of", as_of)
        return Workload(
            name=f"recommend ({vignette})",
            method="POST",
            path="/recommend",
            content=path.read_bytes(),
            headers={"Content-Type": "application/fhir+json"},
            params={"as_of": as_of},
        )
    example = ROOT / "examples" / "metastatic-first-line.ttl"
    return Workload(
        name="recommend (metastatic-first-line.ttl)",
        method="POST",
        path="/recommend",
        content=example.read_bytes(),
        headers={"Content-Type": "text/turtle"},
        params={"as_of": as_of},
    )


def run(base: str, workload: Workload, *, clients: int, requests: int, max_seconds: float) -> Result:
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    sent = 0
    lock = threading.Lock()
    stop_at = time.monotonic() + max_seconds

    def take() -> bool:
        nonlocal sent
        with lock:
            if sent >= requests or time.monotonic() > stop_at:
                return False
            sent += 1
            return True

    def client_loop() -> None:
        nonlocal errors
        with httpx.Client(base_url=base, timeout=60.0) as http:
            while take():
                started = time.perf_counter()
                kind = ""
                try:
                    response = http.request(
                        workload.method, workload.path, content=workload.content,
                        headers=workload.headers, params=workload.params,
                    )
                    if response.status_code != 200:
                        kind = f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    kind = type(exc).__name__
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if kind:
                        errors += 1
                        kinds[kind] = kinds.get(kind, 0) + 1

    # warm-up outside the measurement
    with httpx.Client(base_url=base, timeout=60.0) as http:
        http.request(workload.method, workload.path, content=workload.content, headers=workload.headers, params=workload.params)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for future in [pool.submit(client_loop) for _ in range(clients)]:
            future.result()
    seconds = time.perf_counter() - started
    return Result(workload.name, clients, len(latencies), errors, seconds, tuple(latencies), tuple(sorted(kinds.items())))


def table(results: list[Result]) -> str:
    lines = [
        "| workload | clients | requests | errors | requests/s | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.clients} | {r.requests} | {r.errors} | {r.per_second:.1f} | "
            f"{r.percentile(0.50):.1f} | {r.percentile(0.99):.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="base URL of a running server (loopback only); default: start one")
    parser.add_argument("--clients", type=int, default=8, help="concurrent client threads (default 8)")
    parser.add_argument("--requests", type=int, default=400, help="requests per workload (default 400)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="time bound per workload (default 120)")
    parser.add_argument("--question", default="09-preferred", help="competency question file name part")
    parser.add_argument("--vignette", default="p01-met-first-line", help="vignette for /recommend")
    parser.add_argument("--as-of", default="2026-11-01", help="evaluation date of the started server")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="server workers when started here")
    args = parser.parse_args(argv)
    if not (1 <= args.clients <= 64 and 1 <= args.requests <= 100_000):
        parser.error("use 1-64 clients and 1-100000 requests")
    workloads = [sparql_workload(args.question), recommend_workload(args.vignette, args.as_of)]

    def measure(base: str) -> list[Result]:
        return [run(base, w, clients=args.clients, requests=args.requests, max_seconds=args.max_seconds) for w in workloads]

    if args.url:
        if urlparse(args.url).hostname not in LOOPBACK:
            parser.error("the benchmark only targets loopback servers (127.0.0.1, localhost, ::1)")
        results = measure(args.url.rstrip("/"))
    else:
        with started_server(args.as_of, args.workers, args.clients) as base:
            results = measure(base)
    print(f"her2kg serve load benchmark, {os.cpu_count()} CPU(s), {args.clients} clients, "
          f"{args.requests} requests per workload")
    print(table(results))
    for result in results:
        if result.error_kinds:
            print(f"errors of {result.name}: " + ", ".join(f"{k} x{n}" for k, n in result.error_kinds))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
