"""What `her2kg cohort` reads: a folder of patient files, or a FHIR Bulk Data export folder.

Both give the cohort a list of unit names (file names, or patient ids) and reports for a chunk of
them; the cohort's chunking, resuming and output do not depend on which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from her2kg.report.model import Report
    from her2kg.stores.base import TripleStore


class CohortInput(Protocol):
    names: list[str]

    def recommend(
        self, names: Sequence[str], *, as_of: date, unavailable: Sequence[str] = (), store: TripleStore | None = None
    ) -> list[Report]: ...

    def notes(self) -> tuple[str, ...]: ...

    def close(self) -> None: ...


@dataclass
class FolderInput:
    """A folder of patient files (`*.json` bundles, `*.ttl`), one unit per file."""

    folder: Path
    names: list[str]

    def recommend(
        self, names: Sequence[str], *, as_of: date, unavailable: Sequence[str] = (), store: TripleStore | None = None
    ) -> list[Report]:
        from her2kg.pipeline import recommend_files

        return recommend_files([str(self.folder / n) for n in names], as_of=as_of, unavailable=unavailable, store=store)

    def notes(self) -> tuple[str, ...]:
        return ()

    def close(self) -> None:
        pass


def open_input(folder: Path, output: Path) -> CohortInput:
    """The input in `folder`: a Bulk export when it holds NDJSON files, else a folder of files."""
    from her2kg.bulk.export import is_bulk_export

    if is_bulk_export(folder):
        from her2kg.bulk.cohort_input import BulkInput, unmatched_listing_path

        return BulkInput(folder, listing_path=unmatched_listing_path(output))
    from her2kg.cohort import patient_files

    return FolderInput(folder, patient_files(folder))
