"""`her2kg diff OLD NEW`: what changed between two versions of the knowledge base, and what it does.

OLD and NEW are knowledge-base folders or git revisions of the checkout (read with `git archive`).
Terms are compared statement by statement (a blank-node structure, such as an OWL restriction,
counts as one statement written in canonical Turtle), and labelled. The consequences are the
conclusions that change for the example patients and vignettes: permitted and forbidden regimens,
verdicts on proposed plans, errors.
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from her2kg.errors import UsageError
from her2kg.vocabulary import BASE, PREFIXES

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.term import Node

KNOWLEDGE_FOLDERS = ("ontology", "shapes", "queries", "examples")
_LABEL = PREFIXES["rdfs"] + "label"


@dataclass(frozen=True)
class TermChange:
    iri: str
    label: str
    kind: str  # "added", "removed" or "changed"
    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class ConclusionChange:
    patient: str
    what: str  # "permitted", "forbidden", "verdict", "errors"
    before: str
    after: str


@dataclass(frozen=True)
class SemanticDiff:
    old: str
    new: str
    terms: tuple[TermChange, ...]
    conclusions: tuple[ConclusionChange, ...]
    patients: int


@contextmanager
def knowledge_folder(spec: str, checkout: Path) -> Iterator[Path]:
    """A folder for OLD or NEW: the folder itself, or a git revision of `checkout` extracted to a temp folder."""
    path = Path(spec)
    if path.is_dir():
        if not (path / "ontology" / "her2kg.ttl").is_file():
            raise UsageError(f"{spec} is a folder without ontology/her2kg.ttl; give a knowledge-base folder or a git revision")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="her2kg-diff-") as folder:
        try:
            archive = subprocess.run(
                ["git", "-C", str(checkout), "archive", "--format=tar", spec, *KNOWLEDGE_FOLDERS],
                check=True, capture_output=True,
            ).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise UsageError(
                f"{spec} is neither a folder nor a git revision of {checkout} ({detail.decode(errors='replace').strip() or exc})"
            ) from None
        target = Path(folder)
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(target, filter="data")
        yield target


def diff_folders(old: Path, new: Path, *, patients: Sequence[Path], as_of: date, old_name: str, new_name: str) -> SemanticDiff:
    from her2kg.knowledge import knowledge_ntriples

    old_graph, new_graph = _graph(knowledge_ntriples(old)), _graph(knowledge_ntriples(new))
    terms = diff_graphs(old_graph, new_graph)
    conclusions = diff_conclusions(old, new, patients, as_of)
    return SemanticDiff(old_name, new_name, tuple(terms), tuple(conclusions), len(patients))


def _graph(ntriples: str) -> Graph:
    from rdflib import Graph

    graph = Graph(bind_namespaces="none")
    graph.parse(data=ntriples, format="nt")
    return graph


def statements(graph: Graph) -> dict[str, set[str]]:
    """Named subject -> its statements as canonical `predicate object` text."""
    from rdflib import BNode, URIRef

    from her2kg.turtle_format import format_graph

    out: dict[str, set[str]] = {}
    for s, p, o in graph:
        if not isinstance(s, URIRef):
            continue
        if isinstance(o, BNode):
            fragment = _fragment(graph, s, p, o, format_graph)
        else:
            fragment = _fragment_simple(p, o)
        out.setdefault(str(s), set()).add(fragment)
    return out


def _fragment_simple(p: Node, o: Node) -> str:
    from rdflib import Graph, URIRef

    from her2kg.turtle_format import format_graph

    g = Graph(bind_namespaces="none")
    g.add((URIRef(BASE + "x"), p, o))
    return _body(format_graph(g))


def _fragment(graph: Graph, s: Node, p: Node, o: Node, format_graph: object) -> str:
    from rdflib import BNode, Graph, URIRef

    g = Graph(bind_namespaces="none")
    g.add((URIRef(BASE + "x"), p, o))
    stack = [o]
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in graph.triples((node, None, None)):
            g.add(triple)
            if isinstance(triple[2], BNode):
                stack.append(triple[2])
    return _body(format_graph(g))  # type: ignore[operator]


def _body(text: str) -> str:
    """The predicate-object part of a one-subject canonical Turtle document, on one line."""
    statement = "\n".join(line for line in text.splitlines() if not line.startswith("@prefix"))
    _subject, _, rest = statement.strip().partition(" ")
    return " ".join(rest.split()).rstrip(".").strip()


def diff_graphs(old: Graph, new: Graph) -> list[TermChange]:
    before, after = statements(old), statements(new)
    labels = {**_labels(old), **_labels(new)}
    changes: list[TermChange] = []
    for iri in sorted(set(before) | set(after)):
        a, b = before.get(iri, set()), after.get(iri, set())
        if a == b:
            continue
        kind = "added" if not a else "removed" if not b else "changed"
        changes.append(TermChange(iri, labels.get(iri, ""), kind, tuple(sorted(b - a)), tuple(sorted(a - b))))
    return changes


def _labels(graph: Graph) -> dict[str, str]:
    from rdflib import URIRef

    return {str(s): str(o) for s, o in graph.subject_objects(URIRef(_LABEL))}


def diff_conclusions(old: Path, new: Path, patients: Sequence[Path], as_of: date) -> list[ConclusionChange]:
    if not patients:
        return []
    before, after = _conclusions(old, patients, as_of), _conclusions(new, patients, as_of)
    changes: list[ConclusionChange] = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key, {}), after.get(key, {})
        for what in sorted(set(a) | set(b)):
            if a.get(what, "") != b.get(what, ""):
                changes.append(ConclusionChange(key, what, a.get(what, ""), b.get(what, "")))
    return changes


def _conclusions(root: Path, patients: Sequence[Path], as_of: date) -> dict[str, dict[str, str]]:
    """Per patient: permitted, forbidden, each proposed plan's verdict and the error codes, as text."""
    from her2kg.knowledge import clear_caches
    from her2kg.pipeline import recommend_files
    from her2kg.resources import queries_dir, select_knowledge_base, selected_knowledge_base

    previous = selected_knowledge_base()
    report_queries = queries_dir() / "report"
    with tempfile.TemporaryDirectory(prefix="her2kg-diff-run-") as folder:
        run_root = Path(folder)
        # The version's knowledge and rules; the report queries of the installed code, which reads them.
        for name in ("ontology", "shapes"):
            (run_root / name).symlink_to((root / name).resolve(), target_is_directory=True)
        (run_root / "queries").mkdir()
        for sub in (root / "queries").iterdir():
            if sub.name != "report":
                (run_root / "queries" / sub.name).symlink_to(sub.resolve(), target_is_directory=sub.is_dir())
        (run_root / "queries" / "report").symlink_to(report_queries.resolve(), target_is_directory=True)
        select_knowledge_base(run_root)
        clear_caches()
        try:
            reports = recommend_files([str(p) for p in patients], as_of=as_of)
        finally:
            select_knowledge_base(previous)
            clear_caches()
    out: dict[str, dict[str, str]] = {}
    for report in reports:
        data = report.to_json()
        key = f"{Path(data.get('source', '')).name or '?'} {data['patient']}".strip()
        facts = {
            "permitted": ", ".join(sorted(r["id"] for r in data["permitted"])),
            "forbidden": ", ".join(sorted(r["id"] for r in data["forbidden"])),
            "errors": ", ".join(sorted(e.get("code", "") for e in data["errors"])),
        }
        for plan in data["proposed"]:
            regimen = plan.get("regimen") or plan.get("label") or plan.get("id") or "plan"
            if isinstance(regimen, Mapping):
                regimen = regimen.get("id", "plan")
            facts[f"verdict {regimen}"] = str(plan.get("verdict", ""))
        out[key] = facts
    return out


