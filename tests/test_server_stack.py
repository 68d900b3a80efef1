"""The serving stack: uvicorn under the ASGI adapter (keep-alive, backlog,
request parsing, security headers on every answer, Host checks, graceful
shutdown, several processes), the query workers (no network by the
operating system, the memory limit, the answer-size limit), fairness between
clients, the answer cache and the access log. Everything listens on and
connects to loopback addresses only; every loop is bounded."""

from __future__ import annotations

import asyncio
import collections
import http.client
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlencode

import pytest

from conftest import Listener
from ntx_graph.errors import QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server import Limits, NtxServer, make_server
from ntx_graph.server.asgi import HostPolicy
from ntx_graph.server.messages import Response
from ntx_graph.server.workers import WorkerPool

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
ASK = "ASK { ?s a <https://w3id.org/ntx-graph/def/Indication> }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SECURITY = ("content-security-policy", "x-content-type-options", "referrer-policy")
MIB = 1024 * 1024


@dataclass
class Running:
    server: NtxServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(20)


def start(kg: KnowledgeGraph, limits: Limits, **options: object) -> Running:
    server = make_server(kg, "127.0.0.1", 0, limits, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return Running(server, thread)


@pytest.fixture(scope="module")
def running(kg: KnowledgeGraph) -> Iterator[Running]:
    live = start(kg, Limits(timeout=2, max_request_bytes=5000, workers=2))
    yield live
    live.stop()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def get(port: int, target: str, *, method: str = "GET", body: bytes | None = None, source: str = "127.0.0.1",
        headers: dict[str, str] | None = None, timeout: float = 30) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, target, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


def raw(port: int, data: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers and body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        data = b""
        try:
            while not _complete(data):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:  # a reset after the answer
            pass
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def _complete(data: bytes) -> bool:
    """True once ``data`` holds a whole answer with a Content-Length (a kept-alive connection stays open)."""
    head, found, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return bool(found and match and len(body) >= int(match.group(1)))


def sparql(query: str) -> str:
    return "/sparql?" + urlencode({"query": query})


# -- HTTP/1.1 ---------------------------------------------------------------------


def test_keep_alive_serves_many_requests_on_one_connection(running: Running) -> None:
    """Also: a response's head is written with its body in one call; a HEAD
    answer (no body follows) and an answer larger than the join (head and
    body written apart) still arrive whole, in order, on the same connection."""
    from ntx_graph.server.http import JOIN_BYTES

    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=10)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        assert first.read() == b"ok\n" and first.version == 11
        sock = conn.sock
        conn.request("HEAD", sparql(ASK), headers={"Accept": "application/sparql-results+json"})
        head = conn.getresponse()
        assert head.status == 200 and head.read() == b"" and int(head.headers["content-length"]) > 0
        assert all(h in head.headers for h in SECURITY)
        conn.request("GET", sparql("SELECT ?s ?p ?o WHERE { ?s ?p ?o }"), headers={"Accept": "text/csv"})
        large = conn.getresponse()
        body = large.read()
        assert large.status == 200 and len(body) == int(large.headers["content-length"]) > JOIN_BYTES
        for _ in range(20):
            conn.request("GET", sparql(ASK), headers={"Accept": "application/sparql-results+json"})
            response = conn.getresponse()
            assert response.status == 200 and json.loads(response.read())["boolean"] is True
        assert conn.sock is sock, "the connection was not kept alive"
    finally:
        conn.close()


def test_a_head_alone_is_held_for_its_body_and_nothing_else_is() -> None:
    from ntx_graph.server.http import JOIN_BYTES, _OneWrite

    class Sink:
        def __init__(self) -> None:
            self.writes: list[bytes] = []
            self.closed = False

        def write(self, data: bytes) -> None:
            self.writes.append(bytes(data))

        def is_closing(self) -> bool:
            return self.closed

        def close(self) -> None:
            self.closed = True

        def get_extra_info(self, name: str) -> str:
            return f"info {name}"

    sink = Sink()
    one = _OneWrite(sink)  # type: ignore[arg-type]
    one.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert sink.writes == []
    one.write(b"ok")
    assert sink.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]  # one call
    one.write(b"HTTP/1.1 200 OK\r\n\r\n")
    one.write(b"x" * (JOIN_BYTES + 1))
    assert sink.writes[1:] == [b"HTTP/1.1 200 OK\r\n\r\n", b"x" * (JOIN_BYTES + 1)]  # apart, in order
    one.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 3\r\n\r\nbad")  # a whole answer passes
    assert sink.writes[-1].endswith(b"bad")
    one.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    one.flush()
    assert sink.writes[-1] == b"HTTP/1.1 204 No Content\r\n\r\n"
    one.write(b"HTTP/1.1 200 OK\r\n\r\n")
    one.close()
    assert sink.writes[-1] == b"HTTP/1.1 200 OK\r\n\r\n" and sink.closed  # written before the close
    assert one.get_extra_info("peername") == "info peername"


def test_backlog_takes_200_serial_connections_without_a_stall(running: Running) -> None:
    worst = 0.0
    for _ in range(200):
        started = time.monotonic()
        assert get(running.port, "/health").status == 200
        worst = max(worst, time.monotonic() - started)
    assert worst < 1.0, f"a connection took {worst:.2f} s"


