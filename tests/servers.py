"""Triplestores for the remote-endpoint tests, and the checks they share.

:func:`stub_server` is a loopback HTTP server with canned answers;
:func:`raw_server` a loopback socket whose handler plays a misbehaving
server (silent, dripping, endless).

:func:`oxigraph_server` and :func:`virtuoso_server` start a private server on
free 127.0.0.1 ports in a temporary folder and stop it (its whole process
group) at the end. A missing binary skips the tests with the install command,
unless ``NTX_REQUIRE_SERVERS=1``, which makes it a failure.

:class:`ServerContract` holds the tests every server must pass; a test module
subclasses it and provides the ``server`` fixture (module-scoped, so each
server starts once per module).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from ntx_graph.catalog import Parameter, SavedQuery, get_saved_query, saved_queries
from ntx_graph.errors import NtxError, ParameterError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.push import push_graph
from ntx_graph.remote import RemoteEndpoint
from ntx_graph.results import QueryResult

XSD = "http://www.w3.org/2001/XMLSchema#"
ID = "https://w3id.org/ntx-graph/id/"
DEF = "https://w3id.org/ntx-graph/def/"
MAIN_GRAPH = "https://w3id.org/ntx-graph/test/main"
PASSWORD_VAR = "NTX_TEST_ENDPOINT_PASSWORD"
VIRTUOSO_VSP = Path("/var/lib/virtuoso-opensource-7/vsp")
NUMERIC = {XSD + n for n in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte", "nonNegativeInteger",
    "nonPositiveInteger", "positiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort",
    "unsignedByte")}
#: Saved queries with non-default parameter values, run as well.
EXTRA_CASES = [
    ("side-effects-by-severity", {"min_severity": "severity:severe"}),
    ("side-effects-by-frequency", {"frequency": "frequency:rare"}),
    ("uses-in-category", {"category": "cond:substance-dependence"}),
    ("quote-lookup", {"text": "Immediately"}),
]
#: Values that would break a query pasted as text.
HOSTILE = [
    'say "hi"', "it's", '"""', "'''", "}> ; DROP ALL ; #", 'x" } UNION { ?s ?p ?o } #', "line\nbreak\r\ttab",
    "back\\slash", "x\\u0022y", "\\U0001F600", "# not a comment", "é😀\u2028\u2029", "\x01\x1f\x7f", "",
    "naïve ünïcödé 😀" * 100,
]


# -- fake servers on loopback ------------------------------------------------------


