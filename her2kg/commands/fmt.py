"""`her2kg fmt [FILES...] [--check]`: rewrite Turtle files in the canonical form.

Without FILES, every `.ttl` file of `ontology/` and `shapes/` is formatted. Comments are not
kept (see `her2kg.turtle_format`). Exit codes: 0 done (or, with `--check`, every file is
canonical); 1 a file is not canonical (`--check`) or does not parse; 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "The canonical form sorts prefixes, subjects, predicates and objects and writes blank nodes "
        "inline; comments are not kept (use rdfs:comment or skos:definition instead)."
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="Turtle files to format (default: every file of ontology/ and shapes/)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list the files that are not in canonical form and exit 1 if any",
    )


def default_files() -> list[Path]:
    """Every Turtle file of the knowledge base and its shapes."""
    from her2kg.resources import ontology_dir, shapes_dir

    files: list[Path] = []
    for folder in (ontology_dir(), shapes_dir()):
        if folder.is_dir():
            files.extend(sorted(folder.rglob("*.ttl")))
    return files


def run(args: argparse.Namespace) -> int:
    from her2kg.turtle_format import TurtleSyntaxError, format_turtle

    files: list[Path] = list(args.files) or default_files()
    missing = [path for path in files if not path.is_file()]
    if missing:
        for path in missing:
            print(f"{path}: no such file", file=sys.stderr)
        return 2
    failed = False
    changed: list[Path] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            canonical = format_turtle(text, source=str(path))
        except TurtleSyntaxError as exc:
            print(f"{exc}; fix the file, then run `her2kg fmt` again", file=sys.stderr)
            failed = True
            continue
        if canonical == text:
            continue
        changed.append(path)
        if args.check:
            print(f"{path}: not in canonical form; run `her2kg fmt {path}`")
        else:
            _write(path, canonical)
            print(f"formatted {path}")
    if args.check and changed:
        print(f"{len(changed)} of {len(files)} files not in canonical form", file=sys.stderr)
    return 1 if failed or (args.check and changed) else 0


def _write(path: Path, text: str) -> None:
    """Replace a file's content atomically, keeping its permissions."""
    mode = path.stat().st_mode
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
