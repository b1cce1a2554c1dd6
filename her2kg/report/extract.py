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

from her2kg.notices import Notice, Severity
from her2kg.report.model import (
    HISTORY_INCOMPLETE,
    PLAN_NOT_COVERED,
    Component,
    Drug,
    EndedBy,
    Episode,
    EpisodePhase,
    Evidence,
    Finding,
    HistoricalCondition,
    KnowledgeBaseRef,
    MonitoringItem,
    MonitoringNeed,
    Preference,
    ProposedPlan,
    Reason,
    RecurrenceInterval,
    Regimen,
    Report,
    Situation,
    Source,
    Verdict,
)
from her2kg.resources import queries_dir
from her2kg.rules import Rule
from her2kg.stores.base import Row, TripleStore
from her2kg.vocabulary import BASE, curie
from her2kg.vocabulary import rule_id as _rule_id


@cache
def report_query(name: str) -> str:
    return (queries_dir() / "report" / f"{name}.rq").read_text(encoding="utf-8")




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
    finding_phases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

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
    phases: dict[str, set[str]] = defaultdict(set)
    for row in store.select(report_query("kb-finding-relevance")):
        phases[row["type"]].add(row["phase"])
    return KnowledgeIndex(
        labels=labels,
        definitions=definitions,
        sources={k: tuple(sorted(v.values(), key=lambda s: s.id)) for k, v in sources.items()},
        statements={k: tuple(sorted(v)) for k, v in statements.items()},
        drugs=drugs,
        regimens=_read_regimens(store, drugs),
        tests=tests,
        finding_phases={k: tuple(sorted(v)) for k, v in phases.items()},
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


def _int(text: str) -> int:
    return int(float(text))


def _true(row: Row, key: str) -> bool:
    return row.get(key, "") in ("true", "1")


_ENDED_BY_PRIORITY = (EndedBy.PROGRESSION, EndedBy.TOXICITY, EndedBy.COMPLETED, EndedBy.ONGOING)
"""When the rules give an episode several end reasons, the report shows the one that matters most."""

_VERDICT_FALLBACK_RANK = {Verdict.FORBIDDEN: 1, Verdict.NOT_RECOMMENDED: 2, Verdict.NOT_COVERED: 3, Verdict.PERMITTED: 4}
RECURRENCE_FINDINGS = frozenset({"early-recurrence", "late-recurrence"})
HISTORY_CAVEAT = "The therapy history may be incomplete (warning therapy-history-incomplete), and this conclusion depends on it."


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
        self._history = _group(store.select(report_query("history")))
        self._history_status = _group(store.select(report_query("history-status")))
        self._conditions = _group(store.select(report_query("condition-history")))
        self._recurrence = _group(store.select(report_query("recurrence")))

    def patient_id(self, patient_iri: str) -> str:
        return self._ids.get(patient_iri, local(patient_iri))

    # -- reasons -----------------------------------------------------------------------------
    def _depends_on_history(self, rule_id: str) -> bool:
        rule = self._rules.get(rule_id)
        return bool(getattr(rule, "depends_on_history", False))

    def _rule_reason(self, rule_iri: str, basis: str, text: str | None = None, *, incomplete: bool = False) -> Reason:
        rule_id = _rule_id(rule_iri)
        rule = self._rules.get(rule_id)
        statements = set(self._kb.statements.get(basis, ())) or set(rule.statements if rule else ())
        sources = self._kb.sources.get(basis, ())
        if not sources and rule is not None:
            sources = (Source(id=f"rule:{rule_id}", label=rule.source),)
        sentence = text if text is not None else self._kb.definition(basis)
        if incomplete and self._depends_on_history(rule_id):
            sentence = f"{sentence} {HISTORY_CAVEAT}"
        return Reason(
            rule=rule_id,
            text=sentence,
            sources=sources,
            statements=tuple(sorted(statements)),
            basis=curie(basis) if basis else "",
        )

    # -- history -----------------------------------------------------------------------------
    def history_status(self, patient: str) -> tuple[bool, tuple[str, ...]]:
        """(incomplete, the recorded texts of the therapy entries that could not be identified)."""
        rows = self._history_status.get(patient, [])
        incomplete = any(_true(r, "incomplete") or "therapy" in r for r in rows)
        texts = sorted({r.get("text") or local(r["therapy"]) for r in rows if "therapy" in r})
        return incomplete, tuple(texts)

    def _drug(self, iri: str) -> Drug:
        return self._kb.drugs.get(iri) or Drug(curie(iri), self._kb.label(iri), "")

    def history(self, patient: str) -> list[Episode]:
        episodes: list[Episode] = []
        for rows in _group(self._history.get(patient, []), key="episode").values():
            first = rows[0]
            ended = {EndedBy(r["endedBy"]) for r in rows if "endedBy" in r}
            ended_by = next((e for e in _ENDED_BY_PRIORITY if e in ended), EndedBy.UNKNOWN)
            regimens = sorted({r["regimen"] for r in rows if "regimen" in r})
            lines = sorted({_int(r["line"]) for r in rows if "line" in r})
            episodes.append(
                Episode(
                    drugs=tuple(sorted({self._drug(r["drug"]) for r in rows}, key=lambda d: d.label)),
                    phase=EpisodePhase(first.get("phase", EpisodePhase.UNKNOWN)),
                    regimen=curie(regimens[0]) if regimens else None,
                    line=lines[0] if lines else None,
                    start=min((r["start"] for r in rows if "start" in r), default=None),
                    end=max((r["end"] for r in rows if "end" in r), default=None),
                    ended_by=ended_by,
                    rule=_rule_id(first["rule"]) if "rule" in first else "",
                )
            )
        return sorted(episodes, key=lambda e: (e.start or "9999", str(e.phase), [d.label for d in e.drugs]))

    def condition_history(self, patient: str) -> list[HistoricalCondition]:
        out: list[HistoricalCondition] = []
        for _, rows in sorted(_group(self._conditions.get(patient, []), key="condition").items()):
            labels = sorted({self._kb.label(r["class"]) for r in rows})
            statuses = sorted({r["status"] for r in rows if "status" in r})
            out.append(
                HistoricalCondition(
                    condition=", ".join(labels),
                    status=", ".join(statuses) or "unknown",
                    onset=min((r["onset"] for r in rows if "onset" in r), default=None),
                    abated=max((r["abated"] for r in rows if "abated" in r), default=None),
                )
            )
        return sorted(out, key=lambda c: (c.onset or "9999", c.condition))

    def recurrence(self, patient: str) -> RecurrenceInterval | None:
        rows = self._recurrence.get(patient, [])
        if not rows:
            return None
        row = rows[0]
        early, late = _true(row, "early"), _true(row, "late")
        if early == late:  # neither or both: the rules drew no single conclusion to show
            return None
        return RecurrenceInterval(months=_int(row["months"]), threshold_months=_int(row["threshold"]), early=early)

    # -- sections ----------------------------------------------------------------------------
    def situation(self, patient: str, *, incomplete: bool = False) -> Situation:
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
        recurrence = self.recurrence(patient)
        findings = []
        for row in self._findings.get(patient, []):
            text = self._kb.definition(row["type"])
            code = local(row["type"]).removeprefix("finding-")
            if code in RECURRENCE_FINDINGS and recurrence is not None:
                text = f"{text} ({recurrence.phrase})"
            elif "detail" in row:
                text = f"{text} ({row['detail']})"
            rule = _rule_id(row["rule"])
            if incomplete and self._depends_on_history(rule):
                text = f"{text} {HISTORY_CAVEAT}"
            findings.append(Finding(code=code, text=text, rule=rule, bears_on=self._kb.finding_phases.get(row["type"], ())))
        findings.sort(key=lambda f: (f.code, f.text))
        return Situation(
            her2=one("her2"),
            hormone_receptor=one("hormone_receptor"),
            setting=one("setting"),
            phase=phase,
            line=line,
            findings=tuple(findings),
            history=tuple(self.history(patient)),
            history_complete=not incomplete,
            condition_history=tuple(self.condition_history(patient)),
            recurrence=recurrence,
        )

    def notices(self, patient: str) -> tuple[list[Notice], list[Notice]]:
        warnings: list[Notice] = []
        errors: list[Notice] = []
        for row in sorted(self._notices.get(patient, []), key=lambda r: (r["type"], r.get("detail", ""))):
            message = self._kb.definition(row["type"])
            if "detail" in row:
                message = f"{message} ({row['detail']})"
            notice = Notice(
                severity=Severity.ERROR if row["severity"] == "error" else Severity.WARNING,
                code=local(row["type"]).removeprefix("notice-"),
                message=message,
                field=row.get("field", ""),
            )
            (errors if notice.severity == "error" else warnings).append(notice)
        return warnings, errors

    def _regimen_shell(self, regimen_iri: str) -> tuple[str, tuple[Component, ...]]:
        return self._kb.regimens.get(regimen_iri, (self._kb.label(regimen_iri), ()))

    def permitted(self, patient: str, *, incomplete: bool = False) -> list[Regimen]:
        by_regimen = _group(self._permitted.get(patient, []), key="regimen")
        out: list[Regimen] = []
        for regimen_iri, rows in by_regimen.items():
            rows.sort(key=lambda r: (int(r["preferenceRank"]), r["recommendation"]))
            best = rows[0]
            label, components = self._regimen_shell(regimen_iri)
            because = [self._rule_reason(r["rule"], r["recommendation"], incomplete=incomplete) for r in rows]
            decision = self._decision.get(patient, [])
            if decision:
                because.append(self._rule_reason(decision[0]["rule"], decision[0]["decisionPoint"], incomplete=incomplete))
            sources: dict[str, Source] = {}
            for r in rows:
                for s in self._kb.sources.get(r["recommendation"], ()):
                    sources[s.id] = s
            out.append(
                Regimen(
                    id=curie(regimen_iri),
                    label=label,
                    components=components,
                    preference=Preference(best["preference"]),
                    preference_rank=int(best["preferenceRank"]),
                    evidence=Evidence(
                        quality=best["quality"],
                        strength=best["strength"],
                        scheme=best["scheme"],
                        quality_rank=_int(best["qualityRank"]) if "qualityRank" in best else 99,
                        strength_rank=_int(best["strengthRank"]) if "strengthRank" in best else 99,
                    ),
                    sources=tuple(sources.values()),
                    because=tuple(because),
                )
            )
        return sorted(out, key=lambda r: r.rank)

    def forbidden(self, patient: str, *, incomplete: bool = False) -> list[Regimen]:
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
                reasons.append(self._rule_reason(r["rule"], r["basis"], text, incomplete=incomplete))
                for s in self._kb.sources.get(r["basis"], ()):
                    sources[s.id] = s
            out.append(
                Regimen(id=curie(regimen_iri), label=label, components=components, sources=tuple(sources.values()), reasons=tuple(reasons))
            )
        return sorted(out, key=lambda r: r.label)

    def monitoring(self, patient: str, *, incomplete: bool = False) -> list[MonitoringItem]:
        by_test = _group(self._monitoring.get(patient, []), key="test")
        items: list[MonitoringItem] = []
        for test_iri, rows in sorted(by_test.items()):
            test_label, loinc = self._kb.tests.get(test_iri, (self._kb.label(test_iri), ""))
            needs: dict[tuple[str, str], MonitoringNeed] = {}
            for r in rows:
                drug = self._kb.label(r["drug"])
                text = f"{self._kb.definition(r['requirement'])} Triggered by {drug}."
                needs[(r["requirement"], r["drug"])] = MonitoringNeed(
                    drug=curie(r["drug"]),
                    schedule=r["schedule"],
                    reason=self._rule_reason(r["rule"], r["requirement"], text, incomplete=incomplete),
                    sources=self._kb.sources.get(r["requirement"], ()),
                )
            items.append(MonitoringItem(test_label=test_label, loinc=loinc, needs=tuple(needs[k] for k in sorted(needs))))
        return items

    def proposed(self, patient: str, *, incomplete: bool = False) -> list[ProposedPlan]:
        plans = _group(self._plans.get(patient, []), key="plan")
        out: list[ProposedPlan] = []
        for plan_iri, rows in sorted(plans.items()):
            components = tuple(Component(drug=self._drug(d)) for d in sorted({r["drug"] for r in rows}))
            verdict_rows = self._verdicts.get(plan_iri, [])
            if not verdict_rows:  # no rule of the knowledge base judged it
                out.append(ProposedPlan(id=local(plan_iri), components=components, verdict=Verdict.NOT_COVERED))
                continue

            def rank(row: Row) -> tuple[int, int]:
                verdict = Verdict(row["verdict"])
                fallback = _VERDICT_FALLBACK_RANK.get(verdict, 9)
                return (_int(row["verdictRank"]) if "verdictRank" in row else fallback, fallback)

            verdict = Verdict(min(verdict_rows, key=rank)["verdict"])
            reasons = [
                self._rule_reason(r["rule"], r.get("basis", r["concerns"]), incomplete=incomplete)
                for r in sorted(verdict_rows, key=lambda r: (r["rule"], r["concerns"], r.get("basis", "")))
                if Verdict(r["verdict"]) is verdict
            ]
            out.append(ProposedPlan(id=local(plan_iri), components=components, verdict=verdict, reasons=tuple(reasons)))
        return out

    # -- report-level notices ----------------------------------------------------------------
    def _notice_text(self, code: str) -> str:
        return self._kb.definition(f"{BASE}notice-{code}")

    def _history_notice(self, texts: tuple[str, ...], given: list[Notice]) -> Notice:
        """One warning, first in the report, naming every entry that could not be identified."""
        fields = sorted({n.field for n in given if n.field})
        named = "; ".join(f"'{t}'" for t in texts) or "; ".join(fields)
        message = self._notice_text(HISTORY_INCOMPLETE)
        if named:
            message = f"{message} Not identified: {named}."
        return Notice(Severity.WARNING, HISTORY_INCOMPLETE, message, ", ".join(fields) or "therapy")

    def build(self, patient: str, *, source: str, as_of: str, extra: Iterable[Notice] = ()) -> Report:
        warnings, errors = self.notices(patient)
        for notice in extra:
            (errors if notice.severity == "error" else warnings).append(notice)
        incomplete, texts = self.history_status(patient)
        given = [w for w in warnings if w.code == HISTORY_INCOMPLETE]
        incomplete = incomplete or bool(given)
        if incomplete:
            warnings = [self._history_notice(texts, given), *(w for w in warnings if w.code != HISTORY_INCOMPLETE)]
        proposed = self.proposed(patient, incomplete=incomplete)
        if not any(w.code == PLAN_NOT_COVERED for w in warnings):
            for plan in proposed:
                if plan.verdict is Verdict.NOT_COVERED:
                    warnings.append(Notice(Severity.WARNING, PLAN_NOT_COVERED, f"{self._notice_text(PLAN_NOT_COVERED)} ({plan.label})", "proposed"))
        return Report.build(
            patient=self.patient_id(patient),
            knowledge_base=self._kb_ref,
            as_of=as_of,
            source=source,
            situation=self.situation(patient, incomplete=incomplete),
            permitted=self.permitted(patient, incomplete=incomplete),
            forbidden=self.forbidden(patient, incomplete=incomplete),
            monitoring=self.monitoring(patient, incomplete=incomplete),
            proposed=proposed,
            warnings=warnings,
            errors=errors,
        )


def read_decisions(store: TripleStore, patient_ids: Iterable[str]) -> dict[str, tuple[set[str], set[str]]]:
    """Compact decisions per patient id: (permitted recommendation IRIs, forbidden regimen IRIs)."""
    out: dict[str, tuple[set[str], set[str]]] = {pid: (set(), set()) for pid in patient_ids}
    for row in store.select(report_query("decisions")):
        out.setdefault(row["id"], (set(), set()))[0 if row["kind"] == "permitted" else 1].add(row["x"])
    return out