@dataclass
class Seen:
    """A request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(self.body.decode("ascii"), keep_blank_values=True)

    @property
    def params(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class Stub:
    """A local HTTP server answering with ``respond(request)``."""

    url: str
    respond: Callable[[Seen], Reply] = field(default=lambda seen: (200, {}, b""))
    requests: list[Seen] = field(default_factory=list)

    def answer(self, status: int, ctype: str, body: bytes | str, **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.respond = lambda seen: (status, {"Content-Type": ctype, **headers}, data)


@contextmanager
def stub_server() -> Iterator[Stub]:
    """A :class:`Stub` on a free 127.0.0.1 port (its URL ends in /sparql)."""
    holder: dict[str, Stub] = {}

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            holder["stub"].requests.append(seen)
            status, headers, data = holder["stub"].respond(seen)
            self.send_response(status)
            for key, val in headers.items():
                self.send_header(key, val)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    holder["stub"] = Stub(f"http://127.0.0.1:{server.server_address[1]}/sparql")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield holder["stub"]
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class RawServer:
    """A loopback socket server; ``connections`` counts accepted connections."""

    url: str
    connections: int = 0


@contextmanager
def raw_server(handle: Callable[[socket.socket, threading.Event], None]) -> Iterator[RawServer]:
    """Accept connections on a free 127.0.0.1 port and give each to
    ``handle(conn, stop)`` in a thread; ``stop`` is set at the end."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    found = RawServer(f"http://127.0.0.1:{listener.getsockname()[1]}/sparql")
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, suppress(OSError):
            handle(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            found.connections += 1
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        stop.set()
        thread.join(2)
        listener.close()


# -- starting servers ---------------------------------------------------------------


@dataclass
class Server:
    """A running triplestore."""

    name: str
    process: subprocess.Popen[bytes]
    query_url: str
    store_url: str
    folder: Path
    log: Path
    user: str | None = None
    password: str | None = None
    auth: str = "basic"

    def stop(self) -> None:
        """Stop the server's whole process group."""
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait(timeout=15)

    def log_tail(self, lines: int = 15) -> str:
        """The end of the server's log."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def require_binary(name: str, install: str) -> str:
    """The path of ``name``, or skip (fail with NTX_REQUIRE_SERVERS=1)."""
    path = shutil.which(name)
    if path is not None:
        try:
            ok = subprocess.run([path, "--version"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok or name == "virtuoso-t":  # virtuoso-t has no --version; it was found
            return path
    reason = f"{name} is not installed; install it with: {install}"
    if os.environ.get("NTX_REQUIRE_SERVERS") == "1":
        pytest.fail(reason + " (NTX_REQUIRE_SERVERS=1)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _launch(name: str, argv: list[str], folder: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(argv, cwd=folder, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def _wait_until_up(server: Server, probe: str, timeout: float = 60.0) -> bool:
    """Whether ``probe`` answers 200 before ``timeout``; False if the process died."""
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            return False
        try:
            with opener.open(probe, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _start(make: Any, attempts: int = 3) -> Server:
    """Start a server, retrying on a lost port race."""
    last: Server | None = None
    for _ in range(attempts):
        server, probe = make()
        if _wait_until_up(server, probe):
            return server
        last = server
        server.stop()
    assert last is not None
    pytest.fail(f"{last.name} did not start; its log ends with:\n{last.log_tail()}", pytrace=False)


@contextmanager
def oxigraph_server(folder: Path) -> Iterator[Server]:
    """``oxigraph serve`` on a free port with its store in ``folder``."""
    binary = require_binary("oxigraph", "pip install oxigraph")

    def make() -> tuple[Server, str]:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = folder / "oxigraph.log"
        process = _launch("oxigraph", [binary, "serve", "--location", str(folder / "store"),
                                       "--bind", f"127.0.0.1:{port}"], folder, log)
        server = Server("oxigraph", process, f"{base}/query", f"{base}/store", folder, log)
        return server, f"{base}/query?query=" + urllib.parse.quote("ASK {}")

    server = _start(make)
    try:
        yield server
    finally:
        server.stop()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
O_DIRECT = 0
CaseMode = 2
MaxStaticCursorRows = 5000
AllowOSCalls = 0
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
MaxQueryMem = 200M

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 10
DavRoot = DAV
EnabledDavVSP = 0
HTTPProxyEnabled = 0
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = 100000
; 0: no refusal on the optimizer's estimate, which put primary-uses at 497 s on a few thousand triples
; once earlier tests had filled other graphs (the execution limit below still holds)
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 60
"""


@contextmanager
def virtuoso_server(folder: Path) -> Iterator[Server]:
    """A private Virtuoso 7 (fresh database, user dba/dba) on free ports.

    Its SPARQL endpoint is /sparql and its Graph Store /sparql-graph-crud-auth
    (digest authentication). In a fresh database dba holds SPARQL_UPDATE, which
    the Graph Store needs (otherwise: ``isql-vt 127.0.0.1:PORT dba dba
    exec="GRANT SPARQL_UPDATE TO dba"``).
    """
    binary = require_binary("virtuoso-t", "apt-get install virtuoso-opensource with the dba password preseeded "
                                          "in debconf; see .ci/install-system-packages.sh")
    vsp = VIRTUOSO_VSP if VIRTUOSO_VSP.is_dir() else folder / "vsp"
    vsp.mkdir(exist_ok=True)

    def make() -> tuple[Server, str]:
        sql_port, http_port = free_port(), free_port()
        db = folder / f"db-{sql_port}"
        db.mkdir()
        ini = db / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=db, sql_port=sql_port, http_port=http_port, vsp=vsp))
        log = db / "virtuoso.out"
        process = _launch("virtuoso", [binary, "+foreground", "+configfile", str(ini)], db, log)
        base = f"http://127.0.0.1:{http_port}"
        server = Server("virtuoso", process, f"{base}/sparql", f"{base}/sparql-graph-crud-auth", db, log,
                        user="dba", password="dba", auth="digest")
        return server, f"{base}/sparql?query=" + urllib.parse.quote("ASK {}")

    server = _start(make)
    try:
        yield server
    finally:
        server.stop()


# -- comparing answers --------------------------------------------------------------


