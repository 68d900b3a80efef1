"""The web page in a real headless Chromium (Playwright), at a desktop width
(1400x900) and a phone width (390x844): the source reader, permalinks and
history, saved queries staying bound, paging and sorting, errors in place,
HTML for people and data for programs, the layout (narrow screens, dark mode,
keyboard), the code snippets, and axe-core's accessibility audit. Every test
also checks that no request goes to any host but the server and that the page
logs no error (a CSP violation is one).

Expected rows come from the graph through the Python API, not from texts
written here. Set NTX_SCREENSHOTS=docs to save the README's screenshots.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server import Limits, make_server

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
INSTALL = "apt-get install chromium chromium-driver; pip install playwright"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = "bash .ci/install-system-packages.sh (npm install --prefix .cache/npm axe-core@4)"
OFF_LABEL = "off-label-uses-lacking-evidence"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SEVERITY = "side-effects-by-severity"
HIV = "https://w3id.org/ntx-graph/id/indication/hiv"
SOURCE = "facts-about-naltrexone"
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}


def require(missing: list[str], install: str) -> None:
    """Skip naming what is missing, or fail if NTX_REQUIRE_SERVERS=1."""
    if missing:
        reason = f"needs {' and '.join(missing)}: {install}"
        if os.environ.get("NTX_REQUIRE_SERVERS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def require_browser() -> None:
    missing = [] if Path(CHROMIUM).exists() else [CHROMIUM]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package")
    require(missing, INSTALL)


@dataclass(frozen=True)
class Case:
    """A saved query and a value of one of its parameters that changes its
    rows (fewer, not none): what "stays bound" is tested with."""

    name: str
    title: str
    param: str
    value: str


@pytest.fixture(scope="module")
def case(kg: KnowledgeGraph) -> Case:
    """Found in the graph through the API, preferring side-effects-by-severity."""
    queries = sorted(kg.saved_queries(), key=lambda q: q.name != SEVERITY)
    for saved in queries:
        default = len(kg.run(saved.name))
        for param in saved.parameters:
            if not param.of_class:
                continue
            instances = kg.query(f"SELECT DISTINCT ?v WHERE {{ ?v a/<{RDFS}subClassOf>* {param.of_class} }} "
                                 "ORDER BY ?v").to_python()
            for row in instances:
                n = len(kg.run(saved.name, {param.name: row["v"]}))
                if 0 < n < default:
                    return Case(saved.name, saved.title, param.name, row["v"])
    raise AssertionError("no saved query has a parameter value that changes its rows")


@pytest.fixture(scope="module")
def base_url(kg: KnowledgeGraph) -> Iterator[str]:
    server = make_server(kg, "127.0.0.1", 0, Limits(timeout=10, workers=2))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url.rstrip("/")
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

    def __init__(self, browser: Any, base: str, width: int, height: int, **options: Any) -> None:
        self.base = base
        self.width = width
        self.context = browser.new_context(viewport={"width": width, "height": height}, **options)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def open(self, path: str, ready: str = "body[data-ready=true]") -> Any:
        """Load ``path`` afresh (never as a same-document move to a new fragment)."""
        if self.page.url != "about:blank":
            self.page.goto("about:blank")
        self.page.goto(self.base + path)
        if ready:
            self.page.wait_for_selector(ready)
        return self.page

    def check(self) -> None:
        """No request left the server; nothing was logged as an error
        (expected HTTP errors of a test are answered with 400, filtered)."""
        others = [url for url in self.requests if not url.startswith(self.base)]
        assert others == [], f"requests to other hosts: {others}"
        errors = [e for e in self.errors if "status of 400" not in e]
        assert errors == []

    def close(self) -> None:
        self.context.close()


@pytest.fixture(params=list(WIDTHS), ids=list(WIDTHS))
def visit(request: pytest.FixtureRequest, browser: Any, base_url: str) -> Iterator[Visit]:
    v = Visit(browser, base_url, *WIDTHS[request.param])
    yield v
    v.close()


def column(page: Any, name: str) -> list[str]:
    headers = [h.strip(" ▲▼↕") for h in page.locator("#results table.grid thead th").all_inner_texts()]
    index = headers.index(name) + 1
    return [t.strip() for t in page.locator(f"#results table.grid tbody tr td:nth-child({index})").all_inner_texts()]


def wait_run(page: Any, runs: int) -> None:
    # a function, not an expression: the page's CSP forbids evaluating strings
    page.wait_for_function("(n) => Number(document.body.dataset.ran || 0) >= n", arg=runs)


def select(kg: KnowledgeGraph, sparql: str) -> list[dict[str, Any]]:
    return kg.query(sparql).to_python()


def saved_rows(kg: KnowledgeGraph, name: str, **params: str) -> list[dict[str, Any]]:
    return kg.run(name, params).to_python()


def text_column(kg: KnowledgeGraph, name: str, **params: str) -> tuple[str, list[str]]:
    """The first variable of a saved query's answer whose values are all
    literals (a column a person reads), and those values, from the API."""
    from pyoxigraph import Literal

    result = kg.run(name, params)
    for i, var in enumerate(result.variables):
        if result.rows and all(isinstance(row[i], Literal) for row in result.rows):
            return var, [row[i].value for row in result.rows]  # type: ignore[union-attr]
    raise AssertionError(f"{name} has no column of literals")


def hiv_quote(kg: KnowledgeGraph) -> tuple[int, int, str]:
    rows = select(kg, f"""PREFIX ntx: <https://w3id.org/ntx-graph/def/> PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT ?start ?end ?exact WHERE {{ <{HIV}> ntx:evidenceQuote ?q . ?q oa:hasSelector ?p , ?t .
        ?p oa:start ?start ; oa:end ?end . ?t oa:exact ?exact }} ORDER BY ?start LIMIT 1""")
    return int(rows[0]["start"]), int(rows[0]["end"]), str(rows[0]["exact"])


def fits(page: Any, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide in a {width} px viewport"


def shoot(page: Any, name: str, width: int) -> None:
    folder = os.environ.get("NTX_SCREENSHOTS")
    if folder:
        kind = "desktop" if width > 600 else "phone"
        page.screenshot(path=str(Path(folder) / f"{name}-{kind}.png"), full_page=width <= 600 and name == "home")


# -- 1. the source reader ---------------------------------------------------------


def test_source_reader_highlights_a_quote_and_lists_its_claims(visit: Visit, kg: KnowledgeGraph) -> None:
    start, end, exact = hiv_quote(kg)
    page = visit.open("/entity?" + urlencode({"iri": HIV}), ready="h1")
    link = page.locator("blockquote.quote a.read").first
    assert link.get_attribute("href") == f"/source/{SOURCE}#chars={start},{end}"
    shoot(page, "entity", visit.width)
    link.click()
    page.wait_for_selector("body[data-ready=true]")
    target = page.locator(f'#source-text mark.target[data-start="{start}"][data-end="{end}"]')
    assert target.count() >= 1
    assert " ".join(target.all_inner_texts()).replace("\n", " ").split() == exact.split()
    box = target.first.bounding_box()
    assert 0 <= box["y"] < WIDTHS["phone"][1] if visit.width < 600 else 0 <= box["y"] < 900, "not scrolled to"
    links = page.locator("#claims-list a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert "/entity?" + urlencode({"iri": HIV}) in links
    shoot(page, "source-reader", visit.width)

    # every quote of the source has its mark, with its offsets
    quotes = select(kg, """PREFIX oa: <http://www.w3.org/ns/oa#>
        SELECT DISTINCT ?start ?end WHERE { ?q oa:hasSource ?doc ; oa:hasSelector ?p . ?p oa:start ?start ;
        oa:end ?end FILTER(STRENDS(STR(?doc), "/facts-about-naltrexone")) }""")
    marks = set(map(tuple, page.locator("#source-text mark").evaluate_all(
        "els => els.map(m => [Number(m.dataset.start), Number(m.dataset.end)])")))
    assert {(int(q["start"]), int(q["end"])) for q in quotes} <= marks
    text = page.locator("#source-text").evaluate("e => e.textContent")
    source = (ROOT / "ontology" / "sources" / f"{SOURCE}.txt").read_text(encoding="utf-8")
    assert text == source

    # focusing another passage lists its claims instead
    other = page.locator("#source-text mark").first
    other.focus()
    quote_id = other.get_attribute("data-quote")
    expected = page.locator(f"#{quote_id} ul.claims a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    shown = page.locator("#claims-list a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert set(expected) <= set(shown)

    # sentences no claim cites are marked, with the reason of uncited-sentences.tsv
    listed = dict(line.split("\t", 1) for line in (ROOT / "ontology" / "sources" / "uncited-sentences.tsv")
                  .read_text(encoding="utf-8").splitlines()[1:] if line.strip())
    titles = page.locator("#source-text .uncited").evaluate_all("els => els.map(e => [e.textContent, e.title])")
    assert titles, "no uncited sentence is marked"
    for sentence, title in titles:
        assert title == f"not cited: {listed.get(sentence, 'no claim cites this sentence')}"
    # a span that no quote has is highlighted all the same (RFC 5147 fragments name any span)
    page.evaluate("() => { location.hash = '#chars=0,9'; }")
    page.wait_for_function("() => CSS.highlights.has('target')")
    assert page.evaluate("() => [...CSS.highlights.get('target')][0].toString()") == source[0:9]
    assert page.locator("mark.target").count() == 0
    fits(page, visit.width)
    visit.check()


def test_source_reader_works_for_a_users_own_source(browser: Any, tmp_path: Path) -> None:
    text = "A short note.\nIt says one thing. And another!\n"
    (tmp_path / "note.txt").write_text(text, encoding="utf-8")
    start = text.index("It says")
    digest = hashlib.sha256(text.encode()).hexdigest()
    (tmp_path / "mine.ttl").write_text(f"""
