"""The text report: what a clinician reads in a minute.

Order: what limits trust (errors, then warnings about the record), the situation, what is
permitted (ranked), what is forbidden and why, proposed plans, monitoring, the history taken
into account, then the other warnings. It renders the report model only: the safety rule
(errors => nothing permitted, no plan judged) is applied once, in `Report.build`.
"""

from __future__ import annotations

from her2kg.notices import Notice
from her2kg.report.model import TRUST_CODES, Component, Reason, Regimen, Report, Situation, Verdict

_VERDICT_WORDS = {
    Verdict.PERMITTED: "PERMITTED",
    Verdict.FORBIDDEN: "FORBIDDEN",
    Verdict.NOT_RECOMMENDED: "NOT RECOMMENDED",
    Verdict.NOT_COVERED: "NOT COVERED by the knowledge base",
    Verdict.NOT_JUDGED: "NOT JUDGED (the record is incomplete)",
}


def _component(c: Component) -> str:
    if c.drug is not None:
        return c.drug.label
    return f"{c.label} ({' or '.join(d.label for d in c.options)})"


def _regimen_line(r: Regimen) -> str:
    return r.label or " + ".join(_component(c) for c in r.components)


def _reason(reason: Reason) -> str:
    sources = "; ".join(s.label for s in reason.sources)
    statements = f" [{', '.join(reason.statements)}]" if reason.statements else ""
    return f"{reason.text}{statements} (rule {reason.rule}{'; ' + sources if sources else ''})"


def _notice(kind: str, n: Notice) -> str:
    field = f" [{n.field}]" if n.field else ""
    return f"  {kind}{field} {n.code}: {n.message}"


def situation_line(s: Situation) -> str:
    """'HER2 positive, hormone receptor negative; metastatic disease, line 2' (the phase is not
    repeated when it names the setting)."""
    where = f"{s.setting} disease" if s.setting != "unknown" else "setting unknown"
    decision = []
    if s.phase not in ("unknown", s.setting):
        decision.append(f"{s.phase} decision")
    if s.line is not None:
        decision.append(f"line {s.line}")
    if s.phase == "unknown":
        decision.append("no decision point")
    tail = f", {', '.join(decision)}" if decision else ""
    return f"HER2 {s.her2}, hormone receptor {s.hormone_receptor}; {where}{tail}"


def _history_lines(s: Situation) -> list[str]:
    lines: list[str] = []
    if s.history:
        lines.append("  Therapy history taken into account:" if s.history_complete is not False else "  Therapy history taken into account (INCOMPLETE):")
        for e in s.history:
            drugs = " + ".join(d.label for d in e.drugs)
            phase = f"{e.phase} line {e.line}" if e.line is not None else str(e.phase)
            span = f"{e.start or '?'} to {e.end or ('ongoing' if e.ended_by == 'ongoing' else '?')}"
            lines.append(f"    - {drugs} ({phase}), {span}, ended: {e.ended_by}")
    if s.condition_history:
        lines.append("  Conditions taken as history (not current):")
        for c in s.condition_history:
            dates = ", ".join(x for x in (f"onset {c.onset}" if c.onset else "", f"abated {c.abated}" if c.abated else "") if x)
            lines.append(f"    - {c.condition} ({c.status}{'; ' + dates if dates else ''})")
    return lines


def render_text(report: Report) -> str:
    s = report.situation
    lines = [f"Patient {report.patient or '?'}  ({report.source})", f"  evaluated as of {report.as_of}; knowledge base {report.knowledge_base.version}"]
    if report.errors:
        lines.append("  NO RECOMMENDATION: the input is invalid or incomplete for a safe answer.")
        lines += [_notice("ERROR", e) for e in report.errors]
    trust = [w for w in report.warnings if w.code in TRUST_CODES]
    lines += [_notice("WARNING", w) for w in trust]
    lines.append(f"  Situation: {situation_line(s)}")
    for f in s.findings:
        lines.append(f"    - {f.text}")
    if not report.errors:
        lines.append("  Permitted:" if report.permitted else "  Permitted: none")
        for i, r in enumerate(report.permitted, 1):
            ev = r.evidence
            grade = f"  ({ev.scheme} {ev.quality} evidence, {ev.strength})" if ev else ""
            lines.append(f"    {i}. [{r.preference}] {_regimen_line(r)}{grade}")
            sequential = len({c.step for c in r.components}) > 1
            for c in r.components:
                step = f"step {c.step}: " if sequential else ""
                dosing = f": {c.dosing}" if c.dosing else ""
                lines.append(f"         {step}{_component(c)}{dosing}")
            if r.because:
                lines.append(f"         why: {_reason(r.because[0])}")
    if report.forbidden:
        lines.append("  Forbidden:")
        for r in report.forbidden:
            lines.append(f"    x {_regimen_line(r)}")
            for reason in r.reasons:
                lines.append(f"         because: {_reason(reason)}")
    for p in report.proposed:
        lines.append(f"  Proposed plan {p.label}: {_VERDICT_WORDS[p.verdict]}")
        for reason in p.reasons:
            lines.append(f"         because: {_reason(reason)}")
    if report.monitoring:
        lines.append("  Monitoring:")
        for m in report.monitoring:
            code = f" (LOINC {m.loinc})" if m.loinc else ""
            lines.append(f"    - {m.test_label}{code}: {m.schedule}")
    lines += _history_lines(s)
    lines += [_notice("warning", w) for w in report.warnings if w.code not in TRUST_CODES]
    return "\n".join(lines) + "\n"
