"""`her2kg cohort INPUT_DIR --out results.jsonl [--store URL] [--chunk-size N] [--as-of DATE] [--unavailable DRUG]...`

Runs every `*.json` / `*.ttl` patient file of INPUT_DIR (sorted by name) in chunks and appends
one JSON report per line to the output. Rerunning the same command resumes: files already in the
output are skipped. With `--store`, the chunks run on a SPARQL 1.1 server instead of the embedded
store; the password comes from the environment variable HER2KG_STORE_PASSWORD.

Exit codes: 0 when every file was processed (reports with errors are written and counted in the
summary), 1 when the run stopped early or some files could not be read now (rerun to resume or
retry them; another run holding the output, a full disk and a permission error say so), 2 for
usage errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
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
    from her2kg.stores.base import TripleStore


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input_dir", metavar="INPUT_DIR", help="folder of patient files (.ttl Turtle, .json FHIR R4 bundles), or a FHIR Bulk Data export folder (*.ndjson[.gz])")
    parser.add_argument("--out", required=True, metavar="FILE", help="JSON Lines output; appended to, and read to resume")
    parser.add_argument("--chunk-size", type=int, default=500, metavar="N", help="files reasoned over together (default: 500)")
    add_evaluation_arguments(parser)
    add_remote_arguments(
        parser,
        graph_help="named graph to work in; it is CLEARED before every chunk, so give one used for nothing else "
        "(default: a new graph per run, removed at the end)",
    )


def run(args: argparse.Namespace) -> int:
    from her2kg.cohort import CohortOptions, OutputError, Progress, run_cohort

    try:
        store, owned_graph = remote_store_from_args(args, purpose="cohort")
        if args.chunk_size < 1:
            raise UsageError(f"--chunk-size must be at least 1, not {args.chunk_size}")
        options = CohortOptions(as_of=parse_as_of(args.as_of), unavailable=tuple(args.unavailable), chunk_size=args.chunk_size)
        folder, output = Path(args.input_dir), Path(args.out)
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder; give the folder that holds the patient files")
    except UsageError as exc:
        print(f"her2kg cohort: {exc}", file=sys.stderr)
        return 2

    def store_for_chunk(_index: int) -> TripleStore | None:
        if store is not None:
            store.clear()
        return store

    try:
        summary = run_cohort(folder, output, options, store_for_chunk=store_for_chunk, progress=Progress.for_stderr())
    except UsageError as exc:
        print(f"her2kg cohort: {exc}", file=sys.stderr)
        return 2
    except OutputError as exc:
        print(f"\nher2kg cohort: stopped: {exc}", file=sys.stderr)
        return 1
    except Her2kgError as exc:
        print(f"\nher2kg cohort: stopped: {exc}\nher2kg cohort: rerun the same command to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nher2kg cohort: interrupted; rerun the same command to resume", file=sys.stderr)
        return 1
    finally:
        discard_graph_if_owned(store, owned_graph)
    print(f"her2kg cohort: {summary.describe()}", file=sys.stderr)
    if summary.files_unreadable:
        print(
            f"her2kg cohort: {len(summary.files_unreadable)} file(s) could not be read (listed above); "
            "fix them and rerun the same command to process them",
            file=sys.stderr,
        )
        return 1
    return 0
