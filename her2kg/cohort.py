"""Run a folder of patient files in chunks, resumably, to a JSON Lines file.

Each chunk of `chunk_size` files goes through `recommend_files` on a store of its own (a fresh
embedded store, or the remote store's graph cleared first), and its reports are appended to the
output, one JSON object per line, then flushed. Every line carries the input file as `source`.

Resuming: the files whose name already appears as a `source` in the output are skipped. If the
output ends in a cut-off line (the previous run died while writing), that line and the lines of
the file before it are removed, and both files are run again.

Memory stays bounded by one chunk: the folder is listed by name only and read chunk by chunk.

Safety: the output is locked (`fcntl.flock` on `<out>.lock`) for the whole run, so a second run
on the same output stops at once (exit 1). Only reports actually produced are written: a file
that cannot be read now (permissions, vanished) is reported on stderr, not written, and so is
retried by the next run. Symlink loops, broken links, FIFOs, devices and other special files
are skipped with a warning. Each chunk is written as whole lines, flushed and fsynced; if the
write fails (disk full, permissions) the output is cut back to its last complete chunk and the
run stops with exit 1 and what to do.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

from her2kg.errors import Her2kgError, UsageError

if TYPE_CHECKING:
    from her2kg.report.model import Report
    from her2kg.stores.base import TripleStore

PATIENT_SUFFIXES = (".json", ".ttl")
DEFAULT_CHUNK_SIZE = 500


@dataclass(frozen=True)
class ChunkDone:
    """What one chunk produced (passed to `after_chunk`)."""

    index: int
    files: tuple[str, ...]
    reports: int
    with_errors: int
    seconds: float


@dataclass(frozen=True)
class CohortSummary:
    """Counts of a cohort run."""

    files_total: int
    files_skipped: int  # already in the output from an earlier run
    files_processed: int
    reports_written: int
    reports_with_errors: int
    reports_with_warnings: int
    chunks: int
    seconds: float
    truncated_bytes: int = 0  # a cut-off line removed from the output
    files_unreadable: tuple[str, ...] = ()  # could not be read now: not written, retried by the next run
    notes: tuple[str, ...] = ()  # what the input adds (a Bulk export: resources that belong to no patient)

    def describe(self) -> str:
        rate = self.files_processed / self.seconds if self.seconds > 0 else 0.0
        parts = [
            f"{self.files_processed} of {self.files_total} files processed in {self.chunks} chunks ({self.seconds:.1f} s, {rate:.0f} files/s)",
            f"{self.files_skipped} already done",
            f"{self.reports_written} reports written",
            f"{self.reports_with_errors} with errors",
            f"{self.reports_with_warnings} with warnings",
        ]
        if self.truncated_bytes:
            parts.append(f"a cut-off last line ({self.truncated_bytes} bytes) was removed and redone")
        if self.files_unreadable:
            parts.append(f"{len(self.files_unreadable)} unreadable now, to be retried by the next run")
        return "; ".join([*parts, *self.notes])


@dataclass(frozen=True)
class CohortOptions:
    as_of: date
    unavailable: tuple[str, ...] = ()
    chunk_size: int = DEFAULT_CHUNK_SIZE


@dataclass(frozen=True)
class ResumeState:
    """What an existing output file already holds."""

    done: frozenset[str]  # file names
    truncated_bytes: int = 0


StoreForChunk = Callable[[int], "TripleStore | None"]


class OutputError(Her2kgError):
    """The output cannot be locked or written (exit 1); the message says what to do."""


def patient_files(folder: Path, *, warn: Callable[[str], None] | None = None) -> list[str]:
    """Names of the regular patient files (`*.json`, `*.ttl`) directly in `folder`, sorted.

    Symlink loops, broken links, FIFOs, devices and other special files are skipped, each with a
    warning (to `warn`, by default stderr).
    """
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder; give the folder that holds the patient files")
    warn = warn or _warn
    names: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.name.endswith(PATIENT_SUFFIXES):
                continue
            try:
                mode = os.stat(entry.path).st_mode
            except OSError as exc:
                warn(f"skipped {entry.name}: {_os_reason(exc)}")
                continue
            if stat.S_ISREG(mode):
                names.append(entry.name)
            elif not stat.S_ISDIR(mode):
                warn(f"skipped {entry.name}: not a regular file")
    return sorted(names)


def _warn(message: str) -> None:
    print(f"her2kg cohort: {message}", file=sys.stderr)


def _os_reason(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop"
    if exc.errno == errno.ENOENT:
        return "a broken symbolic link"
    return exc.strerror or str(exc)


def _readable_now(path: Path) -> str | None:
    """None when `path` is a regular file that can be opened now, else why not."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        return _os_reason(exc)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return "not a regular file"
    finally:
        os.close(fd)
    return None


