"""Strata computed from what rules read and write; cycles and contradicted stated strata are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2kg.errors import RuleError
from her2kg.rules import load_rules
from her2kg.strata import EVERY_CLASS, rule_terms

H = "https://w3id.org/her2kg/"


def _rule(folder: Path, rule_id: str, body: str, extra: str = "") -> None:
    header = (
        f"# id:          {rule_id}\n# title:       A test rule\n# kind:        derivation\n"
        f"# statements:  -\n# source:      test\n{extra}PREFIX h: <{H}>\n"
    )
    (folder / f"{rule_id}.rq").write_text(header + body)


def test_a_rule_runs_after_the_rules_whose_output_it_reads(tmp_path: Path) -> None:
    _rule(tmp_path, "a-reads-second", "INSERT { ?x h:third ?y } WHERE { ?x h:second ?y }")
    _rule(tmp_path, "b-writes-second", "INSERT { ?x h:second ?y } WHERE { ?x h:first ?y }")
    _rule(tmp_path, "c-negates-third", "INSERT { ?x a h:Done } WHERE { ?x h:first ?y FILTER NOT EXISTS { ?x h:third ?y } }")
    strata = {r.id: r.stratum for r in load_rules(tmp_path)}
    assert strata == {"b-writes-second": 0, "a-reads-second": 1, "c-negates-third": 2}


def test_a_cycle_between_two_rules_names_both_and_the_term(tmp_path: Path) -> None:
    _rule(tmp_path, "one", "INSERT { ?x h:alpha ?y } WHERE { ?x h:beta ?y }")
    _rule(tmp_path, "two", "INSERT { ?x h:beta ?y } WHERE { ?x h:alpha ?y }")
    with pytest.raises(RuleError) as error:
        load_rules(tmp_path)
    message = str(error.value)
    assert "one" in message and "two" in message and f"<{H}alpha>" in message and f"<{H}beta>" in message


def test_a_stated_stratum_below_what_the_rule_reads_is_an_error_naming_both(tmp_path: Path) -> None:
    _rule(tmp_path, "early-reader", "INSERT { ?x h:late ?y } WHERE { ?x h:derived ?y }", "# stratum:     1\n")
    _rule(tmp_path, "writer", "INSERT { ?x h:derived ?y } WHERE { ?x h:first ?y }", "# stratum:     3\n")
    with pytest.raises(RuleError) as error:
        load_rules(tmp_path)
    assert "early-reader" in str(error.value) and "writer" in str(error.value) and "stratum 1" in str(error.value)


def test_a_stated_stratum_at_or_above_what_the_rule_reads_is_kept(tmp_path: Path) -> None:
    """Near miss of the above: the stated number leaves room for what the rule reads."""
    _rule(tmp_path, "reader", "INSERT { ?x h:late ?y } WHERE { ?x h:derived ?y }", "# stratum:     5\n")
    _rule(tmp_path, "writer", "INSERT { ?x h:derived ?y } WHERE { ?x h:first ?y }")
    assert {r.id: r.stratum for r in load_rules(tmp_path)} == {"writer": 0, "reader": 5}


def test_reading_its_own_output_needs_recursive(tmp_path: Path) -> None:
    body = "INSERT { ?a h:reaches ?c } WHERE { ?a h:reaches ?b . ?b h:reaches ?c }"
    _rule(tmp_path, "chain", body)
    with pytest.raises(RuleError, match="recursive: yes"):
        load_rules(tmp_path)
    _rule(tmp_path, "chain", body, "# recursive:   yes\n")
    assert [r.stratum for r in load_rules(tmp_path)] == [0]


def test_a_class_bound_in_the_where_is_written() -> None:
    """`a ?class` with ?class chosen by IF (recurrence-interval) writes both classes and reads neither."""
    reads, writes = rule_terms(
        f"PREFIX h: <{H}>\nINSERT {{ ?p a ?class }}\n"
        "WHERE { ?p h:months ?m . BIND(IF(?m < 12, h:EarlyPatient, h:LatePatient) AS ?class) }"
    )
    assert writes == {H + "EarlyPatient", H + "LatePatient"}
    assert reads == {H + "months"}


def test_values_columns_bind_only_their_own_variable() -> None:
    reads, writes = rule_terms(
        f"PREFIX h: <{H}>\nINSERT {{ ?p ?property ?result }}\n"
        "WHERE { ?o a ?test ; h:result ?result . VALUES (?test ?property) { (h:ErTest h:erResult) (h:PrTest h:prResult) } }"
    )
    assert writes == {H + "erResult", H + "prResult"}
    assert H + "ErTest" in reads and H + "erResult" not in reads


def test_a_closure_writes_every_class_and_class_readers_follow_it(tmp_path: Path) -> None:
    _rule(tmp_path, "closure", "INSERT { ?x a ?super } WHERE { ?x a ?class . ?class h:hasSuperClass ?super }")
    _rule(tmp_path, "reader", "INSERT { ?p h:flag true } WHERE { ?p h:hasCondition ?c . ?c a h:DistantMetastasis }")
    _rule(tmp_path, "no-class-reader", "INSERT { ?p h:other true } WHERE { ?p h:hasCondition ?c }")
    assert EVERY_CLASS in rule_terms(f"PREFIX h: <{H}>\nINSERT {{ ?x a ?super }} WHERE {{ ?x a ?c . ?c h:hasSuperClass ?super }}")[1]
    strata = {r.id: r.stratum for r in load_rules(tmp_path)}
    assert strata == {"closure": 0, "no-class-reader": 0, "reader": 1}


def test_a_type_read_through_a_variable_follows_every_class_writer(tmp_path: Path) -> None:
    _rule(tmp_path, "classifier", "INSERT { ?p a h:HighRiskPatient } WHERE { ?p h:risk h:high }")
    _rule(tmp_path, "generic", "INSERT { ?p h:matches ?r } WHERE { ?r h:appliesToPatientClass ?class . ?p a ?class }")
    assert {r.id: r.stratum for r in load_rules(tmp_path)} == {"classifier": 0, "generic": 1}


def test_the_shipped_rules_need_no_stated_strata() -> None:
    rules = load_rules()
    assert all(r.declared_stratum is None for r in rules)
    by_id = {r.id: r for r in rules}
    assert by_id["kb-superclasses"].stratum < by_id["type-closure-conditions"].stratum < by_id["metastatic-disease"].stratum
    assert by_id["recurrence-interval"].stratum < by_id["decision-point-metastatic"].stratum