@prefix ntx: <https://w3id.org/ntx-graph/def/> . @prefix oa: <http://www.w3.org/ns/oa#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://example.org/doc/my-note> a ntx:SourceDocument ; rdfs:label "My note" ; dcterms:title "My note" ;
  dcterms:format "text/plain" ; ntx:repositoryPath "note.txt" ; ntx:sha256 "{digest}" .
<https://example.org/claim/one> rdfs:label "the one thing" ; ntx:evidenceQuote <https://example.org/quote/one> ;
  prov:wasDerivedFrom <https://example.org/doc/my-note> .
<https://example.org/quote/one> oa:hasSource <https://example.org/doc/my-note> ;
  oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "It says one thing." ] ,
                 [ a oa:TextPositionSelector ; oa:start {start} ; oa:end {start + 18} ] .
""", encoding="utf-8")
    kg = KnowledgeGraph.open([tmp_path / "mine.ttl"], include_bundled=False)
    server = make_server(kg, "127.0.0.1", 0, Limits(timeout=10, workers=1))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        v = Visit(browser, server.url.rstrip("/"), 1400, 900)
        page = v.open(f"/source/my-note#chars={start},{start + 18}")
        assert page.locator("h1").inner_text() == "My note"
        assert page.locator("mark.target").inner_text() == "It says one thing."
        assert page.locator("#claims-list a").inner_text() == "the one thing"
        uncited = page.locator("#source-text .uncited").all_inner_texts()
        assert uncited == ["A short note.", "And another!"]
        page = v.open("/source", ready="h1")
        assert page.locator("ul.sources a").get_attribute("href") == "/source/my-note"
        v.check()
        v.close()
    finally:
        server.shutdown()
        thread.join(10)


# -- 2. permalinks and history ---------------------------------------------------------


def test_permalink_with_parameters_reruns_after_reload(visit: Visit, kg: KnowledgeGraph, case: Case) -> None:
    effect, expected = text_column(kg, case.name, **{case.param: case.value})
    page = visit.open("/#" + urlencode({"query": case.name, case.param: case.value}))
    wait_run(page, 1)
    first = column(page, effect)
    assert first == expected
    assert page.locator("#param-" + case.param).input_value() == case.value
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_run(page, 1)
    assert column(page, effect) == first

    # another query, then Back returns to the first one's rows, Forward to the other's
    page.locator("#gallery-toggle").click() if visit.width < 600 else None
    page.locator(f'#gallery button[data-name="{OFF_LABEL}"]').click()
    page.locator("#run").click()
    wait_run(page, 2)
    assert OFF_LABEL in page.url
    page.go_back()
    page.wait_for_function("(t) => document.querySelector('#query-title').textContent === t", arg=case.title)
    wait_run(page, 3)
    assert column(page, effect) == first
    page.go_forward()
    wait_run(page, 4)
    assert OFF_LABEL in page.url and page.locator("#query-title").inner_text() == "Off-label uses lacking evidence"

    # an ad-hoc query has its own URL too
    page.locator("#sparql").fill("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    page.locator("#detach").click()
    wait_run(page, 5)
    assert "sparql=" in page.url
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_run(page, 1)
    assert column(page, "n") == [str(len(kg))]

    # changing the fragment in the open tab runs what it names
    page.evaluate("(h) => { location.hash = h; }", "#" + urlencode({"query": case.name, case.param: case.value}))
    wait_run(page, 2)
    assert column(page, effect) == first

    # Back to before the first query: the page as it opened
    start = visit.open("/")
    start.locator("#run").click()
    wait_run(start, 1)
    start.go_back()
    start.wait_for_function("() => document.querySelector('#results').childElementCount === 0")
    assert "ntx:Indication" in start.locator("#sparql").input_value()

    # the history lists the last queries run, newest first
    history = start.locator("#history a").all_inner_texts()
    assert history[0].startswith("PREFIX ntx:")  # the last one run
    assert history[1] == case.title
    assert history[2].startswith("SELECT (COUNT(*)")
    assert case.title in history and "Off-label uses lacking evidence" in history
    visit.check()


# -- 3. saved queries stay bound ----------------------------------------------------------


def test_edited_saved_query_keeps_its_parameters_bound(visit: Visit, kg: KnowledgeGraph, case: Case) -> None:
    effect, expected = text_column(kg, case.name, **{case.param: case.value})
    assert 0 < len(expected) < len(saved_rows(kg, case.name))  # the parameter matters
    page = visit.open("/#" + quote(case.name))
    wait_run(page, 1)
    page.locator("#param-" + case.param).select_option(case.value)
    page.locator("#sparql").press("End")
    page.locator("#sparql").type(" ")
    assert page.locator("#edited").is_visible()
    page.locator("#run").click()
    wait_run(page, 2)
    assert page.locator("#status").inner_text().startswith(f"{len(expected)} row")
    assert column(page, effect) == expected
    assert "text=" in page.url and case.param + "=" in page.url
    # the permalink of the edited query keeps both the text and the parameters
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    wait_run(page, 1)
    assert page.locator("#sparql").input_value().endswith(" ")
    assert column(page, effect) == expected
    # a syntax error in the edited text is marked where it is in the text on screen
    page.locator("#sparql").press("Control+Home")
    page.locator("#sparql").type("}")
    page.locator("#run").click()
    page.wait_for_selector("#status.error")
    assert page.locator("#error-mark").get_attribute("data-line") == "1"
    # dropping the parameters is an explicit choice
    page.locator("#sparql").press("Control+Home")
    page.locator("#sparql").press("Delete")
    page.locator("#detach").click()
    wait_run(page, 3)
    assert page.locator("#query-title").inner_text() == "SPARQL query"
    assert page.locator("#params").is_hidden()
    assert "sparql=" in page.url
    visit.check()


# -- 4. results: paging, sorting, wrapping, graph answers, downloads -------------------


def test_paging_sorting_and_the_quote_column(visit: Visit, kg: KnowledgeGraph) -> None:
    sparql = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    total = len(kg)
    page = visit.open("/#" + urlencode({"sparql": sparql, "size": "10"}))
    wait_run(page, 1)
    assert page.locator("#range").inner_text() == f"Rows 1\u201310 of {total}"
    page.locator("#next").click()
    wait_run(page, 2)
    assert page.locator("#range").inner_text() == f"Rows 11\u201320 of {total}"
    numbers = [t.strip() for t in page.locator("#results tbody td.rownum").all_inner_texts()]
    assert numbers == [str(n) for n in range(11, 21)]
    assert page.locator("#results tbody tr").count() == 10
    assert "offset=10" in page.url
    expected = [r["s"] for r in select(kg, sparql + " LIMIT 10 OFFSET 10")]
    shown = page.locator("#results tbody td:nth-child(2) a").evaluate_all("els => els.map(a => a.title)")
    assert shown == expected

    # sorting is done by the server, over all rows
    page.locator('#results th button.sort[data-var="o"]').click()
    wait_run(page, 3)
    assert page.locator('#results th[aria-sort="ascending"]').count() == 1
    assert page.locator("#range").inner_text() == f"Rows 1\u201310 of {total}"

    # the flagship answer: the quote column wraps inside the page instead of running off it
    page = visit.open("/#" + quote(OFF_LABEL))
    wait_run(page, 1)
    if visit.width > 600:
        header = page.locator('#results th:has(button.sort[data-var="quote"])').bounding_box()
        assert header["x"] + header["width"] <= visit.width, "the quote column is off-screen"
    long = page.locator("#results td .literal.long").first
    assert long.evaluate("e => getComputedStyle(e).whiteSpace") == "normal"
    shoot(page, "home", visit.width)
    csv = page.locator("#downloads a", has_text="CSV").get_attribute("href")
    assert csv.startswith(f"/queries/{OFF_LABEL}.csv?")
    fits(page, visit.width)
    visit.check()


def test_graph_answers_as_entity_cards_and_turtle(visit: Visit, kg: KnowledgeGraph) -> None:
    card = kg.run("drug-card")
    subjects = {str(t.subject) for t in card.triples}
    page = visit.open("/#drug-card")
    wait_run(page, 1)
    status = page.locator("#status").inner_text()
    assert status.startswith(f"{len(card.triples)} triples about {len(subjects)} subjects")
    assert page.locator(".entity-card").count() == min(20, len(subjects))
    assert page.locator("#range").inner_text() == f"Subjects 1\u2013{min(20, len(subjects))} of {len(subjects)}"
    from ntx_graph import formats  # the registry's graph formats, in its order

    assert [a.strip() for a in page.locator("#downloads a").all_inner_texts()] == list(
        formats.downloads(formats.GRAPH).values()) == ["Turtle", "N-Triples", "JSON-LD", "RDF/XML", "TriG"]
    page.locator('.view-switch button[data-mode="turtle"]').click()
    page.wait_for_selector("pre.turtle")
    assert "@prefix" in page.locator("pre.turtle").inner_text()
    fits(page, visit.width)

    # an ad-hoc CONSTRUCT: the page learns its kind from the answer's Content-Type
    page.locator("#sparql").fill("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                                 "CONSTRUCT { ?i rdfs:label ?l } WHERE { ?i a <https://w3id.org/ntx-graph/def/"
                                 "Indication> ; rdfs:label ?l }")
    page.locator("#detach").click()
    wait_run(page, 2)
    assert "naltrexone for HIV" in page.locator("#results .cards-grid").inner_text()
    visit.check()


# -- 5. errors in place ----------------------------------------------------------------------


def test_syntax_error_is_marked_at_its_line_and_column(visit: Visit) -> None:
    page = visit.open("/")
    page.locator("#sparql").fill("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?s WHERE {\n  ?s ?p\n}")
    page.locator("#run").click()
    page.wait_for_selector("#status.error")
    message = page.locator("#status").inner_text()
    assert "Error 400" in message
    line, col = map(int, re.search(r"line (\d+), column (\d+)", message).groups())  # type: ignore[union-attr]
    marker = page.locator("#error-mark")
    assert marker.get_attribute("data-line") == str(line)
    assert marker.get_attribute("data-column") == str(col)
    editor = page.locator("#sparql").bounding_box()
    height = page.locator("#sparql").evaluate("e => parseFloat(getComputedStyle(e).lineHeight)")
    pad = page.locator("#sparql").evaluate("e => parseFloat(getComputedStyle(e).paddingTop)")
    top = marker.bounding_box()["y"] - editor["y"] - pad
    assert abs(top - (line - 1) * height) < height / 2, "the marker is not on the reported line"
    assert page.locator("#error").is_visible()
    assert page.locator("#sparql").get_attribute("aria-invalid") == "true"
    page.locator("#error button").click()
    assert page.locator("#sparql").evaluate("e => e.selectionStart") > 0
    page.locator("#sparql").type("x")
    assert page.locator("#error-mark").count() == 0
    visit.check()


# -- 6. HTML where a person looks, data where a program asks ---------------------------------


def get(url: str, accept: str = "") -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("path", "accept", "media_type"), [
    ("/sparql", BROWSER_ACCEPT, "text/html"),
    ("/sparql", "", "text/turtle"),
    ("/sparql", "application/ld+json", "application/ld+json"),
    ("/queries", BROWSER_ACCEPT, "text/html"),
    ("/queries", "", "application/json"),
    ("/queries.json", BROWSER_ACCEPT, "application/json"),
    (f"/queries/{SEVERITY}", BROWSER_ACCEPT, "text/html"),
    (f"/queries/{SEVERITY}", "", "application/sparql-results+json"),
    (f"/queries/{SEVERITY}.csv", BROWSER_ACCEPT, "text/csv"),
    ("/entity?" + urlencode({"iri": HIV}), BROWSER_ACCEPT, "text/html"),
    ("/entity?" + urlencode({"iri": HIV}), "text/turtle", "text/turtle"),
    ("/entity?" + urlencode({"iri": HIV}), "application/n-triples", "application/n-triples"),
    ("/entity.jsonld?" + urlencode({"iri": HIV}), BROWSER_ACCEPT, "application/ld+json"),
    ("/entity?" + urlencode({"iri": HIV, "format": "rdfxml"}), BROWSER_ACCEPT, "application/rdf+xml"),
    ("/openapi.json", "", "application/json"),
    ("/openapi.json", BROWSER_ACCEPT, "text/html"),  # redirected to the browsable page
])
def test_negotiation(base_url: str, path: str, accept: str, media_type: str) -> None:
    status, ctype, body = get(base_url + path, accept)
    assert status == 200
    assert ctype.split(";")[0] == media_type
    assert body


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any, bytes]:
    """Status, headers (names in any case) and body, errors included."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_paging_by_the_server(base_url: str, kg: KnowledgeGraph) -> None:
    sparql = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    url = f"{base_url}/sparql?" + urlencode({"query": sparql, "_offset": 10, "_limit": 10})
    status, headers, body = fetch(url, headers={"Accept": "application/sparql-results+json"})
    assert status == 200 and headers["X-Total-Count"] == str(len(kg))
    rows = json.loads(body)["results"]["bindings"]
    assert [r["s"]["value"] for r in rows] == [r["s"] for r in select(kg, sparql + " LIMIT 10 OFFSET 10")]
    # sorted by the server over every row, numbers as numbers
    effect, everything = text_column(kg, SEVERITY)
    url = f"{base_url}/queries/{SEVERITY}?" + urlencode({"_sort": "-" + effect, "_limit": 3})
    status, headers, body = fetch(url)
    shown = [r[effect]["value"] for r in json.loads(body)["results"]["bindings"]]
    assert shown == sorted(everything, key=str.casefold, reverse=True)[:3]
    status, headers, body = fetch(f"{base_url}/sparql?" + urlencode(
        {"query": "SELECT ?n WHERE { VALUES ?n { 10 9 100 } }", "_sort": "n"}))
    assert [r["n"]["value"] for r in json.loads(body)["results"]["bindings"]] == ["9", "10", "100"]
    for query, why in (({"_offset": "ten"}, "whole number"), ({"_limit": "\u00b2"}, "whole number"),
                       ({"_sort": "nothing"}, "cannot sort"), ({"_limit": "2", "format": "csv"}, "SPARQL JSON")):
        status, _, body = fetch(f"{base_url}/queries/{SEVERITY}?" + urlencode(query))
        assert status == 400 and why in body.decode()
        status, _, body = fetch(f"{base_url}/sparql?" + urlencode({"query": sparql, **query}))
        assert status == 400 and why in body.decode()
    # a graph answer has no rows: it comes whole
    status, headers, body = fetch(f"{base_url}/queries/drug-card?_limit=1", headers={"Accept": "application/n-triples"})
    assert status == 200 and len(body.decode().strip().splitlines()) == len(kg.run("drug-card").triples)


