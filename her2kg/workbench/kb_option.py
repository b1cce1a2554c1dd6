"""The `--kb DIR` option every command takes: which knowledge-base folder to read."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_kb_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--kb",
        type=Path,
        default=None,
        metavar="DIR",
        help="read the knowledge base from DIR (a folder with ontology/, shapes/, queries/); default: the "
        "checkout containing the current directory, else the installed copy",
    )


_previous: list[Path | None] = []


def apply_kb_argument(args: argparse.Namespace) -> int | None:
    """Select the folder `--kb` names; return 2 (usage error, said on stderr) when it is not one.

    `restore_kb_selection` undoes it when the command is done, so that in-process callers (tests,
    the server's tools) keep the folder they had selected.
    """
    from her2kg.knowledge import clear_caches
    from her2kg.resources import KnowledgeBaseNotFound, select_knowledge_base, selected_knowledge_base

    folder: Path | None = getattr(args, "kb", None)
    _previous.append(selected_knowledge_base())
    try:
        select_knowledge_base(folder)
    except KnowledgeBaseNotFound as exc:
        _previous.pop()
        print(f"her2kg {args.command}: --kb: {exc}", file=sys.stderr)
        return 2
    clear_caches()
    return None


def restore_kb_selection() -> None:
    """Select again the folder that was selected before the last `apply_kb_argument`."""
    from her2kg.knowledge import clear_caches
    from her2kg.resources import select_knowledge_base

    if _previous:
        select_knowledge_base(_previous.pop())
        clear_caches()
