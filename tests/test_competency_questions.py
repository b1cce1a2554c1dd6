"""Competency questions: every queries/cq/*.rq is run on the knowledge base and its rows are
compared with the expected answer in the .tsv file of the same name.

The .tsv form is `her2kg.workbench.competency`'s (the one `her2kg check --update` writes): the
variable names on the first line, then one row per answer, tab-separated and sorted; IRIs under
https://w3id.org/her2kg/ as h: CURIEs, literals by their lexical form, unbound variables empty.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from her2kg.knowledge import knowledge_ntriples
from her2kg.query_header import read_header as read_query_header
from her2kg.resources import queries_dir
from her2kg.stores.embedded import EmbeddedStore
from her2kg.workbench.competency import read_expected as read_answer
from her2kg.workbench.competency import run_question

CQ_DIR = queries_dir() / "cq"
CQ_FILES = sorted(CQ_DIR.glob("*.rq"))
HEADER_KEYS = ("id", "question", "kind", "source")


@cache
def knowledge_store() -> EmbeddedStore:
    store = EmbeddedStore()
    store.load_ntriples(knowledge_ntriples())
    return store


def run_cq(path: Path) -> tuple[list[str], set[tuple[str, ...]]]:
    answer = run_question(knowledge_store().native, path)
    return list(answer.variables), set(answer.rows)


def read_expected(path: Path) -> tuple[list[str], set[tuple[str, ...]]]:
    answer = read_answer(path)
    return list(answer.variables), set(answer.rows)


def read_header(path: Path) -> dict[str, str]:
    return dict(read_query_header(path, allowed=HEADER_KEYS).fields)


def test_there_are_at_least_fifteen_competency_questions() -> None:
    assert len(CQ_FILES) >= 15


@pytest.mark.parametrize("path", CQ_FILES, ids=lambda p: p.stem)
def test_competency_question_header(path: Path) -> None:
    header = read_header(path)
    assert tuple(header) == HEADER_KEYS, f"{path.name}: header keys {tuple(header)}"
    assert header["id"] == path.stem
    assert header["kind"] == "report"
    assert header["source"] == "her2kg knowledge base"
    assert re.match(r"^\d{2}-[a-z0-9-]+$", path.stem)


@pytest.mark.parametrize("path", CQ_FILES, ids=lambda p: p.stem)
def test_competency_question_answer(path: Path) -> None:
    expected_path = path.with_suffix(".tsv")
    assert expected_path.is_file(), f"{path.name} has no expected answer {expected_path.name}"
    expected_names, expected_rows = read_expected(expected_path)
    names, rows = run_cq(path)
    assert names == expected_names
    missing = sorted(expected_rows - rows)
    unexpected = sorted(rows - expected_rows)
    assert not missing and not unexpected, f"{path.stem}: missing {missing}, unexpected {unexpected}"


@pytest.mark.parametrize("path", CQ_FILES, ids=lambda p: p.stem)
def test_expected_answer_is_in_the_committed_form(path: Path) -> None:
    expected = path.with_suffix(".tsv")
    assert expected.read_text(encoding="utf-8") == read_answer(expected).tsv(), f"run `her2kg check --update` ({expected.name})"
