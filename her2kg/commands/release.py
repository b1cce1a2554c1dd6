"""`her2kg release [--out DIR] [--previous DIR|REV] [--no-reason] [--kb DIR]`: write the release artefacts.

Merged and reasoned ontology, SHACL shapes, documentation site and changelog under the version
IRI's path (`<out>/releases/<version>/`). `--previous` names the release to diff against (a
folder or git revision; default: the latest release under `<out>/releases/`). Exit 0 written,
2 usage error (for example the release folder already exists).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR", help="where releases/<version>/ is written (default: .)")
    parser.add_argument("--previous", metavar="DIR|REV", help="the previous release to diff against (default: the latest under --out)")
    parser.add_argument("--no-reason", action="store_true", help="skip HermiT (no inferred axioms; needs no Java)")


def run(args: argparse.Namespace) -> int:
    from her2kg.errors import UsageError
    from her2kg.resources import data_root
    from her2kg.workbench.release import make_release

    try:
        outcome = make_release(data_root(), args.out, previous=args.previous, reason=not args.no_reason)
    except UsageError as exc:
        print(f"her2kg release: {exc}", file=sys.stderr)
        return 2
    against = f"changelog against {outcome.previous}" if outcome.previous else "first release"
    print(f"wrote her2kg {outcome.version} to {outcome.folder} ({outcome.inferred} inferred subclass axioms; {against})")
    return 0
