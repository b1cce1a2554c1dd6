"""`her2kg recommend PATIENT... [--format text|json] [--as-of DATE] [--unavailable DRUG]...`"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from her2kg.commands.options import (
    add_evaluation_arguments,
    add_remote_arguments,
    discard_graph_if_owned,
    parse_as_of,
    remote_store_from_args,
)
from her2kg.errors import Her2kgError, UsageError

if TYPE_CHECKING:
    from her2kg.report.model import Report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("patients", nargs="+", metavar="PATIENT", help="Turtle patient (.ttl) or FHIR R4 bundle (.json)")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    add_evaluation_arguments(parser)
    add_remote_arguments(
        parser,
        graph_help="named graph to reason in; it is CLEARED first, so give one used for nothing else "
        "(default: a new graph for this run, removed at the end)",
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from her2kg.pipeline import UnknownDrugError, recommend_files

    store, owned_graph = None, False
    try:
        as_of = parse_as_of(args.as_of)
        missing = [p for p in args.patients if not Path(p).is_file()]
        if missing:
            raise UsageError(f"cannot read {', '.join(missing)}: no such file")
        store, owned_graph = remote_store_from_args(args, purpose="recommend")
        if store is not None:
            store.clear()
        reports = recommend_files(args.patients, as_of=as_of, unavailable=args.unavailable, store=store)
    except UnknownDrugError as exc:
        print(f"her2kg recommend: --unavailable: {exc}", file=sys.stderr)
        return 2
    except UsageError as exc:
        print(f"her2kg recommend: {exc}", file=sys.stderr)
        return 2
    except Her2kgError as exc:
        print(f"her2kg recommend: {exc}", file=sys.stderr)
        return 2
    finally:
        discard_graph_if_owned(store, owned_graph)
    code = 0 if all(r.ok for r in reports) else 1
    try:
        _write(reports, args.format, several=len(args.patients) > 1)
    except BrokenPipeError:
        # the reader stopped early (`her2kg recommend ... | head -1`): not an error of ours
        _silence_stdout()
    return code


def _write(reports: list[Report], fmt: str, *, several: bool) -> None:
    if fmt == "json":
        payload = [r.to_json() for r in reports]
        out = payload[0] if len(payload) == 1 and not several else payload
        json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        from her2kg.report.render_text import render_text

        sys.stdout.write("\n".join(render_text(r) for r in reports))
    sys.stdout.flush()


def _silence_stdout() -> None:
    """Point stdout at the null device so that the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
