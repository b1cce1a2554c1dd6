"""The text report: what a clinician reads in a minute."""

from __future__ import annotations

from her2kg.report.model import Component, Reason, Regimen, Report


def _component(c: Component) -> str:
    if c.drug is not None:
        text = c.drug.label
    else:
        text = f"{c.label} ({' or '.join(d.label for d in c.options)})"
    return text


def _regimen_line(r: Regimen) -> str:
    if r.label:
        return r.label
    return " + ".join(_component(c) for c in r.components)


def _reason(reason: Reason) -> str:
    sources = "; ".join(s.label for s in reason.sources)
    statements = f" [{', '.join(reason.statements)}]" if reason.statements else ""
    return f"{reason.text}{statements} (rule {reason.rule}{'; ' + sources if sources else ''})"


def render_text(report: Report) -> str:
    s = report.situation
    lines = [f"Patient {report.patient or '?'}  ({report.source})", f"  evaluated as of {report.as_of}; knowledge base {report.knowledge_base.version}"]
    line = f", line {s.line}" if s.line is not None else ""
    lines.append(f"  Situation: HER2 {s.her2}, hormone receptor {s.hormone_receptor}, {s.setting} disease, {s.phase}{line}")
    for f in s.findings:
        lines.append(f"    - {f.text}")
    if report.errors:
        lines.append("  NO RECOMMENDATION: the input is invalid or incomplete for a safe answer.")
        for e in report.errors:
            field = f" [{e.field}]" if e.field else ""
            lines.append(f"  ERROR{field} {e.code}: {e.message}")
    else:
        lines.append("  Permitted:" if report.permitted else "  Permitted: none")
        for i, r in enumerate(report.permitted, 1):
            ev = r.evidence
            grade = f"{ev.scheme} {ev.quality} evidence, {ev.strength}" if ev else ""
            lines.append(f"    {i}. [{r.preference}] {_regimen_line(r)}  ({grade})")
            sequential = len({c.step for c in r.components}) > 1
            for c in r.components:
                step = f"step {c.step}: " if sequential else ""
                dosing = f": {c.dosing}" if c.dosing else ""
                lines.append(f"         {step}{_component(c)}{dosing}")
            lines.append(f"         why: {_reason(r.because[0])}" if r.because else "")
    if report.forbidden:
        lines.append("  Forbidden:")
        for r in report.forbidden:
            lines.append(f"    x {_regimen_line(r)}")
            for reason in r.reasons:
                lines.append(f"         because: {_reason(reason)}")
    if report.monitoring:
        lines.append("  Monitoring:")
        for m in report.monitoring:
            code = f" (LOINC {m.loinc})" if m.loinc else ""
            lines.append(f"    - {m.test_label}{code}: {m.schedule}")
    for p in report.proposed:
        drugs = " + ".join(c.drug.label for c in p.components if c.drug)
        lines.append(f"  Proposed plan {drugs}: {p.verdict.upper()}")
        for reason in p.reasons:
            lines.append(f"         because: {_reason(reason)}")
    for w in report.warnings:
        lines.append(f"  warning {w.code}: {w.message}")
    return "\n".join(x for x in lines if x) + "\n"
