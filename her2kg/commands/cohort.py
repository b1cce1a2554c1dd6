"""`her2kg cohort INPUT_DIR --out results.jsonl [--store URL] [--chunk-size N] [--as-of DATE] [--unavailable DRUG]...`

Runs every `*.json` / `*.ttl` patient file of INPUT_DIR (sorted by name) in chunks and appends
one JSON report per line to the output. Rerunning the same command resumes: files already in the
output are skipped. With `--store`, the chunks run on a SPARQL 1.1 server instead of the embedded
store; the password comes from the environment variable HER2KG_STORE_PASSWORD.

Exit codes: 0 when every file was processed (reports with errors are written and counted in the
summary), 1 when the run stopped early (rerun to resume), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import Her2kgError, UsageError

if TYPE_CHECKING:
    from her2kg.stores.base import TripleStore
    from her2kg.stores.remote import RemoteSparqlStore

PASSWORD_VARIABLE = "HER2KG_STORE_PASSWORD"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input_dir", metavar="INPUT_DIR", help="folder of patient files (.ttl Turtle, .json FHIR R4 bundles)")
    parser.add_argument("--out", required=True, metavar="FILE", help="JSON Lines output; appended to, and read to resume")
    parser.add_argument("--chunk-size", type=int, default=500, metavar="N", help="files reasoned over together (default: 500)")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="evaluation date (default: today)")
    parser.add_argument(
        "--unavailable", action="append", default=[], metavar="DRUG",
        help="a drug not available (key such as trastuzumab-deruxtecan, or NCIt code); repeatable",
    )
    remote = parser.add_argument_group("remote store (SPARQL 1.1 Protocol)")
    remote.add_argument("--store", metavar="URL", help="SPARQL query endpoint (default: the embedded store)")
    remote.add_argument("--update-url", metavar="URL", help="SPARQL update endpoint (default: the --store URL)")
    remote.add_argument(
        "--graph", metavar="IRI",
        help="named graph to work in; it is CLEARED before every chunk, so give one used for nothing else "
        "(default: a new graph per run, removed at the end)",
    )
    remote.add_argument("--graph-store-url", metavar="URL", help="Graph Store Protocol endpoint for loading (faster than INSERT DATA)")
    remote.add_argument("--user", metavar="NAME", help=f"user name for HTTP digest/basic authentication (password: ${PASSWORD_VARIABLE})")
    remote.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per request (default: 600)")


def _as_of(text: str | None) -> date:
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of must be a date YYYY-MM-DD, not {text!r}") from None


def run(args: argparse.Namespace) -> int:
    from her2kg.cohort import CohortOptions, Progress, run_cohort

    remote_only = [flag for flag, value in (("--update-url", args.update_url), ("--graph", args.graph),
                   ("--graph-store-url", args.graph_store_url), ("--user", args.user)) if value and not args.store]
    try:
        if remote_only:
            raise UsageError(f"{', '.join(remote_only)} only work with --store URL")
        if args.chunk_size < 1:
            raise UsageError(f"--chunk-size must be at least 1, not {args.chunk_size}")
        options = CohortOptions(as_of=_as_of(args.as_of), unavailable=tuple(args.unavailable), chunk_size=args.chunk_size)
        folder, output = Path(args.input_dir), Path(args.out)
        if not folder.is_dir():
            raise UsageError(f"{folder} is not a folder; give the folder that holds the patient files")
    except UsageError as exc:
        print(f"her2kg cohort: {exc}", file=sys.stderr)
        return 2

    store: RemoteSparqlStore | None = None
    owned_graph = False
    if args.store:
        import uuid

        from her2kg.stores.remote import RemoteSparqlStore

        owned_graph = args.graph is None
        try:
            store = RemoteSparqlStore(
                args.store, args.update_url, graph=args.graph or f"urn:her2kg:cohort:{uuid.uuid4()}",
                username=args.user, password=os.environ.get(PASSWORD_VARIABLE) if args.user else None,
                timeout=args.timeout, graph_store_url=args.graph_store_url,
            )
        except ValueError as exc:
            print(f"her2kg cohort: --graph: {exc}", file=sys.stderr)
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
    except Her2kgError as exc:
        print(f"\nher2kg cohort: stopped: {exc}\nher2kg cohort: rerun the same command to resume", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nher2kg cohort: interrupted; rerun the same command to resume", file=sys.stderr)
        return 1
    finally:
        if store is not None and owned_graph:
            try:
                store.clear()
            except Her2kgError:
                pass
    print(f"her2kg cohort: {summary.describe()}", file=sys.stderr)
    return 0
