"""The only module that knows where the knowledge files live.

In a source checkout they sit at the repository root (`ontology/`, `shapes/`, `queries/`,
`examples/`); in an installed wheel they are packaged under `her2kg/_data/`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_KINDS = ("ontology", "shapes", "queries", "examples")


@cache
def data_root() -> Path:
    """Return the folder that holds `ontology/`, `shapes/`, `queries/` and `examples/`."""
    packaged = _PACKAGE_DIR / "_data"
    if (packaged / "ontology").is_dir():
        return packaged
    source = _PACKAGE_DIR.parent
    if (source / "ontology").is_dir():
        return source
    raise FileNotFoundError(
        "her2kg cannot find its knowledge files (ontology/, shapes/, queries/); "
        "reinstall the package with `pip install .` from a full checkout."
    )


def ontology_dir() -> Path:
    return data_root() / "ontology"


def shapes_dir() -> Path:
    return data_root() / "shapes"


def queries_dir() -> Path:
    return data_root() / "queries"


def examples_dir() -> Path:
    return data_root() / "examples"


def ontology_files() -> list[Path]:
    """Every Turtle file of the knowledge base, header first, modules sorted by name."""
    root = ontology_dir()
    header = root / "her2kg.ttl"
    modules = sorted((root / "modules").glob("*.ttl"))
    return [header, *modules]
