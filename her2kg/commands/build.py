"""`her2kg build [--templates DIR] [--out DIR] [--check] [--export MODULE]`: templates to Turtle.

Each folder `templates/<module>/` of TSV templates (ROBOT conventions, see
docs/knowledge-engineering.md) is built into the canonical module `ontology/modules/<module>.ttl`.
`--check` changes nothing and exits 1 when a built module differs from the file. `--export
MODULE` writes the templates of an existing hand-written module into `--templates` (to move it to
templates). Exit 0 done, 1 differences (--check) or a template error, 2 usage.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--templates", type=Path, default=None, metavar="DIR", help="template folders (default: templates/ of the checkout)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR", help="where modules are written (default: ontology/modules/)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a built module differs from its file")
    parser.add_argument("--export", metavar="MODULE", help="write templates for an existing module instead of building")


def run(args: argparse.Namespace) -> int:
    from her2kg.resources import data_root, modules_dir
    from her2kg.workbench.templates import TemplateError, build_module, export_module

    templates: Path = args.templates or data_root() / "templates"
    out: Path = args.out or modules_dir()
    if args.export:
        source = modules_dir() / f"{args.export}.ttl"
        if not source.is_file():
            print(f"her2kg build: no module {source}", file=sys.stderr)
            return 2
        try:
            files = export_module(source.read_text(encoding="utf-8"), args.export)
        except TemplateError as exc:
            print(f"her2kg build: {exc}", file=sys.stderr)
            return 1
        target = templates / args.export
        target.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {len(files)} templates to {target}")
        return 0
    if not templates.is_dir():
        print(f"her2kg build: no template folder {templates}; give --templates DIR", file=sys.stderr)
        return 2
    failed = differs = False
    for folder in sorted(p for p in templates.iterdir() if p.is_dir()):
        try:
            text = build_module(folder)
        except TemplateError as exc:
            print(f"{exc}", file=sys.stderr)
            failed = True
            continue
        target = out / f"{folder.name}.ttl"
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            print(f"{target}: differs from what {folder} builds; run `her2kg build`")
            differs = True
        else:
            out.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"built {target} from {folder}")
    return 1 if failed or differs else 0
