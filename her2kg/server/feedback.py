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
    """Validate a feedback document (`{"feedback": [...]}`)."""
    if not isinstance(body, dict) or not isinstance(body.get("feedback"), list) or not body["feedback"]:
        raise FeedbackError('the body must be {"feedback": [ ... ]} with at least one item')
    items: list[FeedbackItem] = []
    for index, item in enumerate(body["feedback"]):
        where = f"feedback[{index}]"
        if not isinstance(item, dict):
            raise FeedbackError(f"{where} must be an object")
        card, outcome, stamp = item.get("card"), item.get("outcome"), item.get("outcomeTimestamp")
        if not isinstance(card, str) or not card:
            raise FeedbackError(f"{where}.card (the card's uuid) is required")
        if outcome not in ("accepted", "overridden"):
            raise FeedbackError(f"{where}.outcome must be 'accepted' or 'overridden'")
        if not isinstance(stamp, str) or not _is_timestamp(stamp):
            raise FeedbackError(f"{where}.outcomeTimestamp must be an ISO 8601 timestamp")
        accepted: list[str] = []
        suggestions = item.get("acceptedSuggestions")
        if outcome == "accepted":
            if not isinstance(suggestions, list) or not suggestions:
                raise FeedbackError(f"{where}.acceptedSuggestions is required for an accepted card")
            for n, suggestion in enumerate(suggestions):
                if not isinstance(suggestion, dict) or not isinstance(suggestion.get("id"), str):
                    raise FeedbackError(f"{where}.acceptedSuggestions[{n}] must be {{\"id\": \"<suggestion uuid>\"}}")
                accepted.append(suggestion["id"])
        reason = item.get("overrideReason")
        if reason is not None:
            if not isinstance(reason, dict):
                raise FeedbackError(f"{where}.overrideReason must be an object")
            coding = reason.get("reason")
            if coding is not None and not (isinstance(coding, dict) and isinstance(coding.get("code"), str)):
                raise FeedbackError(f"{where}.overrideReason.reason must be a Coding with a code")
            comment = reason.get("userComment")
            if comment is not None and not isinstance(comment, str):
                raise FeedbackError(f"{where}.overrideReason.userComment must be a string")
            reason = {k: reason[k] for k in ("reason", "userComment") if k in reason}
        items.append(FeedbackItem(card, outcome, stamp, tuple(accepted), reason))
    return items


def _is_timestamp(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


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
