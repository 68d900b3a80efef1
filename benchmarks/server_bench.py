#!/usr/bin/env python
"""HTTP throughput of ``ntx-graph serve`` next to its peers, side by side in one run.

    python benchmarks/server_bench.py [--seconds 5] [--rounds 1] [--hostile] [--output FILE.md]

Contenders, each holding the bundled graph and answering ``GET ?query=`` on
127.0.0.1: ``ntx-graph serve`` with its answer cache (one server process, and
``--processes 2``) and with ``--no-cache``
(and with ``--strict-share``: wrk's connections all come from one address,
which by default is lent the idle workers beyond its share), the floor app
(``benchmarks/floor_app.py``: uvicorn over one in-process pyoxigraph store, no workers, no limits), ``oxigraph
serve-read-only`` (the ``oxigraph`` package's binary) and rdflib-endpoint
(if installed; ``benchmarks/run.py`` installs it into
~/.cache/ntx-graph-benchmarks). Queries: ``is-narcotic`` (an ASK) and the
flagship ``off-label-uses-lacking-evidence`` (4 rows), JSON results. The
load is wrk, 2 threads and 8 connections; the load average is recorded with
each figure. ``--hostile`` also runs the mixed hostile load of
tests/test_endpoint_load.py and reports its summary line; ``--store-drugs N``
also serves a persistent store with N generated drugs. Prints a Markdown
section (or writes it to ``--output``); ``benchmarks/run.py`` may call
:func:`section`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
EXE = sys.executable
NALTREXONE = "https://w3id.org/ntx-graph/id/drug/naltrexone"
FLAGSHIP = "off-label-uses-lacking-evidence"
QUERIES = ("is-narcotic", FLAGSHIP)
RDFLIB_ENDPOINT = Path.home() / ".cache" / "ntx-graph-benchmarks" / "rdflib-endpoint" / "bin" / "rdflib-endpoint"


def query_text(name: str) -> str:
    """A saved query's text with ``?drug`` bound to naltrexone by a VALUES block at the start of its
    group, so that every server runs the same text."""
    text = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#+"))
    return re.sub(r"(WHERE|ASK)\s*\{", lambda m: f"{m.group(1)} {{\n  VALUES ?drug {{ <{NALTREXONE}> }}", body, count=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str, timeout: float = 10) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
    except OSError:
        return 0, b""


def rows(body: bytes) -> int:
    try:
        data = json.loads(body)
    except ValueError:
        return -1
    return 1 if "boolean" in data else len(data.get("results", {}).get("bindings", []))


@dataclass
class Figure:
    server: str
    query: str
    rps: float
    p50: str
    p99: str
    requests: int
    non2xx: int
    load: float
    rows: int | str
    cpu_us: float  # CPU time of the server's processes (workers included) per request, in microseconds


def wrk(url: str, seconds: int) -> dict[str, str]:
    done = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "-H",
                           "Accept: application/sparql-results+json", url],
                          capture_output=True, text=True, timeout=seconds + 60)
    found = {}
    for key, pattern in (("rps", r"Requests/sec:\s+([\d.]+)"), ("p50", r"50%\s+([\d.]+\w+)"),
                         ("p99", r"99%\s+([\d.]+\w+)"), ("non2xx", r"Non-2xx or 3xx responses:\s+(\d+)"),
                         ("requests", r"(\d+) requests in")):
        match = re.search(pattern, done.stdout)
        found[key] = match.group(1) if match else ""
    return found


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux /proc)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _tree(int(child)))]


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid``'s process tree, all threads (0 where /proc is missing)."""
    total = 0
    for member in _tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.0


