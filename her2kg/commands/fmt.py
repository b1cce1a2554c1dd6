"""`her2kg fmt [FILES...] [--check] [--kb DIR]`: rewrite ontology files in the canonical Turtle form.

Without FILES, every `.ttl` file of `ontology/` and `shapes/` is formatted and
`ontology/catalog-v001.xml` is regenerated; a file of another syntax in `ontology/modules/` (a
`.owl` saved by Protégé) is reported, since the knowledge base loads only `.ttl` files. FILES may
be Turtle, RDF/XML or OWL/XML (sniffed from the content): a `.ttl` file that holds RDF/XML is
rewritten as Turtle; a `.owl`, `.owx` or `.rdf` file is converted to the `.ttl` file of the same
name. A file pyoxigraph (the rule engine's parser) would not load is refused. Comments are not
kept. Exit codes: 0 done (or, with `--check`, everything canonical); 1 a file is not canonical
(`--check`), does not parse or would not load; 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

OTHER_SYNTAX_SUFFIXES = (".owl", ".owx", ".rdf", ".xml")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = (
        "The canonical form sorts prefixes, subjects, predicates and objects, writes blank nodes "
        "inline and only the project's prefixes; comments are not kept (use rdfs:comment or "
        "skos:definition instead)."
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        metavar="FILE",
        help="files to format: Turtle, RDF/XML or OWL/XML (default: every file of ontology/ and shapes/)",
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
    files: list[Path] = list(args.files) or default_files()
    missing = [path for path in files if not path.is_file()]
    if missing:
        for path in missing:
            print(f"{path}: no such file", file=sys.stderr)
        return 2
    failed = False
    changed: list[Path] = []
    for path in files:
        outcome = _format_one(path, check=args.check)
        failed |= outcome == "failed"
        if outcome == "changed":
            changed.append(path)
    if not args.files:
        failed |= _other_syntax_modules()
        catalog_changed = _catalog(check=args.check)
        if catalog_changed:
            changed.append(catalog_changed)
    if args.check and changed:
        print(f"{len(changed)} of {len(files)} files not in canonical form", file=sys.stderr)
    return 1 if failed or (args.check and changed) else 0


def _format_one(path: Path, *, check: bool) -> str:
    """'same', 'changed' or 'failed'; prints what it did."""
    from her2kg.turtle_format import TurtleSyntaxError, format_graph
    from her2kg.validation.loading import _oxigraph_problem
    from her2kg.workbench.rdf_formats import Syntax, parse_any

    try:
        text = path.read_text(encoding="utf-8")
        parsed, syntax = parse_any(text, source=str(path))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"{path}: cannot read ({exc})", file=sys.stderr)
        return "failed"
    except TurtleSyntaxError as exc:
        print(f"{exc}; fix the file, then run `her2kg fmt` again", file=sys.stderr)
        return "failed"
    if syntax is Syntax.TURTLE:
        problem = _oxigraph_problem(text)
        if problem is not None:
            print(f"{path}:{problem[0]}: refused: the rule engine's parser would not load it ({problem[1]}); fix the file", file=sys.stderr)
            return "failed"
    canonical = format_graph(parsed.graph, declared=dict(parsed.declared))
    target = path if path.suffix == ".ttl" else path.with_suffix(".ttl")
    if path.suffix != ".ttl" and path.suffix not in OTHER_SYNTAX_SUFFIXES:
        print(f"{path}: not a .ttl, .owl, .owx or .rdf file; rename it", file=sys.stderr)
        return "failed"
    if target != path and target.is_file() and target.read_text(encoding="utf-8") != canonical:
        print(f"{path}: {target.name} exists with other content; merge by hand or delete one", file=sys.stderr)
        return "failed"
    current = target.read_text(encoding="utf-8") if target.is_file() else None
    if current == canonical:
        return "same"
    note = f" (it holds {syntax}, not Turtle)" if path.suffix == ".ttl" and syntax is not Syntax.TURTLE else ""
    if check:
        print(f"{path}: not in canonical form{note}; run `her2kg fmt {path}`")
        return "changed"
    _write(target, canonical)
    if target == path:
        print(f"formatted {path}{note}")
    else:
        print(f"wrote {target} from {path} ({syntax}); delete {path.name}: the knowledge base loads only .ttl files")
    return "changed"


def _other_syntax_modules() -> bool:
    """Report module files the knowledge base would not load; True when there are any."""
    from her2kg.resources import modules_dir

    others = sorted(p for p in modules_dir().iterdir() if p.is_file() and p.suffix in OTHER_SYNTAX_SUFFIXES)
    for path in others:
        print(
            f"{path}: not loaded (the knowledge base reads only .ttl modules); convert it with `her2kg fmt {path}` "
            f"and import <https://w3id.org/her2kg/ontology/{path.stem}> in ontology/her2kg.ttl",
            file=sys.stderr,
        )
    return bool(others)


def _catalog(*, check: bool) -> Path | None:
    """Regenerate ontology/catalog-v001.xml; return its path when it changed (or would)."""
    from her2kg.resources import ontology_dir
    from her2kg.workbench.catalog import CATALOG, catalog_xml

    path = ontology_dir() / CATALOG
    wanted = catalog_xml(ontology_dir())
    if path.is_file() and path.read_text(encoding="utf-8") == wanted:
        return None
    if check:
        print(f"{path}: does not map every module to its file; run `her2kg fmt`")
    else:
        _write(path, wanted)
        print(f"wrote {path}")
    return path


def _write(path: Path, text: str) -> None:
    """Replace a file's content atomically, keeping its permissions."""
    mode = path.stat().st_mode if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
