"""Every shared vignette, through the command line, passes the shared checker."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from shared_files import SHARED_DIR
from her2kg.cli import main

pytestmark = pytest.mark.shared

VIGNETTES = SHARED_DIR / "vignettes"
EXPECTATIONS = sorted(VIGNETTES.glob("*.expect.json"))


def _checker():
    spec = importlib.util.spec_from_file_location("vignette_check", VIGNETTES / "check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


def test_vignettes_are_present() -> None:
    assert len(EXPECTATIONS) >= 12, f"expected the shared vignettes in {VIGNETTES}"


@pytest.mark.slow
@pytest.mark.parametrize("expect_path", EXPECTATIONS, ids=lambda p: p.name.removesuffix(".expect.json"))
def test_vignette(expect_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect = json.loads(expect_path.read_text())
    bundle = expect_path.with_name(expect_path.name.replace(".expect.json", ".json"))
    code = main(["recommend", str(bundle), "--format", "json", "--as-of", expect["as_of"]])
    report = json.loads(capsys.readouterr().out)
    failures = _checker()(report, expect, code)
    assert not failures, failures
