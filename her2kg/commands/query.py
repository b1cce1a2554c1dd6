"""`her2kg query QUERY [--patients FILE...] [--as-of DATE] [--format table|json|csv|tsv]`

Runs a SPARQL SELECT (or ASK) over the knowledge base; with patient files, over the knowledge
base and those patients after the rules ran, so that derived facts can be queried too. QUERY is
a file (`queries/cq/01-...rq`) or the query text itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", help="a .rq file or the SPARQL text")
    parser.add_argument("--patients", nargs="*", default=[], metavar="FILE", help="patient files to reason over first")
    parser.add_argument("--as-of", metavar="YYYY-MM-DD", help="evaluation date for the patients (default: today)")
    parser.add_argument("--format", choices=("table", "json", "csv", "tsv"), default="table")


def run(args: argparse.Namespace) -> int:
    from datetime import date

    import pyoxigraph as ox

    from her2kg.knowledge import knowledge_ntriples
    from her2kg.pipeline import recommend_files
    from her2kg.stores.embedded import EmbeddedStore

    text = Path(args.query).read_text(encoding="utf-8") if args.query.endswith(".rq") and Path(args.query).is_file() else args.query
    store = EmbeddedStore()
    if args.patients:
        try:
            as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
        except ValueError:
            print(f"her2kg query: --as-of must be YYYY-MM-DD, not {args.as_of!r}", file=sys.stderr)
            return 2
        recommend_files(args.patients, as_of=as_of, store=store)
    else:
        store.load_ntriples(knowledge_ntriples())
    try:
        result = store.native.query(text)
    except (SyntaxError, ValueError, OSError) as exc:
        print(f"her2kg query: the query failed: {exc}", file=sys.stderr)
        return 1
    if isinstance(result, ox.QueryBoolean):
        print("true" if bool(result) else "false")
        return 0
    if not isinstance(result, ox.QuerySolutions):
        print("her2kg query: only SELECT and ASK queries are supported here", file=sys.stderr)
        return 2
    names = [v.value for v in result.variables]
    rows = [[(s[n].value if s[n] is not None else "") for n in names] for s in result]
    if args.format == "json":
        json.dump([dict(zip(names, r, strict=True)) for r in rows], sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.format in ("csv", "tsv"):
        writer = csv.writer(sys.stdout, delimiter="," if args.format == "csv" else "\t", lineterminator="\n")
        writer.writerow(names)
        writer.writerows(rows)
    else:
        short = [[c.replace("https://w3id.org/her2kg/", "h:") for c in r] for r in rows]
        widths = [max([len(n), *(len(r[i]) for r in short)]) for i, n in enumerate(names)]
        print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)))
        for r in short:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
        print(f"({len(rows)} rows)")
    return 0