def test_an_edited_text_is_bound_by_the_server(base_url: str, kg: KnowledgeGraph, case: Case) -> None:
    saved = next(q for q in kg.saved_queries() if q.name == case.name)
    edited = saved.text + "\n# edited\n"
    status, _, body = fetch(f"{base_url}/queries/{case.name}.rq?" + urlencode({case.param: case.value}),
                            edited.encode(), {"Content-Type": "application/sparql-query"})
    assert status == 200 and body.decode().endswith("# edited\n")
    rows = kg.query(body.decode()).to_python()
    effect, expected = text_column(kg, case.name, **{case.param: case.value})
    assert [r[effect] for r in rows] == expected
    status, _, body = fetch(f"{base_url}/queries/{case.name}.rq", b"SELECT * {}", {"Content-Type": "text/plain"})
    assert status == 415
    status, _, body = fetch(f"{base_url}/queries/{case.name}.rq?nothing=1", edited.encode(),
                            {"Content-Type": "application/sparql-query"})
    assert status == 400
    status, _, _ = fetch(f"{base_url}/queries/{case.name}", edited.encode(),
                         {"Content-Type": "application/sparql-query"})
    assert status == 405


def test_entity_rdf_holds_its_triples_and_quotes(base_url: str, kg: KnowledgeGraph) -> None:
    from pyoxigraph import NamedNode, RdfFormat, parse

    _, _, body = get(base_url + "/entity?" + urlencode({"iri": "ind:hiv"}), "text/turtle")
    triples = list(parse(body, format=RdfFormat.TURTLE))
    about = {t.predicate.value for t in triples if t.subject == NamedNode(HIV)}
    assert {str(r["p"]) for r in select(kg, f"SELECT ?p WHERE {{ <{HIV}> ?p ?o }}")} <= about
    exact = hiv_quote(kg)[2]
    assert any(str(t.object).strip('"') == exact for t in triples)


