"""Run the reasoning pipeline for HTTP requests: in worker threads, a bounded number at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import anyio
import anyio.to_thread

from her2kg.report.model import Report


@dataclass(frozen=True)
class Document:
    """One patient document: a name for messages, 'fhir-json' or 'turtle', and the text."""

    name: str
    kind: str
    text: str


class PipelineUnavailable(Exception):
    """The reasoning pipeline cannot run in this installation (HTTP 503)."""


class PipelineRunner:
    """Calls `her2kg.recommend.recommend_texts` off the event loop, `concurrency` at a time."""

    def __init__(self, concurrency: int) -> None:
        self._concurrency = concurrency
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, documents: Sequence[Document], *, as_of: date, unavailable: Sequence[str] = ()) -> list[Report]:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._concurrency)
        return await anyio.to_thread.run_sync(
            _recommend, tuple(documents), as_of, tuple(unavailable), limiter=self._limiter
        )


def _recommend(documents: tuple[Document, ...], as_of: date, unavailable: tuple[str, ...]) -> list[Report]:
    from her2kg.recommend import recommend_texts

    try:
        return recommend_texts([(d.name, d.kind, d.text) for d in documents], as_of=as_of, unavailable=unavailable)
    except NotImplementedError as exc:
        raise PipelineUnavailable(
            "the reasoning pipeline is not available in this installation; reinstall her2kg from a full release"
        ) from exc
