"""Group a Bulk export by patient with bounded memory: hash partitions spilled to disk.

Pass 1 reads the Patient files and keeps only the patient ids. Pass 2 reads every other file once,
line by line, and appends each resource to one of N partition files on disk, chosen by a hash of
its patient id; Medications go to an on-disk SQLite table keyed by id. Grouping then reads one
partition at a time, groups its lines by patient and yields one Bundle per patient. Memory holds
the patient ids, one partition (about `PARTITION_BYTES` of NDJSON, estimated from the file sizes) and one patient's Bundle; never
the whole export.

Lines that belong to no patient are counted by reason and, when a listing file is given, written
to it as JSON lines (`file`, `line`, `resourceType`, `id`, `reason`, `reference`).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from her2kg.bulk.bundle import Entry, bundle_text, entry
from her2kg.bulk.export import Export, ExportFile
from her2kg.bulk.records import Line, LineKind, Unmatched, classify

PARTITION_BYTES = 16 * 1024 * 1024
MAX_PARTITIONS = 512  # open files at once while spilling


def partition_count(estimated_bytes: int, target: int = PARTITION_BYTES) -> int:
    return max(1, min(MAX_PARTITIONS, -(-estimated_bytes // target)))


def _field(value: str) -> str:
    """A sort field safe inside a tab-separated line (the key and medication id are FHIR ids)."""
    return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")


def partition_of(key: str, partitions: int) -> int:
    return zlib.crc32(key.encode("utf-8")) % partitions


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of an NDJSON file, gzipped or not; blank lines are skipped."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            if raw.strip():
                yield number, raw.rstrip(b"\r\n")


@dataclass(frozen=True)
class UnmatchedLine:
    file: str
    line: int
    resource_type: str
    resource_id: str
    reason: Unmatched
    reference: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "line": self.line,
            "resourceType": self.resource_type,
            "id": self.resource_id,
            "reason": self.reason.value,
            "reference": self.reference,
        }


@dataclass
class UnmatchedTally:
    """Counts of the lines that belong to no patient, by reason; listed to `listing` if given."""

    listing: IO[str] | None = None
    counts: Counter[Unmatched] = field(default_factory=Counter)

    def add(self, item: UnmatchedLine) -> None:
        self.counts[item.reason] += 1
        if self.listing is not None:
            self.listing.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def describe(self) -> str:
        parts = ", ".join(f"{n} {reason.value}" for reason, n in sorted(self.counts.items(), key=lambda kv: kv[0].value))
        return f"{self.total} resources belong to no patient ({parts})" if self.total else "every resource belongs to a patient"


class Grouping:
    """An export spilled to `scratch` in partitions; `patient_ids` in the order `bundles` yields."""

    def __init__(self, export: Export, scratch: Path, *, partitions: int | None = None, listing: IO[str] | None = None) -> None:
        self.export = export
        self.scratch = scratch
        self.partitions = partitions or partition_count(export.estimated_bytes)
        self.unmatched = UnmatchedTally(listing)
        self.resources = 0
        self._medications = sqlite3.connect(str(scratch / "medications.sqlite"))
        self._medications.execute("CREATE TABLE IF NOT EXISTS medication (id TEXT PRIMARY KEY, text TEXT NOT NULL)")
        ids = self._spill()
        self.patient_ids: list[str] = sorted(ids, key=lambda k: (partition_of(k, self.partitions), k))

    def _part(self, index: int) -> Path:
        return self.scratch / f"part-{index:04d}.tsv"

    def _spill(self) -> set[str]:
        ids: set[str] = set()
        with ExitStack() as stack:
            parts = [stack.enter_context(self._part(i).open("w", encoding="utf-8")) for i in range(self.partitions)]
            for export_file in self.export.of_type(patient=True):
                for number, text, line in self._lines(export_file):
                    if line.kind is LineKind.PATIENT:
                        ids.add(line.key)
                        self._write(parts, line, text)
                    else:
                        self._unmatched(export_file, number, line)
            for export_file in self.export.of_type(patient=False):
                for number, text, line in self._lines(export_file):
                    if line.kind is LineKind.RESOURCE and line.key in ids:
                        self._write(parts, line, text)
                    elif line.kind is LineKind.RESOURCE:
                        self._unmatched(export_file, number, Line(line.kind, line.resource_type, line.resource_id, reason=Unmatched.UNKNOWN_PATIENT, reference=line.reference))
                    elif line.kind is LineKind.SHARED:
                        self._medication(export_file, number, line, text)
                    else:
                        self._unmatched(export_file, number, line)
        self._medications.commit()
        return ids

    def _lines(self, export_file: ExportFile) -> Iterator[tuple[int, str, Line]]:
        for number, raw in read_lines(export_file.path):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._unmatched(export_file, number, Line(LineKind.UNMATCHED, "", "", reason=Unmatched.INVALID_JSON))
                continue
            yield number, text, classify(text, export_file.resource_type)

    def _write(self, parts: Sequence[IO[str]], line: Line, text: str) -> None:
        self.resources += 1
        rtype, rid = _field(line.resource_type), _field(line.resource_id)
        parts[partition_of(line.key, self.partitions)].write(f"{line.key}\t{rtype}\t{rid}\t{line.medication}\t{text}\n")

    def _medication(self, export_file: ExportFile, number: int, line: Line, text: str) -> None:
        row = self._medications.execute("SELECT text FROM medication WHERE id = ?", (line.key,)).fetchone()
        if row is None:
            self._medications.execute("INSERT INTO medication VALUES (?, ?)", (line.key, text))
        elif row[0] != text:  # two different Medications with one id: the smaller text is kept, as on Spark
            self._medications.execute("UPDATE medication SET text = ? WHERE id = ?", (min(row[0], text), line.key))
            self._unmatched(export_file, number, Line(line.kind, line.resource_type, line.resource_id, reason=Unmatched.DUPLICATE))

    def _unmatched(self, export_file: ExportFile, number: int, line: Line) -> None:
        reason = line.reason or Unmatched.NOT_A_RESOURCE
        self.unmatched.add(UnmatchedLine(export_file.path.name, number, line.resource_type, line.resource_id, reason, line.reference))

    def bundles(self) -> Iterator[tuple[str, str]]:
        """(patient id, Bundle JSON) for every patient, in `patient_ids` order."""
        for index in range(self.partitions):
            groups: dict[str, list[Entry]] = defaultdict(list)
            medications: dict[str, set[str]] = defaultdict(set)
            with self._part(index).open(encoding="utf-8") as handle:
                for raw in handle:
                    key, rtype, rid, medication, text = raw.rstrip("\n").split("\t", 4)
                    groups[key].append(entry(rtype, rid, text))
                    if medication:
                        medications[key].add(medication)
            for key in sorted(groups):
                entries = groups.pop(key)
                for medication in sorted(medications.pop(key, ())):
                    row = self._medications.execute("SELECT text FROM medication WHERE id = ?", (medication,)).fetchone()
                    if row is not None:
                        entries.append(entry("Medication", medication, row[0]))
                yield key, bundle_text(entries)
            self._part(index).unlink()

    def close(self) -> None:
        self._medications.close()
