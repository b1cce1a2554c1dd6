"""Cohort runs on Apache Spark (`her2kg spark-cohort`; install with `pip install 'her2kg[spark]'`).

`job` holds the Spark pipeline; the functions it ships to executors live in `tasks`, which
imports no Spark, so that executors need only her2kg and pyoxigraph on their Python.
"""