def test_a_burst_of_connections_is_queued_not_refused(running: Running) -> None:
    socks = [socket.create_connection(("127.0.0.1", running.port), timeout=20) for _ in range(100)]  # < 128 in flight
    try:
        for sock in socks:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answers = [sock.recv(4096) for sock in socks]
    finally:
        for sock in socks:
            sock.close()
    assert all(a.startswith(b"HTTP/1.1 200 ") for a in answers)


@pytest.mark.parametrize("lengths", [(b"1", b"2"), (b"2", b"2")])
def test_duplicate_content_length_is_refused(running: Running, lengths: tuple[bytes, bytes]) -> None:
    status, headers, body = raw(running.port, b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                b"Content-Type: application/sparql-query\r\nContent-Length: " + lengths[0] +
                                b"\r\nContent-Length: " + lengths[1] + b"\r\n\r\nab")
    assert status == 400 and b"Content-Length" in body
    assert all(name in headers for name in SECURITY)


def _chunked(body: bytes, size: int = 1000) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_chunked_bodies_within_the_limit_are_read(running: Running) -> None:
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Accept: application/sparql-results+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    status, _, body = raw(running.port, head + _chunked(ASK.encode(), 7))
    assert status == 200 and json.loads(body)["boolean"] is True
    status, headers, body = raw(running.port, head + _chunked(b"#" * 9000 + ASK.encode()))
    assert status == 413 and b"limit of 5000 bytes" in body
    assert all(name in headers for name in SECURITY)


