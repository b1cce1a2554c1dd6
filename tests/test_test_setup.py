"""The test suite stands on its own: tests that read ../shared skip with the reason when it is
absent, and helper modules come in through the pytest `pythonpath`, not `sys.path` edits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import conftest
import pytest

TESTS_DIR = Path(__file__).resolve().parent


@dataclass
class FakeItem:
    """What the collection hook reads and writes of a test item."""

    markers: tuple[str, ...]
    added: list[pytest.MarkDecorator] = field(default_factory=list)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.added.append(marker)


def test_shared_tests_skip_with_the_reason_when_shared_is_absent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SHARED_PRESENT", False)
    shared, own = FakeItem(("shared",)), FakeItem(("slow",))
    conftest.pytest_collection_modifyitems(None, [shared, own])  # type: ignore[arg-type,list-item]
    assert [(m.name, m.kwargs["reason"]) for m in shared.added] == [("skip", conftest.SHARED_ABSENT_REASON)]
    assert own.added == []


def test_shared_tests_run_when_shared_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "SHARED_PRESENT", True)
    shared = FakeItem(("shared",))
    conftest.pytest_collection_modifyitems(None, [shared])  # type: ignore[arg-type,list-item]
    assert shared.added == []


def test_no_test_module_edits_sys_path_or_imports_conftest() -> None:
    offenders = [
        path.name
        for path in sorted(TESTS_DIR.glob("*.py"))
        if path.name not in {"conftest.py", Path(__file__).name}
        and re.search(r"^\s*(sys\.path\.(insert|append)|from conftest import|import conftest)", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []
