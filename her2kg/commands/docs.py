"""`her2kg docs --out DIR [--kb DIR]`: write the static HTML documentation of the knowledge base.

One page per recommendation, regimen, drug, source, rule and clinical statement, an ontology
reference, an index and a search. Exit 0 written, 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the site into (created)")


def run(args: argparse.Namespace) -> int:
    from her2kg.resources import data_root, folder_label
    from her2kg.workbench.docs_site import write_site

    if args.out.exists() and not args.out.is_dir():
        print(f"her2kg docs: --out {args.out} is a file; give a folder", file=sys.stderr)
        return 2
    pages = write_site(args.out, data_root())
    print(f"wrote {pages} pages to {args.out} (knowledge base: {folder_label()}); open {args.out / 'index.html'}")
    return 0
