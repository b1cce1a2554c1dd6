"""The project's own vignettes (tests/vignette_bundles.py): one per way the patient's past or a real
record can mislead, run through the `her2kg recommend` command as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from vignette_bundles import FOLDER, VIGNETTES, write
from vignette_check import problems

HER2KG = [sys.executable, "-m", "her2kg"]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(VIGNETTES))
def test_vignette(name: str) -> None:
    expect = json.loads((FOLDER / f"{name}.expect.json").read_text(encoding="utf-8"))
    run = subprocess.run([*HER2KG, "recommend", str(FOLDER / f"{name}.json"), "--format", "json", "--as-of", expect["as_of"]],
                         capture_output=True, text=True, timeout=120)
    assert run.stdout, run.stderr
    report = json.loads(run.stdout)
    report = report[0] if isinstance(report, list) else report
    found = problems(report, run.returncode, expect)
    assert not found, f"{name}: {found}\n{json.dumps(report, indent=1)[:4000]}"


def test_vignette_files_are_current(tmp_path: Path) -> None:
    for path in write(tmp_path):
        assert (FOLDER / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"{path.name} is stale: run `python tests/vignette_bundles.py`"
        )
