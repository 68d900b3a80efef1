"""The bypass corpus (tests/fixtures/bypass-corpus.json) on every surface: the
analyser, the CLI, the Python API on both engines, the endpoint (router and
one real socket) and the remote path. Each text names a loopback listener
that fails the test on any connection; a ``refused`` text must be refused
with its reason, an ``offline`` one may be answered but never connects."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from conftest import Listener
from ntx_graph.cli import main
from ntx_graph.errors import NtxError, QuerySyntaxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.remote import RemoteEndpoint
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import Request
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor
from ntx_graph.sparql_text import analyse, check_policy

CORPUS: list[dict[str, str]] = json.loads(
    (Path(__file__).parent / "fixtures" / "bypass-corpus.json").read_text(encoding="utf-8"))["cases"]
REFUSED = [c for c in CORPUS if c["expect"] == "refused"]
IDS = [c["id"] for c in CORPUS]


def _text(case: dict[str, str], listener: Listener) -> str:
    return case["query"].replace("{URL}", f"{listener.url}/sparql")


def _settle(listener: Listener) -> None:
    hits = listener.hits  # complete once the call has returned (see conftest.Listener)
    assert hits == [], f"connected to the listener: {hits[0][:60]!r}"


def _check_refusal(case: dict[str, str], message: str) -> None:
    assert case["reason"].lower() in message.lower(), f"{case['why']}: {message!r}"
    assert "\n" not in message.strip()


def test_the_corpus_is_broad() -> None:
    assert len(IDS) == len(set(IDS)) and len(REFUSED) >= 40
    texts = "".join(c["query"] for c in CORPUS)
    for trick in ("\r", "\x0b", "\x0c", "\x85", "\u2028", "\\u0053", "\u017f", "\u0131", "SILENT", "ASK", "ex:a"):
        assert trick in texts, trick


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_analyser(case: dict[str, str]) -> None:
    text = case["query"].replace("{URL}", "http://127.0.0.1:9/sparql")
    if case["expect"] == "offline":
        info = analyse(text)
        check_policy(info, engine="rdflib")
        return
    with pytest.raises(NtxError) as caught:
        check_policy(analyse(text), engine="rdflib")
    _check_refusal(case, str(caught.value))


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_api(kg: KnowledgeGraph, listener: Listener, case: dict[str, str], engine: Any) -> None:
    text = _text(case, listener)
    if case["expect"] == "refused":
        with pytest.raises(NtxError) as caught:
            kg.query(text, engine=engine)
        _check_refusal(case, str(caught.value))
    else:
        kg.query(text, engine=engine)
    _settle(listener)


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_cli(listener: Listener, case: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    text = _text(case, listener)
    if case["expect"] == "refused":
        with pytest.raises(SystemExit) as caught:
            main(["query", "--sparql", text])
        assert caught.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("ntx-graph: error: ") and err.count("\n") == 1, err
        _check_refusal(case, err)
    else:
        assert main(["query", "--sparql", text, "-f", "csv"]) == 0
    _settle(listener)


@pytest.mark.parametrize("case", CORPUS, ids=IDS)
def test_endpoint(router: Router, listener: Listener, case: dict[str, str]) -> None:
    query = urlencode({"query": _text(case, listener)})
    response = router(Request("GET", "/sparql", query, {"accept": "application/sparql-results+json"}, b""))
    body = response.body.decode("utf-8")
    if case["expect"] == "refused":
        assert response.status == 400, body
        assert case["reason"].lower() in body.lower(), f"{case['why']}: {body!r}"
    else:
        assert response.status in (200, 400), body
    _settle(listener)


@pytest.mark.parametrize("case", REFUSED, ids=[c["id"] for c in REFUSED])
def test_remote(listener: Listener, case: dict[str, str]) -> None:
    """The remote path refuses before it opens a connection: the endpoint
    URL is the listener itself."""
    endpoint = RemoteEndpoint(f"{listener.url}/sparql", prefixes={}, timeout=5)
    with pytest.raises(NtxError) as caught:
        endpoint.query(_text(case, listener))
    _check_refusal(case, str(caught.value))
    _settle(listener)


@pytest.fixture(scope="module")
def live(router: Router) -> Iterator[str]:
    from ntx_graph.server.http import make_server

    kg = KnowledgeGraph.open()
    server = make_server(kg, "127.0.0.1", 0, Limits(workers=1))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url.rstrip("/")
    server.shutdown()
    thread.join(10)


def test_endpoint_over_a_real_socket(live: str, listener: Listener) -> None:
    case = next(c for c in CORPUS if c["id"] == "comment-ended-by-cr")
    url = f"{live}/sparql?" + urlencode({"query": _text(case, listener)})
    with pytest.raises(Exception) as caught:
        urlopen(url, timeout=30)
    assert getattr(caught.value, "code", None) == 400
    assert "SERVICE is refused" in caught.value.read().decode()  # type: ignore[attr-defined]
    _settle(listener)


def test_regression_deep_nesting_is_refused_before_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    text = "SELECT * WHERE " + "{" * 10_000 + "}" * 10_000
    with pytest.raises(SystemExit) as caught:
        main(["query", "--sparql", text])
    assert caught.value.code == 2
    assert "nests groups and brackets more than 256 levels deep" in capsys.readouterr().err
    with pytest.raises(QuerySyntaxError):
        KnowledgeGraph.query(KnowledgeGraph.open(), "ASK " + "{" * 300 + "}" * 300)
    assert analyse("ASK " + "{" * 200 + "}" * 200).form == "ASK"


def test_endpoint_federation_only_when_the_server_allows_it(kg: KnowledgeGraph, listener: Listener) -> None:
    """`serve --allow-federation` lets SERVICE through the endpoint's guard (the control that
    the refusals above are the guard's doing); updates stay refused either way."""
    service = f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    strict = Router(Snapshot.of(kg), Limits(), InlineExecutor(kg), host="example.test")
    assert strict(Request("GET", "/sparql", urlencode({"query": service}))).status == 400
    assert not listener.hits
    allowing = Router(Snapshot.of(kg), Limits(allow_federation=True), InlineExecutor(kg), host="example.test")
    assert allowing(Request("GET", "/sparql", urlencode({"query": service}))).status == 200
    deadline = time.monotonic() + 5
    while not listener.hits and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.hits  # the engine did reach the service it names
    update = allowing(Request("POST", "/sparql", "", {"content-type": "application/sparql-query"},
                              b"#x\rDROP ALL"))
    assert update.status == 400


def test_the_listener_sees_a_connection_at_once(listener: Listener) -> None:
    """The control for every ``_settle``: a connection counts as soon as connect() returns,
    accepted or still waiting in the backlog."""
    assert listener.hits == []
    with socket.create_connection(("127.0.0.1", listener.port)):
        assert len(listener.hits) == 1
    with socket.create_connection(("127.0.0.1", listener.port)) as conn:
        conn.sendall(b"GET /sparql")
        deadline = time.monotonic() + 5
        while listener.hits[-1:] != [b"GET /sparql"] and time.monotonic() < deadline:
            time.sleep(0.01)
    assert listener.hits == [b"(connected)", b"GET /sparql"]
