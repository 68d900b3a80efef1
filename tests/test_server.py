"""The HTTP server: the router on its own (no sockets), then the live server
over urllib: the SPARQL 1.1 Protocol, content negotiation, the read-only and
no-outbound rules, the limits, CORS, the saved queries, OpenAPI and the
entity page."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import pyoxigraph
import pytest

from ntx_graph.catalog import saved_queries
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.resources import queries_dir
from ntx_graph.server import Limits, NtxServer, make_server
from ntx_graph.server.guard import Refused, check_query
from ntx_graph.server.messages import Request, Response
from ntx_graph.server.negotiation import NotAcceptable, choose, negotiate, parse_accept
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor

ROOT = Path(__file__).resolve().parents[1]
HIV = "https://w3id.org/ntx-graph/id/indication/hiv"
HIV_QUOTE = "not supported by scientific evidence"
INDICATIONS = ("PREFIX ntx: <https://w3id.org/ntx-graph/def/>\n"
               "SELECT ?i WHERE { ?i a ntx:Indication } ORDER BY ?i")
CONSTRUCT = ("PREFIX ntx: <https://w3id.org/ntx-graph/def/>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
             "CONSTRUCT { ?i rdfs:label ?l } WHERE { ?i a ntx:Indication ; rdfs:label ?l }")
ASK = "ASK { ?s a <https://w3id.org/ntx-graph/def/Indication> }"
# 2104^3 rows to count: far longer than any time limit here.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SAVED = sorted(p.stem for p in queries_dir().glob("*.rq"))


# -- the router, without HTTP ---------------------------------------------------


@pytest.fixture(scope="module")
def router(kg: KnowledgeGraph) -> Router:
    return Router(Snapshot.of(kg), Limits(max_rows=50, max_request_bytes=5000), InlineExecutor(kg),
                  host="example.test")


def call(router: Router, method: str, path: str, params: Mapping[str, str] | None = None, *,
         body: bytes = b"", **headers: str) -> Response:
    names = {k.replace("_", "-").lower(): v for k, v in headers.items()}
    return router(Request(method, path, urlencode(params or {}), names, body))


def line(response: Response) -> str:
    return response.body.decode()


def test_accept_parsing_and_choice() -> None:
    assert [r.q for r in parse_accept("text/csv;q=0.2, application/json, bad")] == [0.2, 1.0]
    offers = (("application/sparql-results+json", "json"), ("text/csv", "csv"))
    assert choose("", offers) == "json"
    assert choose("*/*", offers) == "json"
    assert choose("text/*;q=0.9, application/*;q=0.1", offers) == "csv"
    assert choose("text/csv;q=0, */*", offers) == "json"
    assert choose("image/png", offers) is None
    assert negotiate("SELECT", "", "csv") == "csv"
    assert negotiate("CONSTRUCT", "", "ttl") == "turtle"
    assert negotiate("DESCRIBE", "application/ld+json") == "jsonld"
    with pytest.raises(NotAcceptable, match="not available for a SELECT"):
        negotiate("SELECT", "", "turtle")


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
    "SELECT * FROM NAMED <http://example.org/g> WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { GRAPH ex:g { ?s ?p ?o } }",
    "LOAD <http://example.org/data.ttl>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
])
def test_guard_refuses(query: str) -> None:
    with pytest.raises(Refused):
        check_query(query, frozenset(), {})


def test_guard_allows_variables_and_strings() -> None:
    check_query('SELECT * WHERE { GRAPH ?g { ?s ?p "SERVICE FROM <x>" } }', frozenset(), {})
    check_query("SELECT * FROM <http://held/> WHERE { ?s ?p ?o }", frozenset({"http://held/"}), {})


def test_router_health_and_static(router: Router) -> None:
    assert (call(router, "GET", "/health").status, line(call(router, "GET", "/health"))) == (200, "ok\n")
    page = call(router, "GET", "/")
    assert page.status == 200 and page.content_type.startswith("text/html")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert b"/static/app.js" in page.body
    assert call(router, "GET", "/static/app.js").content_type.startswith("text/javascript")
    assert call(router, "GET", "/static/../graph.py").status == 404


def test_router_select_json_by_default(router: Router) -> None:
    for accept in ("", "*/*", "application/sparql-results+json"):
        response = call(router, "GET", "/sparql", {"query": INDICATIONS}, accept=accept)
        assert response.status == 200, line(response)
        assert response.content_type == "application/sparql-results+json"
        assert json.loads(response.body)["head"]["vars"] == ["i"]
    assert response.headers["Vary"] == "Accept"


def test_router_format_override_and_406(router: Router) -> None:
    assert call(router, "GET", "/sparql", {"query": INDICATIONS, "format": "tsv"}).content_type.startswith(
        "text/tab-separated-values")
    refused = call(router, "GET", "/sparql", {"query": INDICATIONS}, accept="image/png")
    assert refused.status == 406 and "application/sparql-results+json" in line(refused)
    assert call(router, "GET", "/sparql", {"query": CONSTRUCT}, accept="text/csv").status == 406


def test_router_graph_results_default_to_turtle(router: Router, kg: KnowledgeGraph) -> None:
    response = call(router, "GET", "/sparql", {"query": CONSTRUCT})
    assert response.content_type.startswith("text/turtle")
    parsed = list(pyoxigraph.parse(response.body, format=pyoxigraph.RdfFormat.TURTLE))
    assert len(parsed) == len(kg.query(CONSTRUCT).triples) > 0


def test_router_malformed_query_names_line_and_column(router: Router) -> None:
    response = call(router, "GET", "/sparql", {"query": "SELECT * WHERE {\n  ?s ?p }"})
    assert response.status == 400
    assert response.content_type.startswith("text/plain")
    assert re.search(r"line 2, column \d+", line(response)), line(response)
    assert line(response).count("\n") == 1


@pytest.mark.parametrize(("method", "params", "body", "ctype"), [
    ("GET", {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}, b"", ""),
    ("POST", {}, b"update=DELETE+WHERE+%7B+%3Fs+%3Fp+%3Fo+%7D", "application/x-www-form-urlencoded"),
    ("POST", {}, b"DROP ALL", "application/sparql-update"),
    ("POST", {}, b"LOAD <http://example.org/x.ttl>", "application/sparql-query"),
])
def test_router_refuses_updates(router: Router, method: str, params: dict[str, str], body: bytes,
                                ctype: str) -> None:
    response = call(router, method, "/sparql", params, body=body, content_type=ctype)
    assert response.status == 400
    assert "read-only" in line(response)


@pytest.mark.parametrize("params", [
    {"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"},
    {"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"},
    {"query": "SELECT * WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }"},
    {"query": INDICATIONS, "default-graph-uri": "http://example.org/g"},
    {"query": INDICATIONS, "named-graph-uri": "http://example.org/g"},
])
def test_router_refuses_outbound(router: Router, params: dict[str, str]) -> None:
    response = call(router, "GET", "/sparql", params)
    assert response.status == 400
    assert "refused: the endpoint makes no outbound connections" in line(response)


def test_router_row_cap(router: Router) -> None:
    response = call(router, "GET", "/sparql", {"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status == 413
    assert "more than 50 rows" in line(response) and "LIMIT" in line(response)
    assert call(router, "GET", "/sparql", {"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"}).status == 200
    assert call(router, "GET", "/sparql", {"query": "CONSTRUCT WHERE { ?s ?p ?o }"}).status == 413


def test_router_paths_methods_and_cors(router: Router) -> None:
    assert call(router, "GET", "/nowhere").status == 404
    put = call(router, "PUT", "/sparql")
    assert put.status == 405 and "POST" in put.headers["Allow"]
    assert call(router, "POST", "/queries").status == 405
    preflight = call(router, "OPTIONS", "/sparql", origin="https://elsewhere.example",
                     access_control_request_method="POST")
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert call(router, "POST", "/sparql", body=b"x" * 6000, content_type="application/sparql-query").status == 413
    assert call(router, "POST", "/sparql", body=b"query=x", content_type="text/plain").status == 415
    assert call(router, "GET", "/sparql", {"query": "#" + "x" * 6000}).status == 414


def test_router_service_description(router: Router) -> None:
    response = call(router, "GET", "/sparql", host="example.test:8080")
    assert response.content_type.startswith("text/turtle")
    store = pyoxigraph.Store()
    store.load(response.body, format=pyoxigraph.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert bool(store.query(f"ASK {{ ?s <{sd}endpoint> <http://example.test:8080/sparql> ; "
                            f"<{sd}supportedLanguage> <{sd}SPARQL11Query> }}"))
    hostile = call(router, "GET", "/sparql", host="evil> <x")
    assert b"http://example.test/sparql" in hostile.body


def test_router_saved_queries(router: Router) -> None:
    listed = json.loads(call(router, "GET", "/queries").body)
    assert [q["name"] for q in listed] == SAVED
    off_label = next(q for q in listed if q["name"] == "off-label-uses-lacking-evidence")
    drug = off_label["parameters"][0]
    assert (drug["name"], drug["type"], drug["default"], drug["required"], drug["of_class"]) == \
        ("drug", "iri", "drug:naltrexone", False, "ntx:Drug")
    assert any(v["iri"] == "https://w3id.org/ntx-graph/id/drug/naltrexone" for v in drug["values"])
    assert off_label["links"]["csv"] == "/queries/off-label-uses-lacking-evidence.csv"
    html = call(router, "GET", "/queries", accept="text/html,application/xhtml+xml,*/*;q=0.8")
    assert html.content_type.startswith("text/html") and b"off-label-uses-lacking-evidence" in html.body


def test_router_saved_query_parameters(router: Router) -> None:
    ok = call(router, "GET", "/queries/off-label-uses-lacking-evidence.csv", {"drug": "drug:naltrexone"})
    assert ok.status == 200 and b"HIV" in ok.body
    for params, fragment in (({"drug": "not an iri"}, "not an absolute IRI"),
                             ({"colour": "red"}, "no parameter 'colour'"),
                             ({"drug": "cond:hiv"}, "is not a ntx:Drug")):
        bad = call(router, "GET", "/queries/off-label-uses-lacking-evidence", params)
        assert bad.status == 400 and fragment in line(bad), line(bad)
    extra = call(router, "GET", "/queries/quote-lookup.csv", {"text": "x", "extra": "1"})
    assert extra.status == 400
    assert call(router, "GET", "/queries/off-label-uses-lacking").status == 404
    assert call(router, "GET", "/queries/off-label-uses-lacking-evidence.ttl").status == 406
    assert call(router, "GET", "/queries/off-label-uses-lacking-evidence.rq").body.startswith(b"#+ title:")


def test_router_openapi(router: Router) -> None:
    doc = json.loads(call(router, "GET", "/openapi.json").body)
    assert doc["openapi"].startswith("3.0")
    for name in SAVED:
        operation = doc["paths"][f"/queries/{name}"]["get"]
        assert operation["operationId"]
    ids = [op["operationId"] for path in doc["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    params = doc["paths"]["/queries/off-label-uses-lacking-evidence"]["get"]["parameters"]
    drug = next(p for p in params if p["name"] == "drug")
    assert drug["schema"]["default"] == "drug:naltrexone" and "drug:naltrexone" in drug["schema"]["enum"]
    assert {"get", "post"} <= set(doc["paths"]["/sparql"])


def test_router_entity_page_shows_the_evidence(router: Router) -> None:
    page = call(router, "GET", "/entity", {"iri": HIV})
    assert page.status == 200 and page.content_type.startswith("text/html")
    text = page.body.decode()
    assert HIV_QUOTE in text
    assert "naltrexone for HIV" in text
    assert 'href="/entity?iri=https%3A%2F%2Fw3id.org%2Fntx-graph%2Fid%2Fcondition%2Fhiv"' in text
    condition = call(router, "GET", "/entity", {"iri": "cond:hiv"}).body.decode()
    assert HIV_QUOTE in condition  # the claim linking to the condition brings its quotes
    assert call(router, "GET", "/entity", {"iri": "https://example.org/nothing"}).status == 404
    assert call(router, "GET", "/entity", {"iri": "not an iri"}).status == 400


@pytest.mark.parametrize("path", ["/queries/drug-card", "/queries/primary-uses", "/entity?iri=drug%3Analtrexone",
                                  "/sparql"])
def test_every_download_link_of_a_page_answers_in_its_format(kg: KnowledgeGraph, path: str) -> None:
    """The pages' download links come from the formats registry, and each answers: TriG was missing from
    them, and /entity.trig answered 404."""
    import re

    from ntx_graph import formats

    router = Router(Snapshot.of(kg), Limits(), InlineExecutor(kg), host="example.test")

    target, _, query = path.partition("?")
    page = router(Request("GET", target, query, {"accept": "text/html"}))
    assert page.status == 200 and page.content_type.startswith("text/html"), page.body[:200]
    links = re.findall(r'<a[^>]* href="([^"]+)"[^>]*>([^<]+)</a>', page.body.decode())
    names = {label: href.replace("&amp;", "&") for href, label in links}
    use = formats.RESULTS if path == "/queries/primary-uses" else formats.GRAPH
    for suffix, label in formats.downloads(use).items():
        href = names[label]
        target, _, query = href.partition("?")
        answer = router(Request("GET", target, query, {}))
        expected = formats.find(suffix, use, http=True)
        assert expected is not None
        assert answer.status == 200, (href, answer.body[:200])
        assert answer.content_type.split(";")[0] == expected.media_types[0], (href, answer.content_type)


def test_an_edited_text_is_bound_in_a_worker(router: Router) -> None:
    """Issue 12 (fairness): the text a client POSTs to /queries/NAME.rq is analysed and bound by a
    query worker, within the time limit; the event loop only plans it (about 0.8 s of blocking per MB
    before)."""
    from ntx_graph.server.tasks import Deferred, bound_text

    edited = b"PREFIX drug: <https://w3id.org/ntx-graph/id/drug/>\nASK { ?drug a ?type } # edited\n"
    request = Request("POST", "/queries/is-narcotic.rq", "drug=drug%3Analtrexone",
                      {"content-type": "application/sparql-query"}, edited)
    planned = router.plan(request)
    assert isinstance(planned, Deferred) and planned.task[0] is bound_text
    answer = router(request)
    assert answer.status == 200 and answer.content_type.startswith("application/sparql-query")
    assert "VALUES (?drug) { (<https://w3id.org/ntx-graph/id/drug/naltrexone>) }" in answer.body.decode()
    refused = router(Request("POST", "/queries/is-narcotic.rq", "nothing=1",
                             {"content-type": "application/sparql-query"}, edited))
    assert refused.status == 400


def test_entity_page_escapes_data(tmp_path: Path) -> None:
    extra = tmp_path / "xss.ttl"
    extra.write_text('<https://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> '
                     '"<script>alert(1)</script> & \\"quotes\\"" .\n', encoding="utf-8")
    kg = KnowledgeGraph.open([extra])
    router = Router(Snapshot.of(kg), Limits(), InlineExecutor(kg))
    page = call(router, "GET", "/entity", {"iri": "https://example.org/x"}).body.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in page


# -- the live server over HTTP -------------------------------------------------------


@dataclass
class Live:
    server: NtxServer
    url: str


LIVE_LIMITS = Limits(timeout=1.0, max_rows=5000, max_request_bytes=20_000, workers=2, client_share=2)  # one client


@pytest.fixture(scope="module")
def live(kg: KnowledgeGraph) -> Iterator[Live]:
    server = make_server(kg, "127.0.0.1", 0, LIVE_LIMITS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(server, server.url.rstrip("/"))
    server.shutdown()
    thread.join(10)


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


def fetch(url: str, *, method: str = "GET", data: bytes | None = None, **headers: str) -> Answer:
    names = {k.replace("_", "-"): v for k, v in headers.items()}
    request = urllib.request.Request(url, data=data, method=method, headers=names)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return Answer(response.status, response.headers, response.read())  # names match in any case
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers, error.read())


def bindings(answer: Answer) -> list[dict[str, str]]:
    assert answer.status == 200, answer.text
    return [{k: v["value"] for k, v in b.items()} for b in json.loads(answer.body)["results"]["bindings"]]


def test_live_protocol_variants_agree(live: Live, kg: KnowledgeGraph) -> None:
    expected = [{"i": row["i"]} for row in kg.query(INDICATIONS).to_python()]
    by_get = fetch(f"{live.url}/sparql?{urlencode({'query': INDICATIONS})}")
    by_form = fetch(f"{live.url}/sparql", method="POST", data=urlencode({"query": INDICATIONS}).encode(),
                    Content_Type="application/x-www-form-urlencoded")
    by_body = fetch(f"{live.url}/sparql", method="POST", data=INDICATIONS.encode(),
                    Content_Type="application/sparql-query; charset=utf-8")
    assert bindings(by_get) == bindings(by_form) == bindings(by_body) == expected
    assert by_get.headers["Access-Control-Allow-Origin"] == "*"
    assert by_form.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(("accept", "media", "marker"), [
    ("application/sparql-results+json", "application/sparql-results+json", b'"bindings"'),
    ("application/sparql-results+xml", "application/sparql-results+xml", b"<sparql"),
    ("text/csv", "text/csv", b"i\r\nhttps://"),
    ("text/tab-separated-values", "text/tab-separated-values", b"?i\n<https://"),
])
def test_live_select_media_types(live: Live, accept: str, media: str, marker: bytes) -> None:
    answer = fetch(f"{live.url}/sparql?{urlencode({'query': INDICATIONS})}", Accept=accept)
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith(media)
    assert marker in answer.body


@pytest.mark.parametrize(("accept", "media", "fmt"), [
    ("text/turtle", "text/turtle", pyoxigraph.RdfFormat.TURTLE),
    ("application/n-triples", "application/n-triples", pyoxigraph.RdfFormat.N_TRIPLES),
    ("application/ld+json", "application/ld+json", pyoxigraph.RdfFormat.JSON_LD),
    ("", "text/turtle", pyoxigraph.RdfFormat.TURTLE),
    ("*/*", "text/turtle", pyoxigraph.RdfFormat.TURTLE),
])
def test_live_graph_media_types(live: Live, kg: KnowledgeGraph, accept: str, media: str,
                                fmt: pyoxigraph.RdfFormat) -> None:
    headers = {"Accept": accept} if accept else {}
    answer = fetch(f"{live.url}/sparql?{urlencode({'query': CONSTRUCT})}", **headers)
    assert answer.status == 200 and answer.headers["Content-Type"].startswith(media)
    assert len(list(pyoxigraph.parse(answer.body, format=fmt))) == len(kg.query(CONSTRUCT).triples)


def test_live_ask(live: Live) -> None:
    answer = fetch(f"{live.url}/sparql?{urlencode({'query': ASK})}")
    assert json.loads(answer.body)["boolean"] is True


def test_live_errors(live: Live) -> None:
    assert fetch(f"{live.url}/sparql?{urlencode({'query': INDICATIONS})}", Accept="image/png").status == 406
    malformed = fetch(f"{live.url}/sparql?{urlencode({'query': 'SELECT ?s WHERE { ?s ?p }'})}")
    assert malformed.status == 400 and "line 1, column" in malformed.text
    assert malformed.headers["Content-Type"].startswith("text/plain")
    update = fetch(f"{live.url}/sparql", method="POST", data=b"INSERT DATA { <http://a> <http://b> <http://c> }",
                   Content_Type="application/sparql-update")
    assert update.status == 400 and "read-only" in update.text
    service = fetch(f"{live.url}/sparql?" + urlencode(
        {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}))
    assert service.status == 400 and "no outbound connections" in service.text
    from_query = "SELECT * FROM <http://127.0.0.1:9/> { ?s ?p ?o }"
    from_clause = fetch(f"{live.url}/sparql?" + urlencode({"query": from_query}))
    assert from_clause.status == 400 and "FROM <http://127.0.0.1:9/> is refused" in from_clause.text
    assert fetch(f"{live.url}/no/such/path").status == 404


def test_live_request_size_limits(live: Live) -> None:
    big = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * 30_000
    answer = fetch(f"{live.url}/sparql", method="POST", data=big, Content_Type="application/sparql-query")
    assert answer.status == 413 and "20000 bytes" in answer.text
    long_url = f"{live.url}/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p ?o } #" + "x" * 30_000})
    assert fetch(long_url).status == 414
    assert fetch(f"{live.url}/health").status == 200


def test_live_row_cap(live: Live) -> None:
    query = "SELECT * WHERE { ?s ?p ?o VALUES ?copy { 1 2 3 } }"  # 3 x 2104 rows
    answer = fetch(f"{live.url}/sparql?{urlencode({'query': query})}")
    assert answer.status == 413
    assert "more than 5000 rows" in answer.text


def test_live_timeout_kills_and_replaces_the_worker(live: Live) -> None:
    before = set(live.server.pool.pids())
    url = f"{live.url}/sparql?{urlencode({'query': SLOW})}"
    answers: list[Answer] = []
    threads = [threading.Thread(target=lambda: answers.append(fetch(url))) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # both workers are busy now
    started = time.monotonic()
    health = fetch(f"{live.url}/health")
    assert health.status == 200 and health.text == "ok\n"
    assert time.monotonic() - started < 0.5
    for thread in threads:
        thread.join(15)
    assert [a.status for a in answers] == [503, 503]
    assert all("exceeded the time limit of 1 s" in a.text for a in answers)
    replaced = time.monotonic() + 10  # replacements start in the background
    while time.monotonic() < replaced and len(live.server.pool.pids()) < 2:
        time.sleep(0.05)
    after = set(live.server.pool.pids())
    assert len(after) == 2 and not before & after
    assert bindings(fetch(f"{live.url}/sparql?{urlencode({'query': INDICATIONS})}"))


def test_live_cors_preflight(live: Live) -> None:
    answer = fetch(f"{live.url}/sparql", method="OPTIONS", Origin="https://elsewhere.example",
                   Access_Control_Request_Method="POST", Access_Control_Request_Headers="content-type")
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "content-type" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_live_service_description(live: Live) -> None:
    answer = fetch(f"{live.url}/sparql", Accept="text/turtle")
    assert answer.status == 200
    store = pyoxigraph.Store()
    store.load(answer.body, format=pyoxigraph.RdfFormat.TURTLE)
    sd = "http://www.w3.org/ns/sparql-service-description#"
    endpoints = [r["e"].value for r in store.query(f"SELECT ?e WHERE {{ ?s <{sd}endpoint> ?e }}")]
    assert endpoints == [f"{live.url}/sparql"]
    formats = {r["f"].value for r in store.query(f"SELECT ?f WHERE {{ ?s <{sd}resultFormat> ?f }}")}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats


def test_live_queries_list_every_saved_query(live: Live) -> None:
    answer = fetch(f"{live.url}/queries")
    assert answer.headers["Content-Type"].startswith("application/json")
    assert [q["name"] for q in json.loads(answer.body)] == SAVED


@pytest.mark.parametrize(("suffix", "media"), [
    ("csv", "text/csv"), ("json", "application/sparql-results+json"), ("tsv", "text/tab-separated-values"),
    ("xml", "application/sparql-results+xml"),
])
def test_live_saved_query_suffixes(live: Live, suffix: str, media: str) -> None:
    answer = fetch(f"{live.url}/queries/off-label-uses-lacking-evidence.{suffix}?drug=drug%3Analtrexone")
    assert answer.status == 200 and answer.headers["Content-Type"].startswith(media)
    assert b"multiple sclerosis" in answer.body


@pytest.mark.parametrize("suffix", ["ttl", "nt", "jsonld"])
def test_live_saved_construct_suffixes(live: Live, kg: KnowledgeGraph, suffix: str) -> None:
    graph_queries = [q.name for q in saved_queries() if q.form in ("CONSTRUCT", "DESCRIBE")]
    if not graph_queries:
        pytest.skip("no saved CONSTRUCT query")
    name = graph_queries[0]
    answer = fetch(f"{live.url}/queries/{name}.{suffix}")
    assert answer.status == 200, answer.text
    fmt = {"ttl": pyoxigraph.RdfFormat.TURTLE, "nt": pyoxigraph.RdfFormat.N_TRIPLES,
           "jsonld": pyoxigraph.RdfFormat.JSON_LD}[suffix]
    assert len(list(pyoxigraph.parse(answer.body, format=fmt))) == len(kg.run(name).triples)


@pytest.mark.parametrize("name", SAVED)
def test_live_every_saved_query_matches_the_embedded_engine(live: Live, kg: KnowledgeGraph, name: str) -> None:
    saved = next(q for q in saved_queries() if q.name == name)
    if any(p.required for p in saved.parameters):
        pytest.skip(f"{name} has a required parameter")
    answer = fetch(f"{live.url}/queries/{quote(name)}", Accept="application/sparql-results+json, text/turtle")
    assert answer.status == 200, answer.text
    result = kg.run(name)
    if result.kind == "select":
        assert len(json.loads(answer.body)["results"]["bindings"]) == len(result.rows)
    elif result.kind == "ask":
        assert json.loads(answer.body)["boolean"] is result.boolean
    else:
        assert len(list(pyoxigraph.parse(answer.body, format=pyoxigraph.RdfFormat.TURTLE))) == len(result.triples)


def test_live_bad_parameter(live: Live) -> None:
    answer = fetch(f"{live.url}/queries/off-label-uses-lacking-evidence.csv?drug=%3Cnot%20an%20iri%3E")
    assert answer.status == 400 and "parameter 'drug'" in answer.text
    assert fetch(f"{live.url}/queries/off-label-uses-lacking-evidence?dose=3").status == 400


def test_live_openapi(live: Live) -> None:
    doc = json.loads(fetch(f"{live.url}/openapi.json").body)
    operations = {path for path in doc["paths"] if path.startswith("/queries/")}
    assert operations == {f"/queries/{name}{tail}" for name in SAVED for tail in ("", ".{suffix}", ".rq")}


def test_live_entity_page(live: Live) -> None:
    answer = fetch(f"{live.url}/entity?{urlencode({'iri': HIV})}")
    assert answer.status == 200
    assert HIV_QUOTE in answer.text
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_live_page_and_head(live: Live) -> None:
    page = fetch(f"{live.url}/")
    assert page.status == 200 and b"<textarea" in page.body
    head = fetch(f"{live.url}/", method="HEAD")
    assert head.status == 200 and head.body == b"" and int(head.headers["Content-Length"]) == len(page.body)


def test_shutdown_does_not_wait_for_idle_connections(kg: KnowledgeGraph) -> None:
    import socket

    server = make_server(kg, "127.0.0.1", 0, Limits(workers=1))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    idle = socket.create_connection(server.server_address[:2])  # like a browser's preconnect
    try:
        assert fetch(server.url + "health").status == 200
        time.sleep(0.1)
        started = time.monotonic()
        server.shutdown()
        thread.join(5)
        assert time.monotonic() - started < 2
        assert not thread.is_alive()
    finally:
        idle.close()


def test_cli_serve_stops_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    process = subprocess.Popen(
        [sys.executable, "-m", "ntx_graph", "serve", "--port", "0", "--timeout", "1.5", "--workers", "1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, text=True)
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        match = re.fullmatch(r"ntx-graph: serving (http://127\.0\.0\.1:\d+/) \(read-only\)\n", first)
        assert match, first
        url = match.group(1)
        assert fetch(url + "health").text == "ok\n"
        answers: list[Answer] = []
        slow = threading.Thread(target=lambda: answers.append(fetch(f"{url}sparql?{urlencode({'query': SLOW})}")))
        slow.start()
        time.sleep(0.4)
        process.send_signal(signal.SIGTERM)
        slow.join(10)
        assert process.wait(10) == 0
        assert [a.status for a in answers] == [503]  # the request in flight got its answer
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_worker_stops_writing_an_answer_at_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """--max-response-bytes is checked while serialising: the writer stops at the limit (413)."""
    from ntx_graph import results
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.server import tasks

    written: list[int] = []
    budget = results._Budget.write

    def counting(self: results._Budget, data: bytes) -> int:
        written.append(len(data))
        return budget(self, data)

    monkeypatch.setattr(results._Budget, "write", counting)
    monkeypatch.setattr(tasks, "response_limit", 2_000)
    job = tasks.QueryJob("json", 100_000, sparql="SELECT * WHERE { ?s ?p ?o }")
    answer = tasks.run_query(KnowledgeGraph.open(), job)
    assert answer.status == 413 and b"--max-response-bytes" in answer.body
    assert sum(written) < 200_000  # stopped early, not after writing the whole answer
    monkeypatch.setattr(tasks, "response_limit", None)
    assert tasks.run_query(KnowledgeGraph.open(), job).status == 200
