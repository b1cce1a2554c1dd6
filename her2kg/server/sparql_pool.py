"""A fixed pool of SPARQL worker processes with a hard time limit per request.

Each worker (`sparql_worker`) is a separate Python process, started as a plain subprocess
connected by a socket pair (safe in a threaded server, and independent of how the server's
own main module was started), and holds its own copy of the served triples. A request
borrows an idle worker, sends the job and waits at most `timeout` seconds for the answer. If
the answer is late the worker process is killed (SIGKILL), which stops the query for certain,
and a fresh worker is started in the background from the same data.

The endpoint is read-only: a worker only answers queries, so every worker holds the same
triples for its whole life.
"""

from __future__ import annotations

import logging
import queue
import threading

from her2kg.server.sparql_worker import Failure, QueryJob
from her2kg.server.worker_process import WorkerProcess, how_it_ended, kill, launch, stop_all

log = logging.getLogger("her2kg.server")

_START_TIMEOUT = 120.0


class QueryTimeout(Exception):
    """The request ran past the time limit; its worker was killed."""


class PoolBusy(Exception):
    """No worker became free within the time limit."""


class WorkerFailed(Exception):
    """A worker died or could not start."""


class QueryPool:
    """`size` worker processes over the same data; thread-safe; `close()` stops them all."""

    def __init__(self, data: bytes, *, size: int, timeout: float, memory_bytes: int = 0) -> None:
        self._data = data
        self._memory_bytes = memory_bytes
        self._size = size
        self._timeout = timeout
        self._idle: queue.Queue[WorkerProcess] = queue.Queue()
        self._all: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._triples = 0
        self.timeouts = 0
        self.restarts = 0

    @property
    def timeout(self) -> float:
        return self._timeout

    @property
    def triples(self) -> int:
        """Number of quads the workers hold (as counted by the last worker started)."""
        return self._triples

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._all if w.pid is not None]

    def start(self) -> None:
        """Start every worker and wait until each has loaded the data."""
        workers = [self._spawn(self._data) for _ in range(self._size)]
        for worker in workers:
            self._idle.put(worker)

    def run(self, job: QueryJob) -> object:
        """Run a query job; returns the worker's outcome object."""
        worker = self._borrow()
        try:
            outcome = self._ask(worker, job, self._timeout)
        except BaseException:
            self._replace(worker)
            raise
        self._idle.put(worker)
        return outcome

    def close(self) -> None:
        """Stop every worker (politely, then by force)."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        stop_all(workers, grace=1.0)

    # -- internals ------------------------------------------------------------------------

    def _borrow(self) -> WorkerProcess:
        try:
            return self._idle.get(timeout=self._timeout)
        except queue.Empty:
            raise PoolBusy(
                f"all {self._size} query workers stayed busy for {self._timeout:g} s; retry later "
                "or raise [sparql] workers"
            ) from None

    def _ask(self, worker: WorkerProcess, job: object, timeout: float) -> object:
        try:
            worker.conn.send(job)
            if not worker.conn.poll(timeout):
                self.timeouts += 1
                raise QueryTimeout(f"the request ran longer than the limit of {timeout:g} s")
            outcome = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            code = how_it_ended(worker)
            log.error("SPARQL worker (pid %s) stopped during a request: %s", worker.pid, code)
            raise WorkerFailed(
                f"the query worker stopped during the request ({code}); the usual cause is a query needing "
                "more memory than [sparql] max_memory_bytes"
            ) from exc
        if isinstance(outcome, Failure) and outcome.kind in ("internal", "memory"):
            log.warning("SPARQL worker (pid %s) reported a failure: %s", worker.pid, outcome.kind)
        return outcome

    def _spawn(self, data: bytes) -> WorkerProcess:
        try:
            worker = launch("her2kg.server.sparql_worker", str(self._memory_bytes))
        except OSError as exc:
            raise WorkerFailed(f"cannot start a query worker ({exc.strerror})") from exc
        parent = worker.conn
        try:
            parent.send_bytes(data)
        except OSError as exc:
            self._kill(worker)
            raise WorkerFailed("a query worker stopped before it got the data") from exc
        if not parent.poll(_START_TIMEOUT):
            self._kill(worker)
            raise WorkerFailed("a query worker did not start in time")
        try:
            _ready, triples = parent.recv()
        except (EOFError, OSError) as exc:
            log.error("SPARQL worker (pid %s) stopped while loading the data: %s", worker.pid, how_it_ended(worker))
            self._kill(worker)
            raise WorkerFailed("a query worker could not load the data") from exc
        self._triples = int(triples)
        with self._lock:
            if self._closed:
                self._kill(worker)
                raise WorkerFailed("the server is shutting down")
            self._all.add(worker)
        return worker

    def _kill(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._all.discard(worker)
        if not kill(worker):
            log.error("a killed query worker (pid %s) did not exit", worker.pid)

    def _replace(self, worker: WorkerProcess) -> None:
        """Kill a worker now and start its replacement in the background."""
        self._kill(worker)
        self.restarts += 1
        data = self._data

        def start_replacement() -> None:
            try:
                self._idle.put(self._spawn(data))
            except WorkerFailed:
                log.error("could not restart a SPARQL worker; the pool has one worker fewer")

        if not self._closed:
            threading.Thread(target=start_replacement, name="her2kg-sparql-restart", daemon=True).start()
