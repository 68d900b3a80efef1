#!/usr/bin/env python
"""HTTP throughput of ``ntx-graph serve`` next to its peers, side by side in one run.

    python benchmarks/server_bench.py [--seconds 5] [--rounds 1] [--hostile] [--output FILE.md]

Contenders, each holding the bundled graph and answering ``GET ?query=`` on
127.0.0.1: ``ntx-graph serve`` with its answer cache and with ``--no-cache``
(and with ``--client-share 2``, as wrk's connections all come from one
address), the floor app (``benchmarks/floor_app.py``: uvicorn over one
in-process pyoxigraph store, no workers, no limits), ``oxigraph
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


def contenders(work: Path, nt: Path, store: Path | None = None) -> dict[str, tuple[list[str], str]]:
    """name -> (command, endpoint URL)."""
    out: dict[str, tuple[list[str], str]] = {}
    if store is not None:
        port = free_port()
        out["ntx-graph serve --store (large) --no-cache"] = (
            [EXE, "-m", "ntx_graph", "serve", "--port", str(port), "--no-access-log", "--no-cache", "--store",
             str(store)], f"http://127.0.0.1:{port}/sparql")
    for name, extra in (("ntx-graph serve (cache)", []), ("ntx-graph serve --no-cache", ["--no-cache"]),
                        ("ntx-graph serve --no-cache --client-share 2", ["--no-cache", "--client-share", "2"])):
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


def measure(seconds: int, rounds: int, store_drugs: int = 0, store_dir: Path | None = None
            ) -> tuple[list[Figure], list[str]]:
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
        servers = contenders(work, nt, store)
        import pyoxigraph as ox

        local = ox.Store()
        local.bulk_load(path=str(nt), format=ox.RdfFormat.N_TRIPLES)
        expected = {name: rows(local.query(query_text(name)).serialize(format=ox.QueryResultsFormat.JSON))
                    for name in QUERIES}
        for _ in range(rounds):
            for name, (cmd, base) in servers.items():
                with tempfile.TemporaryFile() as out:
                    process = subprocess.Popen(cmd, stdout=out, stderr=out, stdin=subprocess.DEVNULL, cwd=work,
                                               env=env)
                    try:
                        probe = base + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
                        deadline = time.monotonic() + 60
                        while time.monotonic() < deadline and process.poll() is None and fetch(probe, 2)[0] != 200:
                            time.sleep(0.2)
                        if process.poll() is not None or fetch(probe, 2)[0] != 200:
                            out.seek(0)
                            notes.append(f"- {name} did not start: {out.read().decode(errors='replace')[-300:]}")
                            continue
                        for query in QUERIES:
                            url = base + "?" + urllib.parse.urlencode({"query": query_text(query)})
                            status, body = fetch(url, 30)
                            got: int | str = rows(body) if status == 200 else f"HTTP {status}"
                            if got != expected[query] and "large" not in name:
                                notes.append(f"- {name}, `{query}`: answered {got} rows instead of {expected[query]}")
                            result = wrk(url, seconds)
                            figures.append(Figure(name, query, float(result["rps"] or 0), result["p50"],
                                                  result["p99"], int(result["requests"] or 0),
                                                  int(result["non2xx"] or 0), os.getloadavg()[0], got))
                    finally:
                        process.terminate()
                        try:
                            process.wait(15)
                        except subprocess.TimeoutExpired:
                            process.kill()
                            process.wait()
    return figures, notes


def hostile() -> str:
    """The summary line of tests/test_endpoint_load.py's mixed hostile load, and its verdicts."""
    done = subprocess.run([EXE, "-m", "pytest", str(ROOT / "tests" / "test_endpoint_load.py"), "-q",
                           "-p", "no:cacheprovider", "-k", "not sigterm"], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    summary = next((line for line in done.stdout.splitlines() if line.startswith("load:")), "no summary line")
    verdict = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-300:]
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
    finally:
        pool.close()
        dump.close()
    return "\n".join(lines) + f"\n\nLoad average at the end: {os.getloadavg()[0]:.2f}."


def _best(figures: Sequence[Figure], server: str, query: str) -> float:
    values = [f.rps for f in figures if f.server == server and f.query == query]
    return max(values) if values else 0.0


def section(seconds: int = 5, rounds: int = 1, with_hostile: bool = False, store_drugs: int = 0,
            store_dir: Path | None = None) -> str:
    """The Markdown section of the server's figures."""
    if not shutil.which("wrk"):
        return "Not measured: wrk is missing (`apt-get install -y wrk`)."
    started = os.getloadavg()
    figures, notes = measure(seconds, rounds, store_drugs, store_dir)
    lines = [f"wrk, 2 threads, 8 connections, {seconds} s per server and query, {rounds} round(s), JSON results, "
             f"bundled graph; client and servers share the machine's {os.cpu_count()} cores. Load average "
             f"(1 min) at the start {started[0]:.2f}; each row gives it at the end of its figure.", "",
             "| server | query | requests/s | p50 | p99 | requests | non-2xx | rows | load avg |",
             "|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {f.server} | `{f.query}` | {f.rps:,.0f} | {f.p50} | {f.p99} | {f.requests:,} | {f.non2xx} | "
              f"{f.rows} | {f.load:.2f} |" for f in figures]
    ratios = []
    for query in QUERIES:
        oxigraph = _best(figures, "oxigraph serve-read-only", query)
        floor = _best(figures, "floor app (uvicorn + pyoxigraph)", query)
        for server in ("ntx-graph serve (cache)", "ntx-graph serve --no-cache"):
            ours = _best(figures, server, query)
            parts = []
            if oxigraph:
                parts.append(f"{ours / oxigraph:.2f}x oxigraph")
            if floor:
                parts.append(f"{ours / floor:.2f}x the floor")
            ratios.append(f"- `{query}`, {server}: " + ", ".join(parts))
    if store_drugs or store_dir:
        for query in QUERIES:
            large = _best(figures, "ntx-graph serve --store (large) --no-cache", query)
            small = _best(figures, "ntx-graph serve --no-cache", query)
            if small:
                what = f"{store_drugs:,} generated drugs" if store_drugs else "a store built before"
                ratios.append(f"- `{query}`, persistent store ({what}): "
                              f"{large / small:.2f}x the bundled graph's throughput (both --no-cache)")
    lines += ["", *ratios]
    if notes:
        lines += ["", *notes]
    if with_hostile:
        lines += ["", "Mixed hostile load (tests/test_endpoint_load.py):", "", hostile()]
    return "\n".join(lines)


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
