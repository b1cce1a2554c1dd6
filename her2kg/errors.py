"""Exceptions of her2kg. Each names where to look and what to do next."""

from __future__ import annotations


class Her2kgError(Exception):
    """Base class of every error her2kg raises on purpose."""


class UsageError(Her2kgError):
    """The command line was used wrongly (exit code 2)."""


class InputError(Her2kgError):
    """An input file could not be read or understood (exit code 2 for unreadable files)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class RuleError(Her2kgError):
    """A rule file is malformed, or the engine could not run it to a fixpoint."""

    def __init__(self, rule_id: str, path: str, message: str) -> None:
        super().__init__(f"rule {rule_id} ({path}): {message}")
        self.rule_id = rule_id
        self.path = path
        self.message = message


class KnowledgeBaseError(Her2kgError):
    """The knowledge base files could not be loaded."""
