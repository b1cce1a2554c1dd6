"""her2kg: a computable knowledge base for HER2-positive breast cancer therapy.

The public surface is small and imported lazily so that the command line starts fast:

>>> import her2kg
>>> her2kg.__version__
'0.1.0'
>>> from datetime import date
>>> report = her2kg.recommend("examples/metastatic-first-line.ttl", as_of=date(2026, 11, 1))
>>> report.ok, report.errors
(True, ())

`recommend`, `recommend_many`, `validate`, `Patient` and `KnowledgeBase` are documented in
`her2kg.api`; `Report` and its enums in `her2kg.report.model`; `Severity` in `her2kg.notices`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "recommend": "her2kg.api",
    "recommend_many": "her2kg.api",
    "validate": "her2kg.api",
    "KnowledgeBase": "her2kg.api",
    "Patient": "her2kg.patient_source",
    "InputKind": "her2kg.patient_source",
    "Report": "her2kg.report.model",
    "Verdict": "her2kg.report.model",
    "Preference": "her2kg.report.model",
    "Severity": "her2kg.notices",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from her2kg.api import KnowledgeBase, recommend, recommend_many, validate
    from her2kg.notices import Severity
    from her2kg.patient_source import InputKind, Patient
    from her2kg.report.model import Preference, Report, Verdict


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'her2kg' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
