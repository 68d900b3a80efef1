"""The remote path and push under hostile or broken servers, with loopback
fakes only: nothing is sent for a hidden update or SERVICE, answers are
capped in bytes, deadlines hold against silent and dripping servers,
malformed answers and odd digest challenges are user errors (exit 2), no
password is ever shown, and RDF-star answers parse."""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import tracemalloc
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import Listener
from ntx_graph.cli import main
from ntx_graph.errors import NtxError, ParameterError, QueryTimeout
from ntx_graph.http_client import Client, HttpError, shown
from ntx_graph.push import PushError, push_graph
from ntx_graph.remote import RemoteEndpoint, parse_answer
from servers import Reply, Seen, Stub, cli, raw_server, stub_server

RESULTS_JSON = "application/sparql-results+json"
ASK_TRUE = (200, {"Content-Type": RESULTS_JSON}, b'{"head": {}, "boolean": true}')
SECRET = "S3cr3t-pw"
NT = b'<urn:s> <urn:p> "a" .\n'


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as started:
        yield started


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """``main(args)`` in this process: (exit code, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as done:
        code = int(done.code or 0)
    return code, capsys.readouterr().err


# -- finding 2: nothing is sent for a hidden update or SERVICE ----------------------------

#: Texts the remote path must refuse before connecting; LISTENER is a loopback
#: socket that records any connection.
REFUSED = [
    "#x\rDROP ALL",
    "#x\rINSERT DATA { <urn:a> <urn:b> <urn:c> }",
    "# a comment\r\n#\rDELETE WHERE { ?s ?p ?o }",
    "DROP ALL",
    "drop silent graph <urn:g>",
    "PREFIX ex: <http://e/>\nDELETE WHERE { ?s ?p ?o }",
    "LOAD <LISTENER>",
    "ASK {} ; DROP ALL",
    "SELECT * WHERE { ?s ?p ?o } ; CLEAR DEFAULT",
    "SELECT * WHERE { ?s ?p ?o }\n#\nADD DEFAULT TO <urn:g>",
    "\\u0044ROP ALL",
    "WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "",
    "# only a comment",
    "PREFIX ex: <http://e/>",
    "SELECT * { SERVICE <LISTENER> { ?s ?p ?o } }",
    "select * { service silent <LISTENER> { ?s ?p ?o } }",
    "SELECT * { \\u0053ERVICE <LISTENER> { ?s ?p ?o } }",
    "PREFIX l: <LISTENER>\nASK { SERVICE l: { ?s ?p ?o } }",
    "SELECT * FROM <LISTENER> { ?s ?p ?o }",
    "SELECT * FROM NAMED <LISTENER> { GRAPH ?g { ?s ?p ?o } }",
    "SELECT * { #x\rSERVICE <LISTENER> { ?s ?p ?o } }",
    "ASK { #x\rSERVICE SILENT <LISTENER> { } }",
    "SELECT * { ?s ?p ?o } #x\rDROP ALL",
    "ASK {} #\rLOAD <LISTENER>",
]


@pytest.mark.parametrize("text", REFUSED)
def test_hidden_updates_and_service_send_nothing(text: str, listener: Listener) -> None:
    endpoint = RemoteEndpoint(listener.url + "/sparql", prefixes={}, timeout=2)
    with pytest.raises(NtxError):
        endpoint.query(text.replace("LISTENER", listener.url + "/service"))
    time.sleep(0.05)
    assert listener.hits == [], f"sent {listener.hits[0][:80]!r}"


def test_the_cli_sends_nothing_for_a_comment_that_ends_at_cr(listener: Listener,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run_cli(capsys, "query", "--endpoint", listener.url + "/sparql", "--sparql", "#x\rDROP ALL")
    assert code == 2 and err == "ntx-graph: error: SPARQL Update is not accepted: ntx-graph queries are read-only\n"
    assert listener.hits == []


def test_federation_on_the_remote_path_is_opt_in(stub: Stub) -> None:
    stub.respond = lambda seen: ASK_TRUE
    text = "ASK { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }"
    with pytest.raises(NtxError, match="SERVICE is refused"):
        RemoteEndpoint(stub.url, prefixes={}).query(text)
    assert stub.requests == []
    assert RemoteEndpoint(stub.url, prefixes={}).query(text, allow_federation=True).boolean is True


def test_a_saved_update_file_is_refused_before_any_request(listener: Listener, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    rq = tmp_path / "wipe.rq"
    rq.write_text("#+ title: Wipe\n#+ description: Empties the store.\n\nDELETE WHERE { ?s ?p ?o }\n")
    code, err = run_cli(capsys, "query", str(rq), "--endpoint", listener.url + "/sparql")
    assert code == 2 and "read-only" in err and listener.hits == [], err


# -- finding 5: answers are capped in bytes and read in chunks ----------------------------------


def test_an_answer_over_the_cap_is_refused(stub: Stub, capsys: pytest.CaptureFixture[str]) -> None:
    stub.answer(200, RESULTS_JSON, json.dumps({"head": {}, "boolean": True, "pad": "x" * 5000}))
    with pytest.raises(NtxError, match=r"larger than the limit of 1,000 bytes"):
        RemoteEndpoint(stub.url, prefixes={}, max_bytes=1000).query("ASK {}")
    assert RemoteEndpoint(stub.url, prefixes={}, max_bytes=6000).query("ASK {}").boolean is True
    code, err = run_cli(capsys, "query", "--endpoint", stub.url, "--sparql", "ASK {}", "--max-answer-bytes", "1000")
    assert code == 2 and "larger than the limit of 1,000 bytes (--max-answer-bytes)" in err


def endless(conn: socket.socket, stop: threading.Event, *, length: str = "") -> None:
    """Answer 200 and send zeros until the client goes away (or a Content-Length header only)."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n" + length.encode() + b"\r\n")
    block = b"\0" * 65536
    while not stop.is_set():
        conn.sendall(block)


