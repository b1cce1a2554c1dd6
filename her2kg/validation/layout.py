"""Where the files to validate are: the installed knowledge base, or a copy under another root.

With no root, every folder comes from `her2kg.resources`. A root is a folder laid out like the
repository (`ontology/her2kg.ttl`, `ontology/modules/*.ttl`, `shapes/*.ttl`, optionally
`queries/qc/*.rq`); tests point it at a copy they break on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from her2kg import resources
from her2kg.errors import UsageError


@dataclass(frozen=True)
class Layout:
    root: Path
    ontology_dir: Path
    shapes_dir: Path
    qc_dir: Path

    @property
    def header(self) -> Path:
        return self.ontology_dir / resources.HEADER_FILE

    @property
    def modules_dir(self) -> Path:
        return self.ontology_dir / resources.MODULES_DIR

    def ontology_files(self) -> list[Path]:
        """The header first, then the modules sorted by name."""
        return [self.header, *sorted(self.modules_dir.glob("*.ttl"))]

    def shape_files(self) -> list[Path]:
        return sorted(self.shapes_dir.glob("*.ttl")) if self.shapes_dir.is_dir() else []

    def turtle_files(self) -> list[Path]:
        """Every Turtle file of ontology/ and shapes/, for the syntax and format checks."""
        files = sorted(self.ontology_dir.rglob("*.ttl"))
        if self.shapes_dir.is_dir():
            files.extend(sorted(self.shapes_dir.rglob("*.ttl")))
        return files

    def display(self, path: Path) -> str:
        """A path as findings show it: relative to the root when it lies under it."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)


def layout(root: Path | None = None) -> Layout:
    """The layout of the installed knowledge base (root None) or of a copy under `root`."""
    if root is None:
        data = resources.data_root()
        return Layout(
            root=data,
            ontology_dir=resources.ontology_dir(),
            shapes_dir=resources.shapes_dir(),
            qc_dir=resources.queries_dir() / "qc",
        )
    if not resources.ontology_header(root).is_file():
        raise UsageError(
            f"{root} does not hold {resources.ontology_header(root).relative_to(root)}; "
            "point --root at a folder laid out like the repository"
        )
    qc_dir = resources.queries_dir(root) / "qc"
    return Layout(
        root=root,
        ontology_dir=resources.ontology_dir(root),
        shapes_dir=resources.shapes_dir(root),
        qc_dir=qc_dir if qc_dir.is_dir() else resources.queries_dir() / "qc",
    )
