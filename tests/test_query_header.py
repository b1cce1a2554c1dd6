"""One reader of query-file headers: rules, QC queries and the query page's examples agree."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2kg.errors import RuleError
from her2kg.query_header import HeaderError, parse_header
from her2kg.rules import RuleKind, RuleScope, load_rules, parse_rule
from her2kg.server.html_page import load_examples
from her2kg.validation.qc import QcHeaderError, parse_qc_query

RULE = "# id: {id}\n# title: t\n# kind: notice\n# stratum: 2\n# statements: -\n# source: s\n"
QC = "# id: {id}\n# title: t\n# kind: qc\n# source: s\n# severity: warning\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.rq"
    path.write_text(text + "SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    return path


def test_a_duplicate_key_reads_the_same_in_rules_and_qc(tmp_path: Path) -> None:
    rule = _write(tmp_path, "r", RULE.format(id="r") + "# title: again\n")
    qc = _write(tmp_path, "q-violation", QC.format(id="q-violation") + "# title: again\n")
    with pytest.raises(RuleError) as rule_error:
        parse_rule(rule)
    with pytest.raises(QcHeaderError) as qc_error:
        parse_qc_query(qc)
    assert rule_error.value.message == str(qc_error.value) == "header key 'title' appears twice"
    assert isinstance(qc_error.value, HeaderError)


def test_continuation_lines_join_in_every_kind(tmp_path: Path) -> None:
    more = "# description: one\n#   two\n"
    assert parse_rule(_write(tmp_path, "r", RULE.format(id="r") + more)).description == "one two"
    query = parse_qc_query(_write(tmp_path, "q-violation", QC.format(id="q-violation") + more))
    assert query.title == "t"
    assert parse_header(query.text).get("description") == "one two"


def test_rule_kind_and_scope_are_enums(tmp_path: Path) -> None:
    rule = parse_rule(_write(tmp_path, "r", RULE.format(id="r")))
    assert rule.kind is RuleKind.NOTICE and rule.scope is RuleScope.PATIENT
    bad = _write(tmp_path, "b", RULE.format(id="b").replace("notice", "opinion"))
    with pytest.raises(RuleError, match="kind must be one of closure, derivation"):
        parse_rule(bad)
    assert {r.scope for r in load_rules()} == set(RuleScope)


def test_query_page_titles_come_from_the_question_field(tmp_path: Path) -> None:
    _write(tmp_path, "a", "# id: a\n# question: Which drugs?\n")
    _write(tmp_path, "b", "# id: b\n")
    assert [(e.name, e.title) for e in load_examples(tmp_path)] == [("a", "Which drugs?"), ("b", "b")]


def test_strict_and_lenient_headers() -> None:
    with pytest.raises(HeaderError, match="cannot read header line"):
        parse_header("# id: a\n# just a comment\n")
    assert parse_header("# id: a\n# just a comment\n", strict=False).fields == {"id": "a"}
    with pytest.raises(HeaderError, match="unknown header key 'colour'"):
        parse_header("# colour: red\n", allowed=("id",))
