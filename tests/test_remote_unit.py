"""The remote endpoint and the Graph Store upload without a real triplestore:
VALUES injection (hostile values cannot change a query's structure), dialect
normalisation on canned Virtuoso-style answers from a local stub server,
errors, timeouts and authentication."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from ntx_graph.catalog import Parameter, SavedQuery, get_saved_query, saved_queries
from ntx_graph.errors import NtxError, ParameterError, QuerySyntaxError, QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.http_client import server_message
from ntx_graph.params import bind, term_text, values_block
from ntx_graph.params import bind_values as inject_values
from ntx_graph.push import PushError, PushResult, count_triples, push_graph
from ntx_graph.remote import RemoteEndpoint, parse_answer
from servers import Reply, Seen, Stub, stub_server

XSD = "http://www.w3.org/2001/XMLSchema#"
RESULTS_JSON = "application/sparql-results+json"
HOSTILE = [
    'say "hi"', "it's", '"""', "'''", '") } UNION { ?s ?p ?o } #', "}> . ?x ?y ?z", "line\nbreak\r\n\ttab",
    "# a comment?", "back\\slash\\", "x\\u0022y", "\\U0001F600", "\\\\u1234", "\x00\x01\x1f\x7f", "\x01abcd",
    "é😀\u2028\u2029\ufeff", "", " ", "ünïcødé ☃ 😀 " * 800,
]


# -- VALUES injection ---------------------------------------------------------------


def algebra(text: str) -> Any:
    """rdflib's algebra for a query."""
    return translateQuery(parseQuery(text)).algebra


def differences(a: Any, b: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where two algebra trees differ: (path, left, right) for each leaf."""
    if type(a) is not type(b):
        return [(path, a, b)]
    if isinstance(a, dict):
        if (isinstance(a, CompValue) and a.name != b.name) or list(a.keys()) != list(b.keys()):
            return [(path, a, b)]
        return [d for k in a for d in differences(dict.__getitem__(a, k), dict.__getitem__(b, k), f"{path}.{k}")]
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return [(path, a, b)]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [(path, a, b)]


def assert_only_the_value_differs(query: SavedQuery, name: str, hostile: ox.Literal | ox.NamedNode,
                                  harmless: ox.Literal | ox.NamedNode) -> None:
    base = bind(query, {}, graph_prefixes())
    bad = inject_values(query.text, {**base, name: hostile})
    good = inject_values(query.text, {**base, name: harmless})
    diffs = differences(algebra(bad), algebra(good))
    expected_bad = rdflib.Literal(hostile.value) if isinstance(hostile, ox.Literal) else rdflib.URIRef(hostile.value)
    expected_good = rdflib.Literal(harmless.value) if isinstance(harmless, ox.Literal) else \
        rdflib.URIRef(harmless.value)
    if hostile == harmless:
        assert diffs == []
        return
    assert [(d[1], d[2]) for d in diffs] == [(expected_bad, expected_good)], diffs
    assert ".res[0]" in diffs[0][0]  # the one difference is in the VALUES rows


@cache
def graph_prefixes() -> dict[str, str]:
    """The bundled graph's prefixes."""
    return KnowledgeGraph.open().prefixes


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_text_only_changes_the_value(text: str) -> None:
    assert_only_the_value_differs(get_saved_query("quote-lookup"), "text", ox.Literal(text), ox.Literal("craving"))


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40))
def test_any_text_only_changes_the_value(text: str) -> None:
    query = SavedQuery("t", "T", "D", "SELECT ?text WHERE { ?s ?p ?text }", Path("t.rq"),
                       (Parameter("text", "string", default="x"),))
    assert_only_the_value_differs(query, "text", ox.Literal(text), ox.Literal("x"))


@pytest.mark.parametrize("iri", ["http://example.org/é/😀?q=1#frag", "urn:x:a%20b", "https://w3id.org/x';--"])
def test_odd_iris_only_change_the_value(iri: str) -> None:
    drug = ox.NamedNode("https://w3id.org/ntx-graph/id/drug/naltrexone")
    assert_only_the_value_differs(get_saved_query("primary-uses"), "drug", ox.NamedNode(iri), drug)


