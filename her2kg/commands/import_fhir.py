"""`her2kg import-fhir BUNDLE.json [-o patient.ttl] [--format text|json]`.

Maps a FHIR R4 bundle to the her2kg patient vocabulary and prints it as Turtle. In text mode
the Turtle goes to stdout (or to `-o FILE`) and the ignored entries, warnings and errors go to
stderr; `--format json` prints one object {"patient", "turtle", "ignored", "warnings",
"errors"}. Exit codes: 0 imported, 1 the bundle has errors (the output is incomplete for a safe
answer), 2 the file cannot be read or the command line is wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import Her2kgError

if TYPE_CHECKING:
    from her2kg.fhir import FhirImport


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("bundle", metavar="BUNDLE.json", help="a FHIR R4 Bundle in JSON")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the Turtle to FILE instead of stdout")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")


def run(args: argparse.Namespace) -> int:
    from her2kg.fhir import import_bundle, load_code_mapping
    from her2kg.safe_io import JsonInputError, read_regular_file, strict_json_loads

    try:
        # a regular file of bounded size only (a FIFO or /dev/zero is refused at once), strict JSON
        bundle = strict_json_loads(read_regular_file(args.bundle))
    except OSError as exc:
        print(f"her2kg import-fhir: {args.bundle}: cannot be read ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except JsonInputError as exc:
        print(f"her2kg import-fhir: {args.bundle}: {exc}", file=sys.stderr)
        return 2
    try:
        mapping = load_code_mapping()
    except Her2kgError as exc:
        print(f"her2kg import-fhir: {exc}", file=sys.stderr)
        return 2
    result = import_bundle(bundle, mapping=mapping, source=args.bundle)
    turtle = patient_turtle(result.ntriples, result.patient_iri)

    if args.output is not None:
        try:
            args.output.write_text(turtle, encoding="utf-8")
        except OSError as exc:
            print(f"her2kg import-fhir: cannot write {args.output} ({exc.strerror or exc})", file=sys.stderr)
            return 2

    if args.format == "json":
        document = {
            "patient": result.patient_id,
            "turtle": turtle,
            "ignored": [item.to_json() for item in result.ignored],
            "warnings": [notice.as_error() for notice in result.warnings],  # with the field: which entry
            "errors": [notice.as_error() for notice in result.errors],
        }
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        if args.output is None and turtle:
            sys.stdout.write(turtle)
        _report(result)
    return 1 if result.errors else 0


def patient_turtle(ntriples: str, patient_iri: str) -> str:
    """Pretty Turtle (prefixes h: and xsd:) with the patient node first; '' for no triples."""
    if not ntriples.strip():
        return ""
    import rdflib

    from her2kg.turtle_format import format_turtle
    from her2kg.vocabulary import PREFIXES

    graph = rdflib.Graph()
    graph.parse(data=ntriples, format="nt")
    graph.bind("h", PREFIXES["h"], replace=True)
    graph.bind("xsd", PREFIXES["xsd"], replace=True)
    text = format_turtle(graph.serialize(format="turtle"), source="import-fhir")
    return _patient_first(text, patient_iri)


def _patient_first(text: str, patient_iri: str) -> str:
    blocks = text.strip("\n").split("\n\n")
    head = f"<{patient_iri}> "
    for i, block in enumerate(blocks):
        if block.startswith(head):
            prefix_end = next((k for k, b in enumerate(blocks) if not b.startswith("@prefix")), 0)
            blocks.insert(prefix_end, blocks.pop(i))
            break
    return "\n\n".join(blocks) + "\n"


def _report(result: FhirImport) -> None:
    out = sys.stderr
    if result.ignored:
        print(f"# {len(result.ignored)} entries ignored:", file=out)
        for item in result.ignored:  # by the entry's own type and id; its position only as a hint
            if item.resource and item.field:
                where = f"{item.resource} ({item.field})"
            else:
                where = item.resource or item.field
            print(f"#   {where}: {item.reason}", file=out)
    for notice in result.warnings:
        print(f"warning [{notice.code}] {notice.message}", file=out)
    for notice in result.errors:
        print(f"error [{notice.code}] {notice.message}", file=out)
    if result.errors:
        print(
            f"# {len(result.errors)} errors: the patient graph is incomplete for a safe answer; fix them and import again",
            file=out,
        )
