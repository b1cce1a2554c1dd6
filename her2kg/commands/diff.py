"""`her2kg diff OLD NEW [--format text|markdown] [--patients FILE...] [--as-of DATE]`.

OLD and NEW are knowledge-base folders or git revisions of the checkout. Lists the added,
removed and changed terms with their labels and statements, and the conclusions that change for
the example patients (the NEW folder's `examples/`) and the vignettes (`tests/data/vignettes/`
of the checkout), or for the patient files given. Exit 0 (differences are not an error), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", help="the earlier knowledge base: a folder or a git revision (HEAD, v0.1.0, ...)")
    parser.add_argument("new", help="the later knowledge base: a folder or a git revision")
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    parser.add_argument("--patients", nargs="*", type=Path, default=None, metavar="FILE",
                        help="patient files whose conclusions to compare (default: examples and vignettes)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="evaluation date (default: today)")


def run(args: argparse.Namespace) -> int:
    from her2kg.commands.options import parse_as_of
    from her2kg.errors import UsageError
    from her2kg.resources import data_root
    from her2kg.workbench.semantic_diff import diff_folders, knowledge_folder, render

    checkout = data_root()
    try:
        as_of = parse_as_of(args.as_of)
        with knowledge_folder(args.old, checkout) as old, knowledge_folder(args.new, checkout) as new:
            patients = args.patients
            if patients is None:
                patients = sorted((new / "examples").glob("*.ttl")) + sorted((checkout / "tests" / "data" / "vignettes").glob("*.json"))
                patients = [p for p in patients if not p.name.endswith(".expect.json")]
            result = diff_folders(old, new, patients=patients, as_of=as_of, old_name=args.old, new_name=args.new)
    except UsageError as exc:
        print(f"her2kg diff: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(result, markdown=args.format == "markdown"))
    return 0
