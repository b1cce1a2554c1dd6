"""`her2kg docs --out DIR`: the static site, checked as files and in a real headless browser."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from her2kg.cli import main

pytestmark = pytest.mark.slow  # knowledge-engineering tooling (kb extra): writes the whole documentation site

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["docs", "--out", str(out)]) == 0
    assert "pages" in buffer.getvalue()
    return out


def test_recommendation_page_has_everything_a_clinician_needs(site: Path) -> None:
    text = (site / "recommendation" / "rec-met-l1-thp.html").read_text(encoding="utf-8")
    assert "first-line metastatic decision point" in text  # decision point, by label
    assert "Regimen: " in text and "840 mg intravenously as a loading dose" in text  # regimen with doses
    assert "https://pubmed.ncbi.nlm.nih.gov/22149875/" in text  # CLEOPATRA, linked
    assert "2012-06-08" in text  # valid from
    assert "../statement/S01.html" in text  # the statement it encodes
    assert "Rules that use it" in text and "../rule/" in text
    assert re.search(r"evidence quality|quality", text)


def test_drug_page_links_codes_to_their_code_systems(site: Path) -> None:
    text = (site / "drug" / "trastuzumab.html").read_text(encoding="utf-8")
    assert "ncit.nci.nih.gov" in text and "RxNav" in text


def test_rule_statement_regimen_and_reference_pages(site: Path) -> None:
    assert (site / "regimen" / "regimen-thp.html").is_file()
    assert "INSERT" in next((site / "rule").glob("*.html")).read_text(encoding="utf-8")
    assert "Encoded by" in (site / "statement" / "S01.html").read_text(encoding="utf-8")
    reference = (site / "reference.html").read_text(encoding="utf-8")
    assert 'id="Recommendation"' in reference and 'id="validFrom"' in reference


def test_every_local_link_resolves(site: Path) -> None:
    broken = []
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"#:]+)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            if not (page.parent / href).resolve().is_file():
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert broken == []


def test_no_inline_script(site: Path) -> None:
    for page in site.rglob("*.html"):
        assert not re.search(r"<script>(?!</script>)", page.read_text(encoding="utf-8")), page


@pytest.fixture(scope="module")
def browser_page(site: Path) -> Iterator[tuple[Page, list[str]]]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (scripts/ci-browser.sh)")
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context()
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        try:
            yield page, errors
        finally:
            browser.close()


@pytest.mark.browser
def test_search_finds_a_recommendation_and_navigates(site: Path, browser_page: tuple[Page, list[str]]) -> None:
    page, errors = browser_page
    page.goto((site / "index.html").as_uri())
    page.locator("#search").fill("deruxtecan pertuzumab")
    result = page.locator("#results li a").first
    result.wait_for(timeout=5000)
    assert "deruxtecan" in result.inner_text().lower()
    result.click()
    page.wait_for_load_state()
    assert "her2kg" in page.title()
    assert page.locator("h1").inner_text()
    assert errors == []
