"""The engine's own per-rule timings, and loading of N-Triples her2kg wrote itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from her2kg.engine import run_rules
from her2kg.rules import parse_rule
from her2kg.stores.embedded import EmbeddedStore

RULE = """# id:          {id}
# title:       A test rule
# kind:        derivation
# stratum:     {stratum}
# statements:  -
# source:      test
{extra}PREFIX h: <https://w3id.org/her2kg/>
{body}
"""


def _rule(folder: Path, rule_id: str, stratum: int, body: str, extra: str = "") -> Path:
    path = folder / f"{rule_id}.rq"
    path.write_text(RULE.format(id=rule_id, stratum=stratum, extra=extra, body=body))
    return path


def test_every_rule_of_a_stratum_reports_its_time(tmp_path: Path) -> None:
    rules = [
        parse_rule(_rule(tmp_path, "b-second", 1, "INSERT { ?a h:second ?b } WHERE { ?a h:first ?b }")),
        parse_rule(_rule(tmp_path, "a-first", 1, "INSERT { ?a h:third ?b } WHERE { ?a h:first ?b }")),
        parse_rule(_rule(tmp_path, "c-later", 2, "INSERT { ?a h:fourth ?b } WHERE { ?a h:second ?b }")),
    ]
    store = EmbeddedStore()
    store.load_ntriples("<urn:a> <https://w3id.org/her2kg/first> <urn:b> .\n")
    run = run_rules(store, rules)
    assert [(s.stratum, [r.rule_id for r in s.rules]) for s in run.strata] == [(1, ["a-first", "b-second"]), (2, ["c-later"])]
    for stratum in run.strata:
        assert all(r.seconds >= 0 for r in stratum.rules)
        assert sum(r.seconds for r in stratum.rules) <= stratum.seconds


def test_a_recursive_stratum_sums_each_rules_time_over_its_passes(tmp_path: Path) -> None:
    path = _rule(tmp_path, "chain", 0, "INSERT { ?a h:reaches ?c } WHERE { ?a h:reaches ?b . ?b h:reaches ?c }", "# recursive:   yes\n")
    store = EmbeddedStore()
    store.load_ntriples("".join(f"<urn:n{i}> <https://w3id.org/her2kg/reaches> <urn:n{i + 1}> .\n" for i in range(6)))
    run = run_rules(store, [parse_rule(path)])
    (stratum,) = run.strata
    assert stratum.passes > 2 and [r.rule_id for r in stratum.rules] == ["chain"]


VALID = '<urn:a> <https://w3id.org/her2kg/p> "x" .\n<urn:a> <https://w3id.org/her2kg/q> <urn:b> .\n'


def test_checked_input_loads_the_same_triples() -> None:
    plain, checked = EmbeddedStore(), EmbeddedStore(input_checked=True)
    plain.load_ntriples(VALID)
    checked.load_ntriples(VALID)
    assert set(map(str, plain.native)) == set(map(str, checked.native)) and checked.triple_count() == 2


def test_unchecked_input_is_validated() -> None:
    with pytest.raises(SyntaxError):
        EmbeddedStore().load_ntriples("<urn:a b> <urn:p> <urn:o> .\n")