@pytest.mark.parametrize("iri", ["http://a b", "http://a/>", "http://a/}", "http://a/{", 'http://a/"', "http://a/\\",
                                 "no-scheme", "<http://a/> . ?s ?p ?o"])
def test_bad_iris_are_refused_before_any_request(iri: str, stub: Stub) -> None:
    endpoint = RemoteEndpoint(stub.url, prefixes={}, check_classes=False)
    query = SavedQuery("q", "Q", "D", "SELECT ?x WHERE { ?x ?p ?o }", Path("q.rq"), (Parameter("x", "iri"),))
    with pytest.raises(ParameterError):
        endpoint.run(query, {"x": iri})
    assert stub.requests == []


def test_terms_are_strict_ntriples() -> None:
    assert term_text(ox.Literal('a"b')) == '"a\\"b"'
    assert term_text(ox.Literal("x", language="en-GB")) == '"x"@en-gb'
    assert term_text(ox.Literal("5", datatype=ox.NamedNode(XSD + "integer"))) == f'"5"^^<{XSD}integer>'
    assert term_text(ox.Literal("x\\u0041")) == '"x\\\\\\u0075\\u0030\\u0030\\u0034\\u0031"'
    with pytest.raises(ParameterError):
        term_text(ox.BlankNode("b0"))  # type: ignore[arg-type]


def test_values_go_first_in_the_outermost_where_group() -> None:
    drug = ox.NamedNode("https://w3id.org/ntx-graph/id/drug/naltrexone")
    block = values_block({"drug": drug})
    assert block == "VALUES (?drug) { (<https://w3id.org/ntx-graph/id/drug/naltrexone>) }"
    for text, head in [
        ("SELECT ?drug WHERE { ?drug ?p ?o }", "SELECT ?drug WHERE {"),
        ("PREFIX w: <http://w/where#>\nSELECT * { { SELECT ?drug WHERE { ?drug ?p ?o } } }", "SELECT * {"),
        ("ASK { ?drug ?p ?o }", "ASK {"),
        ("CONSTRUCT { ?drug ?p 'WHERE {' } WHERE { ?drug ?p ?o }", "WHERE {"),
        ("# WHERE { in a comment\nSELECT ?drug\nWHERE\n{ ?drug ?p ?o }", "{"),
    ]:
        injected = inject_values(text, {"drug": drug})
        start = injected.index(block)
        assert injected[:start].rstrip().endswith(head), injected
        parseQuery(injected)
    assert inject_values("SELECT * WHERE { ?s ?p ?o }", {}) == "SELECT * WHERE { ?s ?p ?o }"


def test_queries_without_a_place_for_values_are_refused() -> None:
    drug = {"drug": ox.NamedNode("urn:x")}
    assert inject_values("CONSTRUCT WHERE { ?drug ?p ?o }", drug) == (
        "CONSTRUCT { ?drug ?p ?o } WHERE {\n  VALUES (?drug) { (<urn:x>) }\n ?drug ?p ?o }")
    with pytest.raises(NtxError, match="no WHERE group"):
        inject_values("DESCRIBE <urn:x>", drug)
    with pytest.raises(ParameterError):
        values_block({"not a name": ox.NamedNode("urn:x")})


@pytest.mark.parametrize("name", [q.name for q in saved_queries()])
def test_values_injection_means_the_same_as_binding(kg: KnowledgeGraph, name: str) -> None:
    saved = get_saved_query(name)
    bindings = kg.bind(saved, {})
    injected = inject_values(saved.text, bindings)
    parseQuery(injected)
    by_values = kg.query(injected)
    by_binding = kg.query(saved.text, bindings)
    assert by_values.kind == by_binding.kind
    if by_values.kind == "ask":
        assert by_values.boolean == by_binding.boolean
    elif by_values.kind == "graph":
        assert set(by_values.triples) == set(by_binding.triples)
    else:
        assert by_values.variables == by_binding.variables and by_values.rows == by_binding.rows


# -- a stub endpoint ------------------------------------------------------------------


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as started:
        yield started


def table(variables: list[str], *rows: dict[str, Any]) -> str:
    return json.dumps({"head": {"link": [], "vars": variables}, "results": {"distinct": False, "bindings": list(rows)}})


