"""A Bulk export as the input of `her2kg cohort`: one unit per patient, named by patient id.

The export is spilled and grouped once when the input is opened (`her2kg.bulk.grouping`); the
cohort then asks for chunks of patients in order, and each patient's Bundle goes through the same
importer as a bundle file. A report's `source` is `Patient/<id>`, so resuming skips the patients
already in the output just as the folder mode skips files.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING

from her2kg.bulk.bundle import source_of
from her2kg.bulk.export import read_export
from her2kg.bulk.grouping import Grouping
from her2kg.errors import Her2kgError

if TYPE_CHECKING:
    from her2kg.report.model import Report
    from her2kg.stores.base import TripleStore


def unmatched_listing_path(output: Path) -> Path:
    """Where the lines that belong to no patient are listed: beside the output."""
    return output.with_name(output.name + ".unmatched.jsonl")


class BulkInput:
    def __init__(self, folder: Path, *, listing_path: Path | None = None, partitions: int | None = None) -> None:
        export = read_export(folder)
        self._scratch = tempfile.TemporaryDirectory(prefix="her2kg-bulk-")
        self._listing: IO[str] | None = None
        self.listing_path = listing_path
        try:
            if listing_path is not None:
                listing_path.parent.mkdir(parents=True, exist_ok=True)
                self._listing = listing_path.open("w", encoding="utf-8")
            self.grouping = Grouping(export, Path(self._scratch.name), partitions=partitions, listing=self._listing)
        except BaseException:
            self.close()
            raise
        if self._listing is not None:
            self._listing.close()
            self._listing = None
        self.names: list[str] = self.grouping.patient_ids
        self._bundles: Iterator[tuple[str, str]] = self.grouping.bundles()

    def notes(self) -> tuple[str, ...]:
        tally = self.grouping.unmatched
        where = f", listed in {self.listing_path}" if tally.total and self.listing_path is not None else ""
        return (
            f"Bulk export: {self.grouping.resources} resources of {len(self.names)} patients",
            tally.describe() + where,
        )

    def documents(self, names: Sequence[str]) -> list[tuple[str, str, str]]:
        """The Bundles of `names`, which must come in `self.names` order (skipping is allowed)."""
        wanted = set(names)
        found: dict[str, str] = {}
        while len(found) < len(wanted):
            try:
                key, text = next(self._bundles)
            except StopIteration:
                missing = sorted(wanted - set(found))
                raise Her2kgError(f"internal: patients {missing[:3]} were asked for out of order") from None
            if key in wanted:
                found[key] = text
        return [(source_of(name), "fhir-json", found[name]) for name in names]

    def recommend(
        self, names: Sequence[str], *, as_of: date, unavailable: Sequence[str] = (), store: TripleStore | None = None
    ) -> list[Report]:
        from her2kg.pipeline import recommend_texts

        return recommend_texts(self.documents(names), as_of=as_of, unavailable=unavailable, store=store)

    def close(self) -> None:
        if self._listing is not None:
            self._listing.close()
        if hasattr(self, "grouping"):
            self.grouping.close()
        self._scratch.cleanup()
