"""`her2kg check [--update] [--no-owl] [--kb DIR]`: the complete check CI runs.

validate, competency questions against their committed answers, docs/traceability.tsv current,
README counts current. `--update` rewrites the generated files. Exit 0 all good, 1 findings,
2 usage error.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--update", action="store_true", help="rewrite the expected CQ answers, docs/traceability.tsv and the README counts")
    parser.add_argument("--no-owl", action="store_true", help="skip the HermiT check (it needs Java)")


def run(args: argparse.Namespace) -> int:
    from her2kg.resources import data_root
    from her2kg.workbench.check import render, run_check

    report = run_check(data_root(), owl=not args.no_owl, update=args.update)
    sys.stdout.write(render(report))
    return 0 if report.ok else 1
