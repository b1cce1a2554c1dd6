"""`her2kg spark-cohort INPUT OUTPUT [--master URL] [--format jsonl|parquet] [--as-of DATE] [--unavailable DRUG]...`

Runs a FHIR Bulk Data export, or a folder of patient files, on Apache Spark and writes one report
per patient to OUTPUT (a folder of JSON Lines or Parquet part files, replaced as a whole when the
job succeeds). INPUT and OUTPUT are any paths Spark reads and writes (local, hdfs://, s3a://...).
Needs the `spark` extra (`pip install 'her2kg[spark]'`) and Java 17 or later.

Under `spark-submit`, the master and the rest of the configuration come from spark-submit; `--master`
is for running the command directly (default: local[*]).

Exit codes: 0 when the job succeeded (reports with errors are written and counted), 1 when the job
failed (rerun it: the output is replaced, never appended to), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import sys

from her2kg.commands.options import add_evaluation_arguments, parse_as_of
from her2kg.errors import Her2kgError, UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="INPUT", help="a FHIR Bulk Data export folder (*.ndjson[.gz]) or a folder of patient files (.json, .ttl)")
    parser.add_argument("output", metavar="OUTPUT", help="output folder; replaced when the job succeeds")
    parser.add_argument("--master", metavar="URL", help="Spark master: local[2], spark://host:7077, yarn, k8s://https://host:443 (default: spark-submit's, else local[*])")
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl", help="report files (default: jsonl)")
    parser.add_argument("--chunk-size", type=int, default=500, metavar="N", help="patients reasoned over together in a task (default: 500)")
    parser.add_argument("--partitions", type=int, metavar="N", help="patient partitions (default: 4 per core)")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting; repeatable")
    add_evaluation_arguments(parser)


def run(args: argparse.Namespace) -> int:
    try:
        from her2kg.spark.job import JobOptions, OutputFormat

        options = JobOptions(
            as_of=parse_as_of(args.as_of),
            unavailable=tuple(args.unavailable),
            output_format=OutputFormat(args.format),
            chunk_size=args.chunk_size,
            partitions=args.partitions,
        )
        if args.chunk_size < 1:
            raise UsageError(f"--chunk-size must be at least 1, not {args.chunk_size}")
        if args.partitions is not None and args.partitions < 1:
            raise UsageError(f"--partitions must be at least 1, not {args.partitions}")
        settings = dict(_setting(item) for item in args.conf)
    except UsageError as exc:
        print(f"her2kg spark-cohort: {exc}", file=sys.stderr)
        return 2
    try:
        import pyspark  # noqa: F401
    except ImportError:
        print("her2kg spark-cohort: needs Apache Spark's Python package: pip install 'her2kg[spark]'", file=sys.stderr)
        return 2
    from her2kg.spark.job import run_job
    from her2kg.spark.session import spark_session

    try:
        with spark_session(args.master, settings) as spark:
            summary = run_job(spark, args.input, args.output, options)
    except UsageError as exc:
        print(f"her2kg spark-cohort: {exc}", file=sys.stderr)
        return 2
    except Her2kgError as exc:
        print(f"her2kg spark-cohort: stopped: {exc}; rerun the same command", file=sys.stderr)
        return 1
    except Exception as exc:  # a failed Spark job: Py4JJavaError, a lost executor, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"her2kg spark-cohort: the Spark job failed ({first[:300]}); nothing was committed to {args.output}; "
              "rerun the same command", file=sys.stderr)
        return 1
    print(f"her2kg spark-cohort: {args.output}: {summary.describe()}", file=sys.stderr)
    return 0


def _setting(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--conf takes KEY=VALUE, not {item!r}")
    return key.strip(), value.strip()