def build_store(work: Path, drugs: int, env: dict[str, str]) -> Path:
    """A persistent store of the bundled graph plus ``drugs`` synthetic drugs (10,000: about 1M triples)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from support.generate import write_generated

    data = work / "generated.nt"
    write_generated(data, drugs, seed=0)
    store = work / "store"
    subprocess.run([EXE, "-m", "ntx_graph", "load", "--store", str(store), "--no-validate", str(data)], check=True,
                   env=env, timeout=1800, capture_output=True)
    return store


def small_store(work: Path, env: dict[str, str]) -> Path:
    """A persistent store of the bundled graph alone: the like-for-like reference of the large store."""
    store = work / "small-store"
    subprocess.run([EXE, "-m", "ntx_graph", "load", "--store", str(store)], check=True, env=env, timeout=300,
                   capture_output=True)
    return store


def contenders(work: Path, nt: Path, store: Path | None = None, small: Path | None = None
               ) -> dict[str, tuple[list[str], str]]:
    """name -> (command, endpoint URL)."""
    out: dict[str, tuple[list[str], str]] = {}
    for name, where in ((LARGE, store), (SMALL, small)):
        if where is not None:
            port = free_port()
            out[name] = ([EXE, "-m", "ntx_graph", "serve", "--port", str(port), "--no-access-log", "--no-cache",
                          "--store", str(where)], f"http://127.0.0.1:{port}/sparql")
    generated = work / "generated.nt"  # build_store's data: the same graph as the large store, in memory
    if store is not None and generated.exists():
        port = free_port()
        out[MEMORY] = ([EXE, "-m", "ntx_graph", "serve", "--port", str(port), "--no-access-log", "--no-cache",
                        "--data", str(generated), "--no-validate"], f"http://127.0.0.1:{port}/sparql")
    for name, extra in (("ntx-graph serve (cache)", []), (TWO, ["--processes", "2"]),
                        ("ntx-graph serve --no-cache", ["--no-cache"]),
                        ("ntx-graph serve --no-cache --strict-share", ["--no-cache", "--strict-share"])):
        port = free_port()
        out[name] = ([EXE, "-m", "ntx_graph", "serve", "--port", str(port), "--no-access-log", *extra],
                     f"http://127.0.0.1:{port}/sparql")
    port = free_port()
    out["floor app (uvicorn + pyoxigraph)"] = ([EXE, str(BENCH / "floor_app.py"), str(port), str(nt)],
                                               f"http://127.0.0.1:{port}/")
    oxigraph = shutil.which("oxigraph")
    if oxigraph:
        location = work / "oxigraph"
        subprocess.run([oxigraph, "load", "--location", str(location), "--file", str(nt)], capture_output=True,
                       timeout=300, check=True)
        port = free_port()
        out["oxigraph serve-read-only"] = ([oxigraph, "serve-read-only", "--location", str(location), "--bind",
                                            f"127.0.0.1:{port}"], f"http://127.0.0.1:{port}/query")
    endpoint = shutil.which("rdflib-endpoint") or (str(RDFLIB_ENDPOINT) if RDFLIB_ENDPOINT.exists() else None)
    if endpoint:
        port = free_port()
        out["rdflib-endpoint"] = ([endpoint, "serve", "--host", "127.0.0.1", "--port", str(port), str(nt)],
                                  f"http://127.0.0.1:{port}/")
    return out


def _start(name: str, cmd: list[str], base: str, work: Path, env: dict[str, str],
           notes: list[str]) -> subprocess.Popen[bytes] | None:
    slug = re.sub(r"\W+", "-", name)
    log = work / f"{slug}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=work, env=env)
    probe = base + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None and fetch(probe, 2)[0] != 200:
        time.sleep(0.2)
    if process.poll() is None and fetch(probe, 2)[0] == 200:
        return process
    notes.append(f"- {name} did not start: {log.read_text(errors='replace')[-300:]}")
    stop(process)
    return None


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def measure(seconds: int, rounds: int, store_drugs: int = 0, store_dir: Path | None = None
            ) -> tuple[list[Figure], list[str]]:
    """Every contender started at once, then ``rounds`` rounds of wrk over every (query, server), the
    servers' order rotated each round so that no contender always meets the same load."""
    figures: list[Figure] = []
    notes: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="ntx-server-bench-") as tmp:
        work = Path(tmp)
        nt = work / "bundled.nt"
        with nt.open("wb") as handle:
            subprocess.run([EXE, "-m", "ntx_graph", "export", "-f", "ntriples"], stdout=handle, check=True, env=env,
                           timeout=120)
        store = store_dir or (build_store(work, store_drugs, env) if store_drugs else None)
        small = small_store(work, env) if store is not None else None
        if store is not None:
            notes.append(store_profile(store))
        import pyoxigraph as ox

        local = ox.Store()
        local.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
        expected = {name: rows(local.query(query_text(name)).serialize(format=ox.QueryResultsFormat.JSON))
                    for name in QUERIES}
        running: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
        try:
            for name, (cmd, base) in contenders(work, nt, store, small).items():
                process = _start(name, cmd, base, work, env, notes)
                if process is not None:
                    running[name] = (process, base)
            answered: dict[tuple[str, str], int | str] = {}
            for name, (_, base) in running.items():
                for query in QUERIES:
                    status, body = fetch(base + "?" + urllib.parse.urlencode({"query": query_text(query)}), 30)
                    got: int | str = rows(body) if status == 200 else f"HTTP {status}"
                    answered[(name, query)] = got
                    if got != expected[query] and name not in (LARGE, MEMORY):
                        notes.append(f"- {name}, `{query}`: answered {got} rows instead of {expected[query]}")
            names = list(running)
            for round_number in range(rounds):
                order = names[round_number % len(names):] + names[:round_number % len(names)] if names else []
                for query in QUERIES:
                    for name in order:
                        process, base = running[name]
                        url = base + "?" + urllib.parse.urlencode({"query": query_text(query)})
                        before = cpu_seconds(process.pid)
                        result = wrk(url, seconds)
                        used = cpu_seconds(process.pid) - before
                        count = int(result["requests"] or 0)
                        figures.append(Figure(name, query, float(result["rps"] or 0), result["p50"], result["p99"],
                                              count, int(result["non2xx"] or 0), os.getloadavg()[0],
                                              answered[(name, query)], used / count * 1e6 if count else 0.0))
        finally:
            for process, _ in running.values():
                stop(process)
    return figures, notes