def typed(value: str, datatype: str) -> dict[str, str]:
    return {"type": "typed-literal", "datatype": XSD + datatype, "value": value}


ECHO = SavedQuery("echo", "Echo", "D", "#+ title: Echo\n# insert, delete, load and add are words here\n"
                  "SELECT ?text WHERE { }\n", Path("echo.rq"), (Parameter("text", "string", default="x"),))


def test_the_request_is_a_plain_sparql_protocol_post(stub: Stub) -> None:
    stub.answer(200, RESULTS_JSON, table(["text"], {"text": {"type": "literal", "value": 'a "b"'}}))
    endpoint = RemoteEndpoint(stub.url, graph="https://w3id.org/ntx-graph/test/g", prefixes={})
    result = endpoint.run(ECHO, {"text": 'a "b"'})
    assert result.rows == [(ox.Literal('a "b"'),)]
    (seen,) = stub.requests
    assert seen.method == "POST" and seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert seen.headers["accept"].startswith(RESULTS_JSON)
    assert seen.headers["user-agent"].startswith("ntx-graph/")
    form = seen.form
    assert form["default-graph-uri"] == ["https://w3id.org/ntx-graph/test/g"]
    assert set(form) == {"query", "default-graph-uri"}  # no format=/output= guesses: content negotiation only
    assert 'VALUES (?text) { ("a \\"b\\"") }' in form["query"][0]
    assert "update" not in form  # comments naming update keywords do not make it an update


def test_graph_queries_ask_for_ntriples(stub: Stub) -> None:
    stub.answer(200, "application/n-triples", '<urn:s> <urn:p> "1"^^<http://www.w3.org/2001/XMLSchema#boolean> .\n')
    result = RemoteEndpoint(stub.url, prefixes={}).query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    assert stub.requests[0].headers["accept"].startswith("application/n-triples")
    assert result.kind == "graph"
    assert result.triples == [ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"),
                                        ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")))]


@pytest.mark.parametrize(("ctype", "body"), [
    ("text/turtle", "@prefix ns0: <urn:> .\nns0:s ns0:p ns0:o ."),
    ("application/rdf+xml", '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                            '<rdf:Description rdf:about="urn:s"><p xmlns="urn:" rdf:resource="urn:o"/>'
                            "</rdf:Description></rdf:RDF>"),
    ("application/ld+json", '[{"@id": "urn:s", "urn:p": [{"@id": "urn:o"}]}]'),
    (RESULTS_JSON, table(["s", "p", "o"], {"s": {"type": "uri", "value": "urn:s"},
                                           "p": {"type": "uri", "value": "urn:p"},
                                           "o": {"type": "uri", "value": "urn:o"}})),
])
def test_graph_answers_in_any_format(ctype: str, body: str) -> None:
    result = parse_answer(body.encode(), ctype, "CONSTRUCT")
    assert result.triples == [ox.Triple(ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:o"))]


@pytest.mark.parametrize(("ctype", "body", "expected"), [
    (RESULTS_JSON, '{"head": {"link": []}, "boolean": true}', True),
    (RESULTS_JSON, table(["__ASK_RETVAL"], {"__ASK_RETVAL": typed("1", "integer")}), True),
    (RESULTS_JSON, table(["__ASK_RETVAL"], {"__ASK_RETVAL": typed("0", "integer")}), False),
    (RESULTS_JSON, table(["__ASK_RETVAL"]), False),
    ("text/csv", '"bool"\n1\n', True),
    ("text/tab-separated-values", "?bool\n0\n", False),
    ("text/html", "true", True),
    ("application/sparql-results+xml", '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
                                       "<boolean>false</boolean></sparql>", False),
])
def test_ask_answers_become_booleans(ctype: str, body: str, expected: bool) -> None:
    result = parse_answer(body.encode(), ctype, "ASK")
    assert result.kind == "ask" and result.boolean is expected


def test_a_saved_ask_answered_as_a_virtuoso_table(stub: Stub) -> None:
    def respond(seen: Seen) -> Reply:
        query = seen.form["query"][0]
        if "?v a ?t" in query:  # the check that the drug is an ntx:Drug
            return 200, {"Content-Type": RESULTS_JSON}, b'{"head": {"link": []}, "boolean": true}'
        cell = typed("1" if "naltrexone" in query else "0", "integer")
        return 200, {"Content-Type": RESULTS_JSON}, table(["__ASK_RETVAL"], {"__ASK_RETVAL": cell}).encode()

    stub.respond = respond
    endpoint = RemoteEndpoint(stub.url, graph="urn:g", prefixes=graph_prefixes())
    result = endpoint.run("is-narcotic")
    assert result.kind == "ask" and result.boolean is True
    assert result.serialize("json") == b'{"head":{},"boolean":true}\n'
    assert len(stub.requests) == 2


def test_select_answers_are_normalised() -> None:
    body = table(
        ["n", "s", "b", "l", "x", "missing"],
        {"n": typed("42", "integer"), "s": typed("x", "string"), "b": typed("1", "boolean"),
         "l": {"type": "literal", "xml:lang": "en", "value": "y"}, "x": {"type": "bnode", "value": "nodeID://b1"}},
        {"n": {"type": "literal", "datatype": XSD + "decimal", "value": "1.5"}, "b": typed("0", "boolean"),
         "x": {"type": "bnode", "value": "nodeID://b1"}},
    )
    result = parse_answer(body.encode(), RESULTS_JSON, "SELECT")
    (n1, s1, b1, l1, x1, m1), (n2, s2, b2, l2, x2, m2) = result.rows
    assert n1 == ox.Literal("42", datatype=ox.NamedNode(XSD + "integer"))
    assert s1 == ox.Literal("x") and str(s1) == '"x"'
    assert b1 == ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))
    assert b2 == ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean"))
    assert l1 == ox.Literal("y", language="en")
    assert isinstance(x1, ox.BlankNode) and x1 == x2  # one label, one blank node
    assert n2 == ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal"))
    assert m1 is None and s2 is None and l2 is None and m2 is None


def test_xml_and_tsv_answers_are_read() -> None:
    xml = ('<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="b"/></head><results>'
           f'<result><binding name="b"><literal datatype="{XSD}boolean">1</literal></binding></result>'
           "</results></sparql>")
    assert parse_answer(xml.encode(), "application/sparql-results+xml", "SELECT").rows == [
        (ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),)]
    tsv = '?a\t?b\n<urn:a>\t"x"@en\n'
    assert parse_answer(tsv.encode(), "text/tab-separated-values", "SELECT").rows == [
        (ox.NamedNode("urn:a"), ox.Literal("x", language="en"))]