def test_an_endless_answer_is_read_only_up_to_the_cap() -> None:
    sent = {"bytes": 0}

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/n-triples\r\n\r\n")
        while not stop.is_set() and sent["bytes"] < 600_000_000:
            conn.sendall(b"\0" * 65536)
            sent["bytes"] += 65536

    with raw_server(handle) as server:
        tracemalloc.start()
        try:
            with pytest.raises(NtxError, match=r"larger than the limit of 2,000,000 bytes"):
                RemoteEndpoint(server.url, prefixes={}, max_bytes=2_000_000, timeout=30).query(
                    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 8_000_000, f"the client held {peak:,} bytes"
    assert sent["bytes"] < 50_000_000  # the server was cut off, not read to the end


def test_a_declared_600_mb_answer_is_refused_without_reading_it() -> None:
    with raw_server(lambda c, s: endless(c, s, length="Content-Length: 629145600\r\n")) as server:
        started = time.monotonic()
        with pytest.raises(NtxError, match=r"larger than the limit of 268,435,456 bytes"):
            RemoteEndpoint(server.url, prefixes={}).query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
        assert time.monotonic() - started < 2


# -- finding 6: deadlines hold on the socket -------------------------------------------------


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Read the request and never answer."""
    conn.recv(65536)
    stop.wait(30)


def drip(conn: socket.socket, stop: threading.Event, *, head: bool = False) -> None:
    """Answer one byte every 50 ms: in the status line (``head``) or in the body."""
    conn.recv(65536)
    text = b'HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n\r\n{"boolean": true' + b" " * 10**6
    if not head:
        conn.sendall(text[:text.index(b"\r\n\r\n") + 4])
        text = text[text.index(b"\r\n\r\n") + 4:]
    for byte in text:
        if stop.wait(0.05):
            return
        conn.sendall(bytes([byte]))


@pytest.mark.parametrize("server", [silent, drip, lambda c, s: drip(c, s, head=True)], ids=["silent", "drip-body",
                                                                                            "drip-head"])
def test_a_slow_server_is_abandoned_on_time(server: Callable[[socket.socket, threading.Event], None]) -> None:
    with raw_server(server) as fake:
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"within the time limit of 1 s$"):
            RemoteEndpoint(fake.url, prefixes={}, timeout=1).query("ASK {}")
        assert time.monotonic() - started < 1 + 2


def test_the_cli_abandons_a_dripping_endpoint_within_its_timeout() -> None:
    with raw_server(drip) as fake:
        started = time.monotonic()
        done = cli("query", "--endpoint", fake.url, "--sparql", "ASK {}", "--timeout", "1")
        elapsed = time.monotonic() - started
    assert done.returncode == 2 and "within the time limit of 1 s" in done.stderr
    assert elapsed < 1 + 2 + 1.5  # the deadline, the allowance, and the interpreter's start


@pytest.mark.parametrize("server", [silent, drip], ids=["silent", "drip"])
def test_push_timeout_against_a_slow_server(server: Callable[[socket.socket, threading.Event], None]) -> None:
    with raw_server(server) as fake:
        started = time.monotonic()
        done = cli("push", "--endpoint", fake.url, "--graph", "urn:ntx:g", "--timeout", "2")
        elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ntx-graph: error: push failed: no complete answer from http://127.0.0.1:")
    assert elapsed < 5


def test_push_has_one_deadline_for_the_whole_upload() -> None:
    with raw_server(silent) as fake:
        started = time.monotonic()
        with pytest.raises(PushError, match=r"within the time limit of 0\.5 s"):
            push_graph(NT, endpoint=fake.url, graph="urn:g", timeout=0.5)
        assert time.monotonic() - started < 2.5


# -- finding 8: malformed answers and challenges are user errors ---------------------------------

MALFORMED = {
    "nested-array": b"[" * 100_000 + b"]" * 100_000,
    "nested-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "nested-triple": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": '
                     + b'{"type": "triple", "value": {"subject": {"type": "uri", "value": "urn:s"}, '
                       b'"predicate": {"type": "uri", "value": "urn:p"}, "object": ' * 5000
                     + b'{"type": "uri", "value": "urn:o"}' + b"}}" * 5000 + b"}]}}",
    "binding-number": b'{"head": {"vars": ["a"]}, "results": {"bindings": [1]}}',
    "binding-list": b'{"head": {"vars": ["a"]}, "results": {"bindings": [["a"]]}}',
    "term-string": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": "urn:x"}]}}',
    "value-number": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "uri", "value": 1}}]}}',
    "vars-object": b'{"head": {"vars": {"a": 1}}, "results": {"bindings": []}}',
    "head-list": b'{"head": ["a"], "results": {"bindings": []}}',
    "results-string": b'{"head": {}, "results": "none"}',
    "bad-iri": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "uri", "value": "a b"}}]}}',
    "bad-lang": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "literal", "value": "x", '
                b'"xml:lang": "not a tag"}}]}}',
    "not-utf8": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "literal", "value": "\xff"}}]}}',
    "triple-string": b'{"head": {"vars": ["a"]}, "results": {"bindings": [{"a": {"type": "triple", '
                     b'"value": "<< <urn:a> <urn:b> <urn:c> >>"}}]}}',
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_json_answers_are_user_errors(body: bytes, stub: Stub,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(NtxError, match=r"the endpoint's (JSON )?answer"):
        parse_answer(body, RESULTS_JSON, "SELECT")
    stub.answer(200, RESULTS_JSON, body)
    code, err = run_cli(capsys, "query", "--endpoint", stub.url, "--sparql", "SELECT * { ?s ?p ?o }")
    assert code == 2, err
    assert err.startswith("ntx-graph: error: the endpoint's") and err.count("\n") == 1


def challenge(value: str) -> Callable[[Seen], Reply]:
    return lambda seen: (401, {"WWW-Authenticate": value}, b"")


@pytest.mark.parametrize(("value", "message"), [
    ('Digest realm="r", nonce="n", qop="auth", algorithm="SHA-512-256"', "algorithm 'SHA-512-256', which is not "
                                                                          "supported"),
    ('Digest realm="r", nonce="n", qop="auth-int"', "qop='auth-int', which is not supported"),
    ('Digest realm="r", qop="auth"', "lacks a realm or a nonce"),
])
def test_odd_digest_challenges_are_user_errors(value: str, message: str, stub: Stub,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    stub.respond = challenge(value)
    with pytest.raises(NtxError, match=message):
        RemoteEndpoint(stub.url, prefixes={}, user="u", password="p", auth="digest").query("ASK {}")
    with pytest.raises(PushError, match=message):
        push_graph(NT, endpoint=stub.url, graph="urn:g", user="u", password="p", auth="digest")
    monkeypatch.setenv("NTX_TEST_PW", "p")
    code, err = run_cli(capsys, "query", "--endpoint", stub.url, "--sparql", "ASK {}", "--user", "u",
                        "--password-env", "NTX_TEST_PW", "--auth", "digest")
    assert code == 2 and message in err


def test_a_non_ascii_password_for_digest_is_a_user_error(stub: Stub) -> None:
    stub.respond = challenge('Digest realm="r", nonce="n", qop="auth"')
    with pytest.raises(NtxError, match="in ASCII"):
        RemoteEndpoint(stub.url, prefixes={}, user="u", password="pässwört", auth="digest").query("ASK {}")


# -- finding 9: no password is shown -------------------------------------------------------------


@pytest.mark.parametrize("command", ["query", "push"])
def test_credentials_in_the_url_are_refused_without_showing_them(command: str, listener: Listener,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://alice:{SECRET}@127.0.0.1:{listener.port}/sparql"
    args = ["--sparql", "ASK {}"] if command == "query" else ["--graph", "urn:g"]
    code, err = run_cli(capsys, command, "--endpoint", url, *args)
    assert code == 2 and "holds a user name or password" in err and "--password-env" in err
    assert SECRET not in err and "alice" not in err
    assert listener.hits == []
    with pytest.raises(NtxError) as caught:
        RemoteEndpoint(url)
    assert SECRET not in str(caught.value)
    with pytest.raises(NtxError, match="not an http") as caught:
        RemoteEndpoint(f"ftp://alice:{SECRET}@127.0.0.1/")
    assert SECRET not in str(caught.value)


def test_urls_are_shown_without_userinfo() -> None:
    assert shown(f"https://alice:{SECRET}@h:1/p?q#f") == "https://h:1/p?q#f"
    assert shown("http://h/p") == "http://h/p"


REPLIES: dict[str, Callable[[Seen], Reply]] = {
    "echoing-error": lambda seen: (500, {"Content-Type": "text/plain"},
                                   f"bad request from {SECRET} ({seen.headers.get('authorization')})".encode()),
    "redirect-with-userinfo": lambda seen: (302, {"Location": f"http://bob:{SECRET}@example.org/x"}, b""),
    "wrong-password": lambda seen: (401, {"WWW-Authenticate": 'Basic realm="r"'}, b""),
}


@pytest.mark.parametrize("reply", REPLIES.values(), ids=REPLIES.keys())
@pytest.mark.parametrize("command", ["query", "push"])
def test_password_env_is_never_printed(reply: Callable[[Seen], Reply], command: str, stub: Stub,
                                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stub.respond = reply
    monkeypatch.setenv("NTX_TEST_PW", SECRET)
    args = ["--sparql", "ASK {}"] if command == "query" else ["--graph", "urn:g"]
    code, err = run_cli(capsys, command, "--endpoint", stub.url, *args, "--user", "alice",
                        "--password-env", "NTX_TEST_PW")
    assert code == 2 and err.startswith("ntx-graph: error: "), err
    assert SECRET not in err and "YWxpY2U6UzNjcjN0LXB3" not in err  # nor its Basic form
    assert stub.requests  # the failure came from the server


# -- defect 10 and prefixes without the local graph ---------------------------------------------


def test_a_missing_class_without_graph_suggests_naming_the_graph(stub: Stub) -> None:
    stub.answer(200, RESULTS_JSON, '{"head": {}, "boolean": false}')
    with pytest.raises(ParameterError, match=r"is not a ntx:Drug in the graph; the endpoint was queried without "
                                             r"--graph: .* name that graph with --graph$"):
        RemoteEndpoint(stub.url).run("primary-uses")
    with pytest.raises(ParameterError, match=r"is not a ntx:Drug in the graph$"):
        RemoteEndpoint(stub.url, graph="urn:g").run("primary-uses")


def test_endpoint_queries_do_not_load_the_local_graph(stub: Stub, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from ntx_graph.graph import KnowledgeGraph

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the local graph was loaded")

    monkeypatch.setattr(KnowledgeGraph, "open", refuse)
    stub.respond = lambda seen: ASK_TRUE
    code, err = run_cli(capsys, "query", "is-narcotic", "--endpoint", stub.url, "-p", "drug=drug:naltrexone")
    assert code == 0, err
    assert "<https://w3id.org/ntx-graph/id/drug/naltrexone>" in stub.requests[-1].form["query"][0]


def test_endpoint_queries_take_data_files_prefixes_without_loading_them(
        stub: Stub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--data with --endpoint only lends its prefixes: the file is neither loaded nor checked against
    the shapes (this one breaks them: a drug without a name)."""
    from ntx_graph.graph import KnowledgeGraph

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the local graph was loaded")

    data = tmp_path / "mine.ttl"
    data.write_text("@prefix my: <https://example.org/drugs/> .\n"
                    "@prefix ntx: <https://w3id.org/ntx-graph/def/> .\nmy:x a ntx:Drug .\n", encoding="utf-8")
    monkeypatch.setattr(KnowledgeGraph, "open", refuse)
    stub.respond = lambda seen: ASK_TRUE
    code, err = run_cli(capsys, "query", "is-narcotic", "--endpoint", stub.url, "--data", str(data),
                        "-p", "drug=my:x")
    assert code == 0, err
    assert "<https://example.org/drugs/x>" in stub.requests[-1].form["query"][0]


# -- RDF-star answers ---------------------------------------------------------------------------


def _star_store() -> ox.Store:
    store = ox.Store()
    inner = ox.Triple(ox.BlankNode("b"), ox.NamedNode("urn:q"), ox.Literal("x", language="en"))
    store.add(ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"),
                      ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"), inner)))
    store.add(ox.Quad(ox.NamedNode("urn:c"), ox.NamedNode("urn:p"),
                      ox.Triple(ox.NamedNode("urn:c"), ox.NamedNode("urn:p"),
                                ox.Literal("y", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#string")))))
    return store


@pytest.mark.parametrize(("fmt", "ctype"), [(ox.QueryResultsFormat.JSON, RESULTS_JSON),
                                            (ox.QueryResultsFormat.XML, "application/sparql-results+xml"),
                                            (ox.QueryResultsFormat.TSV, "text/tab-separated-values")])
def test_triple_terms_in_answers_as_pyoxigraph_writes_them(fmt: ox.QueryResultsFormat, ctype: str) -> None:
    store = _star_store()
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
    body = store.query(query).serialize(format=fmt)
    rows = parse_answer(body, ctype, "SELECT").rows
    expected = [tuple(s[v] for v in ("s", "o")) for s in store.query(query)]
    assert len(rows) == 2 and all(isinstance(o, ox.Triple) for _, o in rows)
    assert rows[1] == expected[1]  # no blank node: equal as terms
    assert isinstance(rows[0][1], ox.Triple) and isinstance(rows[0][1].object, ox.Triple)
    assert rows[0][1].object.object == ox.Literal("x", language="en")


@pytest.mark.parametrize(("fmt", "ctype"), [("json", RESULTS_JSON), ("xml", "application/sparql-results+xml"),
                                            ("tsv", "text/tab-separated-values")])
def test_triple_terms_round_trip_through_ntx_graphs_own_results(fmt: str, ctype: str) -> None:
    from ntx_graph.graph import KnowledgeGraph

    result = KnowledgeGraph.open().query('SELECT (TRIPLE(<urn:a>, <urn:b>, "c"@en) AS ?t) {}')
    rows = parse_answer(result.serialize(fmt), ctype, "SELECT").rows
    assert rows == [(ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("c", language="en")),)]


def test_triple_terms_with_rdf4j_keys() -> None:
    term = {"type": "triple", "value": {"s": {"type": "uri", "value": "urn:a"}, "p": {"type": "uri", "value": "urn:p"},
                                        "o": {"type": "literal", "value": "1", "datatype":
                                              "http://www.w3.org/2001/XMLSchema#integer"}}}
    body = json.dumps({"head": {"vars": ["t"]}, "results": {"bindings": [{"t": term}]}}).encode()
    (row,) = parse_answer(body, RESULTS_JSON, "SELECT").rows
    assert row == (ox.Triple(ox.NamedNode("urn:a"), ox.NamedNode("urn:p"),
                             ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),)


def test_triple_terms_in_graph_answers() -> None:
    store = _star_store()
    body = store.query("CONSTRUCT WHERE { <urn:c> ?p ?o }").serialize(format=ox.RdfFormat.N_TRIPLES)
    (triple,) = parse_answer(body, "application/n-triples", "CONSTRUCT").triples
    assert triple.object == ox.Triple(ox.NamedNode("urn:c"), ox.NamedNode("urn:p"), ox.Literal("y"))


# -- one client: redirects, deadline, nothing process-wide --------------------------------------


def test_same_origin_redirects_are_followed(stub: Stub) -> None:
    def respond(seen: Seen) -> Reply:
        if seen.path == "/sparql":
            return 307, {"Location": "/moved"}, b""
        return ASK_TRUE if seen.form.get("query") == ["ASK {}"] else (400, {}, b"no query")

    stub.respond = respond
    assert RemoteEndpoint(stub.url, prefixes={}).query("ASK {}").boolean is True
    assert [(r.method, r.path) for r in stub.requests] == [("POST", "/sparql"), ("POST", "/moved")]
    stub.answer(301, "text/plain", "", Location="/elsewhere")
    with pytest.raises(NtxError, match=r"redirecting the POST request to http://127\.0\.0\.1:\d+/elsewhere; give "
                                       r"that URL instead"):
        RemoteEndpoint(stub.url, prefixes={}).query("ASK {}")
    stub.answer(302, "text/plain", "", Location=stub.url)
    with pytest.raises(NtxError, match="redirects more than 5 times"):
        Client(stub.url).request("GET")
    stub.answer(308, "text/plain", "", Location=stub.url.replace("127.0.0.1", "localhost"))
    with pytest.raises(NtxError, match=r"redirects to another server \(http://localhost:"):
        RemoteEndpoint(stub.url, prefixes={}).query("ASK {}")


def test_digest_leaves_no_process_wide_opener(stub: Stub) -> None:
    from test_remote_unit import digest_guard

    before = urllib.request._opener  # type: ignore[attr-defined]
    stub.respond = digest_guard("ann", "pw", ASK_TRUE)
    assert RemoteEndpoint(stub.url, user="ann", password="pw", auth="digest", prefixes={}).query("ASK {}").boolean
    assert urllib.request._opener is before  # type: ignore[attr-defined]


def test_a_closed_port_is_one_line_naming_the_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HttpError, match=rf"^cannot reach http://127\.0\.0\.1:{port}/x: Connection refused$"):
        Client(f"http://127.0.0.1:{port}/x").request("GET")


def test_progress_is_ended_when_the_upload_fails(stub: Stub) -> None:
    stub.answer(500, "text/plain", "no")
    stream = io.StringIO()
    with pytest.raises(PushError):
        push_graph(NT, endpoint=stub.url, graph="urn:g", progress=True, stream=stream)
    assert stream.getvalue().endswith("\n")


def test_a_silent_tls_handshake_is_abandoned_on_time() -> None:
    with raw_server(silent) as fake:
        started = time.monotonic()
        with pytest.raises(QueryTimeout, match=r"^no complete answer from https://127\.0\.0\.1:\d+/sparql within"):
            RemoteEndpoint(fake.url.replace("http:", "https:"), prefixes={}, timeout=1).query("ASK {}")
        assert time.monotonic() - started < 1 + 2


def test_tls_certificates_are_verified(tmp_path: Path) -> None:
    import shutil
    import ssl
    import subprocess

    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    def tls(conn: socket.socket, stop: threading.Event) -> None:
        with suppress(OSError), context.wrap_socket(conn, server_side=True) as wrapped:
            wrapped.recv(65536)
            wrapped.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")

    with raw_server(tls) as fake, pytest.raises(HttpError, match="CERTIFICATE_VERIFY_FAILED"):
        Client(fake.url.replace("http:", "https:")).request("GET")
