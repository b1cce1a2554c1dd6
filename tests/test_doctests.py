"""The examples in the package's docstrings run, so the documentation cannot drift from the code."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "her2kg"
MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
    if ">>>" in path.read_text(encoding="utf-8")
)


def test_the_facade_modules_have_examples() -> None:
    assert {"her2kg", "her2kg.api", "her2kg.query_header", "her2kg.patient_source"} <= set(MODULES)


def test_a_failing_example_is_caught() -> None:
    module = type(doctest)("broken")
    module.__doc__ = ">>> 1 + 1\n3\n"
    assert doctest.testmod(module, verbose=False, report=False).failed == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the examples name files of the checkout (examples/, tests/data/)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (run python -m doctest -v)"