def value(term: Any) -> Any:
    """A comparable value for a term, normalised only where SPARQL engines may
    differ: numbers by value, booleans by value, ``xsd:string`` as a plain
    literal, blank nodes all alike (labels are local to an answer)."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("blank",)
    if isinstance(term, ox.Literal):
        datatype = term.datatype.value
        if term.language:
            return ("text", term.value, term.language.lower())
        if datatype in NUMERIC:
            try:
                return ("number", Decimal(term.value))
            except InvalidOperation:
                return ("number", term.value)
        if datatype == XSD + "boolean":
            return ("boolean", term.value.strip() in ("true", "1"))
        if datatype == XSD + "string":
            return ("literal", term.value, None)
        return ("literal", term.value, datatype)
    return ("other", str(term))


def rows_multiset(result: QueryResult) -> Counter[frozenset[tuple[str, Any]]]:
    """The solutions as a multiset of {variable: value} (unbound left out)."""
    return Counter(frozenset((v, value(t)) for v, t in zip(result.variables, row, strict=True) if t is not None)
                   for row in result.rows)


def canonical_graph(triples: list[ox.Triple]) -> rdflib.Graph:
    """An rdflib graph with literals in canonical form (rdflib normalises
    lexical forms; ``xsd:string`` becomes plain)."""
    graph = rdflib.Graph()

    def conv(term: Any) -> Any:
        if isinstance(term, ox.NamedNode):
            return rdflib.URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return rdflib.BNode(term.value)
        if term.language:
            return rdflib.Literal(term.value, lang=term.language.lower())
        if term.datatype.value == XSD + "string":
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))

    for t in triples:
        graph.add((conv(t.subject), conv(t.predicate), conv(t.object)))
    return graph


def order_keys(text: str) -> list[str]:
    """The variables of the outermost ORDER BY clause of a query."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    tail = body[body.rfind("}") + 1:]
    match = re.search(r"ORDER\s+BY\s+(.*?)(?:\bLIMIT\b|\bOFFSET\b|$)", tail, re.IGNORECASE | re.DOTALL)
    return re.findall(r"\?(\w+)", match.group(1)) if match else []