def test_saved_query_page_has_the_form_and_runs(visit: Visit, kg: KnowledgeGraph, case: Case) -> None:
    expected = saved_rows(kg, case.name, **{case.param: case.value})
    page = visit.open(f"/queries/{case.name}", ready="h1")
    assert page.locator("form.params select#param-" + case.param).count() == 1
    page.locator("#param-" + case.param).select_option(case.value)
    page.locator("form.params button[type=submit]").click()
    page.wait_for_url(re.compile(f".*{case.param}=.*"))
    assert page.locator("#param-" + case.param).input_value() == case.value
    assert page.locator("table.grid tbody tr").count() == len(expected)
    assert page.locator("p.status").inner_text().startswith(f"{len(expected)} row")
    fits(page, visit.width)
    # the service description and the API page are pages too
    page = visit.open("/sparql", ready="h1")
    assert "no outbound connections" in page.locator("ul.features").inner_text()
    page = visit.open("/openapi.json", ready="#swagger-ui .info")
    assert page.url.endswith("/api")
    assert "ntx-graph" in page.locator("#swagger-ui .info").inner_text()
    visit.check()


def test_csp_allows_no_inline_script(base_url: str) -> None:
    for path in ("/", "/api", f"/source/{SOURCE}", "/queries"):
        request = urllib.request.Request(base_url + path, headers={"Accept": BROWSER_ACCEPT})
        with urllib.request.urlopen(request, timeout=20) as response:
            csp = response.headers["Content-Security-Policy"]
            body = response.read().decode()
        script_src = re.search(r"(?:script-src|default-src)([^;]*)", csp).group(1)  # type: ignore[union-attr]
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), f"{path} has an inline script"
        assert not re.search(r"\son[a-z]+=", body), f"{path} has an inline event handler"


