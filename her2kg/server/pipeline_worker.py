"""The process that runs the reasoning pipeline for `/recommend` and the CDS services.

Started by `pipeline.PipelineRunner` as `python -m her2kg.server.pipeline_worker FD`, with one
end of a socket pair on file descriptor FD (never by re-running the server's main module). It
loads the knowledge base and the rules once, says it is ready, then answers jobs until told to
stop. A job that runs past the time limit is stopped by killing this process.
"""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass
from datetime import date
from multiprocessing.connection import Connection

from her2kg.errors import Her2kgError, UsageError
from her2kg.report.model import Report


@dataclass(frozen=True)
class Document:
    """One patient document: a name for messages, 'fhir-json' or 'turtle', and the text."""

    name: str
    kind: str
    text: str


@dataclass(frozen=True)
class RecommendJob:
    documents: tuple[Document, ...]
    as_of: date
    unavailable: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back: reports, or the kind and message of a failure (always picklable)."""

    kind: str  # ok | usage | input | internal
    reports: tuple[Report, ...] = ()
    message: str = ""


def warm_up() -> None:
    """Load the knowledge base and the rules once (their readers cache them)."""
    from her2kg.knowledge import prepared_knowledge_ntriples
    from her2kg.rules import load_rules

    prepared_knowledge_ntriples()
    load_rules()


def run_job(job: RecommendJob) -> Outcome:
    """Run one job; failures become outcomes (the message of an unexpected one is never sent)."""
    try:
        from her2kg.pipeline import recommend_texts

        reports = recommend_texts(
            [(d.name, d.kind, d.text) for d in job.documents], as_of=job.as_of, unavailable=job.unavailable
        )
    except UsageError as exc:
        return Outcome("usage", message=str(exc))
    except Her2kgError as exc:
        return Outcome("input", message=str(exc))
    except Exception as exc:
        import traceback

        return Outcome("internal", message=f"{type(exc).__name__}\n{''.join(traceback.format_tb(exc.__traceback__))}")
    return Outcome("ok", reports=tuple(reports))


def worker_main(conn: Connection) -> None:
    try:
        warm_up()
    except Exception:
        pass
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run_job(job))


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its workers itself
    conn = Connection(int(argv[0]))
    try:
        worker_main(conn)
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # Run the module's importable copy, so that pickled jobs and outcomes name `her2kg.server.pipeline_worker`.
    from her2kg.server.pipeline_worker import main as _main

    raise SystemExit(_main(sys.argv[1:]))
