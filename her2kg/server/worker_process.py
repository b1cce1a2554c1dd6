"""One worker process of a server pool: started with a socket to talk over, stopped or killed.

The recommendation pool (`her2kg.server.pipeline`) and the SPARQL query pool
(`her2kg.server.sparql_pool`) both run their work in child processes started from this module, so
that a request past its time limit can be stopped by killing its process. Each pool keeps its own
protocol over the connection and its own errors; this module only starts, ends and describes
processes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


@dataclass(eq=False)
class WorkerProcess:
    """A child process and the parent's end of the socket it was given."""

    process: subprocess.Popen[bytes]
    conn: Connection

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


def launch(module: str, *args: str) -> WorkerProcess:
    """Start `python -m module <socket fd> *args` with this package importable; OSError if it cannot start."""
    ours, theirs = socket.socketpair()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH", "")) if p)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(theirs.fileno()), *args],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError:
        ours.close()
        raise
    finally:
        theirs.close()
    return WorkerProcess(process, Connection(ours.detach()))


def kill(worker: WorkerProcess, *, wait: float = 10.0) -> bool:
    """Kill the process (if it still runs) and close the connection; False if it did not exit in `wait` s."""
    if worker.alive():
        worker.process.kill()
    try:
        worker.process.wait(timeout=wait)
        exited = True
    except subprocess.TimeoutExpired:
        exited = False
    worker.conn.close()
    return exited


def stop_all(workers: Iterable[WorkerProcess], *, grace: float) -> None:
    """Ask every worker to stop (a None message), wait `grace` s for each, then kill what still runs."""
    workers = list(workers)
    for worker in workers:
        try:
            worker.conn.send(None)
        except (OSError, ValueError):
            pass
    for worker in workers:
        try:
            worker.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            worker.process.wait(timeout=5.0)
        worker.conn.close()


def how_it_ended(worker: WorkerProcess) -> str:
    """How a worker ended, for the log: 'exit code N', 'signal NAME' or 'still running'."""
    try:
        code = worker.process.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        return "still running"
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"