# -- 7. layout: narrow screens, dark mode, keyboard ----------------------------------------


def test_layout_keyboard_and_narrow_screens(visit: Visit) -> None:
    page = visit.open("/")
    run = page.locator("#run")
    run.scroll_into_view_if_needed()
    box = run.bounding_box()
    hit = page.evaluate(f"document.elementFromPoint({box['x'] + box['width'] / 2}, {box['y'] + box['height'] / 2}).id")
    assert hit == "run", "Run is covered"
    assert box["x"] + box["width"] <= visit.width
    if visit.width < 600:
        assert page.locator("#gallery").is_hidden()
        page.locator("#gallery-toggle").click()
        assert page.locator("#gallery").is_visible()
        page.keyboard.press("Escape")
        assert page.locator("#gallery").is_hidden()
    # Ctrl+Enter runs; the focus is visible
    page.locator("#sparql").focus()
    page.keyboard.press("Control+Enter")
    wait_run(page, 1)
    assert page.locator("#results tbody tr").count() > 0
    fits(page, visit.width)
    page.locator("#run").focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = page.locator("#run").evaluate(
        "e => getComputedStyle(e).outlineStyle + ' ' + getComputedStyle(e).outlineWidth")
    assert outline.startswith("solid") and not outline.endswith(" 0px")
    widths = [visit.width, 360] if visit.width < 600 else [visit.width]
    for width in widths:
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/#" + quote(OFF_LABEL), "/entity?" + urlencode({"iri": HIV}), f"/source/{SOURCE}", "/queries",
                     f"/queries/{OFF_LABEL}", "/sparql", "/#drug-card"):
            page = visit.open(path, ready="h1")
            if path.startswith("/#"):
                wait_run(page, 1)
            fits(page, width)
    visit.check()


