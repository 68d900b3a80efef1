"""The web page in a real headless Chromium (Playwright): the gallery, the
parameter form, running a query, the results table, the entity page with its
quotes, and no request to any host but the server.

Set NTX_SCREENSHOT=docs/screenshot.png to save a screenshot of the page after
running a saved query.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server import Limits, make_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install chromium chromium-driver; pip install playwright"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
OFF_LABEL = "off-label-uses-lacking-evidence"


def require_browser() -> None:
    """Skip when Chromium or Playwright is missing, or fail if
    NTX_REQUIRE_SERVERS=1 says they must be there."""
    missing = [] if Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    if missing:
        reason = f"needs {' and '.join(missing)}: {INSTALL}"
        if os.environ.get("NTX_REQUIRE_SERVERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    server = make_server(KnowledgeGraph.open(), "127.0.0.1", 0, Limits(timeout=5, workers=2))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A browser page that records every request and every error."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def visit(browser: Any) -> Iterator[Visit]:
    v = Visit(browser)
    yield v
    v.close()


def column(page: Any, name: str) -> list[str]:
    headers = page.locator("#results table.grid thead th").all_inner_texts()
    index = headers.index(name) + 1
    return [t.strip() for t in page.locator(f"#results table.grid tbody tr td:nth-child({index})").all_inner_texts()]


def test_saved_query_results_and_evidence(visit: Visit, base_url: str) -> None:
    page = visit.page
    page.goto(base_url)
    page.wait_for_selector("body[data-ready=true]")
    page.locator(f'#gallery button[data-name="{OFF_LABEL}"]').click()
    assert page.locator("#query-title").inner_text() == "Off-label uses lacking evidence"
    assert "ntx:Indication" in page.locator("#sparql").input_value()
    assert page.locator("#param-drug").input_value() == "https://w3id.org/ntx-graph/id/drug/naltrexone"
    page.locator("#run").click()
    page.wait_for_selector("#results table.grid tbody tr")
    conditions = column(page, "condition")
    for expected in ("HIV", "cancer", "multiple sclerosis"):
        assert expected in conditions
    assert page.locator("#status").inner_text().startswith(f"{len(conditions)} rows")
    csv = page.locator("#downloads a", has_text="CSV").get_attribute("href")
    assert csv.startswith(f"/queries/{OFF_LABEL}.csv?drug=")

    if os.environ.get("NTX_SCREENSHOT"):
        page.screenshot(path=os.environ["NTX_SCREENSHOT"])

    page.locator("#results a.iri", has_text="ind:hiv").first.click()
    page.wait_for_url("**/entity?iri=*")
    quotes = page.locator("blockquote.quote .exact").all_inner_texts()
    assert any("not supported by scientific evidence" in q for q in quotes)
    assert page.locator("h1").inner_text() == "naltrexone for HIV"

    others = [url for url in visit.requests if not url.startswith(base_url)]
    assert others == [], f"requests to other hosts: {others}"
    assert visit.errors == []


def test_raw_sparql_and_errors(visit: Visit, base_url: str) -> None:
    page = visit.page
    page.goto(base_url)
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#sparql").fill("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                                 "CONSTRUCT { ?i rdfs:label ?l } WHERE { ?i a <https://w3id.org/ntx-graph/def/"
                                 "Indication> ; rdfs:label ?l }")
    assert page.locator("#highlight .tok-keyword", has_text="CONSTRUCT").count() == 1
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results table.grid tbody tr")
    assert page.locator("#results table.grid thead th").all_inner_texts() == ["subject", "predicate", "object"]
    assert "naltrexone for HIV" in page.locator("#results").inner_text()

    page.locator("#sparql").fill("SELECT ?s WHERE { ?s ?p }")
    page.locator("#run").click()
    page.wait_for_selector("#status.error")
    assert "Error 400" in page.locator("#status").inner_text()
    assert "line 1, column" in page.locator("#status").inner_text()
    others = [url for url in visit.requests if not url.startswith(base_url)]
    assert others == []