def lock_output(output: Path) -> int:
    """Take the run's exclusive lock on `<output>.lock`; return its file descriptor."""
    lock_path = output.with_name(output.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    except OSError as exc:
        raise OutputError(
            f"cannot create the lock file {lock_path} ({exc.strerror}); check that the output folder is writable"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise OutputError(
                f"another `her2kg cohort` run is writing {output} (it holds {lock_path.name}); wait for it to "
                "finish, or give another --out file"
            ) from exc
        raise OutputError(f"cannot lock {lock_path} ({exc.strerror})") from exc
    return fd


def prepare_output(output: Path) -> ResumeState:
    """Read which files an existing output already covers; cut off an incomplete end.

    A last line without its newline, or that is not valid JSON, was cut off: it is removed
    together with the lines of the file before it (which may be missing some of its patients).
    A bad line elsewhere is an error: the file is not an output of this command.
    """
    if not output.exists():
        return ResumeState(frozenset())
    done: list[str] = []
    group_start = 0  # byte offset where the lines of the last source begin
    offset = 0
    current: str | None = None
    cut = False
    with output.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            record = _record(raw)
            if record is None:
                if handle.read(1):  # not the last line
                    raise UsageError(
                        f"{output} line {number} is not a report of `her2kg cohort`; "
                        "give another --out file or remove this one"
                    )
                cut = True
                break
            name = Path(str(record["source"])).name
            if name != current:
                group_start, current = offset, name
                done.append(name)
            offset += len(raw)
    if not cut:
        return ResumeState(frozenset(done))
    # Drop the cut-off line and the lines of the source before it: both are run again.
    size = output.stat().st_size
    with output.open("r+b") as handle:
        handle.truncate(group_start)
    return ResumeState(frozenset(done[:-1]), truncated_bytes=size - group_start)


def _record(raw: bytes) -> dict[str, object] | None:
    """The report on a complete line, or None for a cut-off or foreign line."""
    if not raw.endswith(b"\n"):
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return None
    return record if isinstance(record, dict) and "source" in record else None


def check_drugs(unavailable: Sequence[str]) -> None:
    """Raise UsageError for an unknown --unavailable drug before any work starts."""
    if not unavailable:
        return
    from her2kg.knowledge import knowledge_ntriples
    from her2kg.pipeline import resolve_drugs
    from her2kg.stores.embedded import EmbeddedStore

    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    resolve_drugs(unavailable, store)


def chunks(names: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(names), size):
        yield list(names[start : start + size])


def report_line(report: Report) -> str:
    return json.dumps(report.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n"


def run_cohort(
    folder: Path,
    output: Path,
    options: CohortOptions,
    *,
    store_for_chunk: StoreForChunk | None = None,
    progress: Progress | None = None,
    after_chunk: Callable[[ChunkDone], None] | None = None,
) -> CohortSummary:
    """Process every patient file of `folder` not yet in `output`; return the counts.

    `store_for_chunk(i)` gives the store of chunk i, emptied by the caller's factory (None: a new
    embedded store). `after_chunk` is called once a chunk is written and flushed.
    """
    from her2kg.cohort_input import FolderInput, open_input

    if options.chunk_size < 1:
        raise UsageError(f"--chunk-size must be at least 1, not {options.chunk_size}")
    started = time.perf_counter()
    check_drugs(options.unavailable)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder of {output} ({exc.strerror}); choose a writable --out") from exc
    lock = lock_output(output)
    try:
        return _run_locked(folder, output, options, started, store_for_chunk, progress, after_chunk, FolderInput, open_input)
    finally:
        os.close(lock)


def _run_locked(
    folder: Path,
    output: Path,
    options: CohortOptions,
    started: float,
    store_for_chunk: StoreForChunk | None,
    progress: Progress | None,
    after_chunk: Callable[[ChunkDone], None] | None,
    folder_input: type,
    open_input: Callable[[Path, Path], object],
) -> CohortSummary:
    try:
        resume = prepare_output(output)
    except OSError as exc:
        raise OutputError(f"cannot read or repair {output} ({exc.strerror}); check its permissions") from exc
    cohort_input = open_input(folder, output)  # a folder of files, or a FHIR Bulk Data export
    names = cohort_input.names  # type: ignore[attr-defined]
    todo = [n for n in names if n not in resume.done]
    skipped = len(names) - len(todo)
    progress = progress or Progress(None)
    progress.start(total=len(names), done=skipped)
    written = with_errors = with_warnings = processed = chunk_count = 0
    unreadable: list[str] = []
    try:
        out = output.open("ab", buffering=0)
    except OSError as exc:
        raise OutputError(f"cannot open {output} for writing ({exc.strerror}); check its permissions") from exc
    with out, closing(cohort_input):  # type: ignore[type-var]
        for index, chunk in enumerate(chunks(todo, options.chunk_size)):
            chunk_started = time.perf_counter()
            if isinstance(cohort_input, folder_input):
                readable = []
                for name in chunk:
                    reason = _readable_now(folder / name)
                    if reason is None:
                        readable.append(name)
                    else:
                        unreadable.append(name)
                        _warn(f"cannot read {name} now ({reason}); it is not written and the next run retries it")
                chunk = readable
            reports: list[Report] = []
            if chunk:
                store = store_for_chunk(index) if store_for_chunk is not None else None
                reports = cohort_input.recommend(  # type: ignore[attr-defined]
                    chunk, as_of=options.as_of, unavailable=options.unavailable, store=store
                )
                _write(out, "".join(report_line(r) for r in reports), output)
            errors = sum(1 for r in reports if r.errors)
            written += len(reports)
            with_errors += errors
            with_warnings += sum(1 for r in reports if r.warnings)
            processed += len(chunk)
            chunk_count += 1
            progress.advance(len(chunk))
            if after_chunk is not None:
                after_chunk(ChunkDone(index, tuple(chunk), len(reports), errors, time.perf_counter() - chunk_started))
    progress.finish()
    return CohortSummary(
        files_total=len(names),
        files_skipped=skipped,
        files_processed=processed,
        reports_written=written,
        reports_with_errors=with_errors,
        reports_with_warnings=with_warnings,
        chunks=chunk_count,
        seconds=time.perf_counter() - started,
        truncated_bytes=resume.truncated_bytes,
        files_unreadable=tuple(unreadable),
        notes=cohort_input.notes(),  # type: ignore[attr-defined]
    )


def _write(out: IO[bytes], text: str, output: Path) -> None:
    """Append whole lines durably; on failure cut the output back to where it was and stop."""
    fd = out.fileno()
    size = os.fstat(fd).st_size
    data = memoryview(text.encode("utf-8"))
    try:
        while data:
            count = os.write(fd, data)
            data = data[count:]
        os.fsync(fd)
    except OSError as exc:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass  # the next run removes a cut-off last line anyway
        if exc.errno == errno.ENOSPC:
            what = "the disk is full; free space (or choose --out on another disk) and rerun the same command to resume"
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            what = "writing is not permitted; fix the permissions of the file and rerun the same command to resume"
        else:
            what = "rerun the same command to resume once the cause is fixed"
        raise OutputError(f"cannot write {output} ({exc.strerror}): {what}") from exc


# -- progress ---------------------------------------------------------------------------------------
class Progress:
    """Progress on a stream: a redrawn bar on a terminal, else a line at most every `every` seconds."""

    def __init__(self, stream: IO[str] | None, *, every: float = 10.0, width: int = 30) -> None:
        self.stream = stream
        self.every = every
        self.width = width
        self._total = self._done = self._base = 0
        self._started = self._last_line = 0.0

    @classmethod
    def for_stderr(cls) -> Progress:
        return cls(sys.stderr)

    def start(self, *, total: int, done: int) -> None:
        self._total, self._done, self._base = total, done, done
        self._started = self._last_line = time.monotonic()
        if self.stream is not None and done:
            self._emit(force=True)

    def advance(self, count: int) -> None:
        self._done += count
        self._emit(force=self._done >= self._total)

    def finish(self) -> None:
        if self.stream is not None and self._tty():
            self.stream.write("\n")
            self.stream.flush()

    def _tty(self) -> bool:
        return self.stream is not None and getattr(self.stream, "isatty", lambda: False)()

    def _emit(self, *, force: bool) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        elapsed = max(now - self._started, 1e-9)
        rate = (self._done - self._base) / elapsed
        remaining = (self._total - self._done) / rate if rate > 0 else 0.0
        share = self._done / self._total if self._total else 1.0
        text = f"{self._done:,}/{self._total:,} files ({share:.0%}), {rate:,.0f} files/s, about {_clock(remaining)} left"
        if self._tty():
            filled = int(share * self.width)
            self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {text}\x1b[K")
            self.stream.flush()
        elif force or now - self._last_line >= self.every:
            self.stream.write(f"cohort: {text}\n")
            self.stream.flush()
            self._last_line = now


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
