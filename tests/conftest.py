"""Shared test set-up: make `tests/` importable for its helper modules, and locate ../shared."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
SHARED_DIR = TESTS_DIR.parents[1] / "shared"
sys.path.insert(0, str(TESTS_DIR))