def test_bound_parameters_come_back_as_bound(stub: Stub) -> None:
    # Virtuoso returns a VALUES-bound true as "1"^^xsd:integer and 1.50 as 1.5
    stub.answer(200, RESULTS_JSON, table(["b", "d", "other"], {"b": typed("1", "integer"), "d": typed("1.5", "decimal"),
                                                               "other": typed("1", "integer")}))
    query = SavedQuery("q", "Q", "D", "SELECT ?b ?d ?other WHERE { }", Path("q.rq"),
                       (Parameter("b", "boolean"), Parameter("d", "decimal")))
    result = RemoteEndpoint(stub.url, prefixes={}).run(query, {"b": "true", "d": "1.50"})
    assert result.rows == [(ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),
                            ox.Literal("1.50", datatype=ox.NamedNode(XSD + "decimal")),
                            ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")))]


def test_each_parameter_gets_its_own_values_block(stub: Stub) -> None:
    # Virtuoso 7 cannot compile VALUES (?a ?b) when the query projects neither
    stub.answer(200, RESULTS_JSON, table(["x"]))
    query = SavedQuery("q", "Q", "D", "SELECT ?x WHERE { ?x ?a ?b }", Path("q.rq"),
                       (Parameter("a", "iri"), Parameter("b", "string")))
    RemoteEndpoint(stub.url, prefixes={}).run(query, {"a": "urn:a", "b": "t"})
    sent = stub.requests[0].form["query"][0]
    assert 'VALUES (?b) { ("t") }' in sent and "VALUES (?a) { (<urn:a>) }" in sent
    assert sent.index("VALUES") > sent.index("WHERE {") and sent.rstrip().endswith("?x ?a ?b }")


def test_class_parameters_are_checked_on_the_endpoint(stub: Stub) -> None:
    stub.answer(200, RESULTS_JSON, '{"head": {}, "boolean": false}')
    endpoint = RemoteEndpoint(stub.url, graph="urn:g", prefixes=graph_prefixes())
    with pytest.raises(ParameterError, match="is not a ntx:Drug in the graph"):
        endpoint.run("primary-uses", {"drug": "cond:alcohol-dependence"})
    (seen,) = stub.requests
    ask = seen.form["query"][0]
    assert ask.startswith("ASK") and "<https://w3id.org/ntx-graph/id/condition/alcohol-dependence>" in ask


# -- errors -----------------------------------------------------------------------------


def test_http_errors_are_one_line_with_the_servers_message(stub: Stub) -> None:
    stub.answer(400, "text/plain", "Virtuoso 37000 Error SP030: SPARQL compiler, line 1: syntax error at 'x'\n\n"
                                   "SPARQL query:\nSELECT x")
    with pytest.raises(NtxError) as caught:
        RemoteEndpoint(stub.url, prefixes={}).query("SELECT x")
    assert str(caught.value) == ("the server answered HTTP 400 Bad Request: Virtuoso 37000 Error SP030: "
                                 "SPARQL compiler, line 1: syntax error at 'x'")
    stub.answer(500, "text/html", "<html><head><title>Oops</title></head><body><h1>HTTP/1.1 500 Failed</h1>"
                                  "<p>" + "long " * 200 + "</p></body></html>")
    with pytest.raises(NtxError) as caught:
        RemoteEndpoint(stub.url, prefixes={}).query("SELECT * WHERE { ?s ?p ?o }")
    message = str(caught.value)
    assert message.startswith("the server answered HTTP 500 Internal Server Error: long long")
    assert "\n" not in message and len(message) < 400 and "Oops" not in message
    stub.answer(401, "text/plain", "")
    with pytest.raises(NtxError, match=r"^the server answered HTTP 401 Unauthorized: the server asks for some "
                                       r"authentication; give --user and --password-env$"):
        RemoteEndpoint(stub.url, prefixes={}).query("ASK { ?s ?p ?o }")


def test_server_messages_are_trimmed() -> None:
    assert server_message(b"\n\n  first   line \nsecond") == "first line"
    assert len(server_message(b"x" * 1000)) == 300
    assert server_message(b"") == ""


def test_unexpected_answers_are_errors() -> None:
    with pytest.raises(NtxError, match="unexpected media type 'text/html'"):
        parse_answer(b"<html/>", "text/html", "SELECT")
    with pytest.raises(NtxError, match="cannot be read"):
        parse_answer(b"{not json", RESULTS_JSON, "SELECT")
    with pytest.raises(NtxError, match="not s/p/o"):
        parse_answer(table(["a"]).encode(), RESULTS_JSON, "CONSTRUCT")


def test_a_slow_endpoint_times_out(stub: Stub) -> None:
    def slow(seen: Seen) -> Reply:
        time.sleep(3)
        return 200, {"Content-Type": RESULTS_JSON}, b'{"boolean": true}'

    stub.respond = slow
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"^no complete answer from http://127\.0\.0\.1:\d+/sparql within the "
                                           r"time limit of 0\.5 s$"):
        RemoteEndpoint(stub.url, prefixes={}, timeout=0.5).query("ASK { ?s ?p ?o }")
    assert time.monotonic() - started < 2.5


