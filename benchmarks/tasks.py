"""Benchmark tasks that run in a child process of ``benchmarks/run.py``, so that
each has its own peak memory (read by the parent with ``os.wait4``).

    python benchmarks/tasks.py TASK ARGS...

Each task prints one JSON object on stdout: at least ``seconds`` (the timed
work, without interpreter start-up) and ``triples``.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox


def _format(path: str) -> ox.RdfFormat:
    return ox.RdfFormat.N_TRIPLES if path.endswith(".nt") else ox.RdfFormat.TURTLE


def load_kg(path: str) -> dict[str, Any]:
    """ntx-graph's in-memory load path: KnowledgeGraph.open(data=[file]) (with the bundled graph)."""
    from ntx_graph.graph import KnowledgeGraph

    start = time.perf_counter()
    kg = KnowledgeGraph.open([path], validate=False)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(kg)}


def load_store(path: str, directory: str) -> dict[str, Any]:
    """ntx-graph's on-disk load path: persistent.build_store (with the bundled graph)."""
    from ntx_graph.persistent import build_store

    start = time.perf_counter()
    info = build_store([path], directory)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": info.triples}


def load_raw(path: str) -> dict[str, Any]:
    """Raw pyoxigraph: Store().load(path=...)."""
    start = time.perf_counter()
    store = ox.Store()
    store.load(path=path, format=_format(path))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(store)}


def load_raw_bulk(path: str) -> dict[str, Any]:
    """Raw pyoxigraph: Store().bulk_load(path=...)."""
    start = time.perf_counter()
    store = ox.Store()
    store.bulk_load(path=path, format=_format(path))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(store)}


def load_proposed(path: str) -> dict[str, Any]:
    """The load path proposed for rdf_io.load_file: stream the parser into
    Store.bulk_extend (no bytes read up front, no list of quads), bundled files too."""
    from ntx_graph import resources

    start = time.perf_counter()
    store = ox.Store()
    prefixes: dict[str, str] = {}
    for file in [*map(str, resources.bundled_files()), path]:
        parser = ox.parse(path=file, format=_format(file), rename_blank_nodes=True)
        store.bulk_extend(parser)
        for name, iri in parser.prefixes.items():
            prefixes.setdefault(name, iri)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(store)}


def load_rdflib(path: str) -> dict[str, Any]:
    """rdflib: Graph().parse(file)."""
    import rdflib

    start = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(path, format="nt" if path.endswith(".nt") else "turtle")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(graph)}


class _Timeout(Exception):
    pass


def rdflib_queries(path: str, timeout: str, cases: str) -> dict[str, Any]:
    """Each case ([name, params]) through KnowledgeGraph.run(engine="rdflib"),
    each stopped after ``timeout`` seconds (a SIGALRM interrupts rdflib's
    pure-Python evaluation)."""
    from ntx_graph.graph import KnowledgeGraph

    limit = float(timeout)
    start = time.perf_counter()
    kg = KnowledgeGraph.open([path], validate=False)
    kg.to_rdflib()
    prepare = time.perf_counter() - start

    def alarm(signum: int, frame: Any) -> None:
        raise _Timeout

    signal.signal(signal.SIGALRM, alarm)
    results = []
    for name, params in json.loads(Path(cases).read_text()):
        begin = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            result = kg.run(name, params, engine="rdflib")
            rows: int | None = 1 if result.kind == "ask" else len(result)
            outcome = "ok"
        except _Timeout:
            rows, outcome = None, "timeout"
        except Exception as error:  # reported, not fatal: the other queries still run
            if "_Timeout" in f"{error!r} {error.__cause__!r} {error.__context__!r}":
                rows, outcome = None, "timeout"  # the alarm, wrapped by the engine's own error handling
            else:
                rows, outcome = None, f"error: {type(error).__name__}: {error}"[:200]
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        results.append({"name": name, "params": params, "seconds": time.perf_counter() - begin, "rows": rows,
                        "outcome": outcome})
    return {"seconds": prepare, "triples": len(kg), "results": results}


TASKS = {
    "load-kg": load_kg, "load-store": load_store, "load-raw": load_raw, "load-raw-bulk": load_raw_bulk,
    "load-proposed": load_proposed, "load-rdflib": load_rdflib, "rdflib-queries": rdflib_queries,
}

if __name__ == "__main__":
    outcome = TASKS[sys.argv[1]](*sys.argv[2:])
    sys.stdout.write(json.dumps(outcome) + "\n")
