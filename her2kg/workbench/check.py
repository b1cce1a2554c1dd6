"""`her2kg check`: everything CI needs in one run.

1. `validate` (syntax, imports, SHACL, OWL 2 DL profile, HermiT, QC and clinical sanity checks, format);
2. the competency questions against their committed answers;
3. `docs/traceability.tsv` equal to the table generated from the knowledge base and rules;
4. the counts the README states equal to the knowledge base's;
5. every module built from `templates/<module>/` equal to its file.

2-5 are generated files: `update=True` rewrites them in their committed form. The docs and the
README belong to a checkout; a knowledge-base folder without them skips 3-4 and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

TRACEABILITY = Path("docs") / "traceability.tsv"
README = Path("README.md")


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    seconds: float
    lines: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class CheckReport:
    folder: str
    digest: str
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)


def run_check(root: Path, *, owl: bool = True, update: bool = False) -> CheckReport:
    """Run every step on the knowledge base under `root` (update: rewrite the generated files)."""
    from her2kg.knowledge import knowledge_ntriples
    from her2kg.resources import knowledge_base_identity
    from her2kg.stores.embedded import EmbeddedStore

    steps: list[Step] = []
    started = time.perf_counter()
    validation = _validate(root, owl)
    steps.append(Step("validate", validation[0], time.perf_counter() - started, validation[1]))
    if not validation[0] and any(line.startswith("skipped: shacl") for line in validation[1]):
        identity = knowledge_base_identity(root)
        return CheckReport(identity.folder, identity.digest, tuple(steps))

    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples(root))

    started = time.perf_counter()
    from her2kg.workbench.competency import compare

    outcomes = compare(store.native, root / "queries" / "cq", update=update)
    lines = tuple(f"queries/cq/{o.path.name}: {o.message}" for o in outcomes if not o.ok or o.message.startswith("rewrote"))
    steps.append(Step("competency questions", all(o.ok for o in outcomes), time.perf_counter() - started, lines))

    started = time.perf_counter()
    steps.append(_traceability(root, store, update, started))
    started = time.perf_counter()
    steps.append(_counts(root, store, update, started))
    started = time.perf_counter()
    steps.append(_templates(root, update, started))
    identity = knowledge_base_identity(root)
    return CheckReport(identity.folder, identity.digest, tuple(steps))


def _validate(root: Path, owl: bool) -> tuple[bool, tuple[str, ...]]:
    from her2kg.validation import validate_knowledge_base
    from her2kg.validation.render import render_text

    report = validate_knowledge_base(owl=owl, root=root)
    text = render_text(report).splitlines()
    return report.ok, tuple(text)


def _traceability(root: Path, store: object, update: bool, started: float) -> Step:
    from her2kg.traceability import traceability_tsv

    path = root / TRACEABILITY
    if not path.parent.is_dir():
        return Step("traceability", True, 0.0, (f"{TRACEABILITY}: no docs/ folder here; skipped",))
    table = traceability_tsv(store)  # type: ignore[arg-type]
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if current == table:
        return Step("traceability", True, time.perf_counter() - started)
    if update:
        path.write_text(table, encoding="utf-8")
        return Step("traceability", True, time.perf_counter() - started, (f"rewrote {TRACEABILITY}",))
    return Step(
        "traceability", False, time.perf_counter() - started,
        (f"{TRACEABILITY} is out of date with the knowledge base and the rules; run `her2kg check --update`",),
    )


def _counts(root: Path, store: object, update: bool, started: float) -> Step:
    from her2kg.workbench.counts import actual_counts, check_counts, update_counts

    path = root / README
    if not path.is_file():
        return Step("counts", True, 0.0, (f"{README}: not in this folder; skipped",))
    text = path.read_text(encoding="utf-8")
    actual = actual_counts(store)  # type: ignore[arg-type]
    wrong = [c for c in check_counts(text, actual) if not c.ok]
    if not wrong:
        return Step("counts", True, time.perf_counter() - started)
    if update:
        path.write_text(update_counts(text, actual), encoding="utf-8")
        return Step("counts", True, time.perf_counter() - started, tuple(f"{README}: {c.name} {c.stated} -> {c.actual}" for c in wrong))
    lines = tuple(
        f"{README}: states {c.stated if c.stated is not None else 'no count of'} {c.name}; the knowledge base has {c.actual}; "
        "run `her2kg check --update`"
        for c in wrong
    )
    return Step("counts", False, time.perf_counter() - started, lines)


def _templates(root: Path, update: bool, started: float) -> Step:
    """Modules built from templates/<module>/ equal their files in ontology/modules/."""
    from her2kg.workbench.templates import TemplateError, build_module

    folders = sorted(p for p in (root / "templates").iterdir() if p.is_dir()) if (root / "templates").is_dir() else []
    lines: list[str] = []
    ok = True
    for folder in folders:
        target = root / "ontology" / "modules" / f"{folder.name}.ttl"
        try:
            text = build_module(folder)
        except TemplateError as exc:
            lines.append(str(exc))
            ok = False
            continue
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        if update:
            target.write_text(text, encoding="utf-8")
            lines.append(f"rebuilt {target.relative_to(root)} from templates/{folder.name}")
        else:
            lines.append(f"ontology/modules/{folder.name}.ttl differs from what templates/{folder.name} builds; run `her2kg check --update`")
            ok = False
    return Step("templates", ok, time.perf_counter() - started, tuple(lines))


def render(report: CheckReport) -> str:
    out: list[str] = []
    for step in report.steps:
        out.append(f"{'ok' if step.ok else 'FAILED'}  {step.name} ({step.seconds:.2f} s)")
        out.extend(f"    {line}" for line in step.lines)
    out.append(f"knowledge base: {report.folder} ({report.digest})")
    total = sum(step.seconds for step in report.steps)
    out.append(f"{'ok' if report.ok else 'failed'}: her2kg check ({total:.2f} s)")
    return "\n".join(out) + "\n"
