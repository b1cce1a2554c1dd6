"""The query page in a real headless browser (Debian's chromium driven by playwright)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from server_harness import RunningServer, running_server

from her2kg.server.config import ServerConfig, SparqlSettings
from her2kg.server.dataset import knowledge_only

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (scripts/ci-browser.sh)"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with running_server(ServerConfig(sparql=SparqlSettings(workers=1)), served=knowledge_only()) as running:
        yield running


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(server: RunningServer, page_errors: list[str]) -> Iterator[Page]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        # loopback only: anything not addressed to the test server is aborted
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.base_url) else route.abort())
        page = context.new_page()
        page.on("pageerror", lambda error: page_errors.append(str(error)))
        page.on("console", lambda message: page_errors.append(message.text) if message.type == "error" else None)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_page_runs_a_query_and_shows_the_table(server: RunningServer, page: Page, page_errors: list[str]) -> None:
    page.goto(server.url("/sparql"))
    page.fill(
        "#query",
        'SELECT ?ontology ?version WHERE { VALUES ?ontology { <https://w3id.org/her2kg/ontology> } '
        "?ontology <http://www.w3.org/2002/07/owl#versionInfo> ?version }",
    )
    page.click("#run")
    page.wait_for_selector("#results tr td")
    headers = page.locator("#results th").all_text_contents()
    assert headers == ["ontology", "version"]
    cells = page.locator("#results td").all_text_contents()
    assert cells[0] == "https://w3id.org/her2kg/ontology"
    assert "1 result(s)" in page.locator("#status").text_content()
    assert page_errors == []  # no CSP violation, no script error


def test_competency_questions_are_clickable_examples(server: RunningServer, page: Page) -> None:
    from her2kg.resources import queries_dir

    folder = queries_dir() / "cq"
    if not any(folder.glob("*.rq")):
        pytest.skip("no competency questions installed")
    page.goto(server.url("/sparql"))
    buttons = page.locator("#examples button.example")
    assert buttons.count() >= 1
    first = buttons.nth(0)
    source = folder / f"{first.get_attribute('title')}.rq"
    text = source.read_text(encoding="utf-8")
    title = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# question:")), source.stem)
    assert first.text_content() == title
    from playwright.sync_api import expect

    first.click()
    # a locator wait, not wait_for_function: polling a string predicate needs eval, which the
    # page's Content-Security-Policy forbids
    expect(page.locator("#status")).to_have_text(re.compile(r"result|graph|Error|failed"), timeout=30_000)
    assert page.input_value("#query") == text
    status = page.locator("#status").text_content() or ""
    assert "Error" not in status and ("result" in status or "graph" in status), status


def test_error_is_shown_for_a_refused_query(server: RunningServer, page: Page) -> None:
    page.goto(server.url("/sparql"))
    page.fill("#query", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    page.click("#run")
    page.wait_for_selector("#status.error")
    assert "400" in page.locator("#status").text_content()
