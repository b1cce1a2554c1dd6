"""The Spark job of `her2kg spark-cohort`: a Bulk export or a folder of patient files in, one
report per patient out.

Bulk export:
1. every NDJSON line is read with the file it came from and classified (`tasks.classify_lines`:
   its patient from `subject`/`patient`, Medications shared, the rest unmatched);
2. resources whose patient is not among the export's Patients are unmatched too (an anti join);
3. Medications join the patients whose medication resources point to them;
4. `groupBy` the patient id, so that each patient's resources meet in one task;
5. each partition of patients is reasoned chunk by chunk with the embedded engine
   (`tasks.reason_groups`, the same importer and Bundle as `her2kg cohort`).

A folder of patient files (`*.json` bundles, `*.ttl`) skips steps 1-4: each file is a unit.

The reports are written with `DataFrame.write.mode("overwrite")`: Spark's output committer makes
the files visible only when the whole job has succeeded, so a failed, killed or repeated job never
leaves partial output or duplicates. Lines that belong to no patient are written beside the output
(`<OUTPUT>-unmatched`, JSON lines) and counted in the summary.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Any

from her2kg.bulk.export import manifest_outputs, type_from_name
from her2kg.bulk.records import Unmatched
from her2kg.errors import UsageError
from her2kg.spark import tasks

if TYPE_CHECKING:
    from pyspark import RDD
    from pyspark.sql import DataFrame, SparkSession

DEFAULT_CHUNK_SIZE = 500
LINE_FIELDS = ("kind", "key", "rtype", "rid", "medication", "text", "file", "reason", "reference")
REPORT_FIELDS = ("patient", "source", "as_of", "errors", "warnings", "report")


class OutputFormat(Enum):
    JSONL = "jsonl"
    PARQUET = "parquet"


class InputKind(Enum):
    BULK = "bulk"
    FILES = "files"


@dataclass(frozen=True)
class JobOptions:
    as_of: date
    unavailable: tuple[str, ...] = ()
    output_format: OutputFormat = OutputFormat.JSONL
    chunk_size: int = DEFAULT_CHUNK_SIZE
    partitions: int | None = None  # patient partitions (default: 4 per core of the application)


@dataclass(frozen=True)
class JobSummary:
    input_kind: InputKind
    reports: int
    with_errors: int
    with_warnings: int
    unmatched: dict[str, int]
    unmatched_path: str
    seconds: float

    def describe(self) -> str:
        parts = [f"{self.reports} reports written", f"{self.with_errors} with errors", f"{self.with_warnings} with warnings"]
        total = sum(self.unmatched.values())
        if self.input_kind is InputKind.BULK:
            detail = ", ".join(f"{n} {reason}" for reason, n in sorted(self.unmatched.items()))
            parts.append(
                f"{total} resources belong to no patient ({detail}), listed in {self.unmatched_path}"
                if total
                else "every resource belongs to a patient"
            )
        return f"{'; '.join(parts)} ({self.seconds:.1f} s)"


@dataclass(frozen=True)
class InputListing:
    kind: InputKind
    files: tuple[str, ...]  # URIs
    types_by_file: dict[str, str]  # Bulk: file name -> resource type


def unmatched_path(output: str) -> str:
    return output.rstrip("/") + "-unmatched"


# -- the input, listed through Hadoop's file systems (local, HDFS, S3, ...) --------------------------
def list_input(spark: SparkSession, path: str) -> InputListing:
    """The files of INPUT and whether they form a Bulk export; raises UsageError."""
    jvm = spark.sparkContext._jvm
    jsc = spark.sparkContext._jsc
    if jvm is None or jsc is None:
        raise UsageError("the Spark session has no Java gateway; start the job with spark-submit or a local SparkSession")
    conf = jsc.hadoopConfiguration()
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(conf)
    if not fs.exists(hpath) or not fs.getFileStatus(hpath).isDirectory():
        raise UsageError(f"{path} is not a folder Spark can read; give a Bulk export folder or a folder of patient files")
    uris = sorted(str(s.getPath().toString()) for s in fs.listStatus(hpath) if s.isFile())
    ndjson = [u for u in uris if tasks.file_name(u).endswith((".ndjson", ".ndjson.gz"))]
    jsons = [u for u in uris if tasks.file_name(u).endswith(".json")]
    if not ndjson:
        files = [u for u in uris if tasks.file_name(u).endswith((".json", ".ttl"))]
        if not files:
            raise UsageError(f"{path} holds no *.ndjson, *.json or *.ttl file")
        return InputListing(InputKind.FILES, tuple(files), {})
    manifests = [u for u in jsons if _manifest_outputs(spark, u) is not None]
    others = [u for u in jsons if u not in manifests]
    if others:
        raise UsageError(
            f"{path} holds NDJSON files and also {', '.join(tasks.file_name(u) for u in others[:3])}, "
            "which is not an export manifest; keep a Bulk export and a folder of bundles apart"
        )
    if len(manifests) > 1:
        raise UsageError(f"{path} holds several export manifests; keep one")
    types: dict[str, str] = {}
    if manifests:
        listed = _manifest_outputs(spark, manifests[0]) or {}
        names = {tasks.file_name(u) for u in ndjson}
        missing = sorted(set(listed) - names)
        if missing:
            raise UsageError(f"the manifest lists {', '.join(missing[:5])}, which is not in {path}; download every file of the export")
        unlisted = sorted(names - set(listed))
        if unlisted:
            raise UsageError(f"{', '.join(unlisted[:5])} is not listed in the manifest; remove it, or remove the manifest")
        types = dict(listed)
    else:
        for uri in ndjson:
            name = tasks.file_name(uri)
            rtype = type_from_name(name)
            if rtype is None:
                raise UsageError(f"cannot tell the resource type of {name} from its name; name it like Observation.ndjson, or add the manifest")
            types[name] = rtype
    return InputListing(InputKind.BULK, tuple(ndjson), types)


def _manifest_outputs(spark: SparkSession, uri: str) -> dict[str, str] | None:
    rows = spark.read.text(uri, wholetext=True).collect()
    return manifest_outputs(rows[0][0], tasks.file_name(uri)) if rows else None


# -- the job -----------------------------------------------------------------------------------------
def run_job(spark: SparkSession, input_path: str, output: str, options: JobOptions) -> JobSummary:
    """Run the whole job; returns the counts read back from what was written."""
    import time

    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    if options.chunk_size < 1:
        raise UsageError(f"--chunk-size must be at least 1, not {options.chunk_size}")
    started = time.perf_counter()
    _check_drugs(options.unavailable)
    listing = list_input(spark, input_path)
    partitions = options.partitions or 4 * spark.sparkContext.defaultParallelism
    spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
    # reasoning is CPU-heavy on few bytes: never merge the patient partitions by their size
    spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
    report_schema = StructType(
        [StructField(n, IntegerType() if n in ("errors", "warnings") else StringType(), False) for n in REPORT_FIELDS]
    )
    unmatched_counts: dict[str, int] = {}
    cached: DataFrame | None = None
    if listing.kind is InputKind.BULK:
        cached, groups = _bulk_groups(spark, listing)
        unmatched_counts = _write_unmatched(spark, cached, unmatched_path(output))
        report_rdd = groups.rdd.mapPartitions(_reason_groups_task(options))
    else:
        base = input_path.rstrip("/")
        patterns = [f"{base}/*{ext}" for ext in (".json", ".ttl") if any(tasks.file_name(f).endswith(ext) for f in listing.files)]
        documents = spark.sparkContext.wholeTextFiles(",".join(patterns), minPartitions=partitions)
        report_rdd = documents.repartition(partitions).mapPartitions(_reason_documents_task(options))
    reports = spark.createDataFrame(report_rdd, report_schema, verifySchema=False)
    counts = _write_reports(spark, reports, output, options.output_format)
    if cached is not None:
        cached.unpersist()
    return JobSummary(
        listing.kind, counts[0], counts[1], counts[2], unmatched_counts, unmatched_path(output), time.perf_counter() - started
    )


def _bulk_groups(spark: SparkSession, listing: InputListing) -> tuple[DataFrame, DataFrame]:
    """The classified lines (cached) and, per known patient, the (rtype, rid, text) entries."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    types = spark.sparkContext.broadcast(listing.types_by_file)
    # textFile hands plain strings to Python (no row conversion) and splits uncompressed files
    raw = spark.sparkContext.union([_tagged_lines(spark, uri) for uri in listing.files])
    line_schema = StructType([StructField(n, StringType(), False) for n in LINE_FIELDS])
    lines = spark.createDataFrame(
        raw.mapPartitions(lambda rows: tasks.classify_lines(rows, types.value)), line_schema, verifySchema=False
    ).persist()
    lines.count()  # classify every line once, into the cache; the branches below read the cache
    patients = lines.where(F.col("kind") == "patient").select("key").distinct()
    known = lines.where(F.col("kind").isin("patient", "resource")).join(patients, "key", "left_semi")
    medications = _medications(lines)
    links = known.where(F.col("medication") != "").select("key", F.col("medication").alias("mkey")).distinct()
    medication_entries = links.join(medications.select(F.col("key").alias("mkey"), "mtext"), "mkey").select(
        "key", F.lit("Medication").alias("rtype"), F.col("mkey").alias("rid"), F.col("mtext").alias("text")
    )
    entries = known.select("key", "rtype", "rid", "text").unionByName(medication_entries)
    return lines, entries.groupBy("key").agg(F.collect_list(F.struct("rtype", "rid", "text")).alias("entries"))


