"""FHIR Bulk Data exports (NDJSON, one file per resource type) as cohort input.

- `export`: find the files of an export folder and their resource types (manifest or names);
- `records`: read one NDJSON line: its type, id and the patient it belongs to;
- `bundle`: a patient's resources as one collection Bundle, in a canonical order;
- `grouping`: group a whole export by patient with bounded memory (spill to disk);
- `cohort_input`: the export as the input of `her2kg cohort`;
- `generate`: realistic synthetic exports, deterministic by seed (tests, benchmarks, sizing).

The per-line and per-patient functions are shared with the Spark job (`her2kg.spark`), so that
one process and a cluster build the same Bundle for the same patient.
"""
