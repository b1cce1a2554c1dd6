"""The only module that knows where the knowledge files live and how their folders are named.

In a source checkout they sit at the repository root (`ontology/`, `shapes/`, `queries/`,
`examples/`); in an installed wheel they are packaged under `her2kg/_data/`. Functions that take
`root` answer for a copy laid out the same way (the validator checks such copies).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
HEADER_FILE = "her2kg.ttl"
MODULES_DIR = "modules"


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


def ontology_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "ontology"


def shapes_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "shapes"


def queries_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "queries"


def examples_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "examples"


def ontology_header(root: Path | None = None) -> Path:
    return ontology_dir(root) / HEADER_FILE


def modules_dir(root: Path | None = None) -> Path:
    return ontology_dir(root) / MODULES_DIR


def ontology_files(root: Path | None = None) -> list[Path]:
    """Every Turtle file of the knowledge base, header first, modules sorted by name."""
    return [ontology_header(root), *sorted(modules_dir(root).glob("*.ttl"))]
