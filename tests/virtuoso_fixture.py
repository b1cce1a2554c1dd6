"""Pytest fixtures for a private Virtuoso server (import them into a test module).

The server is started once per test module that uses it, in a temporary folder, on free
loopback ports, and stopped at teardown. Tests that need it are marked `virtuoso`; they are
skipped only when Virtuoso is not installed (CI installs it: `scripts/ci-virtuoso.sh`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from her2kg.stores.virtuoso import INSTALL_HINT, VirtuosoServer, VirtuosoSettings, start_virtuoso, virtuoso_binary

# Small buffers: the test cohorts are a few hundred patients.
TEST_SETTINGS = VirtuosoSettings(buffers=30_000, max_dirty_buffers=20_000)


def require_virtuoso() -> None:
    if virtuoso_binary() is None:
        pytest.skip(f"Virtuoso is not installed (`virtuoso-t` not on the PATH); {INSTALL_HINT}")


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A running private Virtuoso server for the tests of one module."""
    require_virtuoso()
    directory: Path = tmp_path_factory.mktemp("virtuoso")
    server = start_virtuoso(directory, settings=TEST_SETTINGS)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def graph_iri() -> str:
    """A graph IRI of its own for each test."""
    return f"urn:her2kg:test:{uuid.uuid4()}"