def test_partial_anytime_answers_are_timeouts(stub: Stub) -> None:
    stub.answer(200, RESULTS_JSON, table(["s"]), **{"X-SQL-State": "S1TAT", "X-SQL-Message": "RC...: Returning "
                                                                                           "incomplete results"})
    with pytest.raises(QueryTimeout, match="partial results"):
        RemoteEndpoint(stub.url, prefixes={}).query("SELECT * WHERE { ?s ?p ?o }")


def test_only_the_given_server_is_contacted(stub: Stub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9/")  # a proxy would be refused
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9/")
    stub.answer(200, RESULTS_JSON, '{"boolean": true}')
    assert RemoteEndpoint(stub.url, prefixes={}).query("ASK { ?s ?p ?o }").boolean is True
    stub.answer(302, "text/plain", "", Location="http://example.org/sparql")
    with pytest.raises(NtxError, match="redirects to another server"):
        RemoteEndpoint(stub.url, prefixes={}).query("ASK { ?s ?p ?o }")
    for url in ("file:///etc/passwd", "ftp://example.org/", "sparql"):
        with pytest.raises(NtxError, match="not an http"):
            RemoteEndpoint(url)


def test_updates_and_bad_settings_are_refused(stub: Stub) -> None:
    endpoint = RemoteEndpoint(stub.url, prefixes={})
    with pytest.raises(QuerySyntaxError, match="read-only"):
        endpoint.query("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert stub.requests == []
    with pytest.raises(NtxError, match="not an absolute IRI"):
        RemoteEndpoint(stub.url, graph="not an iri")
    with pytest.raises(NtxError, match="unknown authentication"):
        RemoteEndpoint(stub.url, auth="kerberos")


def test_basic_and_digest_authentication(stub: Stub) -> None:
    stub.answer(200, RESULTS_JSON, '{"boolean": true}')
    RemoteEndpoint(stub.url, user="ann", password="s3cret", prefixes={}).query("ASK {}")
    assert stub.requests[-1].headers["authorization"] == "Basic " + base64.b64encode(b"ann:s3cret").decode()
    stub.requests.clear()
    stub.respond = digest_guard("ann", "s3cret", (200, {"Content-Type": RESULTS_JSON}, b'{"boolean": true}'))
    assert RemoteEndpoint(stub.url, user="ann", password="s3cret", auth="digest", prefixes={}).query(
        "ASK {}").boolean is True
    assert [r.headers.get("authorization", "")[:6] for r in stub.requests] == ["", "Digest"]


# -- push -----------------------------------------------------------------------------


NT = b'<urn:s> <urn:p> "a" .\n# a comment\n\n<urn:s> <urn:p> "b" .\n'


def digest_guard(user: str, password: str, ok: Reply, realm: str = "SPARQL", nonce: str = "abc123") -> Callable[
        [Seen], Reply]:
    """A responder demanding RFC 2617 digest authentication (qop=auth, MD5)."""
    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    def respond(seen: Seen) -> Reply:
        header = seen.headers.get("authorization", "")
        if header.startswith("Digest "):
            items = dict(urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[7:])))
            ha1 = md5(f"{user}:{realm}:{password}")
            ha2 = md5(f"{seen.method}:{items['uri']}")
            expected = md5(f"{ha1}:{nonce}:{items['nc']}:{items['cnonce']}:auth:{ha2}")
            if items.get("username") == user and items.get("response") == expected and items["uri"] == seen.path:
                return ok
        challenge = f'Digest realm="{realm}", nonce="{nonce}", qop="auth", algorithm="MD5", opaque="o"'
        return 401, {"WWW-Authenticate": challenge, "Connection": "close"}, b""

    return respond