def render(diff: SemanticDiff, *, markdown: bool) -> str:
    from her2kg.validation.locate import curie

    lines: list[str] = []
    counts = {k: sum(1 for t in diff.terms if t.kind == k) for k in ("added", "removed", "changed")}
    title = f"her2kg diff {diff.old} -> {diff.new}"
    summary = f"{counts['added']} added, {counts['removed']} removed, {counts['changed']} changed terms; " \
              f"{len(diff.conclusions)} changed conclusions over {diff.patients} patients"
    if markdown:
        lines += [f"## {title}", "", summary, "", "### Terms", ""]
        for term in diff.terms:
            label = f" ({term.label})" if term.label else ""
            lines.append(f"- **{term.kind}** `{curie(term.iri)}`{label}")
            lines += [f"  - `+ {s}`" for s in term.added] + [f"  - `- {s}`" for s in term.removed]
        if not diff.terms:
            lines.append("No term changed.")
        lines += ["", "### Consequences", ""]
        if diff.conclusions:
            lines += ["| patient | what | before | after |", "|---|---|---|---|"]
            lines += [f"| {c.patient} | {c.what} | {c.before or '-'} | {c.after or '-'} |" for c in diff.conclusions]
        else:
            lines.append("No conclusion changes for the patients checked.")
    else:
        lines += [title, summary, ""]
        for term in diff.terms:
            label = f" ({term.label})" if term.label else ""
            lines.append(f"{term.kind:8} {curie(term.iri)}{label}")
            lines += [f"    + {s}" for s in term.added] + [f"    - {s}" for s in term.removed]
        lines.append("")
        lines.append("consequences:" if diff.conclusions else "consequences: none for the patients checked")
        lines += [f"  {c.patient}: {c.what}: {c.before or '-'} -> {c.after or '-'}" for c in diff.conclusions]
    return "\n".join(lines) + "\n"
