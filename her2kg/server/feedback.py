"""CDS Hooks feedback: accepted and overridden cards, appended as JSON lines to one file.

One line per feedback item:
`{"received", "service", "issuer", "card", "outcome", "acceptedSuggestions", "overrideReason",
"outcomeTimestamp"}`. An override reason's `userComment` is free text typed by a clinician and
may mention the patient: keep the file with the same care as the clinical record. Without a
configured file the feedback is validated and acknowledged but not kept.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from her2kg.server.models import FeedbackDocument, first_problem


class FeedbackError(Exception):
    """The feedback document is malformed (HTTP 400)."""


@dataclass(frozen=True)
class FeedbackItem:
    card: str
    outcome: str
    outcome_timestamp: str
    accepted_suggestions: tuple[str, ...] = ()
    override_reason: dict[str, Any] | None = None


def parse_feedback(body: Any) -> list[FeedbackItem]:
    """Validate a feedback document (`{"feedback": [...]}`) with its model."""
    try:
        document = FeedbackDocument.model_validate(body)
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise FeedbackError(
            f'{where or "the body"}: {what}; the body must be {{"feedback": [ ... ]}} with at least one item'
        ) from None
    items: list[FeedbackItem] = []
    for entry in document.feedback:
        accepted = tuple(s.id for s in entry.acceptedSuggestions or ()) if entry.outcome == "accepted" else ()
        reason = entry.overrideReason.model_dump(exclude_none=True) if entry.overrideReason is not None else None
        items.append(FeedbackItem(entry.card, entry.outcome, entry.outcomeTimestamp, accepted, reason))
    return items


class FeedbackLog:
    """Appends feedback lines to a file, one writer at a time (held by the app instance)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, service_id: str, issuer: str, items: list[FeedbackItem]) -> int:
        """Append the items; returns how many lines were written (0 without a file)."""
        if self.path is None:
            return 0
        received = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        lines = []
        for item in items:
            record: dict[str, Any] = {
                "received": received,
                "service": service_id,
                "issuer": issuer,
                "card": item.card,
                "outcome": item.outcome,
                "outcomeTimestamp": item.outcome_timestamp,
            }
            if item.accepted_suggestions:
                record["acceptedSuggestions"] = list(item.accepted_suggestions)
            if item.override_reason is not None:
                record["overrideReason"] = item.override_reason
            lines.append(json.dumps(record, ensure_ascii=False, sort_keys=True))
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # created readable by the server's user only (0600): feedback names clinicians' choices
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write("\n".join(lines) + "\n")
        return len(lines)