def test_push_puts_or_posts_turtle_to_the_graph_url(stub: Stub) -> None:
    stub.answer(201, "text/plain", "")
    result = push_graph(NT, endpoint=stub.url, graph="https://w3id.org/ntx-graph/test/g?x=1&y", chunk_size=7)
    head, put = stub.requests
    assert head.method == "HEAD" and put.method == "PUT"
    assert put.params == {"graph": ["https://w3id.org/ntx-graph/test/g?x=1&y"]}
    assert put.headers["content-type"] == "text/turtle; charset=utf-8"
    assert put.headers["content-length"] == str(len(NT)) and put.body == NT
    assert "transfer-encoding" not in put.headers
    assert result == PushResult(graph="https://w3id.org/ntx-graph/test/g?x=1&y", triples=2, bytes=len(NT),
                                status=201, seconds=result.seconds, replaced=True)
    assert str(result).startswith("replaced <https://w3id.org/ntx-graph/test/g?x=1&y>: 2 triples, 57 B in ")
    push_graph(NT, endpoint=stub.url + "?x=1", graph="urn:g", replace=False)
    assert stub.requests[-1].method == "POST" and stub.requests[-1].path == "/sparql?x=1&graph=urn%3Ag"
    assert "appended to <urn:g>" in str(PushResult("urn:g", 1, 2, 204, 0.1, False))


