"""Shared test set-up.

- Helper modules of `tests/` (`rule_harness`, `shared_files`, ...) are importable through the
  `pythonpath` setting in pyproject.toml, not through `sys.path` edits.
- Tests marked `shared` are skipped, with the reason, when `../shared` is absent.
- The markers `slow`, `virtuoso`, `browser` and `spark` are deselected by the default `pytest`
  run (pyproject.toml `addopts`); `bash scripts/test.sh` (what CI runs) selects them all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_files import SHARED_ABSENT_REASON, SHARED_DIR, SHARED_PRESENT

TESTS_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if SHARED_PRESENT:
        return
    skip = pytest.mark.skip(reason=SHARED_ABSENT_REASON)
    for item in items:
        if item.get_closest_marker("shared") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared folder; skips the test when it is absent."""
    if not SHARED_PRESENT:
        pytest.skip(SHARED_ABSENT_REASON)
    return SHARED_DIR
