"""The SparkSession of `her2kg spark-cohort`: spark-submit's when there is one, else a new one."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@contextmanager
def spark_session(master: str | None, settings: Mapping[str, str]) -> Iterator[SparkSession]:
    """A session for the job; stopped at the end.

    Without `master`, spark-submit's master is used, else Spark's default, local[*]. In local mode
    outside spark-submit, the Python workers use this interpreter unless PYSPARK_PYTHON (or
    spark.pyspark.python) says otherwise, so that local runs find her2kg and pyoxigraph without any
    set-up; on a cluster the executors' Python is the cluster's setting.
    """
    from pyspark.sql import SparkSession

    submitted = "PYSPARK_GATEWAY_PORT" in os.environ  # spark-submit started this driver
    if not submitted and (master is None or master.startswith("local")):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("her2kg spark-cohort")
    if master:
        builder = builder.master(master)
    if not sys.stderr.isatty():
        builder = builder.config("spark.ui.showConsoleProgress", "false")
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    try:
        yield spark
    finally:
        spark.stop()

