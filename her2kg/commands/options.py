"""Command-line options shared by several commands: the evaluation date, unavailable drugs, and
the remote SPARQL 1.1 store."""

from __future__ import annotations

import argparse
import os
import uuid
from datetime import date
from typing import TYPE_CHECKING

from her2kg.errors import Her2kgError, UsageError

if TYPE_CHECKING:
    from her2kg.stores.remote import RemoteSparqlStore

PASSWORD_VARIABLE = "HER2KG_STORE_PASSWORD"


def add_evaluation_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="evaluation date (default: today)")
    parser.add_argument(
        "--unavailable", action="append", default=[], metavar="DRUG",
        help="a drug not available (key such as trastuzumab-deruxtecan, or NCIt code); repeatable",
    )


def parse_as_of(text: str | None) -> date:
    """The evaluation date of `--as-of` (today when absent); raises UsageError when malformed."""
    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of must be a date YYYY-MM-DD, not {text!r}") from None


def add_remote_arguments(parser: argparse.ArgumentParser, *, graph_help: str) -> None:
    remote = parser.add_argument_group("remote store (SPARQL 1.1 Protocol)")
    remote.add_argument("--store", metavar="URL", help="SPARQL query endpoint (default: the embedded store)")
    remote.add_argument("--update-url", metavar="URL", help="SPARQL update endpoint (default: the --store URL)")
    remote.add_argument("--graph", metavar="IRI", help=graph_help)
    remote.add_argument("--graph-store-url", metavar="URL", help="Graph Store Protocol endpoint for loading (faster than INSERT DATA)")
    remote.add_argument("--user", metavar="NAME", help=f"user name for HTTP digest/basic authentication (password: ${PASSWORD_VARIABLE})")
    remote.add_argument("--timeout", type=float, default=600.0, metavar="SECONDS", help="per request (default: 600)")


def remote_store_from_args(args: argparse.Namespace, *, purpose: str) -> tuple[RemoteSparqlStore | None, bool]:
    """The remote store the options ask for (None for the embedded store), and whether the graph
    is this run's own (made up here, to be removed at the end). Raises UsageError."""
    remote_only = [
        flag
        for flag, value in (("--update-url", args.update_url), ("--graph", args.graph), ("--graph-store-url", args.graph_store_url), ("--user", args.user))
        if value and not args.store
    ]
    if remote_only:
        raise UsageError(f"{', '.join(remote_only)} only work with --store URL")
    if not args.store:
        return None, False
    from her2kg.stores.remote import RemoteSparqlStore

    owned = args.graph is None
    try:
        store = RemoteSparqlStore(
            args.store,
            args.update_url,
            graph=args.graph or f"urn:her2kg:{purpose}:{uuid.uuid4()}",
            username=args.user,
            password=os.environ.get(PASSWORD_VARIABLE) if args.user else None,
            timeout=args.timeout,
            graph_store_url=args.graph_store_url,
        )
    except ValueError as exc:
        raise UsageError(f"--graph: {exc}") from None
    return store, owned


def discard_graph_if_owned(store: RemoteSparqlStore | None, owned: bool) -> None:
    """Remove the graph a run made up for itself; a graph the user named is left as it is."""
    if store is None or not owned:
        return
    try:
        store.clear()
    except Her2kgError:
        pass  # the run's answer matters more than the clean-up; the graph name is random
