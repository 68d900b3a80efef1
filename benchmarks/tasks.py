"""Benchmark tasks that run in a child process of ``benchmarks/run.py``, so that
each has its own peak memory (read by the parent with ``os.wait4``).

    python benchmarks/tasks.py TASK ARGS...

Each task prints one JSON object on stdout: at least ``seconds`` (the timed
work, without interpreter start-up) and ``triples``.
"""

from __future__ import annotations

import json
import sys
import time
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
    info = build_store([path], directory)  # validate=False: the load alone (validation is measured apart)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": info.triples}


def load_raw(path: str) -> dict[str, Any]:
    """Raw pyoxigraph: Store().load(path=...)."""
    start = time.perf_counter()
    store = ox.Store()
    store.load(path=path, format=_format(path))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(store)}


def load_raw_bulk_disk(path: str, directory: str) -> dict[str, Any]:
    """Raw pyoxigraph on disk: Store(directory).bulk_load(path=...), then optimize (as build_store does)."""
    import shutil

    shutil.rmtree(directory, ignore_errors=True)
    start = time.perf_counter()
    store = ox.Store(directory)
    store.bulk_load(path=path, format=_format(path))
    store.optimize()
    store.flush()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(store)}


def export(path: str, fmt: str, contender: str) -> dict[str, Any]:
    """Load ``path`` (with the bundled graph) in memory, then time one export of it:
    ntx-graph's ``KnowledgeGraph.export`` (``ntx-graph``: the canonical order;
    ``ntx-graph-store-order``: ``order="store"``) or pyoxigraph's ``Store.dump``."""
    import hashlib

    from ntx_graph.graph import KnowledgeGraph

    kg = KnowledgeGraph.open([path], validate=False)
    formats = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES}
    start, start_cpu = time.perf_counter(), time.process_time()
    if contender == "ntx-graph":
        data = kg.export(fmt)
    elif contender == "ntx-graph-store-order":
        data = kg.export(fmt, order="store")
    else:
        data = kg.store.dump(format=formats[fmt], from_graph=ox.DefaultGraph(),
                             prefixes=kg.prefixes if fmt == "turtle" else None) or b""
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "triples": len(kg), "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}


def load_rdflib(path: str) -> dict[str, Any]:
    """rdflib: Graph().parse(file)."""
    import rdflib

    start = time.perf_counter()
    graph = rdflib.Graph()
    graph.parse(path, format="nt" if path.endswith(".nt") else "turtle")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "triples": len(graph)}


TASKS = {
    "load-kg": load_kg, "load-store": load_store, "load-raw": load_raw, "load-raw-bulk-disk": load_raw_bulk_disk,
    "load-rdflib": load_rdflib, "export": export,
}

if __name__ == "__main__":
    outcome = TASKS[sys.argv[1]](*sys.argv[2:])
    sys.stdout.write(json.dumps(outcome) + "\n")