def _medications(lines: DataFrame) -> DataFrame:
    """One Medication per id (the smallest text, as `her2kg cohort` keeps), with how many versions."""
    from pyspark.sql import functions as F

    return (
        lines.where(F.col("kind") == "shared")
        .groupBy("key")
        .agg(F.min("text").alias("mtext"), F.countDistinct("text").alias("versions"))
    )


def _reason_groups_task(options: JobOptions) -> Callable[[Iterable[Any]], Iterator[tasks.ReportRow]]:
    as_of, unavailable, chunk_size = options.as_of, options.unavailable, options.chunk_size

    def task(rows: Iterable[Any]) -> Iterator[tasks.ReportRow]:
        groups = ((r[0], [(e[0], e[1], e[2]) for e in r[1]]) for r in rows)
        return tasks.reason_groups(groups, as_of=as_of, unavailable=unavailable, chunk_size=chunk_size)

    return task


def _reason_documents_task(options: JobOptions) -> Callable[[Iterable[tuple[str, str]]], Iterator[tasks.ReportRow]]:
    as_of, unavailable, chunk_size = options.as_of, options.unavailable, options.chunk_size

    def task(rows: Iterable[tuple[str, str]]) -> Iterator[tasks.ReportRow]:
        return tasks.reason_documents(rows, as_of=as_of, unavailable=unavailable, chunk_size=chunk_size)

    return task