def assert_same_answer(remote: QueryResult, local: QueryResult, what: str, ordered_by: Sequence[str] = ()) -> None:
    """The remote and embedded answers agree (see :func:`value`); for SELECT,
    as multisets of rows, and the ORDER BY columns in the same sequence."""
    assert remote.kind == local.kind, what
    if local.kind == "ask":
        assert remote.boolean is local.boolean, what
    elif local.kind == "graph":
        assert len(set(remote.triples)) == len(set(local.triples)), what
        assert isomorphic(canonical_graph(remote.triples), canonical_graph(local.triples)), what
    else:
        assert set(remote.variables) == set(local.variables), what
        missing = rows_multiset(local) - rows_multiset(remote)
        extra = rows_multiset(remote) - rows_multiset(local)
        assert not missing and not extra, f"{what}: rows only on the embedded engine {list(missing)[:3]}, " \
                                          f"only on the endpoint {list(extra)[:3]}"
        keys = [k for k in ordered_by if k in local.variables and k in remote.variables]
        if keys:
            def sequence(result: QueryResult) -> list[tuple[Any, ...]]:
                index = [result.variables.index(k) for k in keys]
                return [tuple(value(row[i]) for i in index) for row in result.rows]

            assert sequence(remote) == sequence(local), f"{what}: the rows come in another order (by {keys})"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m ntx_graph ARGS`` in a fresh process."""
    return subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def count_triples(server: Server, graph: str) -> int:
    """The number of triples in ``graph`` on ``server``."""
    result = RemoteEndpoint(server.query_url, graph=graph, prefixes={}).query(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    cell = result.rows[0][0]
    assert isinstance(cell, ox.Literal)
    return int(cell.value)


def echo_query() -> SavedQuery:
    """A saved query that returns its parameters."""
    return SavedQuery("echo", "Echo", "Returns its parameters.", "SELECT ?text ?iri WHERE { }\n", Path("echo.rq"),
                      (Parameter("text", "string", default="x"), Parameter("iri", "iri", default="<urn:ntx:x>")))


#: Every saved query with its default values, and those of EXTRA_CASES.
CASES = [(q.name, None) for q in saved_queries()] + [
    case for case in EXTRA_CASES if case[0] in {q.name for q in saved_queries()}]


# -- the tests every server passes -------------------------------------------------


class ServerContract:
    """Push the bundled graph with the CLI, then query it: what every server
    must pass (that every saved query agrees with the embedded engine there is
    tests/test_agreement.py). Subclasses provide the module-scoped ``server``
    fixture."""

    @pytest.fixture(scope="class")
    @classmethod
    def kg(cls) -> KnowledgeGraph:
        return KnowledgeGraph.open()

    @pytest.fixture(scope="class")
    @classmethod
    def auth_args(cls, server: Server) -> list[str]:
        if server.user is None:
            return []
        return ["--user", server.user, "--password-env", PASSWORD_VAR, "--auth", server.auth]

    @pytest.fixture(scope="class")
    @classmethod
    def pushed(cls, server: Server, auth_args: list[str]) -> subprocess.CompletedProcess[str]:
        """The bundled graph pushed to MAIN_GRAPH by the CLI."""
        return cli("push", "--endpoint", server.store_url, "--graph", MAIN_GRAPH, *auth_args,
                   env={PASSWORD_VAR: server.password or ""})

    @pytest.fixture(scope="class")
    @classmethod
    def endpoint(cls, server: Server, pushed: subprocess.CompletedProcess[str], kg: KnowledgeGraph) -> RemoteEndpoint:
        assert pushed.returncode == 0, pushed.stderr
        return RemoteEndpoint(server.query_url, graph=MAIN_GRAPH, prefixes=kg.prefixes, timeout=60)

    def push(self, server: Server, data: bytes, graph: str, *, replace: bool = True) -> Any:
        return push_graph(data, endpoint=server.store_url, graph=graph, replace=replace, user=server.user,
                          password=server.password, auth=server.auth)

    def test_cli_push_uploads_the_bundled_graph(self, server: Server, pushed: subprocess.CompletedProcess[str],
                                                kg: KnowledgeGraph) -> None:
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stdout == ""
        line = pushed.stderr.strip()
        assert "\n" not in line and f"{len(kg):,} triples" in line and "replaced" in line
        assert count_triples(server, MAIN_GRAPH) == len(kg)

    def test_replace_twice_keeps_one_copy(self, server: Server, auth_args: list[str], kg: KnowledgeGraph) -> None:
        graph = MAIN_GRAPH + "/replace"
        for _ in range(2):
            done = cli("push", "--endpoint", server.store_url, "--graph", graph, "--replace", *auth_args,
                       env={PASSWORD_VAR: server.password or ""})
            assert done.returncode == 0, done.stderr
        assert count_triples(server, graph) == len(kg)

    def test_append_adds(self, server: Server, auth_args: list[str], kg: KnowledgeGraph) -> None:
        graph = MAIN_GRAPH + "/append"
        result = self.push(server, b'<urn:ntx:a> <urn:ntx:b> "before" .\n<urn:ntx:a> <urn:ntx:b> <urn:ntx:c> .\n',
                           graph)
        assert result.triples == 2
        assert count_triples(server, graph) == 2
        done = cli("push", "--endpoint", server.store_url, "--graph", graph, "--append", *auth_args,
                   env={PASSWORD_VAR: server.password or ""})
        assert done.returncode == 0, done.stderr
        assert "appended to" in done.stderr
        assert count_triples(server, graph) == len(kg) + 2
        self.push(server, b"<urn:ntx:a> <urn:ntx:b> <urn:ntx:d> .\n", graph, replace=False)
        assert count_triples(server, graph) == len(kg) + 3
        self.push(server, b"<urn:ntx:a> <urn:ntx:b> <urn:ntx:d> .\n", graph, replace=True)
        assert count_triples(server, graph) == 1

    def test_push_graph_streams_with_progress(self, server: Server, kg: KnowledgeGraph) -> None:
        import io

        stream = io.StringIO()
        data = kg.export("ntriples")
        result = push_graph(data, endpoint=server.store_url, graph=MAIN_GRAPH + "/progress", user=server.user,
                            password=server.password, auth=server.auth, progress=True, stream=stream,
                            chunk_size=len(data) // 7 + 1)
        assert result.triples == len(kg) and result.bytes == len(data) and result.status in (200, 201, 204)
        assert str(result).startswith(f"replaced <{MAIN_GRAPH}/progress>: {len(kg):,} triples")
        updates = stream.getvalue().split("\r")[1:]
        assert len(updates) >= 8 and updates[-1].endswith("(100%)\n")
        assert count_triples(server, MAIN_GRAPH + "/progress") == len(kg)

    def test_cli_query_json(self, server: Server, pushed: subprocess.CompletedProcess[str],
                            kg: KnowledgeGraph) -> None:
        done = cli("query", "primary-uses", "--endpoint", server.query_url, "--graph", MAIN_GRAPH,
                   "--format", "json")
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        local = json.loads(kg.run("primary-uses").serialize("json"))
        assert set(doc["head"]["vars"]) == set(local["head"]["vars"])
        assert sorted(json.dumps(b, sort_keys=True) for b in doc["results"]["bindings"]) == \
            sorted(json.dumps(b, sort_keys=True) for b in local["results"]["bindings"])
        ask = cli("query", "is-narcotic", "--endpoint", server.query_url, "--graph", MAIN_GRAPH, "--format", "json")
        assert ask.returncode == 0 and json.loads(ask.stdout)["boolean"] is False

    @pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
    def test_hostile_values_come_back_unchanged(self, endpoint: RemoteEndpoint, text: str) -> None:
        result = endpoint.run(echo_query(), {"text": text, "iri": "http://example.org/é?q=1#x"})
        assert result.variables == ["text", "iri"]
        assert result.rows == [(ox.Literal(text), ox.NamedNode("http://example.org/é?q=1#x"))]

    def test_typed_parameters_come_back_as_bound(self, endpoint: RemoteEndpoint) -> None:
        typed = SavedQuery("typed", "Typed", "Returns its parameters.", "SELECT ?n ?d ?b ?f WHERE { }\n",
                           Path("typed.rq"), (Parameter("n", "integer"), Parameter("d", "decimal"),
                                              Parameter("b", "boolean"), Parameter("f", "boolean")))
        result = endpoint.run(typed, {"n": "-42", "d": "1.50", "b": "true", "f": "0"})
        assert result.rows == [(ox.Literal("-42", datatype=ox.NamedNode(XSD + "integer")),
                                ox.Literal("1.50", datatype=ox.NamedNode(XSD + "decimal")),
                                ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean")),
                                ox.Literal("false", datatype=ox.NamedNode(XSD + "boolean")))]

    def test_a_hostile_value_finds_nothing(self, endpoint: RemoteEndpoint) -> None:
        result = endpoint.run(get_saved_query("quote-lookup"), {"text": 'x")) } UNION { ?claim ?p ?quote } #'})
        assert result.rows == []

    @pytest.mark.parametrize("iri", ["http://a b", "http://a/>", "http://a/}", "http://a/\\", "not an iri"])
    def test_bad_iris_are_refused(self, endpoint: RemoteEndpoint, iri: str) -> None:
        with pytest.raises(ParameterError):
            endpoint.run(echo_query(), {"iri": iri})

    def test_parameter_class_is_checked_on_the_endpoint(self, endpoint: RemoteEndpoint) -> None:
        with pytest.raises(ParameterError, match="is not a ntx:Drug in the graph"):
            endpoint.run(get_saved_query("primary-uses"), {"drug": "cond:alcohol-dependence"})

    def test_the_graph_keeps_other_data_out(self, server: Server, pushed: subprocess.CompletedProcess[str]) -> None:
        self.push(server, b"<urn:ntx:other> <urn:ntx:p> <urn:ntx:o> .\n", MAIN_GRAPH + "/other")
        assert count_triples(server, MAIN_GRAPH + "/other") == 1
        own = RemoteEndpoint(server.query_url, graph=MAIN_GRAPH, prefixes={})
        assert own.query("ASK { <urn:ntx:other> ?p ?o }").boolean is False

    def test_syntax_error_is_one_line(self, endpoint: RemoteEndpoint) -> None:
        with pytest.raises(NtxError) as caught:
            endpoint.query("SELECT nonsense WHERE { ?s ?p ?o }")
        message = str(caught.value)
        assert message.startswith("the server answered HTTP 400") and "\n" not in message

    def test_cli_query_error_is_one_line(self, server: Server) -> None:
        done = cli("query", "--sparql", "SELECT nonsense WHERE { ?s ?p ?o }", "--endpoint", server.query_url)
        assert done.returncode == 2
        assert done.stderr.startswith("ntx-graph: error: the server answered HTTP 400")
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
