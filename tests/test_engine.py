"""The rule engine: strict rule headers, the fixpoint cap, idempotence, provenance of conclusions."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2kg.engine import run_rules
from her2kg.errors import RuleError
from her2kg.rules import load_rules, parse_rule
from her2kg.stores.embedded import EmbeddedStore
from synthetic import metastatic_first_line
from rule_harness import store_for

HEADER = """# id:          {id}
# title:       A test rule
# kind:        derivation
# stratum:     0
# statements:  -
# source:      test
{extra}PREFIX h: <https://w3id.org/her2kg/>
"""


def write_rule(folder: Path, rule_id: str, body: str, extra: str = "") -> Path:
    path = folder / f"{rule_id}.rq"
    path.write_text(HEADER.format(id=rule_id, extra=extra) + body)
    return path


def test_recursive_stratum_runs_to_a_fixpoint(tmp_path: Path) -> None:
    path = write_rule(
        tmp_path, "chain", "INSERT { ?a h:reaches ?c } WHERE { ?a h:reaches ?b . ?b h:reaches ?c }", "# recursive:   yes\n"
    )
    store = EmbeddedStore()
    store.load_ntriples("".join(f"<urn:n{i}> <https://w3id.org/her2kg/reaches> <urn:n{i + 1}> .\n" for i in range(6)))
    run = run_rules(store, [parse_rule(path)])
    assert store.triple_count() == 21  # 6 + 5 + 4 + 3 + 2 + 1
    assert run.strata[0].passes > 2


def test_a_rule_that_never_stops_hits_the_cap_and_is_named(tmp_path: Path) -> None:
    path = write_rule(
        tmp_path,
        "runaway",
        'INSERT { ?new h:next ?x } WHERE { ?x h:next ?y . BIND(IRI(CONCAT(STR(?x), "/", STRUUID())) AS ?new) }',
        "# recursive:   yes\n",
    )
    store = EmbeddedStore()
    store.load_ntriples("<urn:a> <https://w3id.org/her2kg/next> <urn:b> .\n")
    with pytest.raises(RuleError) as error:
        run_rules(store, [parse_rule(path)], max_passes=4)
    assert error.value.rule_id == "runaway" and "4 passes" in str(error.value)


def test_running_the_rules_twice_adds_nothing() -> None:
    store = store_for([metastatic_first_line("twice").condition("HeartFailure")])
    rules = load_rules()
    run_rules(store, rules)
    size = store.triple_count()
    run_rules(store, rules)
    assert store.triple_count() == size


def test_every_conclusion_node_names_its_rule() -> None:
    store = store_for([metastatic_first_line("prov").condition("Pregnancy").plan([("trastuzumab", None, None)])])
    run_rules(store, load_rules())
    rows = store.select(
        """PREFIX h: <https://w3id.org/her2kg/>
        SELECT ?link ?node ?rule WHERE {
          VALUES ?link { h:hasFinding h:hasNotice h:hasForbidden h:hasPermitted h:hasMonitoring h:hasDecision h:hasVerdictReason }
          ?s ?link ?node . OPTIONAL { ?node h:derivedByRule ?rule } }"""
    )
    assert rows and all("rule" in r for r in rows), [r for r in rows if "rule" not in r][:3]
    rule_iris = {"https://w3id.org/her2kg/rule/" + r.id for r in load_rules()}
    assert {r["rule"] for r in rows} <= rule_iris


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("# id: x\n# title: t\n# kind: derivation\n# stratum: 0\n# statements: -\nINSERT DATA {}", "lacks source"),
        ("# id: x\n# title: t\n# kind: derivation\n# stratum: 0\n# statements: -\n# source: s\n# colour: red\n", "unknown header key"),
        ("# id: y\n# title: t\n# kind: derivation\n# stratum: 0\n# statements: -\n# source: s\n", "differs from the file name"),
        ("# id: x\n# title: t\n# kind: magic\n# stratum: 0\n# statements: -\n# source: s\n", "kind must be"),
        ("# id: x\n# title: t\n# kind: derivation\n# stratum: zero\n# statements: -\n# source: s\n", "stratum must be"),
        ("# id: x\n# title: t\n# kind: derivation\n# stratum: 0\n# statements: statement one\n# source: s\n", "statements must look like"),
    ],
)
def test_malformed_headers_are_rejected_with_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.rq"
    path.write_text(text)
    with pytest.raises(RuleError) as error:
        parse_rule(path)
    assert message in str(error.value) and "x.rq" in str(error.value)


def test_a_rule_the_store_rejects_is_named(tmp_path: Path) -> None:
    path = write_rule(tmp_path, "broken", "INSERT { ?a h:b ?c } WHERE { ?a h:b ")
    with pytest.raises(RuleError) as error:
        run_rules(EmbeddedStore(), [parse_rule(path)])
    assert error.value.rule_id == "broken"
