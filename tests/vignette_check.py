"""Check a JSON report against a vignette's expectations (the keys of tests/data/vignettes/*.expect.json).

The keys follow the shared vignettes' conventions (a regimen "matches" a spec when its drugs, by
NCIt code, include every code in `all`, at least one in `any`, none in `none`, and it has the given
`preference`), plus `phase`, `forbidden_actions`, `history_complete`, `history_regimens` (the regimen of each treatment
episode, oldest first) and `warning_codes`.
"""

from __future__ import annotations

import re
from typing import Any

_ACTION = re.compile(r"Action: ([a-z-]+)")


def _codes(regimen: dict[str, Any]) -> set[str]:
    codes: set[str] = set()
    for component in regimen.get("components", []):
        if "drug" in component:
            codes.add(component["drug"]["ncit"])
        codes.update(d["ncit"] for d in component.get("any_of", []))
    return codes


def _matches(regimen: dict[str, Any], spec: dict[str, Any]) -> bool:
    codes = _codes(regimen)
    return (
        set(spec.get("all", [])) <= codes
        and (not spec.get("any") or bool(set(spec["any"]) & codes))
        and not set(spec.get("none", [])) & codes
        and ("preference" not in spec or regimen.get("preference") == spec["preference"])
    )


def problems(report: dict[str, Any], exit_code: int, expect: dict[str, Any]) -> list[str]:
    """Everything in which the report falls short of the expectations (empty when it meets them)."""
    found: list[str] = []
    exits = expect.get("exit", 0)
    if exit_code not in (exits if isinstance(exits, list) else [exits]):
        found.append(f"exit {exit_code}, expected {exits}")
    situation = report.get("situation", {})
    for key in ("her2", "setting", "line", "phase", "history_complete"):
        if key in expect and situation.get(key) != expect[key]:
            found.append(f"situation.{key} is {situation.get(key)!r}, expected {expect[key]!r}")
    if "history_regimens" in expect:
        given = [episode.get("regimen") for episode in situation.get("history", [])]
        if given != expect["history_regimens"]:
            found.append(f"history regimens {given}, expected {expect['history_regimens']}")
    permitted, forbidden = report.get("permitted", []), report.get("forbidden", [])
    for spec in expect.get("permitted_includes", []):
        if not any(_matches(r, spec) for r in permitted):
            found.append(f"no permitted regimen matches {spec}")
    for spec in expect.get("permitted_excludes", []):
        bad = [r["label"] for r in permitted if _matches(r, {k: v for k, v in spec.items() if k != "preference"})]
        if bad:
            found.append(f"permitted {bad} match excluded {spec}")
    for spec in expect.get("permitted_not_preferred", []):
        bad = [r["label"] for r in permitted if _matches(r, spec) and r.get("preference") == "preferred"]
        if bad:
            found.append(f"{bad} must not be preferred")
    for spec in expect.get("forbidden_includes", []):
        if not any(_matches(r, spec) and r.get("reasons") for r in forbidden):
            found.append(f"no forbidden regimen with reasons matches {spec}")
    if "forbidden_actions" in expect:
        actions = {a for r in forbidden for reason in r.get("reasons", []) for a in _ACTION.findall(reason.get("text", ""))}
        actions |= {reason["action"] for r in forbidden for reason in r.get("reasons", []) if reason.get("action")}
        if actions != set(expect["forbidden_actions"]):
            found.append(f"forbidden actions {sorted(actions)}, expected {expect['forbidden_actions']}")
    if "proposed_verdict" in expect:
        verdicts = [p.get("verdict") for p in report.get("proposed", [])]
        if not verdicts or any(v not in expect["proposed_verdict"] for v in verdicts):
            found.append(f"proposed verdicts {verdicts}, expected one of {expect['proposed_verdict']}")
    if expect.get("warnings") and not report.get("warnings"):
        found.append("expected warnings")
    if expect.get("errors") and not report.get("errors"):
        found.append("expected errors")
    codes = [w.get("code") for w in report.get("warnings", [])]
    for code in expect.get("warning_codes", []):
        if code not in codes:
            found.append(f"no warning {code} (warnings: {codes})")
    if expect.get("permitted_empty") and permitted:
        found.append("expected nothing permitted")
    ids = {r["id"] for r in permitted} & {r["id"] for r in forbidden}
    if ids:
        found.append(f"both permitted and forbidden: {sorted(ids)}")
    for r in permitted:
        if not (r.get("evidence") and r.get("sources") and r.get("because")):
            found.append(f"permitted {r['label']} lacks evidence, sources or because")
    return found
