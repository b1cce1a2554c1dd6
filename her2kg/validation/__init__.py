"""Validation of the knowledge base and of patient files, as a library.

>>> from her2kg.validation import Severity
>>> str(Severity.ERROR)
'error'

`validate_knowledge_base(owl=True, root=None)` runs the syntax, imports, SHACL, OWL, QC and
format checks; `validate_patient_files(paths)` runs the syntax and patient-shape checks and the
input-constraint notice rules that `recommend` runs. Both
return a `ValidationReport` of `CheckResult`s of `Finding`s (frozen dataclasses).
"""

from her2kg.validation.knowledge_base import validate_knowledge_base
from her2kg.validation.model import CheckResult, Finding, KnowledgeBaseVersion, Severity, ValidationReport
from her2kg.validation.patients import validate_patient_files

__all__ = [
    "CheckResult",
    "Finding",
    "KnowledgeBaseVersion",
    "Severity",
    "ValidationReport",
    "validate_knowledge_base",
    "validate_patient_files",
]
