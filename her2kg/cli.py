"""The `her2kg` command line: one entry point, one module per subcommand.

Each subcommand lives in `her2kg/commands/<name>.py` and exposes `add_arguments(parser)` and
`run(args) -> int`. Modules are imported only when their subcommand runs, so that
`her2kg recommend` does not pay for the validator's or the server's imports.

Exit codes: 0 success, 1 findings or invalid input (the output says which), 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

from her2kg.workbench.kb_option import add_kb_argument, apply_kb_argument, restore_kb_selection

COMMANDS: dict[str, tuple[str, str]] = {
    "recommend": ("her2kg.commands.recommend", "infer permitted, forbidden and proposed regimens for patients"),
    "validate": ("her2kg.commands.validate", "check the knowledge base, or patient files, for errors"),
    "fmt": ("her2kg.commands.fmt", "rewrite Turtle files in the canonical form"),
    "import-fhir": ("her2kg.commands.import_fhir", "map a FHIR R4 bundle to the her2kg patient vocabulary"),
    "query": ("her2kg.commands.query", "run a SPARQL query over the knowledge base (and patients)"),
    "info": ("her2kg.commands.info", "show the knowledge base version and what it holds"),
    "serve": ("her2kg.commands.serve", "serve the SPARQL endpoint, the recommendation API and CDS Hooks"),
    "cohort": ("her2kg.commands.cohort", "run a folder of patients in batches, resumably, to JSON lines"),
    "check": ("her2kg.commands.check", "everything CI checks: validate, competency questions, generated files"),
    "diff": ("her2kg.commands.diff", "semantic diff of two knowledge-base versions and its consequences for patients"),
    "docs": ("her2kg.commands.docs", "write the static HTML documentation of the knowledge base"),
    "build": ("her2kg.commands.build", "build ontology modules from TSV templates"),
    "release": ("her2kg.commands.release", "write the release artefacts under the version IRI's path"),
    "spark-cohort": ("her2kg.commands.spark_cohort", "run a Bulk export or a folder of patients on Apache Spark, one report per patient"),
}


# The optional dependencies each command needs, by the extra that installs them (pyproject.toml).
# `recommend`, `cohort`, `import-fhir`, `query` and `info` need only the base install.
_KB = ("rdflib", "owlready2", "pyshacl")
EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{name: ("kb", _KB) for name in ("validate", "fmt", "check", "diff", "docs", "build", "release")},
    "serve": ("server", ("starlette", "uvicorn", "anyio", "jwt", "cryptography", "pydantic", "httpx", "rdflib")),
    "spark-cohort": ("spark", ("pyspark",)),
}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without a spec
        return False


def _missing_extra(command: str, missing: str | None = None) -> int | None:
    """Exit 2 with a one-line message naming the extra when a dependency of `command` is absent.

    `missing` is the top-level module a run failed to import, if any; None checks them all first.
    """
    extra, modules = EXTRAS.get(command, ("", ()))
    absent = [m for m in modules if m == missing] if missing is not None else [m for m in modules if not _importable(m)]
    if not absent:
        return None
    print(f"her2kg {command}: needs the {extra} extra: pip install 'her2kg[{extra}]'", file=sys.stderr)
    return 2


def _load(module_name: str) -> ModuleType:
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        print(f"her2kg: this command is not available in this installation ({exc})", file=sys.stderr)
        raise SystemExit(2) from None


def _parser(selected: str | None) -> argparse.ArgumentParser:
    from her2kg import __version__

    parser = argparse.ArgumentParser(prog="her2kg", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"her2kg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        add_kb_argument(command_parser)
        if name == selected:
            _load(module_name).add_arguments(command_parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    selected = next((a for a in args_list if not a.startswith("-")), None)
    if selected not in COMMANDS:
        selected = None
    if selected is not None and (absent := _missing_extra(selected)) is not None:
        return absent
    try:
        parser = _parser(selected)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    module = _load(COMMANDS[args.command][0])
    if (refused := apply_kb_argument(args)) is not None:
        return refused
    try:
        return int(module.run(args))
    except KeyboardInterrupt:
        print("her2kg: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a defect: say so in one line instead of a traceback
        if isinstance(exc, ModuleNotFoundError):
            if (absent := _missing_extra(args.command, (exc.name or "").partition(".")[0])) is not None:
                return absent
        print(
            f"her2kg {args.command}: internal error ({type(exc).__name__}: {exc}); "
            "please report it with the command and input that caused it",
            file=sys.stderr,
        )
        return 2
    finally:
        restore_kb_selection()


if __name__ == "__main__":
    raise SystemExit(main())
