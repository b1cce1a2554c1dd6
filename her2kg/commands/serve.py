"""`her2kg serve [--host 127.0.0.1] [--port 7878] [--config FILE] [--patients DIR] [--as-of DATE]`.

Serves the SPARQL 1.1 endpoint (/sparql), the recommendation API (/recommend, described at
/openapi.json) and the CDS Hooks services (/cds-services). It listens on the loopback
interface unless told otherwise. `docs/server.md` describes the configuration file.

Exit codes: 0 after a clean shutdown, 2 for a usage or configuration error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date
from pathlib import Path

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write YYYY-MM-DD") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=None, help="interface to listen on (default: 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: 7878)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE", help="TOML configuration file (see docs/server.md)")
    parser.add_argument(
        "--patients",
        type=Path,
        default=None,
        metavar="DIR",
        help="also serve the patients of DIR (.ttl and FHIR .json), reasoned once at start-up",
    )
    parser.add_argument(
        "--as-of",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="evaluate the served patients and the CDS Hooks calls as of this date (default: today)",
    )
    parser.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"), help="log level (default: info)")


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from her2kg.server.app import create_app
    except ImportError as exc:
        from her2kg.server import SERVER_EXTRA_HINT

        print(f"her2kg serve: {exc.name or 'a server package'} is missing; {SERVER_EXTRA_HINT}", file=sys.stderr)
        return 2
    from her2kg.errors import Her2kgError
    from her2kg.server.config import load_config

    if args.host is not None and not args.host.strip():
        print(
            'her2kg serve: --host "" would listen on every interface; give 127.0.0.1 (loopback) or the address to serve on',
            file=sys.stderr,
        )
        return 2
    try:
        config = load_config(args.config).with_overrides(
            host=args.host, port=args.port, patients_dir=args.patients, as_of=args.as_of
        )
        if config.patients_dir is not None and not config.patients_dir.is_dir():
            raise Her2kgError(f"{config.patients_dir}: not a folder; --patients takes a folder of patient files")
        app = create_app(config)
    except Her2kgError as exc:
        print(f"her2kg serve: {exc}", file=sys.stderr)
        return 2
    if not 0 <= config.port <= 65535:
        print(f"her2kg serve: port {config.port} is out of range; use 1-65535", file=sys.stderr)
        return 2
    level = getattr(logging, args.log_level.upper())
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if config.host not in _LOOPBACK:
        logging.getLogger("her2kg.server").warning(
            "listening on %s, not only on loopback: put TLS and access control in front of the server", config.host
        )
    print(f"her2kg serve: http://{_url_host(config.host)}:{config.port}/sparql (Ctrl-C to stop)", file=sys.stderr)
    from her2kg.server.http_protocol import uvicorn_config

    try:
        uvicorn.Server(uvicorn_config(app, config, log_level=args.log_level)).run()
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: the shutdown was clean
        pass
    return 0


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
