"""Build reports from a store after the rules ran: one SELECT per aspect, for all patients.

The queries live in `queries/report/`; this module only groups their rows into the frozen
dataclasses of `her2kg.report.model`. Texts come from the knowledge base (definitions of the
recommendations, contraindication rules, finding and notice types), never from code.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from her2kg.notices import Notice
from her2kg.report.model import (
    Component,
    Drug,
    Evidence,
    Finding,
    KnowledgeBaseRef,
    MonitoringItem,
    ProposedPlan,
    Reason,
    Regimen,
    Report,
    Situation,
    Source,
)
from her2kg.resources import queries_dir
from her2kg.rules import Rule
from her2kg.stores.base import Row, TripleStore
from her2kg.vocabulary import BASE, RULE_BASE

_VERDICT_ORDER = {"forbidden": 1, "not-recommended": 2, "permitted": 3}


@cache
def report_query(name: str) -> str:
    return (queries_dir() / "report" / f"{name}.rq").read_text(encoding="utf-8")


def curie(iri: str) -> str:
    if iri.startswith(RULE_BASE):
        return iri[len(RULE_BASE) :]
    if iri.startswith(BASE):
        return "h:" + iri[len(BASE) :]
    return iri


def local(iri: str) -> str:
    return iri[len(BASE) :] if iri.startswith(BASE) else iri


@dataclass(frozen=True)
class KnowledgeIndex:
    """What the report needs to know about knowledge-base terms, read once per run."""

    labels: Mapping[str, str]
    definitions: Mapping[str, str]
    sources: Mapping[str, tuple[Source, ...]]
    statements: Mapping[str, tuple[str, ...]]
    drugs: Mapping[str, Drug]
    regimens: Mapping[str, tuple[str, tuple[Component, ...]]]
    tests: Mapping[str, tuple[str, str]]

    def label(self, iri: str) -> str:
        return self.labels.get(iri, curie(iri))

    def definition(self, iri: str) -> str:
        return self.definitions.get(iri, self.label(iri))


def read_knowledge_index(store: TripleStore) -> KnowledgeIndex:
    labels: dict[str, str] = {}
    definitions: dict[str, str] = {}
    for row in store.select(report_query("kb-terms")):
        labels.setdefault(row["term"], row["label"])
        if "definition" in row:
            definitions.setdefault(row["term"], row["definition"])
    sources: dict[str, dict[str, Source]] = defaultdict(dict)
    for row in store.select(report_query("kb-sources")):
        src = Source(
            id=curie(row["source"]),
            label=row["label"],
            pmid=row.get("pmid", ""),
            doi=row.get("doi", ""),
            url=row.get("url", ""),
        )
        sources[row["term"]][src.id] = src
    statements: dict[str, set[str]] = defaultdict(set)
    for row in store.select(report_query("kb-statements")):
        statements[row["term"]].add(row["statement"])
    drugs: dict[str, Drug] = {}
    for row in store.select(report_query("kb-drugs")):
        drugs[row["drug"]] = Drug(
            id=curie(row["drug"]), label=row["label"], ncit=row.get("ncit", ""), rxnorm=row.get("rxnorm", "")
        )
    tests = {
        row["test"]: (row["label"], row.get("loinc", "")) for row in store.select(report_query("kb-tests"))
    }
    return KnowledgeIndex(
        labels=labels,
        definitions=definitions,
        sources={k: tuple(sorted(v.values(), key=lambda s: s.id)) for k, v in sources.items()},
        statements={k: tuple(sorted(v)) for k, v in statements.items()},
        drugs=drugs,
        regimens=_read_regimens(store, drugs),
        tests=tests,
    )


@dataclass
class _ComponentRows:
    """The rows of one regimen component, gathered before the component is built."""

    row: Row
    options: set[str] = field(default_factory=set)
    doses: dict[str, str] = field(default_factory=dict)


def _read_regimens(store: TripleStore, drugs: Mapping[str, Drug]) -> dict[str, tuple[str, tuple[Component, ...]]]:
    labels: dict[str, str] = {}
    parts: dict[str, dict[str, _ComponentRows]] = defaultdict(dict)
    for row in store.select(report_query("kb-regimens")):
        regimen, component = row["regimen"], row["component"]
        labels[regimen] = row["label"]
        part = parts[regimen].setdefault(component, _ComponentRows(row))
        if "option" in row:
            part.options.add(row["option"])
        if "doseDrug" in row:
            part.doses[row["doseDrug"]] = _dose_text(row)

    def drug(iri: str) -> Drug:
        return drugs.get(iri) or Drug(curie(iri), curie(iri), "")

    out: dict[str, tuple[str, tuple[Component, ...]]] = {}
    for regimen, components in parts.items():
        built: list[Component] = []
        for _, part in sorted(components.items()):
            step = int(part.row.get("step", "1"))
            duration = _duration_text(part.row)
            if "drug" in part.row:
                dosing = "; ".join(t for t in (part.doses.get(part.row["drug"], ""), duration) if t)
                built.append(Component(drug=drug(part.row["drug"]), step=step, dosing=dosing))
                continue
            options = tuple(sorted((drug(o) for o in part.options), key=lambda d: d.label))
            texts = [f"{drug(d).label} {t}" for d, t in sorted(part.doses.items()) if t]
            dosing = "; ".join([*texts, duration] if duration else texts)
            built.append(Component(options=options, label=part.row.get("choiceLabel", "choice"), step=step, dosing=dosing))
        built.sort(key=lambda c: (c.step, c.drug.label if c.drug else c.label))
        out[regimen] = (labels[regimen], tuple(built))
    return out


def _number(text: str) -> str:
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value == int(value) else str(value)


def _dose_text(row: Row) -> str:
    if "schedule" in row or "dose" not in row:
        return row.get("schedule", "")
    unit = row.get("unit", "")
    text = f"{_number(row['dose'])} {unit}".strip()
    if "loading" in row:
        text = f"{_number(row['loading'])} {unit} loading, then {text}".strip()
    if "route" in row:
        text += f" {row['route']}"
    if "interval" in row:
        text += f" every {row['interval']} days"
    return text


def _duration_text(row: Row) -> str:
    if row.get("untilProgression") in ("true", "1"):
        return "until progression or unacceptable toxicity"
    if "cycles" in row:
        return f"{row['cycles']} cycles"
    if "minCycles" in row and "maxCycles" in row:
        return f"{row['minCycles']}-{row['maxCycles']} cycles"
    if "maxCycles" in row:
        return f"up to {row['maxCycles']} cycles"
    if "weeks" in row:
        return f"{row['weeks']} weeks"
    return ""


def _group(rows: Iterable[Row], key: str = "patient") -> dict[str, list[Row]]:
    grouped: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


class ReportBuilder:
    """Reads the derived facts of a store and builds one Report per patient IRI."""

    def __init__(self, store: TripleStore, rules: Mapping[str, Rule], kb: KnowledgeIndex, kb_ref: KnowledgeBaseRef):
        self._kb = kb
        self._rules = rules
        self._kb_ref = kb_ref
        self._ids = {r["patient"]: r.get("id", local(r["patient"])) for r in store.select(report_query("patients"))}
        self._situation = _group(store.select(report_query("situation")))
        self._decision = _group(store.select(report_query("decision-points")))
        self._findings = _group(store.select(report_query("findings")))
        self._notices = _group(store.select(report_query("notices")))
        self._permitted = _group(store.select(report_query("permitted")))
        self._forbidden = _group(store.select(report_query("forbidden")))
        self._monitoring = _group(store.select(report_query("monitoring")))
        self._plans = _group(store.select(report_query("plans")))
        self._verdicts = _group(store.select(report_query("verdicts")), key="plan")

    def patient_id(self, patient_iri: str) -> str:
        return self._ids.get(patient_iri, local(patient_iri))

    # -- reasons -----------------------------------------------------------------------------
    def _rule_reason(self, rule_iri: str, basis: str, text: str | None = None) -> Reason:
        rule_id = curie(rule_iri)
        rule = self._rules.get(rule_id)
        statements = set(self._kb.statements.get(basis, ())) or set(rule.statements if rule else ())
        sources = self._kb.sources.get(basis, ())
        if not sources and rule is not None:
            sources = (Source(id=f"rule:{rule_id}", label=rule.source),)
        return Reason(
            rule=rule_id,
            text=text if text is not None else self._kb.definition(basis),
            sources=sources,
            statements=tuple(sorted(statements)),
            basis=curie(basis) if basis else "",
        )

    # -- sections ----------------------------------------------------------------------------
    def situation(self, patient: str) -> Situation:
        axes: dict[str, set[str]] = defaultdict(set)
        for row in self._situation.get(patient, []):
            axes[row["axis"]].add(row["value"])

        def one(axis: str) -> str:
            values = axes.get(axis, set())
            return next(iter(values)) if len(values) == 1 else ("conflicting" if values else "unknown")

        phase, line = "unknown", None
        decision = self._decision.get(patient, [])
        if decision:
            phase = decision[0]["phase"]
            if "line" in decision[0]:
                line = int(decision[0]["line"])
        findings = []
        for row in self._findings.get(patient, []):
            text = self._kb.definition(row["type"])
            if "detail" in row:
                text = f"{text} ({row['detail']})"
            code = local(row["type"]).removeprefix("finding-")
            findings.append(Finding(code=code, text=text, rule=curie(row["rule"])))
        findings.sort(key=lambda f: (f.code, f.text))
        return Situation(
            her2=one("her2"),
            hormone_receptor=one("hormone_receptor"),
            setting=one("setting"),
            phase=phase,
            line=line,
            findings=tuple(findings),
        )

    def notices(self, patient: str) -> tuple[list[Notice], list[Notice]]:
        warnings: list[Notice] = []
        errors: list[Notice] = []
        for row in sorted(self._notices.get(patient, []), key=lambda r: (r["type"], r.get("detail", ""))):
            message = self._kb.definition(row["type"])
            if "detail" in row:
                message = f"{message} ({row['detail']})"
            notice = Notice(
                severity="error" if row["severity"] == "error" else "warning",
                code=local(row["type"]).removeprefix("notice-"),
                message=message,
                field=row.get("field", ""),
            )
            (errors if notice.severity == "error" else warnings).append(notice)
        return warnings, errors

    def _regimen_shell(self, regimen_iri: str) -> tuple[str, tuple[Component, ...]]:
        return self._kb.regimens.get(regimen_iri, (self._kb.label(regimen_iri), ()))

    def permitted(self, patient: str) -> list[Regimen]:
        by_regimen = _group(self._permitted.get(patient, []), key="regimen")
        out: list[tuple[tuple[int, str], Regimen]] = []
        for regimen_iri, rows in by_regimen.items():
            rows.sort(key=lambda r: (int(r["preferenceRank"]), r["recommendation"]))
            best = rows[0]
            label, components = self._regimen_shell(regimen_iri)
            because = [self._rule_reason(r["rule"], r["recommendation"]) for r in rows]
            decision = self._decision.get(patient, [])
            if decision:
                because.append(self._rule_reason(decision[0]["rule"], decision[0]["decisionPoint"]))
            sources: dict[str, Source] = {}
            for r in rows:
                for s in self._kb.sources.get(r["recommendation"], ()):
                    sources[s.id] = s
            regimen = Regimen(
                id=curie(regimen_iri),
                label=label,
                components=components,
                preference=best["preference"],
                evidence=Evidence(quality=best["quality"], strength=best["strength"], scheme=best["scheme"]),
                sources=tuple(sources.values()),
                because=tuple(because),
            )
            out.append(((int(best["preferenceRank"]), label), regimen))
        return [r for _, r in sorted(out, key=lambda x: x[0])]

    def forbidden(self, patient: str) -> list[Regimen]:
        by_regimen = _group(self._forbidden.get(patient, []), key="regimen")
        out: list[Regimen] = []
        for regimen_iri, rows in sorted(by_regimen.items()):
            label, components = self._regimen_shell(regimen_iri)
            reasons = []
            sources: dict[str, Source] = {}
            for r in sorted(rows, key=lambda r: r["basis"]):
                text = self._kb.definition(r["basis"])
                if "action" in r:
                    text = f"{text} Action: {r['action']}."
                reasons.append(self._rule_reason(r["rule"], r["basis"], text))
                for s in self._kb.sources.get(r["basis"], ()):
                    sources[s.id] = s
            out.append(
                Regimen(id=curie(regimen_iri), label=label, components=components, sources=tuple(sources.values()), reasons=tuple(reasons))
            )
        return sorted(out, key=lambda r: r.label)

    def monitoring(self, patient: str) -> list[MonitoringItem]:
        by_test = _group(self._monitoring.get(patient, []), key="test")
        items: list[MonitoringItem] = []
        for test_iri, rows in sorted(by_test.items()):
            test_label, loinc = self._kb.tests.get(test_iri, (self._kb.label(test_iri), ""))
            schedules = sorted({r["schedule"] for r in rows})
            because: dict[tuple[str, str], Reason] = {}
            sources: dict[str, Source] = {}
            for r in rows:
                drug = self._kb.label(r["drug"])
                text = f"{self._kb.definition(r['requirement'])} Triggered by {drug}."
                because[(r["requirement"], r["drug"])] = self._rule_reason(r["rule"], r["requirement"], text)
                for s in self._kb.sources.get(r["requirement"], ()):
                    sources[s.id] = s
            items.append(
                MonitoringItem(
                    test_label=test_label,
                    loinc=loinc,
                    schedule="; ".join(schedules),
                    because=tuple(because[k] for k in sorted(because)),
                    sources=tuple(sources.values()),
                )
            )
        return items

    def proposed(self, patient: str) -> list[ProposedPlan]:
        plans = _group(self._plans.get(patient, []), key="plan")
        out: list[ProposedPlan] = []
        for plan_iri, rows in sorted(plans.items()):
            drugs = sorted({r["drug"] for r in rows})
            components = tuple(
                Component(drug=self._kb.drugs.get(d) or Drug(curie(d), self._kb.label(d), "")) for d in drugs
            )
            verdict_rows = self._verdicts.get(plan_iri, [])
            if not verdict_rows:
                out.append(ProposedPlan(id=local(plan_iri), components=components, verdict="not-recommended"))
                continue
            verdict = min((r["verdict"] for r in verdict_rows), key=lambda v: _VERDICT_ORDER.get(v, 0))
            reasons = []
            for r in sorted(verdict_rows, key=lambda r: (_VERDICT_ORDER.get(r["verdict"], 0), r["rule"], r["concerns"], r.get("basis", ""))):
                if r["verdict"] != verdict:
                    continue
                basis = r.get("basis", r["concerns"])
                reasons.append(self._rule_reason(r["rule"], basis))
            out.append(ProposedPlan(id=local(plan_iri), components=components, verdict=verdict, reasons=tuple(reasons)))
        return out

    def build(self, patient: str, *, source: str, as_of: str, extra: Iterable[Notice] = ()) -> Report:
        warnings, errors = self.notices(patient)
        for notice in extra:
            (errors if notice.severity == "error" else warnings).append(notice)
        return Report(
            patient=self.patient_id(patient),
            knowledge_base=self._kb_ref,
            as_of=as_of,
            source=source,
            situation=self.situation(patient),
            permitted=tuple(self.permitted(patient)),
            forbidden=tuple(self.forbidden(patient)),
            monitoring=tuple(self.monitoring(patient)),
            proposed=tuple(self.proposed(patient)),
            warnings=tuple(warnings),
            errors=tuple(errors),
        )


def read_decisions(store: TripleStore, patient_ids: Iterable[str]) -> dict[str, tuple[set[str], set[str]]]:
    """Compact decisions per patient id: (permitted recommendation IRIs, forbidden regimen IRIs)."""
    out: dict[str, tuple[set[str], set[str]]] = {pid: (set(), set()) for pid in patient_ids}
    for row in store.select(report_query("decisions")):
        out.setdefault(row["id"], (set(), set()))[0 if row["kind"] == "permitted" else 1].add(row["x"])
    return out
