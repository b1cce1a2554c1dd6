"""Command-line options shared by the commands that can run on a remote SPARQL 1.1 store."""

from __future__ import annotations

import argparse
import os
import uuid
from typing import TYPE_CHECKING

from her2kg.errors import UsageError

if TYPE_CHECKING:
    from her2kg.stores.remote import RemoteSparqlStore

PASSWORD_VARIABLE = "HER2KG_STORE_PASSWORD"


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
