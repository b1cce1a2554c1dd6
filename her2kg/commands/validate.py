"""`her2kg validate [PATIENT.ttl ...] [--format text|json] [--no-owl] [--kb DIR]`.

Without files: check the knowledge base (syntax, imports, SHACL shapes, OWL consistency with
HermiT, QC queries, canonical formatting). With files: check patient files against the patient
shapes (structure) and the input-constraint notice rules that `recommend` also runs (contradictory
HER2 results, an end before a start, an LVEF outside 0-100 %, an invalid date). Exit codes: 0
clean, 1 findings, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "patients",
        nargs="*",
        type=Path,
        metavar="PATIENT.ttl",
        help="patient files to check (default: check the knowledge base)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument(
        "--no-owl", action="store_true", help="skip the OWL reasoner check (it needs Java and takes seconds)"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        metavar="DIR",
        help="the same as --kb DIR (kept for scripts written before --kb)",
    )


def run(args: argparse.Namespace) -> int:
    from her2kg.errors import UsageError
    from her2kg.validation import validate_knowledge_base, validate_patient_files
    from her2kg.validation.render import render_json, render_text

    missing = [p for p in args.patients if not p.is_file()]
    if missing:
        for path in missing:
            print(f"{path}: no such file; give the path of a patient Turtle file", file=sys.stderr)
        return 2
    try:
        if args.patients:
            report = validate_patient_files(args.patients, root=args.root or args.kb)
        else:
            report = validate_knowledge_base(owl=not args.no_owl, root=args.root or args.kb)
    except UsageError as exc:
        print(f"her2kg validate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render_json(report) if args.format == "json" else render_text(report))
    return 0 if report.ok else 1