def test_dark_mode_follows_the_system(browser: Any, base_url: str) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        v = Visit(browser, base_url, 1400, 900, color_scheme=scheme)
        page = v.open("/")
        colours[scheme] = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        if scheme == "dark":
            shoot(page, "home-dark", 1400)
        v.check()
        v.close()
    assert colours["light"] != colours["dark"]
    assert colours["dark"] == "rgb(18, 23, 29)"


# -- 8. snippets that run as they stand ------------------------------------------------------


def test_snippets_run_against_this_server(visit: Visit, kg: KnowledgeGraph, case: Case) -> None:
    expected = saved_rows(kg, case.name, **{case.param: case.value})
    page = visit.open("/#" + urlencode({"query": case.name, case.param: case.value}))
    wait_run(page, 1)
    page.locator("#snippets summary").click()
    page.wait_for_function("() => document.querySelector('#snippet-python').textContent.includes('VALUES')")
    python = page.locator("#snippet-python").inner_text()
    curl = page.locator("#snippet-curl").inner_text()
    done = subprocess.run([sys.executable, "-c", python], capture_output=True, text=True, timeout=60, check=True)
    assert len(done.stdout.splitlines()) == len(expected)
    if shutil.which("curl"):
        out = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=60, check=True)
        assert len(out.stdout.strip().splitlines()) == len(expected) + 1  # the header line
    # an ad-hoc query's snippets
    page.locator("#sparql").fill("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    page.locator("#detach").click()
    wait_run(page, 2)
    page.wait_for_function("() => document.querySelector('#snippet-python').textContent.includes('COUNT')")
    done = subprocess.run([sys.executable, "-c", page.locator("#snippet-python").inner_text()],
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == repr({"n": str(len(kg))})
    if shutil.which("curl"):
        out = subprocess.run(page.locator("#snippet-curl").inner_text(), shell=True, capture_output=True, text=True,
                             timeout=60, check=True)
        assert out.stdout.splitlines() == ["n", str(len(kg))]
    visit.check()


# -- accessibility: axe-core ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/entity?" + urlencode({"iri": HIV}), f"/source/{SOURCE}", "/queries"])
def test_axe_finds_no_serious_violation(visit: Visit, path: str) -> None:
    require([] if AXE.is_file() else [str(AXE.relative_to(ROOT))], AXE_INSTALL)
    page = visit.open(path, ready="h1")
    if path == "/":
        page = visit.open("/#" + quote(OFF_LABEL))
        wait_run(page, 1)
    page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluated by the test harness, outside the page's CSP
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        report = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]]) for v in report["violations"]
               if v["impact"] in ("serious", "critical")]
        assert bad == [], f"{scheme}: {json.dumps(bad)}"
    visit.check()
