"""CDS Hooks cards from a her2kg report.

- patient-view: an `info` card with the permitted regimens of the decision point, a `warning`
  card with the regimens excluded for this patient and why, an `info` card for the report's
  warnings, and a `warning` card when the record is not complete enough for a safe answer.
- order-sign: one card per proposed plan (`info` when no rule judges it, verdict `not-covered`):
  `critical` when it is forbidden, `warning` when it
  is not recommended (both with suggestions to delete the draft orders), `info` when it is
  permitted.

Every card has a `uuid` (for feedback), a one-sentence summary under 140 characters, a
markdown `detail` with the reasons, and as `source` the guideline behind the first reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from her2kg.report.model import Component, Reason, Regimen, Report, Source
from her2kg.server.cds_services import DraftOrder

SUMMARY_LIMIT = 139
OVERRIDE_SYSTEM = "https://w3id.org/her2kg/fhir/CodeSystem/cds-override-reason"
OVERRIDE_REASONS: tuple[dict[str, str], ...] = (
    {"system": OVERRIDE_SYSTEM, "code": "clinical-trial", "display": "Given within a clinical trial"},
    {"system": OVERRIDE_SYSTEM, "code": "tumour-board", "display": "Tumour board decision for this patient"},
    {"system": OVERRIDE_SYSTEM, "code": "information-outdated", "display": "The patient's record used here is outdated"},
    {"system": OVERRIDE_SYSTEM, "code": "other", "display": "Other clinical reason"},
)


def new_uuid() -> str:
    return str(uuid.uuid4())


def summary(text: str) -> str:
    """One line, shorter than 140 characters (cut at a word with an ellipsis if needed)."""
    line = " ".join(text.split())
    if len(line) <= SUMMARY_LIMIT:
        return line
    cut = line[: SUMMARY_LIMIT - 1].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def card_source(sources: Iterable[Source], report: Report) -> dict[str, str]:
    """The first guideline source, or the knowledge base itself."""
    for source in sources:
        out = {"label": source.label or source.id}
        url = source.url or (f"https://pubmed.ncbi.nlm.nih.gov/{source.pmid}/" if source.pmid else "")
        url = url or (f"https://doi.org/{source.doi}" if source.doi else "")
        if url.startswith(("https://", "http://")):
            out["url"] = url
        return out
    version = report.knowledge_base.version
    return {"label": f"her2kg knowledge base {version}".strip(), "url": report.knowledge_base.iri or "https://w3id.org/her2kg/"}


def _reason_sources(reasons: Sequence[Reason]) -> list[Source]:
    return [s for r in reasons for s in r.sources]


def _md(text: str) -> str:
    """Plain text made safe for markdown (no HTML, no accidental emphasis or links)."""
    escaped = text.replace("\\", "\\\\")
    for char in "*_`[]<>#|":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _source_list(sources: Sequence[Source]) -> str:
    names: list[str] = []
    for source in sources:
        label = _md(source.label or source.id)
        if source.pmid:
            label += f" (PMID {source.pmid})"
        elif source.doi:
            label += f" (doi {_md(source.doi)})"
        if label not in names:
            names.append(label)
    return "; ".join(names)


def _reason_lines(reasons: Sequence[Reason]) -> list[str]:
    lines: list[str] = []
    for reason in reasons:
        line = f"- {_md(reason.text)}"
        if reason.sources:
            line += f" — {_source_list(reason.sources)}"
        lines.append(line)
    return lines


def _component_label(component: Component) -> str:
    if component.drug is not None:
        return component.drug.label
    return component.label or " or ".join(d.label for d in component.options)


def plan_label(components: Sequence[Component]) -> str:
    return " + ".join(_component_label(c) for c in components) or "the proposed plan"


def _situation_phrase(report: Report) -> str:
    situation = report.situation
    parts = []
    if situation.her2 == "positive":
        parts.append("HER2-positive")
    if situation.setting not in ("", "unknown"):
        parts.append(situation.setting)
    text = " ".join(parts + ["breast cancer"]) if parts else "this patient"
    if situation.line:
        text += f", line {situation.line}"
    return text


def _regimen_line(regimen: Regimen, *, permitted: bool) -> list[str]:
    title = f"**{_md(regimen.label)}**"
    if permitted:
        details: list[str] = [str(regimen.preference)] if regimen.preference else []
        if regimen.evidence is not None:
            details.append(
                f"evidence {regimen.evidence.quality}, recommendation {regimen.evidence.strength} ({regimen.evidence.scheme})"
            )
        lines = [f"- {title}" + (f" — {', '.join(details)}" if details else "")]
        lines += ["  " + line for line in _reason_lines(regimen.because)]
        if regimen.sources:
            lines.append(f"  - Sources: {_source_list(regimen.sources)}")
        return lines
    return [f"- {title}"] + ["  " + line for line in _reason_lines(regimen.reasons)]


def _card(summary_text: str, indicator: str, detail: str, source: dict[str, str], **extra: Any) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": new_uuid(),
        "summary": summary(summary_text),
        "indicator": indicator,
        "detail": detail,
        "source": source,
    }
    card.update(extra)
    return card


def _errors_card(report: Report, what: str) -> dict[str, Any]:
    lines = [f"her2kg could not {what} safely because the record is incomplete or inconsistent:", ""]
    lines += [f"- {_md(e.message)}" + (f" (`{_md(e.field)}`)" if e.field else "") for e in report.errors]
    lines += ["", "Complete the record (or check it) and open the patient again."]
    return _card(
        f"her2kg cannot {what}: the record is incomplete ({len(report.errors)} problem(s)).",
        "warning",
        "\n".join(lines),
        card_source((), report),
    )


IMPORT_NOTICES = frozenset({"fhir-unknown-code", "fhir-unknown-code-system", "fhir-no-code", "fhir-bundle-type"})
"""Warnings about record entries her2kg does not use: counted on a card, not listed."""


def _nothing_known(report: Report) -> bool:
    """True when the record holds nothing about breast cancer (a patient outside her2kg's scope)."""
    situation = report.situation
    return (
        situation.her2 == "unknown"
        and situation.setting in ("", "unknown")
        and not situation.findings
        and not report.permitted
        and not report.forbidden
        and not report.proposed
    )


def patient_view_cards(report: Report) -> list[dict[str, Any]]:
    """Cards for the patient-view hook (none for a record without any breast cancer data)."""
    if _nothing_known(report):
        return []
    cards: list[dict[str, Any]] = []
    if report.errors:
        cards.append(_errors_card(report, "recommend a regimen"))
    if report.permitted:  # empty when the report has errors (Report.build)
        preferred = [r for r in report.permitted if r.preference == "preferred"]
        lead = preferred[0] if preferred else report.permitted[0]
        count = len(report.permitted)
        text = f"{_situation_phrase(report)}: {count} regimen(s) permitted"
        text += f"; preferred: {lead.label}." if preferred else f"; e.g. {lead.label}."
        lines = [f"Regimens the knowledge base permits for {_md(_situation_phrase(report))}:", ""]
        for regimen in report.permitted:
            lines += _regimen_line(regimen, permitted=True)
        if report.monitoring:
            lines += ["", "Monitoring:", ""]
            for item in report.monitoring:
                test = item.test_label + (f" (LOINC {item.loinc})" if item.loinc else "")
                lines.append(f"- {_md(test)}: {_md(item.schedule)}")
        cards.append(_card(text, "info", "\n".join(lines), card_source(lead.sources, report)))
    if report.forbidden:
        labels = ", ".join(r.label for r in report.forbidden[:3])
        more = f" and {len(report.forbidden) - 3} more" if len(report.forbidden) > 3 else ""
        lines = ["Regimens excluded for this patient, and why:", ""]
        for regimen in report.forbidden:
            lines += _regimen_line(regimen, permitted=False)
        sources = _reason_sources([r for reg in report.forbidden for r in reg.reasons])
        cards.append(
            _card(
                f"{len(report.forbidden)} regimen(s) excluded for this patient: {labels}{more}.",
                "warning",
                "\n".join(lines),
                card_source(sources, report),
            )
        )
    clinical = [w for w in report.warnings if w.code not in IMPORT_NOTICES]
    if clinical:
        lines = [f"- {_md(w.message)}" for w in clinical]
        ignored = len(report.warnings) - len(clinical)
        if ignored:
            lines += ["", f"{ignored} record entr{'y' if ignored == 1 else 'ies'} with codes her2kg does not use were ignored."]
        cards.append(_card(clinical[0].message, "info", "\n".join(lines), card_source((), report)))
    return cards


def _orders_for(components: Sequence[Component], drafts: Sequence[DraftOrder]) -> list[DraftOrder]:
    codes: set[str] = set()
    for component in components:
        drugs = [component.drug] if component.drug is not None else list(component.options)
        codes.update(d.rxnorm for d in drugs if d is not None and d.rxnorm)
    matched = [d for d in drafts if codes.intersection(d.rxnorm)]
    return matched or list(drafts)


def _delete_suggestions(orders: Sequence[DraftOrder]) -> list[dict[str, Any]]:
    suggestions = [
        {
            "label": summary(f"Remove the draft order for {order.label}"),
            "uuid": new_uuid(),
            "isRecommended": False,
            "actions": [
                {"type": "delete", "description": f"Remove the draft order for {order.label}", "resourceId": order.reference}
            ],
        }
        for order in orders
    ]
    if len(orders) > 1:
        suggestions.append(
            {
                "label": f"Remove all {len(orders)} draft orders of this plan",
                "uuid": new_uuid(),
                "isRecommended": False,
                "actions": [
                    {"type": "delete", "description": f"Remove the draft order for {o.label}", "resourceId": o.reference}
                    for o in orders
                ],
            }
        )
    return suggestions


def order_sign_cards(report: Report, drafts: Sequence[DraftOrder]) -> list[dict[str, Any]]:
    """Cards for the order-sign hook: a verdict on each proposed plan of the draft orders.

    When the record is incomplete the report judges no plan (`Report.build`): one warning card
    then says what is missing.
    """
    if not drafts or not report.proposed:
        return []
    cards: list[dict[str, Any]] = []
    for plan in report.proposed:
        if plan.verdict == "not-judged":  # the report has errors (Report.build): nothing to show
            continue
        label = plan_label(plan.components)
        reasons = "\n".join(_reason_lines(plan.reasons)) or "- No reason was recorded."
        source = card_source(_reason_sources(plan.reasons), report)
        if plan.verdict in ("forbidden", "not-recommended"):
            orders = _orders_for(plan.components, drafts)
            critical = plan.verdict == "forbidden"
            text = (
                f"Do not sign: {label} is contraindicated for this patient."
                if critical
                else f"Reconsider: {label} is not recommended for this patient."
            )
            detail = (
                f"The knowledge base judges the proposed plan **{_md(label)}** as **{plan.verdict}**:\n\n{reasons}\n\n"
                "Remove the orders below, or record why they are given anyway."
            )
            cards.append(
                _card(
                    text,
                    "critical" if critical else "warning",
                    detail,
                    source,
                    suggestions=_delete_suggestions(orders),
                    selectionBehavior="at-most-one",
                    overrideReasons=list(OVERRIDE_REASONS),
                )
            )
        elif plan.verdict == "not-covered":
            cards.append(
                _card(
                    f"The knowledge base has no rule that judges the proposed plan {label}.",
                    "info",
                    f"No rule of the knowledge base judges **{_md(label)}** for this situation: it is neither "
                    "permitted nor forbidden by it. Decide on clinical grounds; the plan is not checked here.",
                    source,
                )
            )
        else:
            cards.append(
                _card(
                    f"The proposed plan {label} is permitted for this patient.",
                    "info",
                    f"The knowledge base permits **{_md(label)}** here:\n\n{reasons}",
                    source,
                )
            )
    if report.errors:
        cards.append(_errors_card(report, "check these orders"))
    return cards