def _write_reports(spark: SparkSession, reports: DataFrame, output: str, output_format: OutputFormat) -> tuple[int, int, int]:
    """Write with Spark's output commit; (reports, with errors, with warnings) read back."""
    from pyspark.sql import functions as F

    if output_format is OutputFormat.JSONL:
        reports.select("report").write.mode("overwrite").option("compression", "none").text(output)
        value = F.col("value")
        has_errors = F.get_json_object(value, "$.errors[0]").isNotNull()
        has_warnings = F.get_json_object(value, "$.warnings[0]").isNotNull()
        written = spark.read.text(output)
    else:
        reports.write.mode("overwrite").parquet(output)
        written = spark.read.parquet(output)
        has_errors, has_warnings = F.col("errors") > 0, F.col("warnings") > 0
    row = written.select(
        F.count("*").alias("n"),
        F.sum(F.when(has_errors, 1).otherwise(0)).alias("e"),
        F.sum(F.when(has_warnings, 1).otherwise(0)).alias("w"),
    ).collect()[0]
    return int(row["n"] or 0), int(row["e"] or 0), int(row["w"] or 0)


def _tagged_lines(spark: SparkSession, uri: str) -> RDD[tuple[str, str]]:
    """The lines of one file, each with the file's URI."""
    return spark.sparkContext.textFile(uri).map(lambda text: (text, uri))


def _write_unmatched(spark: SparkSession, lines: DataFrame, path: str) -> dict[str, int]:
    """List the lines that belong to no patient at `path` (JSON lines); their counts by reason."""
    from pyspark.sql import functions as F

    patients = lines.where(F.col("kind") == "patient").select("key").distinct()
    unknown = (
        lines.where(F.col("kind") == "resource")
        .join(patients, "key", "left_anti")
        .select("file", "rtype", "rid", F.lit(Unmatched.UNKNOWN_PATIENT.value).alias("reason"), "reference")
    )
    duplicates = _medications(lines).where(F.col("versions") > 1).select(
        F.lit("").alias("file"), F.lit("Medication").alias("rtype"), F.col("key").alias("rid"),
        F.lit(Unmatched.DUPLICATE.value).alias("reason"), F.lit("").alias("reference"),
    )
    unmatched = (
        lines.where(F.col("kind") == "unmatched")
        .select("file", "rtype", "rid", "reason", "reference")
        .unionByName(unknown)
        .unionByName(duplicates)
    )
    listing = unmatched.select(
        F.to_json(
            F.struct(F.col("file"), F.col("rtype").alias("resourceType"), F.col("rid").alias("id"), F.col("reason"), F.col("reference"))
        ).alias("value")
    )
    listing.coalesce(1).write.mode("overwrite").option("compression", "none").text(path)
    listed = spark.read.json(path, schema="reason STRING")
    return {r["reason"]: int(r["count"]) for r in listed.groupBy("reason").count().collect()}


def _check_drugs(unavailable: Sequence[str]) -> None:
    from her2kg.cohort import check_drugs

    check_drugs(unavailable)