def store_profile(store: Path, calls: int = 200) -> str:
    """The CPU time of one saved query in this process, on the bundled graph in memory and on the
    persistent store: what the store's own lookups cost, without HTTP or workers."""
    import timeit

    sys.path.insert(0, str(ROOT / "src"))
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.persistent import open_graph

    graphs = {"the bundled graph in memory": KnowledgeGraph.open(), "the persistent store": open_graph(store)}
    times = {}
    for name in QUERIES:
        for where, kg in graphs.items():
            kg.run(name)
            clock = time.process_time
            times[(name, where)] = min(timeit.repeat(lambda kg=kg, name=name: kg.run(name), number=calls // 5,
                                                     repeat=5, timer=clock)) / (calls // 5) * 1e3
    parts = [f"`{name}` {times[(name, a)]:.2f} ms on {a} and {times[(name, b)]:.2f} ms on {b} "
             f"({times[(name, b)] / times[(name, a)]:.1f}x)" for name in QUERIES for a, b in [tuple(graphs)]]
    return ("- Profile of the persistent store, in one process (`KnowledgeGraph.run`, CPU per call, best of 5 "
            f"rounds of {calls // 5}): " + "; ".join(parts) + ". The difference is the on-disk store's own "
            "lookups (RocksDB), which every worker pays; holding the graph in memory in each worker instead "
            "would cost each the graph's whole size.")


def hostile() -> str:
    """The summary line of tests/test_endpoint_load.py's mixed hostile load, and its verdicts."""
    python = os.environ.get("NTX_BENCH_TEST_PYTHON", EXE)  # the benchmark's clean venv has no pytest
    done = subprocess.run([python, "-m", "pytest", str(ROOT / "tests" / "test_endpoint_load.py"), "-q",
                           "-p", "no:cacheprovider", "-k", "not sigterm"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("load:")), "no summary line")
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-300:]
    verdict = verdict.replace(str(Path.home()), "~")
    return f"{summary}\n\nVerdict of its tests: {verdict} (load average {os.getloadavg()[0]:.2f} at the end)"


