"""The only module that knows where the knowledge files live and how their folders are named.

Which knowledge base a command reads, in this order:

1. the folder given with `--kb DIR` (`select_knowledge_base`);
2. a source checkout containing the current directory (a folder with `pyproject.toml` and
   `ontology/her2kg.ttl`, found from the current directory upwards), so that edits to a checkout
   take effect at once;
3. the checkout of an editable install (`pip install -e .`: the package sits in the checkout);
4. the copy packaged under `her2kg/_data/` at install time.

Every report names the folder it read ("packaged" for 4) and a content digest of the files read
(`knowledge_base_identity`). Functions that take `root` answer for a copy laid out the same way
(the validator checks such copies).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_PACKAGED = _PACKAGE_DIR / "_data"
HEADER_FILE = "her2kg.ttl"
MODULES_DIR = "modules"
PACKAGED_LABEL = "packaged"
KNOWLEDGE_FOLDERS = ("ontology", "shapes", "queries")
_CHECKOUT_MARKER = "pyproject.toml"

_selected: Path | None = None


class KnowledgeBaseNotFound(FileNotFoundError):
    """A folder given as the knowledge base is not laid out like one."""


def select_knowledge_base(root: Path | None) -> None:
    """Read the knowledge base from `root` from now on (None: back to the default search).

    Raises KnowledgeBaseNotFound, naming what is missing, when `root` holds no ontology header.
    """
    global _selected
    if root is not None:
        root = Path(root).resolve()
        if not (root / "ontology" / HEADER_FILE).is_file():
            raise KnowledgeBaseNotFound(
                f"{root} does not hold ontology/{HEADER_FILE}; give --kb a folder laid out like the "
                "repository (ontology/, shapes/, queries/)"
            )
    _selected = root
    data_root.cache_clear()


def selected_knowledge_base() -> Path | None:
    """The folder selected with `select_knowledge_base`, or None for the default search."""
    return _selected


def _is_knowledge_root(folder: Path) -> bool:
    return (folder / "ontology" / HEADER_FILE).is_file()


def _checkout_above(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / _CHECKOUT_MARKER).is_file() and _is_knowledge_root(folder):
            return folder
    return None


@cache
def data_root() -> Path:
    """Return the folder that holds `ontology/`, `shapes/`, `queries/` and `examples/`."""
    if _selected is not None:
        return _selected
    checkout = _checkout_above(Path.cwd().resolve())
    if checkout is not None:
        return checkout
    source = _PACKAGE_DIR.parent
    if _is_knowledge_root(source):
        return source
    if _is_knowledge_root(_PACKAGED):
        return _PACKAGED
    raise FileNotFoundError(
        "her2kg cannot find its knowledge files (ontology/, shapes/, queries/); "
        "reinstall the package with `pip install .` from a full checkout, or give --kb DIR."
    )


def folder_label(root: Path | None = None) -> str:
    """How reports name a knowledge-base folder: "packaged" for the installed copy, else its path."""
    folder = (root or data_root()).resolve()
    return PACKAGED_LABEL if folder == _PACKAGED.resolve() else str(folder)


def knowledge_files(root: Path | None = None) -> list[Path]:
    """Every file of `ontology/`, `shapes/` and `queries/`, sorted by path relative to the root."""
    base = root or data_root()
    files = [
        path
        for name in KNOWLEDGE_FOLDERS
        if (base / name).is_dir()
        for path in (base / name).rglob("*")
        if path.is_file() and not path.name.startswith(".")
    ]
    return sorted(files, key=lambda p: p.relative_to(base).as_posix())


def knowledge_digest(root: Path | None = None) -> str:
    """sha256 over the knowledge files: each relative path, a NUL, its bytes, a NUL, in path order."""
    base = root or data_root()
    digest = hashlib.sha256()
    for path in knowledge_files(base):
        digest.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return "sha256:" + digest.hexdigest()


@dataclass(frozen=True)
class KnowledgeBaseIdentity:
    folder: str
    digest: str


def knowledge_base_identity(root: Path | None = None) -> KnowledgeBaseIdentity:
    """The folder a command read and the digest of what it read there."""
    base = root or data_root()
    return KnowledgeBaseIdentity(folder=folder_label(base), digest=knowledge_digest(base))


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
