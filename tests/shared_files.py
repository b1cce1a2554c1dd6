"""Where the shared files are: the clinical vignettes, FHIR examples and spec tables kept beside
the checkout (`../shared`), not in this repository.

Tests that read them are marked `shared` (`@pytest.mark.shared`, or `pytestmark` for a module);
`conftest.py` skips them, with the reason, when the folder is absent. CI has it, so they run there.
`HER2KG_SHARED_DIR` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = Path(os.environ.get("HER2KG_SHARED_DIR") or ROOT.parent / "shared")
SHARED_PRESENT = (SHARED_DIR / "vignettes").is_dir()
SHARED_ABSENT_REASON = (
    f"needs the shared files ({SHARED_DIR} is absent: the vignettes, FHIR examples and spec tables "
    "live beside the checkout; set HER2KG_SHARED_DIR to use another copy)"
)
