"""docs/report.md stays honest: it documents every warning, error and finding code the rules,
the knowledge base, the importer and the report emit, every verdict, and every JSON key."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from her2kg.knowledge import prepared_knowledge_ntriples
from her2kg.report.model import Verdict
from her2kg.stores.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
CODE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")
NOTICE_CALLEES = {"Notice", "warning", "error", "_bundle_error"}


def documented(code: str) -> bool:
    return f"`{code}`" in DOC


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.IfExp):  # (ctx.error if critical else ctx.warning)(code, ...)
        func = func.body
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def python_notice_codes(paths: list[Path]) -> set[str]:
    """Code arguments of Notice(...), ctx.warning(...), ctx.error(...) and _bundle_error(...)."""
    codes: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and _callee(node) in NOTICE_CALLEES):
                continue
            candidates = [*node.args[:2], *(k.value for k in node.keywords if k.arg == "code")]
            for candidate in candidates:
                for leaf in ast.walk(candidate):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str) and CODE.match(leaf.value):
                        codes.add(leaf.value)
    return codes


def importer_codes() -> set[str]:
    return python_notice_codes(sorted((ROOT / "her2kg" / "fhir").glob("*.py")))


def input_reading_codes() -> set[str]:
    return python_notice_codes([ROOT / "her2kg" / "patients.py", ROOT / "her2kg" / "pipeline.py", ROOT / "her2kg" / "patient_source.py"])


def rule_notice_codes() -> set[str]:
    text = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "queries" / "rules").glob("*.rq"))
    return set(re.findall(r"h:notice-([a-z0-9-]+)", text))


def knowledge_codes(kind: str) -> set[str]:
    store = EmbeddedStore()
    store.load_ntriples(prepared_knowledge_ntriples())
    if kind == "notice":
        query = "PREFIX h: <https://w3id.org/her2kg/> SELECT ?code WHERE { ?t a h:NoticeType ; h:reportCode ?code }"
        return {r["code"] for r in store.select(query)}
    query = "PREFIX h: <https://w3id.org/her2kg/> SELECT ?t WHERE { ?t a h:FindingType }"
    return {r["t"].rsplit("/", 1)[-1].removeprefix("finding-") for r in store.select(query)}


def test_every_rule_and_knowledge_base_notice_code_is_documented() -> None:
    codes = rule_notice_codes() | knowledge_codes("notice")
    assert len(codes) > 10
    missing = sorted(c for c in codes if not documented(c))
    assert not missing, f"add these codes to docs/report.md: {missing}"


def test_every_importer_and_input_code_is_documented() -> None:
    codes = importer_codes() | input_reading_codes()
    assert {"fhir-unknown-code", "unreadable-input", "duplicate-patient"} <= codes  # the collector works
    missing = sorted(c for c in codes if not documented(c))
    assert not missing, f"add these codes to docs/report.md: {missing}"


def test_every_finding_code_and_verdict_is_documented() -> None:
    missing = sorted(c for c in knowledge_codes("finding") | {str(v) for v in Verdict} if not documented(c))
    assert not missing, f"add these to docs/report.md: {missing}"


def test_documented_codes_exist() -> None:
    """No stale entries: every code in the codes table is emitted somewhere."""
    table = DOC[DOC.index("## Warning and error codes") :]
    table = table[: table.index("\n## ", 1)] if "\n## " in table[1:] else table
    listed = set(re.findall(r"^\| `([a-z0-9-]+)`", table, flags=re.MULTILINE))
    emitted = rule_notice_codes() | knowledge_codes("notice") | importer_codes() | input_reading_codes()
    assert listed and not sorted(listed - emitted), f"codes documented but never emitted: {sorted(listed - emitted)}"


def _keys(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from _keys(child, f"{path}.{key}")
    elif isinstance(value, list):
        for child in value:
            yield from _keys(child, path)


def test_every_json_key_is_documented() -> None:
    from datetime import date

    from her2kg.pipeline import recommend_texts
    from test_report_history import CONDITION, INCOMPLETE, PATIENT, _report
    from test_report_safety import AC_H, THP
    from synthetic import metastatic_first_line, PatientBuilder

    rich = _report(PATIENT, INCOMPLETE, CONDITION).to_json()
    early = PatientBuilder("k").ihc("ihc-3plus").er("negative").pr("negative").non_metastatic("2020-01-10").surgery("2020-02-01")
    early.therapy("trastuzumab", "adjuvant", "2020-03-01", "2025-06-01").metastatic("2026-06-01").lvef(60, "2026-09-10")
    docs = [(b.patient_id, "turtle", b.to_turtle()) for b in (metastatic_first_line("a").plan(THP), metastatic_first_line("b").plan(AC_H).condition("HeartFailure"), early)]
    reports = [r.to_json() for r in recommend_texts(docs, as_of=date(2026, 11, 1))]
    keys = {k for report in [rich, *reports] for k in _keys(report)}
    assert {"history", "history_complete", "condition_history", "recurrence_interval", "dosing"} <= keys
    missing = sorted(k for k in keys if f"`{k}`" not in DOC)
    assert not missing, f"document these JSON keys in docs/report.md: {missing}"
