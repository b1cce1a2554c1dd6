"""Helpers of the Bulk and Spark tests: bundles split into an export, and reports compared."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared_files import SHARED_DIR

VIGNETTES = SHARED_DIR / "vignettes"


def vignette_bundles() -> list[Path]:
    return sorted(p for p in VIGNETTES.glob("*.json") if not p.name.endswith(".expect.json")) if VIGNETTES.is_dir() else []


def bundles_to_export(bundles: list[Path], folder: Path) -> None:
    """Write the resources of these bundles as a Bulk export: one NDJSON file per resource type."""
    folder.mkdir(parents=True, exist_ok=True)
    by_type: dict[str, list[str]] = {}
    for path in bundles:
        bundle = json.loads(path.read_text(encoding="utf-8"))
        for item in bundle.get("entry", []):
            resource = item["resource"]
            by_type.setdefault(resource["resourceType"], []).append(json.dumps(resource, separators=(",", ":")))
    for rtype, lines in by_type.items():
        (folder / f"{rtype}.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")


def reports_by_patient(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Reports keyed by patient id, without `source` (which names the input)."""
    out: dict[str, dict[str, Any]] = {}
    for line in lines:
        report = json.loads(line)
        report.pop("source", None)
        assert report["patient"] not in out, f"patient {report['patient']} reported twice"
        out[report["patient"]] = report
    return out


def read_reports(path: Path) -> dict[str, dict[str, Any]]:
    return reports_by_patient(path.read_text(encoding="utf-8").splitlines())