def overhead(calls: int = 500) -> str:
    """Where a query's time goes, in microseconds per call: pyoxigraph alone, the executor in-process,
    the same through a worker (the difference is the IPC: pickling, the socket pair, the copies), and the
    whole router through the worker pool."""
    import pickle
    import timeit
    from urllib.parse import urlencode

    sys.path.insert(0, str(ROOT / "src"))
    import pyoxigraph as ox

    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.server.limits import Limits
    from ntx_graph.server.messages import Request
    from ntx_graph.server.router import Router
    from ntx_graph.server.snapshot import Snapshot
    from ntx_graph.server.tasks import QueryJob, run_query
    from ntx_graph.server.workers import DumpedGraph, WorkerPool

    kg = KnowledgeGraph.open()
    snapshot = Snapshot.of(kg)
    dump = DumpedGraph(kg)
    pool = WorkerPool(dump.source, Limits(workers=1))
    router = Router(snapshot, Limits(workers=1), pool)
    lines = ["| query | pyoxigraph query + serialize | run_query in-process | run_query in a worker | IPC "
             "(difference) | router + worker | task / answer pickled |", "|---|---|---|---|---|---|---|"]
    try:
        for name in QUERIES:
            text = query_text(name)
            job = QueryJob("json", 10000, sparql=text, graphs=snapshot.graphs)
            request = Request("GET", "/sparql", urlencode({"query": text}),
                              {"accept": "application/sparql-results+json"})
            cases = [lambda text=text: kg.store.query(text).serialize(format=ox.QueryResultsFormat.JSON),
                     lambda job=job: run_query(kg, job), lambda job=job: pool.run((run_query, (job,))),
                     lambda request=request: router(request)]
            times = [min(timeit.repeat(case, number=calls // 5, repeat=5)) / (calls // 5) * 1e6 for case in cases]
            sizes = (len(pickle.dumps((run_query, (job,)))), len(pickle.dumps(pool.run((run_query, (job,))))))
            lines.append(f"| `{name}` | {times[0]:.0f} | {times[1]:.0f} | {times[2]:.0f} | {times[2] - times[1]:.0f} | "
                         f"{times[3]:.0f} | {sizes[0]:,} B / {sizes[1]:,} B |")
        lines += ["", "In the HTTP process, µs per request (the rest is uvicorn, the sockets and the scheduler):", "",
                  "| query | router.plan (query string parsed, negotiated, task built) | task pickled | answer "
                  "unpickled | cache hit through the ASGI app |", "|---|---|---|---|---|"]
        from ntx_graph.server.workers import InlineExecutor

        inline = Router(snapshot, Limits(workers=1), InlineExecutor(kg))
        lines += [_http_stages(name, inline) for name in QUERIES]
    finally:
        pool.close()
        dump.close()
    return "\n".join(lines) + f"\n\nLoad average at the end: {os.getloadavg()[0]:.2f}."


def _http_stages(name: str, router: object) -> str:
    import asyncio
    import pickle
    import timeit
    from urllib.parse import urlencode

    from ntx_graph.server.asgi import App, HostPolicy
    from ntx_graph.server.cache import ResponseCache
    from ntx_graph.server.messages import Request
    from ntx_graph.server.router import Router
    from ntx_graph.server.tasks import Deferred, execute
    from ntx_graph.server.workers import _frame

    assert isinstance(router, Router)
    query = urlencode({"query": query_text(name)})
    headers = {"host": "127.0.0.1:8000", "accept": "application/sparql-results+json"}

    def plan() -> object:
        return router.plan(Request("GET", "/sparql", query, headers))

    deferred = plan()
    assert isinstance(deferred, Deferred)
    answer = pickle.dumps((execute(router.executor.kg, deferred.task), True))  # type: ignore[attr-defined]
    app = App(router, hosts=HostPolicy("127.0.0.1"), cache=ResponseCache(1 << 24))
    scope = {"type": "http", "method": "GET", "path": "/sparql", "raw_path": b"/sparql",
             "query_string": query.encode(), "http_version": "1.1", "client": ("127.0.0.1", 1),
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: object) -> None:
        return None

    async def hits(count: int) -> None:
        for _ in range(count):
            await app(scope, receive, send)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(hits(1))
    times = [min(timeit.repeat(case, number=200, repeat=5)) / 200 * 1e6 for case in
             (plan, lambda: _frame(deferred.task), lambda: pickle.loads(answer))]
    times.append(min(timeit.repeat(lambda: loop.run_until_complete(hits(200)), number=1, repeat=5)) / 200 * 1e6)
    loop.close()
    return f"| `{name}` | {times[0]:.0f} | {times[1]:.0f} | {times[2]:.0f} | {times[3]:.0f} |"


def _median(figures: Sequence[Figure], server: str, query: str, what: str = "rps") -> float:
    values = [float(getattr(f, what)) for f in figures if f.server == server and f.query == query]
    return statistics.median(values) if values else 0.0


OURS, UNCACHED = "ntx-graph serve (cache)", "ntx-graph serve --no-cache"
OXIGRAPH, FLOOR, RDFLIB = "oxigraph serve-read-only", "floor app (uvicorn + pyoxigraph)", "rdflib-endpoint"
LARGE = "ntx-graph serve --store (large) --no-cache"
MEMORY = "ntx-graph serve --data (large, in memory) --no-cache"
SMALL = "ntx-graph serve --store (bundled graph) --no-cache"
TWO = "ntx-graph serve --processes 2 (cache)"


def targets(figures: Sequence[Figure]) -> list[tuple[str, str, str, bool]]:
    """issue 12's throughput targets as (what, target, measured, met), from the medians of one run."""
    out = []

    def ratio(server: str, other: str, query: str) -> float:
        theirs = _median(figures, other, query)
        return _median(figures, server, query) / theirs if theirs else float("nan")

    narcotic = "is-narcotic"
    if _median(figures, OXIGRAPH, narcotic):
        value = ratio(UNCACHED, OXIGRAPH, narcotic)
        out.append((f"`{narcotic}`, cache off", "≥ 0.25 x oxigraph", f"{value:.2f} x", value >= 0.25))
        for server, label in ((OURS, "cache on"), (TWO, "cache on, `--processes 2`")):
            value = ratio(server, OXIGRAPH, narcotic)
            out.append((f"`{narcotic}`, {label}", "≥ 1 x oxigraph", f"{value:.2f} x", value >= 1))
    if _median(figures, RDFLIB, narcotic):
        value = ratio(UNCACHED, RDFLIB, narcotic)
        out.append((f"`{narcotic}`, cache off", "above rdflib-endpoint", f"{value:.1f} x", value > 1))
    if _median(figures, OXIGRAPH, FLAGSHIP):
        for server, label in ((UNCACHED, "cache off"), (OURS, "cache on")):
            value = ratio(server, OXIGRAPH, FLAGSHIP)
            out.append((f"flagship, {label}", "≥ 1.0 x oxigraph", f"{value:.2f} x", value >= 1.0))
    if _median(figures, FLOOR, narcotic):
        for query in QUERIES:
            value = ratio(UNCACHED, FLOOR, query)
            out.append((f"`{query}`, cache off", "within 1.5 x of the floor app (≥ 0.67 x)", f"{value:.2f} x",
                        value >= 1 / 1.5))
    if _median(figures, LARGE, FLAGSHIP):
        value = ratio(LARGE, UNCACHED, FLAGSHIP)
        out.append(("flagship on a 1M-triple persistent store, cache off", "within 20% of the bundled graph's",
                    f"{value:.2f} x", value >= 0.8))
    if _median(figures, LARGE, FLAGSHIP) and _median(figures, SMALL, FLAGSHIP):
        value = ratio(LARGE, SMALL, FLAGSHIP)
        out.append(("flagship on a 1M-triple persistent store, cache off",
                    "within 20% of the bundled graph's, both in a persistent store", f"{value:.2f} x", value >= 0.8))
    if _median(figures, MEMORY, FLAGSHIP):
        value = ratio(MEMORY, UNCACHED, FLAGSHIP)
        out.append(("flagship on the same 1M triples in memory, cache off",
                    "within 20% of the bundled graph's, both in memory", f"{value:.2f} x", value >= 0.8))
    return out


def section(seconds: int = 5, rounds: int = 1, with_hostile: bool = False, store_drugs: int = 0,
            store_dir: Path | None = None) -> str:
    """The Markdown section of the server's figures."""
    return report(seconds, rounds, with_hostile, store_drugs, store_dir)[0]


def report(seconds: int = 5, rounds: int = 1, with_hostile: bool = False, store_drugs: int = 0,
           store_dir: Path | None = None) -> tuple[str, list[tuple[str, str, str, bool]]]:
    """The Markdown section of the server's figures, and the targets' verdicts."""
    if not shutil.which("wrk"):
        return "Not measured: wrk is missing (`apt-get install -y wrk`).", []
    started = os.getloadavg()
    figures, notes = measure(seconds, rounds, store_drugs, store_dir)
    lines = [f"wrk, 2 threads, 8 connections, {seconds} s per server and query, {rounds} round(s) (every server "
             f"started at once, their order rotated each round), JSON results, bundled graph; client and servers "
             f"share the machine's {os.cpu_count()} cores. *CPU/request* is the CPU time (user + system) of the "
             "server's processes, query workers included, divided by the requests answered: it depends less on "
             "what else the machine runs than requests/s do. wrk's 8 connections come from one address, so "
             "`ntx-graph serve` gives them one client's share of its workers (`--client-share`, default 1 of 2) "
             "and, as no other client waits, lends them the other (`--strict-share` does not). "
             f"Load average (1 min) at the start {started[0]:.2f}; each row gives it at the end of its figure.", "",
             "| server | query | requests/s | CPU/request | p50 | p99 | requests | non-2xx | rows | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {f.server} | `{f.query}` | {f.rps:,.0f} | {f.cpu_us:,.0f} µs | {f.p50} | {f.p99} | "
              f"{f.requests:,} | {f.non2xx} | {f.rows} | {f.load:.2f} |" for f in figures]
    ratios = []
    for query in QUERIES:
        oxigraph = _median(figures, OXIGRAPH, query)
        oxigraph_cpu = _median(figures, OXIGRAPH, query, "cpu_us")
        floor = _median(figures, FLOOR, query)
        for server in (OURS, TWO, UNCACHED, f"{UNCACHED} --strict-share"):
            ours = _median(figures, server, query)
            cpu = _median(figures, server, query, "cpu_us")
            parts = []
            if oxigraph:
                parts.append(f"{ours / oxigraph:.2f}x oxigraph's requests/s")
                if oxigraph_cpu:
                    parts.append(f"{cpu / oxigraph_cpu:.1f}x its CPU per request")
            if floor:
                parts.append(f"{ours / floor:.2f}x the floor's requests/s")
            if parts:
                ratios.append(f"- `{query}`, {server}: " + ", ".join(parts))
    if store_drugs or store_dir:
        for query in QUERIES:
            large, small = _median(figures, LARGE, query), _median(figures, UNCACHED, query)
            stored = _median(figures, SMALL, query)
            if small:
                what = f"{store_drugs:,} generated drugs" if store_drugs else "a store built before"
                ratios.append(f"- `{query}`, persistent store ({what}): "
                              f"{large / small:.2f}x the bundled graph's throughput (both --no-cache)"
                              + (f", {large / stored:.2f}x that of a persistent store of the bundled graph alone"
                                 if stored else ""))
                memory = _median(figures, MEMORY, query)
                if memory:
                    ratios.append(f"- `{query}`, the same triples in memory (`--data`): {memory / small:.2f}x the "
                                  "bundled graph's throughput (both --no-cache)")
    verdicts = targets(figures)
    lines += ["", "Medians over the rounds, from this one run:", "", *ratios, "",
              "| target | wanted | measured | met |", "|---|---|---|---|",
              *(f"| {what} | {wanted} | {got} | {'yes' if ok else '**no**'} |" for what, wanted, got, ok in verdicts)]
    if notes:
        lines += ["", *notes]
    lines += ["", "Where a request's time goes, measured in this process (µs per call, best of 5):", "", overhead(),
              "", "So a request without the cache costs uvicorn's HTTP work (the floor app pays it too), the "
              "router's plan, the task's trip to a worker process and back over a socket pair (pickled both "
              "ways) and the executor's own work around pyoxigraph, where the floor app calls pyoxigraph in its "
              "event loop and `oxigraph serve-read-only` is Rust throughout. The worker is what keeps a query "
              "killable at the time and memory limits and without network (SECURITY.md); its round trip is "
              "paid by every uncached request, and weighs most on the smallest queries."]
    if with_hostile:
        lines += ["", "Mixed hostile load (tests/test_endpoint_load.py):", "", hostile()]
    return "\n".join(lines), verdicts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--hostile", action="store_true", help="also run the mixed hostile load")
    parser.add_argument("--store-drugs", type=int, default=0, metavar="N",
                        help="also serve a persistent store with N generated drugs (10000: about 1M triples)")
    parser.add_argument("--overhead", action="store_true", help="only measure the per-query overhead (no HTTP)")
    parser.add_argument("--store", type=Path, help="a store built before (ntx-graph load) instead of --store-drugs")
    parser.add_argument("--output", type=Path, help="write the section here instead of stdout")
    args = parser.parse_args(argv)
    if args.overhead:
        print(overhead())
        return 0
    text = section(args.seconds, args.rounds, args.hostile, args.store_drugs, args.store)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
