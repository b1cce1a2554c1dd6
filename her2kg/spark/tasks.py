"""What Spark executors run: classify NDJSON lines, and reason over a partition of patients.

Each function takes and yields plain tuples, so this module needs no Spark import. The knowledge
base is prepared once per Python worker process (`prepared_knowledge_ntriples` is cached per
process, and Spark reuses its Python workers across tasks); every chunk of patients is then
loaded into a fresh embedded store with it, exactly as `her2kg cohort` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import PurePosixPath

from her2kg.bulk.bundle import bundle_text, entry, source_of
from her2kg.bulk.records import classify

# (kind, key, resourceType, id, medication, text, file, reason, reference)
LineRow = tuple[str, str, str, str, str, str, str, str, str]
# (patient, source, as_of, errors, warnings, report JSON)
ReportRow = tuple[str, str, str, int, int, str]


def file_name(uri: str) -> str:
    """The file name of a path or URI as Spark gives it (file:/..., hdfs://..., s3a://...)."""
    return PurePosixPath(uri.split("?", 1)[0]).name


def classify_lines(rows: Iterable[tuple[str, str]], types_by_file: Mapping[str, str]) -> Iterator[LineRow]:
    """(line, file URI) -> a LineRow; blank lines are skipped."""
    for text, uri in rows:
        if not text or not text.strip():
            continue
        name = file_name(uri)
        line = classify(text, types_by_file.get(name))
        yield (
            line.kind.value,
            line.key,
            line.resource_type,
            line.resource_id,
            line.medication,
            text.strip(),
            name,
            line.reason.value if line.reason else "",
            line.reference,
        )


def bundle_of(entries: Iterable[tuple[str, str, str]]) -> str:
    """The canonical Bundle of (resourceType, id, text) triples: the one `her2kg cohort` builds."""
    return bundle_text(entry(rtype, rid, text) for rtype, rid, text in entries)


def reason_groups(
    groups: Iterable[tuple[str, Sequence[tuple[str, str, str]]]],
    *,
    as_of: date,
    unavailable: Sequence[str],
    chunk_size: int,
) -> Iterator[ReportRow]:
    """(patient id, entries) -> one report row per patient, reasoned chunk by chunk."""
    chunk: list[tuple[str, str, str]] = []
    for key, entries in groups:
        chunk.append((source_of(key), "fhir-json", bundle_of(entries)))
        if len(chunk) >= chunk_size:
            yield from _reason(chunk, as_of, unavailable)
            chunk = []
    if chunk:
        yield from _reason(chunk, as_of, unavailable)


def reason_documents(
    documents: Iterable[tuple[str, str]], *, as_of: date, unavailable: Sequence[str], chunk_size: int
) -> Iterator[ReportRow]:
    """(file URI, text) of patient files (FHIR bundles `.json`, Turtle `.ttl`) -> report rows."""
    from her2kg.patients import kind_of_path

    chunk: list[tuple[str, str, str]] = []
    for uri, text in documents:
        chunk.append((uri, kind_of_path(file_name(uri)), text))
        if len(chunk) >= chunk_size:
            yield from _reason(chunk, as_of, unavailable)
            chunk = []
    if chunk:
        yield from _reason(chunk, as_of, unavailable)


def _reason(documents: list[tuple[str, str, str]], as_of: date, unavailable: Sequence[str]) -> Iterator[ReportRow]:
    from her2kg.pipeline import recommend_texts

    for report in recommend_texts(documents, as_of=as_of, unavailable=unavailable):
        text = json.dumps(report.to_json(), ensure_ascii=False, separators=(",", ":"))
        yield (report.patient, report.source, report.as_of, len(report.errors), len(report.warnings), text)

