"""Run the reasoning pipeline for HTTP requests in worker processes, with a time limit and a queue bound.

`/recommend` and the CDS services hand their documents to a `PipelineRunner`, which keeps
`concurrency` worker processes (`pipeline_worker`, started as plain subprocesses connected by a
socket pair, like the SPARQL workers: nothing of the threaded server is inherited and its main
module is never re-run). The runner

- stops the work for certain at `timeout_seconds`: the worker process running it is killed
  (SIGKILL) and replaced in the background, and the request gets 503 (`PipelineTimeout`);
- bounds the waiting line: at most `concurrency + max_queue` requests are admitted at a time;
  one more gets 503 with `Retry-After` at once (`PipelineBusy`), so a burst of large bodies
  cannot pile up memory and latency;
- logs a worker that dies (how it ended, never patient data).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from datetime import date

import anyio.to_thread

from her2kg.errors import Her2kgError, UsageError
from her2kg.report.model import Report
from her2kg.server.pipeline_worker import Document, Outcome, RecommendJob
from her2kg.server.worker_process import WorkerProcess, how_it_ended, kill, launch, stop_all

__all__ = [
    "Document",
    "PipelineBusy",
    "PipelineFailed",
    "PipelineRunner",
    "PipelineTimeout",
]

log = logging.getLogger("her2kg.server")

_START_TIMEOUT = 120.0


class PipelineBusy(Exception):
    """Every worker is busy and the waiting line is full (HTTP 503 with Retry-After)."""


class PipelineTimeout(Exception):
    """The request ran past the time limit; its worker process was killed (HTTP 503)."""


class PipelineFailed(Exception):
    """A worker process died while running the request, or failed inside (HTTP 500)."""


class PipelineRunner:
    """`concurrency` pipeline worker processes; thread-safe; `close()` stops them all."""

    def __init__(self, concurrency: int, *, timeout: float = 30.0, max_queue: int = 8) -> None:
        self._size = concurrency
        self._timeout = timeout
        self._admitted_limit = concurrency + max_queue
        self._admitted = 0
        self._idle: queue.Queue[WorkerProcess] = queue.Queue()
        self._all: set[WorkerProcess] = set()
        self._lock = threading.Lock()
        self._started = False
        self._closed = False
        self.timeouts = 0

    @property
    def timeout(self) -> float:
        return self._timeout

    def start(self) -> None:
        """Start every worker and wait until each has loaded the knowledge base (also on first use)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        workers = [self._launch() for _ in range(self._size)]
        for worker in workers:
            self._idle.put(self._await_ready(worker))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        stop_all(workers, grace=2.0)

    async def run(self, documents: Sequence[Document], *, as_of: date, unavailable: Sequence[str] = ()) -> list[Report]:
        with self._lock:
            if self._admitted >= self._admitted_limit:
                raise PipelineBusy(
                    f"all {self._size} recommendation workers are busy and "
                    f"{self._admitted_limit - self._size} request(s) are waiting; retry in a moment "
                    "(or raise [recommend] concurrency / max_queue)"
                )
            self._admitted += 1
        try:
            job = RecommendJob(tuple(documents), as_of, tuple(unavailable))
            outcome = await anyio.to_thread.run_sync(self._run_blocking, job)
        finally:
            with self._lock:
                self._admitted -= 1
        return _unwrap(outcome)

    # -- internals ------------------------------------------------------------------------

    def _run_blocking(self, job: RecommendJob) -> Outcome:
        if not self._started:
            self.start()
        try:
            worker = self._idle.get(timeout=self._timeout)
        except queue.Empty:
            raise PipelineBusy(
                f"no recommendation worker became free within {self._timeout:g} s; retry later"
            ) from None
        try:
            worker.conn.send(job)
            if not worker.conn.poll(self._timeout):
                self.timeouts += 1
                self._replace(worker)
                raise PipelineTimeout(
                    f"the evaluation was stopped after the time limit of {self._timeout:g} s; send a smaller "
                    "document, or raise [recommend] timeout_seconds"
                )
            outcome = worker.conn.recv()
        except (EOFError, OSError) as exc:
            log.error("a recommendation worker (pid %s) stopped during a request: %s", worker.pid, how_it_ended(worker))
            self._replace(worker)
            raise PipelineFailed("the recommendation worker stopped unexpectedly; it has been replaced") from exc
        self._idle.put(worker)
        if not isinstance(outcome, Outcome):
            raise PipelineFailed("the recommendation worker gave an unexpected answer")
        return outcome

    def _launch(self) -> WorkerProcess:
        try:
            worker = launch("her2kg.server.pipeline_worker")
        except OSError as exc:
            raise PipelineFailed(f"cannot start a recommendation worker ({exc.strerror})") from exc
        with self._lock:
            self._all.add(worker)
        return worker

    def _await_ready(self, worker: WorkerProcess) -> WorkerProcess:
        try:
            if not worker.conn.poll(_START_TIMEOUT):
                raise EOFError("no answer")
            worker.conn.recv()
        except (EOFError, OSError) as exc:
            log.error("a recommendation worker (pid %s) did not start: %s", worker.pid, how_it_ended(worker))
            self._kill(worker)
            raise PipelineFailed("a recommendation worker could not start") from exc
        if self._closed:
            self._kill(worker)
            raise PipelineFailed("the server is shutting down")
        return worker

    def _kill(self, worker: WorkerProcess) -> None:
        with self._lock:
            self._all.discard(worker)
        if not kill(worker):
            log.error("a killed recommendation worker (pid %s) did not exit", worker.pid)

    def _replace(self, worker: WorkerProcess) -> None:
        self._kill(worker)
        if self._closed:
            return

        def start_replacement() -> None:
            try:
                self._idle.put(self._await_ready(self._launch()))
            except PipelineFailed:
                log.error("could not restart a recommendation worker; the pool has one worker fewer")

        threading.Thread(target=start_replacement, name="her2kg-pipeline-restart", daemon=True).start()


def _unwrap(outcome: Outcome) -> list[Report]:
    if outcome.kind == "ok":
        return list(outcome.reports)
    if outcome.kind == "usage":
        raise UsageError(outcome.message)
    if outcome.kind == "input":
        raise Her2kgError(outcome.message)
    log.error("a recommendation worker reported an internal error: %s", outcome.message)
    raise PipelineFailed("her2kg failed to evaluate the input; the server log has the details")
