"""`her2kg recommend --store URL` gives the same report as the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remote_fixtures import StandardServer, standard_server, virtuoso  # noqa: F401 - fixtures
from shared_files import SHARED_DIR
from virtuoso_server import VirtuosoServer

from her2kg.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "metastatic-first-line.ttl"
VIGNETTES = [SHARED_DIR / "vignettes" / f"{name}.json" for name in ("p02-met-second-line", "p10-proposed-anthracycline-trastuzumab")]


def _recommend(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[dict]]:
    code = main(["recommend", *map(str, VIGNETTES), "--format", "json", "--as-of", "2026-11-01", *extra])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.shared
def test_recommend_on_a_standard_sparql_server(capsys: pytest.CaptureFixture[str], standard_server: StandardServer, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = _recommend(capsys)
    monkeypatch.setenv("HER2KG_STORE_PASSWORD", standard_server.password)
    remote = _recommend(capsys, "--store", standard_server.url, "--user", standard_server.username)
    assert remote == embedded
    assert standard_server.default_graph_size() == 0, "the run must stay inside its own graph"


@pytest.mark.shared
@pytest.mark.virtuoso
def test_recommend_on_virtuoso(capsys: pytest.CaptureFixture[str], virtuoso: VirtuosoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded = _recommend(capsys)
    monkeypatch.setenv("HER2KG_STORE_PASSWORD", virtuoso.password)
    remote = _recommend(capsys, "--store", virtuoso.sparql_url, "--user", virtuoso.username, "--graph", "urn:her2kg:test:recommend")
    assert remote == embedded


def test_remote_options_need_a_store(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["recommend", str(EXAMPLE), "--graph", "urn:x:y"])
    assert code == 2 and "--store" in capsys.readouterr().err