@pytest.mark.parametrize(("status", "request_bytes"), [
    (400, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n"),
    (400, b"GET /health HTTP/1.1\r\n\r\n"),  # HTTP/1.1 without Host
    (400, b"GET\r\n\r\n"),  # a request line without a target (was 501, as if the method were unknown)
    (403, b"GET /health HTTP/1.1\r\nHost: rebound.example\r\n\r\n"),
    (404, b"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    (405, b"PUT /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    (413, b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
          b"Content-Length: 6000\r\n\r\n" + b"#" * 6000),
    (414, b"GET /sparql?query=" + b"x" * 6000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    (414, b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    (431, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"x" * 70_000 + b"\r\n\r\n"),
    (501, b"BREW /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
    (501, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
    (505, b"GET /health HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n"),
    (505, b"GET /health HTTP/3.1\r\nHost: 127.0.0.1\r\n\r\n"),
])
def test_every_error_answer_carries_the_security_headers(running: Running, status: int, request_bytes: bytes) -> None:
    got, headers, body = raw(running.port, request_bytes)
    assert got == status, body
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-type"].startswith("text/plain")
    assert body.count(b"\n") == 1 and b"Traceback" not in body


# -- Host checks -------------------------------------------------------------------


@pytest.mark.parametrize(("host", "ok"), [
    ("127.0.0.1:8000", True), ("localhost:8000", True), ("localhost", True), ("[::1]:8000", True),
    ("127.0.0.2", True), ("app.localhost", True), ("rebound.example", False), ("rebound.example:8000", False),
    ("127.0.0.1.rebound.example", False), ("localhost.example", False), ("10.0.0.1", False),
])
def test_host_policy_on_loopback(host: str, ok: bool) -> None:
    assert HostPolicy("127.0.0.1").accepts(host) is ok
    assert HostPolicy("127.0.0.1", ["rebound.example"]).accepts(host) is (ok or host.startswith("rebound.example"))
    assert HostPolicy("0.0.0.0").accepts(host)
    assert HostPolicy("127.0.0.1", ["*"]).accepts(host)


def test_allowed_host_is_answered(kg: KnowledgeGraph) -> None:
    live = start(kg, Limits(workers=1), allowed_hosts=("graph.example",))
    try:
        assert get(live.port, "/health", headers={"Host": "graph.example:8000"}).status == 200
        assert get(live.port, "/health", headers={"Host": "other.example"}).status == 403
        assert get(live.port, "/health").status == 200
    finally:
        live.stop()


# -- the workers ---------------------------------------------------------------------


def test_workers_are_not_forked_from_the_server(running: Running) -> None:
    for pid in running.server.pool.pids():
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"ntx_graph.server.worker_main" in cmdline, cmdline
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")


SERVICE_FORMS = [  # issue 11, finding 1, and its variants
    "SELECT * WHERE {{ #x\rSERVICE <{url}/> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE <{url}/admin> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ #x\rSERVICE SILENT <{url}/> {{ ?s ?p ?o }} }}",
    "ASK {{ #x\rSERVICE <{url}/> {{ ?s ?p ?o }} }}",
    "PREFIX l: <{url}/> SELECT * WHERE {{ #x\rSERVICE l:sparql {{ ?s ?p ?o }} }}",
    "SELECT * FROM <{url}/g> WHERE {{ ?s ?p ?o }}",
]


@pytest.mark.parametrize("form", SERVICE_FORMS)
@pytest.mark.parametrize("how", ["get", "post-form", "post-body"])
def test_service_never_reaches_a_loopback_listener(running: Running, listener: Listener, form: str,
                                                     how: str) -> None:
    query = form.format(url=listener.url)
    if how == "get":
        reply = get(running.port, sparql(query))
    elif how == "post-form":
        reply = get(running.port, "/sparql", method="POST", body=urlencode({"query": query}).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    else:
        reply = get(running.port, "/sparql", method="POST", body=query.encode(),
                    headers={"Content-Type": "application/sparql-query"})
    time.sleep(0.05)
    assert listener.hits == [], f"HTTP {reply.status}: the query reached the listener"
    if "SILENT" not in query:
        assert reply.status != 200, reply.body


@pytest.mark.parametrize("form", SERVICE_FORMS[:5])
def test_the_network_namespace_alone_stops_service(running: Running, listener: Listener, form: str) -> None:
    """No lexical guard at all: the query goes straight to the store inside a real worker."""
    from netns_probe import unguarded_query

    reply = running.server.pool.run((unguarded_query, (form.format(url=listener.url),)))
    time.sleep(0.05)
    assert listener.hits == [], "a worker connected to the loopback listener"
    if "SILENT" in form:  # the failed call is silently empty
        assert reply.status == 200, reply.body
    else:
        assert reply.status == 502 and b"unreachable" in reply.body.lower(), reply.body


def test_the_probe_does_connect_when_federation_is_allowed(kg: KnowledgeGraph, listener: Listener) -> None:
    """The same probe with the network given back: it reaches the listener, so the test above can fail."""
    from netns_probe import unguarded_query

    live = start(kg, Limits(workers=1, allow_federation=True))
    try:
        live.server.pool.run((unguarded_query, (SERVICE_FORMS[0].format(url=listener.url),)))
        deadline = time.monotonic() + 3
        while not listener.hits and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.hits
    finally:
        live.stop()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def doubling(times: int) -> str:
    """Issue 11, finding 5: a short query whose one answer doubles a string ``times`` times."""
    binds = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(times))
    return f'SELECT ?s{times} WHERE {{ BIND("0123456789abcdef" AS ?s0) {binds} }}'


@pytest.mark.parametrize("times", [22, 24, 26])
def test_string_doubling_meets_the_response_or_memory_limit(kg: KnowledgeGraph, times: int) -> None:
    live = start(kg, Limits(workers=1, timeout=20, memory_bytes=512 * MIB, max_response_bytes=20_000_000),
                 cache_bytes=0)
    try:
        before = set(live.server.pool.pids())
        reply = get(live.port, sparql(doubling(times)), headers={"Accept": "text/csv"})
        assert reply.status in (413, 503), reply.body[:200]
        assert b"20000000 bytes" in reply.body or b"512 MiB" in reply.body, reply.body
        assert _rss(os.getpid()) < 1024 * MIB  # the answer never reached the server
        for pid in live.server.pool.pids():
            assert _rss(pid) < 512 * MIB
        if reply.status == 503:  # the worker was replaced
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (set(live.server.pool.pids()) - before):
                time.sleep(0.05)
            assert set(live.server.pool.pids()) - before
        assert get(live.port, sparql(ASK)).status == 200
    finally:
        live.stop()


def test_the_memory_limit_is_named_in_the_answer(kg: KnowledgeGraph) -> None:
    live = start(kg, Limits(workers=1, timeout=30, memory_bytes=256 * MIB), cache_bytes=0)
    try:
        reply = get(live.port, sparql(doubling(27)), headers={"Accept": "text/csv"})
        assert reply.status == 503 and b"memory than the limit of 256 MiB" in reply.body, reply.body
        assert b"time limit" not in reply.body
    finally:
        live.stop()


def test_a_query_that_crashes_the_engine_costs_its_worker_only(kg: KnowledgeGraph,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    """A long query runs on a stack that grows with its text; where the address-space limit leaves no
    room for that stack, pyoxigraph's recursion can still kill the worker (SIGSEGV). The client gets a
    500 that says so, the death is logged, and the next query is answered by the replacement."""
    live = start(kg, Limits(workers=1, timeout=30, memory_bytes=300 * MIB, max_request_bytes=2_000_000),
                 cache_bytes=0)
    deep = "ASK { BIND(" + "!" * 400_000 + "true AS ?y) }"
    try:
        with caplog.at_level(logging.ERROR, logger="ntx_graph.server.workers"):
            reply = get(live.port, "/sparql", method="POST", body=deep.encode(),
                        headers={"Content-Type": "application/sparql-query"})
        assert reply.status == 500 and b"crashed on this query" in reply.body, (reply.status, reply.body)
        assert any("died (exit code -11)" in r.getMessage() for r in caplog.records), caplog.records
        again = get(live.port, sparql("ASK { ?s ?p ?o }"), headers={"Accept": "text/csv"})
        assert (again.status, again.body.strip()) == (200, b"true")
    finally:
        live.stop()


# -- fairness and overload -------------------------------------------------------------


def test_a_slow_client_does_not_push_a_fast_client_to_503(kg: KnowledgeGraph) -> None:
    live = start(kg, Limits(workers=2, timeout=1.5, client_share=1), cache_bytes=0)
    slow_replies: list[Reply] = []

    def slow_client() -> None:
        slow_replies.append(get(live.port, sparql(SLOW), source="127.0.0.2"))

    try:
        slow = [threading.Thread(target=slow_client) for _ in range(4)]
        for thread in slow:
            thread.start()
        time.sleep(0.3)
        fast = []
        for _ in range(10):
            started = time.monotonic()
            fast.append((get(live.port, sparql(ASK), source="127.0.0.3"), time.monotonic() - started))
        for thread in slow:
            thread.join(30)
    finally:
        live.stop()
    assert [r.status for r, _ in fast] == [200] * 10
    assert max(seconds for _, seconds in fast) < 1.5
    statuses = sorted(r.status for r in slow_replies)
    assert statuses == [503] * 4
    busy = [r for r in slow_replies if b"time limit" not in r.body]
    assert busy, "the slow client never met its share"
    assert all("retry-after" in r.headers and b"try again shortly" in r.body for r in busy)
    assert all("retry-after" not in r.headers for r in slow_replies if b"time limit" in r.body)


def test_scheduler_prefers_the_client_holding_fewest_workers(kg: KnowledgeGraph) -> None:
    pool = WorkerPool.__new__(WorkerPool)  # the scheduler alone, without processes
    pool.limits = Limits(workers=1, client_share=1)
    pool.size, pool.timeout = 1, 1.0
    pool._lock = threading.Lock()
    pool._free, pool._workers, pool._waiting, pool._closed = [], set(), [], False
    pool._slow = collections.OrderedDict()
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        first, second = _Job(b"", "a", loop.create_future()), _Job(b"", "b", loop.create_future())
        first.since, second.since = 1.0, 2.0
        pool._held = Counter({"a": 1})
        pool._waiting = [first, second]
        assert pool._next_waiter() is second  # "a" is at its share
        pool._held = Counter()
        assert pool._next_waiter() is first  # both hold none: first come
    finally:
        loop.close()


def test_a_clients_next_job_waits_in_its_worker_and_survives_a_timeout(kg: KnowledgeGraph) -> None:
    """One client's jobs are queued behind its own in the worker's socket; when
    the first is cut at the time limit, the one behind it runs on the
    replacement and is answered (it had not run), and another client's job
    does not wait behind them but takes the free worker."""
    from ntx_graph.server.checked import checked_query
    from ntx_graph.server.tasks import QueryJob
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=2, timeout=1, client_share=1, queue_wait=60, strict_share=True))

    def task(text: str) -> tuple[object, ...]:
        return (checked_query, (QueryJob("", 100, sparql=text), "application/sparql-results+json", ()))

    async def scenario() -> tuple[list[int], int, int]:
        await pool.attach()
        slow = asyncio.ensure_future(pool.submit(task(SLOW), "a"))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        fast = asyncio.ensure_future(pool.submit(task("ASK { ?s ?p ?o }"), "a"))  # type: ignore[arg-type]
        await asyncio.sleep(0)
        depth = max(len(w.jobs) for w in pool._workers)
        other = await pool.submit(task("ASK { ?s ?p ?o }"), "b")  # type: ignore[arg-type]
        statuses = []
        for future in (slow, fast):
            try:
                statuses.append((await future).status)
            except QueryTimeout:
                statuses.append(503)
        return statuses, depth, other.status

    try:
        statuses, depth, other = asyncio.run(scenario())
    finally:
        pool.close()
        dump.close()
    assert depth == 2  # the fast job went into the worker running the slow one
    assert other == 200  # client b took the other worker at once
    assert statuses == [503, 200]  # the slow one was cut; the one behind it ran again and was answered


def _query_task(text: str) -> tuple[object, ...]:
    from ntx_graph.server.checked import checked_query
    from ntx_graph.server.tasks import QueryJob

    return (checked_query, (QueryJob("", 100, sparql=text), "application/sparql-results+json", ()))


async def _outcome(future: asyncio.Future[object]) -> int:
    try:
        return cast(Response, await future).status
    except QueryTimeout:
        return 503


def test_a_client_alone_is_lent_idle_workers_and_gives_them_back(kg: KnowledgeGraph,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    """Beyond its share, a client alone runs on idle workers; when another
    client waits, the lent worker's query gets RECLAIM_AFTER seconds, then
    gives way (its worker replaced) and runs again within its own client's
    share; that client is lent nothing more until a quick answer."""
    from ntx_graph.server import workers
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=2, timeout=4, client_share=1, queue_wait=60))

    async def scenario() -> tuple[int, float, list[int], bool, bool, bool]:
        await pool.attach()
        slow = [asyncio.ensure_future(pool.submit(_query_task(SLOW), "a")) for _ in range(2)]  # type: ignore[arg-type]
        await asyncio.sleep(0)
        both = sum(1 for w in pool._busy_workers() if w.client == "a") == 2  # the second was lent
        started = time.monotonic()
        other = await pool.submit(_query_task(ASK), "b")  # type: ignore[arg-type]
        waited = time.monotonic() - started
        slow_client = "a" in pool._slow
        again = any(job.again for job in pool._waiting) or any(j.again for w in pool._workers for j in w.jobs)
        statuses = [await _outcome(f) for f in slow]  # type: ignore[arg-type]
        return other.status, waited, statuses, both, slow_client, again

    caplog.set_level(logging.INFO, logger="ntx_graph.server.workers")
    try:
        other, waited, statuses, both, slow_client, again = asyncio.run(scenario())
    finally:
        pool.close()
        dump.close()
    assert both, "the lone client was not lent the idle worker"
    assert other == 200
    # the grace, then a new worker's start (slow under a loaded test run), but not the time limit: the
    # slow query it displaced would have held the worker that long
    assert workers.RECLAIM_AFTER <= waited < 4, waited
    assert slow_client and again
    assert statuses == [503, 503]  # both slow queries end at the time limit, the reclaimed one after running again
    assert any("taken back" in r.getMessage() for r in caplog.records)


def _bare_pool(loop: asyncio.AbstractEventLoop, limits: Limits) -> tuple[WorkerPool, list[object]]:
    """A pool's scheduler without processes; replaced workers are only recorded."""
    pool = WorkerPool.__new__(WorkerPool)
    pool.limits, pool.size, pool.timeout = limits, limits.workers, limits.timeout
    pool._lock, pool._loop = threading.Lock(), loop
    pool._free, pool._workers, pool._waiting, pool._closed = [], set(), [], False
    pool._held, pool._slow, pool._starting, pool._reclaim_timer = Counter(), collections.OrderedDict(), 0, None
    pool._replacing_fails = False
    replaced: list[object] = []
    pool._replace = replaced.append  # type: ignore[method-assign]
    return pool, replaced


class _FakeLink:
    def send(self, frame: bytes) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize("behind", [False, True])
def test_an_answer_that_ends_its_worker_releases_it_and_keeps_the_job_behind(behind: bool) -> None:
    """A worker that answers and stops (past the memory limit, or an
    unreadable answer) is replaced: its client no longer holds it, and the
    client's next job, already in that worker's socket, waits again."""
    import pickle

    from ntx_graph.server.messages import text
    from ntx_graph.server.workers import _Job, _Worker

    loop = asyncio.new_event_loop()
    try:
        pool, replaced = _bare_pool(loop, Limits(workers=1, client_share=1, strict_share=True))
        worker = _Worker.__new__(_Worker)
        worker.jobs, worker.client, worker.link = collections.deque(), "a", _FakeLink()  # type: ignore[assignment]
        jobs = [_Job(b"", "a", loop.create_future()) for _ in range(2 if behind else 1)]
        worker.jobs.extend(jobs)
        pool._held["a"] = 1
        pool._answered(worker, pickle.dumps((text(503, "past the memory limit"), False)))
        assert jobs[0].future.result().status == 503
        assert replaced == [worker]
        assert dict(pool._held) == {}
        assert pool._waiting == jobs[1:]
    finally:
        loop.close()


def _fake_worker(client: str, *jobs: object) -> object:
    from ntx_graph.server.workers import _Worker

    worker = _Worker.__new__(_Worker)
    worker.jobs, worker.client, worker.link = collections.deque(jobs), client, _FakeLink()  # type: ignore[arg-type,assignment]
    return worker


def test_a_reclaim_takes_the_lent_worker_not_the_one_running_a_job_again_within_its_share() -> None:
    """A job that gave way runs again within its client's share; when that
    client is lent another worker later and another client waits, the lent
    one is taken back, not the one running the job again (which would then
    give way again)."""
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        pool, replaced = _bare_pool(loop, Limits(workers=2, client_share=1))
        again, lent, other = (_Job(b"", client, loop.create_future()) for client in ("a", "a", "b"))
        again.again = True
        again.started, lent.started = time.monotonic() - 1.0, time.monotonic() - 0.5
        within, beyond = _fake_worker("a", again), _fake_worker("a", lent)
        pool._workers = {within, beyond}  # type: ignore[arg-type]
        pool._held["a"] = 2
        pool._waiting = [other]
        pool._reclaim()
        assert replaced == [beyond]
        assert pool._waiting[0] is lent and lent.again
    finally:
        loop.close()


def test_a_job_that_gave_way_is_not_queued_behind_a_lent_worker() -> None:
    """A job that gave way runs only within its client's share: it is not
    queued in the socket of a worker its client holds beyond that share."""
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        pool, _ = _bare_pool(loop, Limits(workers=3, client_share=1))
        running, again = _Job(b"", "a", loop.create_future()), _Job(b"", "a", loop.create_future())
        again.again = True
        worker = _fake_worker("a", running)
        pool._held["a"] = 2
        pool._waiting = [again]
        pool._top_up(worker)  # type: ignore[arg-type]
        assert list(worker.jobs) == [running]  # type: ignore[attr-defined]
        pool._held["a"] = 1  # the client's only worker: within its share
        pool._top_up(worker)  # type: ignore[arg-type]
        assert list(worker.jobs) == [running, again]  # type: ignore[attr-defined]
    finally:
        loop.close()


def test_no_worker_is_lent_or_taken_back_while_replacements_fail() -> None:
    """A worker taken back helps the waiting client only through its
    replacement: when a replacement could not be started, no more lent
    workers are killed (each would be lost too), and none is lent (it could
    not be taken back), until one starts again."""
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        pool, replaced = _bare_pool(loop, Limits(workers=3, client_share=1))
        lent = [_Job(b"", "a", loop.create_future()) for _ in range(3)]
        for job in lent:
            job.started = time.monotonic() - 1.0
        pool._workers = {_fake_worker("a", job) for job in lent}  # type: ignore[misc]
        pool._held["a"] = 3
        pool._waiting = [_Job(b"", "b", loop.create_future())]
        pool._starting = 1  # a worker taken back earlier, whose replacement now fails
        pool._replaced()
        assert pool._starting == 0 and replaced == []
        pool._held["a"] = 1  # and what cannot be taken back is not lent
        pool._waiting = [_Job(b"", "a", loop.create_future())]
        assert pool._next_waiter() is None
    finally:
        loop.close()


def test_a_client_within_its_share_takes_a_lent_worker_back_rather_than_wait_behind_its_own_query() -> None:
    """With four workers and a share of two, a client holding three (one
    lent) and another holding one: the second's next request is within its
    share, so it takes the lent worker back instead of waiting in its own
    worker behind its running query (up to the time limit)."""
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        pool, replaced = _bare_pool(loop, Limits(workers=4, client_share=2))
        running = [_Job(b"", client, loop.create_future()) for client in ("a", "a", "a", "b")]
        for job in running:
            job.started = time.monotonic() - 1.0
        workers = [_fake_worker(job.client, job) for job in running]
        pool._workers = set(workers)  # type: ignore[arg-type]
        pool._held.update({"a": 3, "b": 1})
        job = _Job(b"", "b", loop.create_future())
        pool._enqueue(job)
        assert len(workers[3].jobs) == 1  # type: ignore[attr-defined]
        assert len(replaced) == 1 and replaced[0] in workers[:3]
        assert job in pool._waiting
    finally:
        loop.close()


def test_two_clients_within_their_share_take_two_lent_workers_back_at_once() -> None:
    """Each waiting client within its share takes a lent worker back after
    RECLAIM_AFTER; the second does not wait for the first one's replacement
    to start as well."""
    from ntx_graph.server.workers import _Job

    loop = asyncio.new_event_loop()
    try:
        pool, _ = _bare_pool(loop, Limits(workers=3, client_share=1))
        del pool._replace  # the real one, without processes:
        pool._restart = lambda: None  # type: ignore[method-assign]
        running = [_Job(b"", "a", loop.create_future()) for _ in range(3)]
        for job in running:
            job.started = time.monotonic() - 1.0
        workers = [_fake_worker("a", job) for job in running]
        for worker in workers:
            worker.kill = lambda: None  # type: ignore[attr-defined]
        pool._workers = set(workers)  # type: ignore[arg-type]
        pool._held["a"] = 3
        pool._waiting = [_Job(b"", client, loop.create_future()) for client in ("b", "c")]
        pool._dispatch()
        assert pool._starting == 2 and dict(pool._held) == {"a": 1}
        assert sum(1 for job in pool._waiting if job.again) == 2
    finally:
        loop.close()


def test_strict_share_lends_nothing(kg: KnowledgeGraph) -> None:
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=2, timeout=1, client_share=1, strict_share=True))

    async def scenario() -> int:
        await pool.attach()
        jobs = [asyncio.ensure_future(pool.submit(_query_task(SLOW), "a")) for _ in range(2)]  # type: ignore[arg-type]
        await asyncio.sleep(0)
        busy = len(pool._busy_workers())
        for job in jobs:
            await _outcome(job)  # type: ignore[arg-type]
        return busy

    try:
        busy = asyncio.run(scenario())
    finally:
        pool.close()
        dump.close()
    assert busy == 1


def test_scheduler_lends_only_to_quick_clients_and_never_a_job_that_gave_way() -> None:
    pool = WorkerPool.__new__(WorkerPool)  # the scheduler alone, without processes
    pool.limits = Limits(workers=2, client_share=1)
    pool._slow, pool._replacing_fails = collections.OrderedDict(), False
    loop = asyncio.new_event_loop()
    try:
        from ntx_graph.server.workers import _Job

        first, second = _Job(b"", "a", loop.create_future()), _Job(b"", "b", loop.create_future())
        first.since, second.since = 1.0, 2.0
        pool._held = Counter({"a": 1, "b": 1})  # both at their share
        pool._waiting = [first, second]
        assert pool._next_waiter() is first  # lent, first come
        first.again = True
        assert pool._next_waiter() is second  # a job that gave way runs only within its share
        pool._mark("b", slow=True)
        assert pool._next_waiter() is None
        pool._mark("b", slow=False)
        assert pool._next_waiter() is second
        pool.limits = Limits(workers=2, client_share=1, strict_share=True)
        assert pool._next_waiter() is None
    finally:
        loop.close()


def test_slow_clients_are_remembered_within_a_bound() -> None:
    from ntx_graph.server import workers

    pool = WorkerPool.__new__(WorkerPool)
    pool._slow = collections.OrderedDict()
    addresses = [f"10.0.{n // 256}.{n % 256}" for n in range(workers.SLOW_CLIENTS + 10)]
    for address in addresses:
        pool._mark(address, slow=True)
    assert len(pool._slow) == workers.SLOW_CLIENTS
    assert addresses[0] not in pool._slow and addresses[-1] in pool._slow
    pool._mark(addresses[-1], slow=False)
    assert addresses[-1] not in pool._slow


# -- shutdown ---------------------------------------------------------------------------


def test_graceful_shutdown_finishes_requests_in_flight_and_refuses_new_ones(kg: KnowledgeGraph) -> None:
    live = start(kg, Limits(workers=1, timeout=1.0), cache_bytes=0)
    answers: list[Reply] = []
    thread = threading.Thread(target=lambda: answers.append(get(live.port, sparql(SLOW))))
    thread.start()
    deadline = time.monotonic() + 5
    while live.server.app.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    stopper = threading.Thread(target=live.server.shutdown)
    stopper.start()
    time.sleep(0.2)
    try:
        late = get(live.port, "/health", timeout=3).status
    except OSError:
        late = 0  # the listening socket is closed: refused
    thread.join(10)
    stopper.join(10)
    live.thread.join(10)
    assert [a.status for a in answers] == [503] and b"time limit" in answers[0].body
    assert late in (0, 503)
    assert not live.thread.is_alive()


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "ntx_graph", "serve", "--port", "0", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=ENV,
                            text=True)


def _serving(process: subprocess.Popen[str]) -> int:
    assert process.stderr is not None
    first = process.stderr.readline()
    match = re.match(r"ntx-graph: serving http://127\.0\.0\.1:(\d+)/ \(read-only", first)
    assert match, first
    return int(match.group(1))


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def test_processes_2_serves_from_two_processes_on_one_port() -> None:
    process = _serve("--processes", "2", "--workers", "1", "--no-access-log")
    try:
        port = _serving(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if get(port, "/health", timeout=5).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        servers = [p for p in _children(process.pid) if b"ntx_graph" in Path(f"/proc/{p}/cmdline").read_bytes()
                   or b"multiprocessing" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert len(servers) >= 2, servers
        for _ in range(20):
            reply = get(port, sparql(ASK), headers={"Accept": "application/sparql-results+json"})
            assert reply.status == 200 and json.loads(reply.body)["boolean"] is True
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_on_a_port_in_use_says_so() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        result = subprocess.run([sys.executable, "-m", "ntx_graph", "serve", "--port", str(taken.getsockname()[1])],
                                capture_output=True, text=True, env=ENV, timeout=60)
    finally:
        taken.close()
    assert result.returncode == 2
    assert re.fullmatch(r"ntx-graph: error: port \d+ on 127\.0\.0\.1 is in use; .*\n", result.stderr), result.stderr


@pytest.mark.parametrize("args", [["list"], ["query", "is-narcotic"], ["export", "-f", "ntriples"], ["info"],
                                  ["validate"], ["serve", "--help"]])
def test_other_commands_never_import_uvicorn(args: list[str]) -> None:
    code = ("import sys\nfrom ntx_graph.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "sys.stdout.flush()\nsys.stderr.write('uvicorn' in sys.modules and 'UVICORN-IMPORTED' or 'clean')\n")
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=ENV, timeout=120)
    assert result.stderr.endswith("clean"), result.stderr[-300:]


# -- cache and access log ----------------------------------------------------------------


def test_the_cache_answers_a_repeated_query_from_memory(kg: KnowledgeGraph) -> None:
    live = start(kg, Limits(workers=1, timeout=0.5))
    try:
        cache = live.server.cache
        assert cache is not None
        first = get(live.port, "/queries/is-narcotic.json")
        second = get(live.port, "/queries/is-narcotic.json")
        assert first.status == second.status == 200 and first.body == second.body
        assert all(name in second.headers for name in SECURITY)
        assert (cache.hits, cache.misses) == (1, 1)
        get(live.port, "/queries/is-narcotic.csv")
        get(live.port, "/queries/is-narcotic.json", headers={"Accept": "text/csv"})
        assert (cache.hits, cache.misses) == (1, 3)
        assert get(live.port, sparql(SLOW), headers={"Host": "localhost"}).status == 503
        assert cache.misses == 4 and get(live.port, sparql(SLOW), headers={"Host": "localhost"}).status == 503
        assert cache.hits == 1, "an error was answered from the cache"
    finally:
        live.stop()
    uncached = start(kg, Limits(workers=1), cache_bytes=0)
    try:
        assert uncached.server.cache is None
    finally:
        uncached.stop()


def test_access_log_lines(kg: KnowledgeGraph, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ntx_graph.server.access")
    for log_queries in (False, True):
        live = start(kg, Limits(workers=1), log_queries=log_queries)
        try:
            get(live.port, "/queries/is-narcotic.json?" + urlencode({"secret": "value"}))
        finally:
            live.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "ntx_graph.server.access"]
    assert len(lines) == 2, lines
    assert re.fullmatch(r'127\.0\.0\.1 "GET /queries/is-narcotic\.json" 400 \d+ [\d.]+ms', lines[0]), lines[0]
    assert "secret=value" in lines[1] and "secret" not in lines[0]



def test_without_namespaces_the_server_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from ntx_graph.server import http, netns

    def refuse(flags: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(netns, "_unshare", refuse)
    reason = netns.isolate_network()
    assert reason is not None and "Operation not permitted" in reason

    class Fake:
        isolation = reason
        limits = Limits()

    http._warn_isolation(Fake())  # type: ignore[arg-type]
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not leave the network" in err and "lexical guard" in err


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become nobody")
def test_an_unprivileged_worker_also_leaves_the_network() -> None:
    """As a user without privileges, isolate_network enters a user namespace first."""
    import tempfile

    # a copy the user nobody can read, wherever the checkout is (a clone in a private folder, say)
    folder = Path(tempfile.mkdtemp())
    try:
        folder.chmod(0o755)
        netns = folder / "netns.py"
        shutil.copyfile(ROOT / "src" / "ntx_graph" / "server" / "netns.py", netns)
        netns.chmod(0o644)
        code = ("import importlib.util, socket\n"
                f"spec = importlib.util.spec_from_file_location('netns', {str(netns)!r})\n"
                "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
                "print(m.isolate_network(), m.network_is_isolated())\n")
        for python in (sys.executable, "/usr/bin/python3"):
            result = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-S",
                                     "-c", code], capture_output=True, text=True, timeout=30, cwd="/")
            if result.returncode == 0:
                break
        else:
            pytest.skip(f"no interpreter runs as nobody here: {result.stderr.strip()[-200:]}")
    finally:
        shutil.rmtree(folder)
    assert result.stdout == "None True\n", result.stdout + result.stderr


def _refuse_one_connection(loop: asyncio.AbstractEventLoop, before: Callable[[], object] = lambda: None) -> None:
    """Make the loop's next ``connect_accepted_socket`` fail as if out of file
    descriptors (``before`` runs first), and the ones after it succeed."""
    connect = loop.connect_accepted_socket
    refused: list[object] = []

    async def refuse_once(*args: object, **kwargs: object) -> object:
        if not refused:
            refused.append(before())
            raise OSError(24, "Too many open files")
        return await connect(*args, **kwargs)  # type: ignore[arg-type]

    loop.connect_accepted_socket = refuse_once  # type: ignore[method-assign]


def test_a_replacement_that_cannot_be_connected_is_killed_and_started_again(kg: KnowledgeGraph,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    """A new worker whose socket the loop cannot take (say, out of file
    descriptors) is not left counted but never free: it is killed, and the
    next attempt replaces it (regression: the pool stayed a worker short)."""
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=1, timeout=0.5, queue_wait=20))
    failed: list[object] = []

    async def scenario() -> tuple[int, float, int]:
        await pool.attach()
        loop = asyncio.get_running_loop()
        _refuse_one_connection(loop, lambda: failed.append(
            next(w for w in pool._workers if w.sock is not None and w.link is None)))
        assert await _outcome(asyncio.ensure_future(pool.submit(_query_task(SLOW), "a"))) == 503  # type: ignore[arg-type]
        started = time.monotonic()
        answer = await pool.submit(_query_task(ASK), "a")  # type: ignore[arg-type]
        return answer.status, time.monotonic() - started, pool._starting

    caplog.set_level(logging.INFO, logger="ntx_graph.server.workers")
    try:
        status, waited, starting = asyncio.run(scenario())
        workers = set(pool._workers)
    finally:
        pool.close()
        dump.close()
    assert status == 200 and waited < 20, waited
    assert starting == 0 and len(workers) == 1
    assert failed and failed[0] not in workers
    assert failed[0].exit_code(5) is not None, "the worker that could not be connected is still running"  # type: ignore[attr-defined]
    assert any("connecting a new query worker (attempt 1)" in r.getMessage() for r in caplog.records)


def test_a_first_worker_that_cannot_be_connected_is_killed_and_started_again(kg: KnowledgeGraph) -> None:
    """Regression: a worker the loop could not take when the pool attached
    raised out of attach() and stayed counted, running and never free (and the
    workers after it were never adopted)."""
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=2, timeout=5, queue_wait=20))
    failed = list(pool._pending[:1])

    async def scenario() -> tuple[int, int, int]:
        _refuse_one_connection(asyncio.get_running_loop())
        await pool.attach()
        answer = await pool.submit(_query_task(ASK), "a")  # type: ignore[arg-type]
        deadline = time.monotonic() + 20
        while (pool._starting or len(pool._free) < 2) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return answer.status, pool._starting, len(pool._free)

    try:
        status, starting, free = asyncio.run(scenario())
        workers = set(pool._workers)
    finally:
        pool.close()
        dump.close()
    assert status == 200
    assert starting == 0 and free == 2 and len(workers) == 2
    assert failed[0] not in workers
    assert failed[0].exit_code(5) is not None, "the worker that could not be connected is still running"


def test_a_replacement_that_starts_while_the_pool_closes_is_stopped(kg: KnowledgeGraph) -> None:
    """Regression: a replacement that opened the graph after close() was
    handed to the stopped loop, and stayed running and counted in pids()."""
    from ntx_graph.server.workers import DumpedGraph

    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=1, timeout=5))
    spawned: list[subprocess.Popen[bytes]] = []
    spawn = pool._spawn

    def recording() -> object:
        worker = spawn()
        spawned.append(worker.process)
        return worker

    pool._spawn = recording  # type: ignore[method-assign,assignment]
    try:
        assert pool.run(_query_task(ASK)).status == 200  # type: ignore[arg-type]
        os.kill(pool.pids()[0], signal.SIGKILL)
        deadline = time.monotonic() + 5
        while pool._starting == 0 and time.monotonic() < deadline:  # the loop saw it die: a replacement starts
            time.sleep(0.005)
        assert pool._starting == 1
    finally:
        pool.close()
    for thread in threading.enumerate():
        if thread.name == "ntx-graph-replace":
            thread.join(30)
    dump.close()
    assert pool.pids() == []
    assert all(process.wait(5) is not None for process in spawned)