def test_push_shows_progress(stub: Stub) -> None:
    stub.answer(204, "text/plain", "")
    stream = io.StringIO()
    data = NT * 1000
    push_graph(data, endpoint=stub.url, graph="urn:g", progress=True, stream=stream, chunk_size=len(data) // 4)
    updates = stream.getvalue().split("\r")[1:]
    assert updates[0] == "push: 0 B / 57.0 kB (0%)" and updates[-1] == "push: 57.0 kB / 57.0 kB (100%)\n"
    assert len(updates) == 5 and all("%" in u for u in updates)
    quiet = io.StringIO()
    push_graph(data, endpoint=stub.url, graph="urn:g", stream=quiet)
    assert quiet.getvalue() == ""


def test_push_failure_is_one_clear_line(stub: Stub) -> None:
    stub.answer(500, "text/html", "<html><body><h1>HTTP/1.1 500 Request Failed</h1><h3>Error 37000</h3>"
                                  "<xmp>SP029: TURTLE RDF loader, line 3: syntax error\nmore</xmp></body></html>")
    with pytest.raises(PushError) as caught:
        push_graph(NT, endpoint=stub.url, graph="urn:g")
    assert str(caught.value) == ("push failed: the server answered HTTP 500 Internal Server Error: Error 37000 "
                                 "SP029: TURTLE RDF loader, line 3: syntax error more")


def test_push_with_digest_sends_the_body_once(stub: Stub) -> None:
    stub.respond = digest_guard("dba", "dba", (201, {}, b""))
    result = push_graph(NT, endpoint=stub.url, graph="urn:g", user="dba", password="dba", auth="digest")
    assert result.status == 201
    assert [(r.method, bool(r.body)) for r in stub.requests] == [("HEAD", False), ("HEAD", False), ("PUT", True)]
    stub.requests.clear()
    with pytest.raises(PushError, match=r"^push failed: the server answered HTTP 401 Unauthorized: the user name or "
                                        r"password is wrong$"):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="dba", password="wrong", auth="digest")
    assert all(r.method == "HEAD" for r in stub.requests)  # the body was never sent
    with pytest.raises(PushError, match="asks for digest authentication; use --auth digest"):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="dba", password="dba", auth="basic")
    with pytest.raises(PushError, match="give --user and --password-env"):
        push_graph(NT, endpoint=stub.url, graph="urn:g")


def test_push_with_basic_auth(stub: Stub) -> None:
    expected = "Basic " + base64.b64encode(b"ann:pw").decode()

    def respond(seen: Seen) -> Reply:
        if seen.headers.get("authorization") == expected:
            return 201, {}, b""
        return 401, {"WWW-Authenticate": 'Basic realm="store"'}, b""

    stub.respond = respond
    assert push_graph(NT, endpoint=stub.url, graph="urn:g", user="ann", password="pw").status == 201
    assert all(r.headers.get("authorization") == expected for r in stub.requests)
    with pytest.raises(PushError, match="password is wrong"):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="ann", password="no")
    with pytest.raises(PushError, match="asks for basic authentication, not digest; use --auth basic"):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="ann", password="pw", auth="digest")


def test_push_refuses_bad_input_and_redirects(stub: Stub) -> None:
    with pytest.raises(PushError, match="not an absolute IRI"):
        push_graph(NT, endpoint=stub.url, graph="not an iri")
    with pytest.raises(PushError, match="both a user name and a password"):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="ann")
    with pytest.raises(PushError, match="not an http"):
        push_graph(NT, endpoint="file:///tmp/x", graph="urn:g")
    assert stub.requests == []
    stub.answer(301, "text/plain", "", Location="http://example.org/store")
    with pytest.raises(PushError, match=r"redirects to another server \(http://example\.org/store\); refused$"):
        push_graph(NT, endpoint=stub.url, graph="urn:g")


def test_triples_are_counted_by_line() -> None:
    assert count_triples(NT) == 2
    assert count_triples(b"") == 0
