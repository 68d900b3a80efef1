"""Query worker processes.

pyoxigraph cannot cancel a running query, so every task that reads the store
runs in a worker process that can be killed. Workers are new interpreters
(``python -m ntx_graph.server.worker_main``, talking over a socket pair),
never forks of the (threaded) HTTP server. Each worker

- leaves the network (a network namespace of its own, see :mod:`netns`)
  unless federation is allowed;
- limits its own address space (``RLIMIT_AS``) to the memory limit;
- opens the graph itself: a persistent store read-only, or an in-memory
  graph loaded once from the N-Quads dump the server wrote at start-up;
- answers tasks until it is told to stop.

A worker past the time limit is killed; one that ran out of memory, or died,
is replaced. Replacements start in the background, so the request that lost
its worker is answered at once.

The pool is fair: each client address holds at most ``client_share``
workers at once, and a free worker goes to the waiting request whose client
holds the fewest. A request that finds no worker within ``queue_wait``
seconds, or that would make the queue longer than ``max_queue``, is answered
503 with ``Retry-After``; a query stopped at the time limit is a different
503 (QueryTimeout).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol

from ntx_graph.errors import NtxError, QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.limits import Limits, mib
from ntx_graph.server.messages import HttpError, Response, text
from ntx_graph.server.tasks import Task, execute

log = logging.getLogger(__name__)

#: The client address of the request being handled (set by the HTTP layer).
CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("ntx_graph_client", default="")
#: Seconds a new worker may take to open the graph.
START_TIMEOUT = 120.0


class Executor(Protocol):
    """Something that runs tasks against the graph."""

    def run(self, task: Task) -> Response:
        """The task's response; raises QueryTimeout or HttpError(503)."""
        ...

    def close(self) -> None:
        """Stop, releasing any processes."""
        ...


class InlineExecutor:
    """Runs tasks in the calling thread, without a time limit (for tests and
    for tools that embed the router)."""

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg

    def run(self, task: Task) -> Response:
        """The task's response."""
        return execute(self.kg, task)

    def close(self) -> None:
        """Nothing to release."""


@dataclass(frozen=True)
class GraphSource:
    """How a worker opens the graph: a persistent store's directory (opened
    read-only), or an N-Quads dump of an in-memory graph."""

    prefixes: dict[str, str]
    files: tuple[str, ...]
    store: str | None = None
    dump: str | None = None

    def open(self) -> KnowledgeGraph:
        """The graph, opened in this process."""
        if self.store is not None:
            from ntx_graph.persistent import open_graph

            return open_graph(self.store)
        from pyoxigraph import RdfFormat, Store

        store = Store()
        assert self.dump is not None
        store.bulk_load(path=self.dump, format=RdfFormat.N_QUADS)
        return KnowledgeGraph(store, [Path(f) for f in self.files], self.prefixes)


class DumpedGraph:
    """The graph as a :class:`GraphSource`; an in-memory graph is dumped to a
    private temporary file, removed by :meth:`close`."""

    def __init__(self, kg: KnowledgeGraph, store: str | Path | None = None) -> None:
        self._dir: str | None = None
        files = tuple(str(f) for f in kg.files)
        if store is not None:
            self.source = GraphSource(dict(kg.prefixes), files, store=str(store))
            return
        from pyoxigraph import RdfFormat

        self._dir = tempfile.mkdtemp(prefix="ntx-graph-serve-")
        dump = os.path.join(self._dir, "graph.nq")
        kg.store.dump(dump, format=RdfFormat.N_QUADS)
        self.source = GraphSource(dict(kg.prefixes), files, dump=dump)

    def close(self) -> None:
        """Remove the dump."""
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker applies to itself before it opens the graph."""

    memory_bytes: int
    max_response_bytes: int
    allow_federation: bool


def _memory_message(limit: int) -> str:
    return (f"the query needed more memory than the limit of {mib(limit)} per query worker and was stopped; "
            "the worker has been replaced")


def _limit_memory(limit: int) -> None:
    try:
        import resource  # POSIX only
    except ImportError:
        return
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _worker_main(source: GraphSource, settings: WorkerSettings, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from ntx_graph.server.netns import isolate_network

    isolation = "federation allowed" if settings.allow_federation else isolate_network()
    _limit_memory(settings.memory_bytes)
    try:
        try:
            kg = source.open()
        except Exception as error:
            conn.send(("failed", f"{type(error).__name__}: {error}"))
            return
        conn.send(("ready", isolation))
        _answer_tasks(kg, settings, conn)
    except (EOFError, OSError):  # the server went away
        return


def _answer_tasks(kg: KnowledgeGraph, settings: WorkerSettings, conn: Connection) -> None:
    while True:
        task = conn.recv()
        if task is None:
            return
        try:
            response = execute(kg, task)
            if response.status == 500 and b"MemoryError" in response.body:  # execute() reports every error
                raise MemoryError
            if len(response.body) > settings.max_response_bytes:
                response = text(413, f"the answer is larger than the limit of {settings.max_response_bytes} bytes "
                                     "(--max-response-bytes); add a LIMIT, or ask for fewer variables")
            conn.send((response, True))
        except MemoryError:
            del task
            conn.send((text(503, _memory_message(settings.memory_bytes)), False))
            return  # a worker that ran out of memory is replaced


def serve_worker(fd: int) -> None:
    """The worker process's main loop, on the connection ``fd`` (see worker_main)."""
    conn = Connection(fd)
    source, settings = conn.recv()
    _worker_main(source, settings, conn)


class _Worker:
    def __init__(self, process: subprocess.Popen[bytes], conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def exit_code(self, wait: float) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(wait)
        return self.process.returncode

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.exit_code(5)
        self.conn.close()


@dataclass
class _Waiter:
    client: str
    since: float
    ready: threading.Event = field(default_factory=threading.Event)
    worker: _Worker | None = None


class WorkerError(NtxError):
    """A worker could not be started."""


class WorkerPool:
    """A fixed number of worker processes holding the graph (see the module's
    docstring for the policy)."""

    def __init__(self, source: GraphSource, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.size = limits.workers
        self.timeout = limits.timeout
        self.settings = WorkerSettings(limits.memory_bytes, limits.max_response_bytes, limits.allow_federation)
        self.isolation: str | None = None  # why workers have network, or None
        self._env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._lock = threading.Lock()
        self._free: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._held: Counter[str] = Counter()
        self._waiting: list[_Waiter] = []
        self._closed = False
        first = self._spawn()  # the first start reports a broken graph or sandbox at once
        self._free.append(first)
        starters = [threading.Thread(target=self._start_one, daemon=True) for _ in range(self.size - 1)]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        if len(self._workers) < self.size:
            self.close()
            raise WorkerError("could not start the query workers")

    # -- processes ---------------------------------------------------------

    def _spawn(self) -> _Worker:
        ours, theirs = socket.socketpair()
        try:
            process = subprocess.Popen([sys.executable, "-m", "ntx_graph.server.worker_main", str(theirs.fileno())],
                                       pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=self._env)
        except OSError as error:
            ours.close()
            raise WorkerError(f"cannot start a query worker: {error}") from None
        finally:
            theirs.close()
        parent = Connection(ours.detach())
        worker = _Worker(process, parent)
        try:
            parent.send((self.source, self.settings))
            if not parent.poll(START_TIMEOUT):
                raise WorkerError(f"a query worker did not open the graph within {START_TIMEOUT:g} s")
            status, detail = parent.recv()
        except (EOFError, OSError):
            worker.kill()
            raise WorkerError(f"a query worker died while opening the graph (exit code {worker.exit_code(2)})") \
                from None
        except WorkerError:
            worker.kill()
            raise
        if status != "ready":
            worker.kill()
            raise WorkerError(f"a query worker could not open the graph: {detail}")
        with self._lock:
            self.isolation = detail
            self._workers.add(worker)
        return worker

    def _start_one(self) -> None:
        try:
            worker = self._spawn()
        except WorkerError as error:
            log.error("%s", error)
            return
        self._release(worker)

    # -- scheduling (every _locked method is called with self._lock held) ---

    def _next_waiter_locked(self) -> _Waiter | None:
        eligible = [w for w in self._waiting if self._held[w.client] < self.limits.client_share]
        if not eligible:
            return None
        return min(eligible, key=lambda w: (self._held[w.client], w.since))

    def _dispatch_locked(self) -> None:
        while self._free and not self._closed:
            waiter = self._next_waiter_locked()
            if waiter is None:
                return
            self._waiting.remove(waiter)
            self._held[waiter.client] += 1
            waiter.worker = self._free.pop()
            waiter.ready.set()

    def _unhold_locked(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]

    def _release(self, worker: _Worker, client: str | None = None) -> None:
        """Give ``worker`` back (to the most deserving waiter, or the free list)."""
        with self._lock:
            if client is not None:
                self._unhold_locked(client)
            closed = self._closed
            if not closed:
                self._free.append(worker)
                self._dispatch_locked()
        if closed:
            worker.kill()

    def _forget(self, client: str) -> None:
        """``client`` no longer holds the worker it had (which was replaced)."""
        with self._lock:
            self._unhold_locked(client)
            self._dispatch_locked()

    def _busy(self, why: str) -> HttpError:
        return HttpError(503, why, {"Retry-After": str(max(1, math.ceil(self.timeout / 2)))})

    def _acquire(self, client: str) -> _Worker:
        share = self.limits.client_share
        with self._lock:
            if self._closed:
                raise HttpError(503, "the server is shutting down", {"Connection": "close"})
            if self._free and not self._waiting and self._held[client] < share:
                self._held[client] += 1
                return self._free.pop()
            if len(self._waiting) >= self.limits.max_queue:
                raise self._busy(f"all {self.size} query workers are busy and {len(self._waiting)} requests "
                                 "wait for one; try again shortly")
            waiter = _Waiter(client, time.monotonic())
            self._waiting.append(waiter)
            self._dispatch_locked()
        waiter.ready.wait(self.limits.queue_wait)
        with self._lock:
            if waiter.worker is not None:
                return waiter.worker
            if waiter in self._waiting:
                self._waiting.remove(waiter)
            if self._closed:
                raise HttpError(503, "the server is shutting down", {"Connection": "close"})
            if self._held[client] >= share:
                raise self._busy(f"this client already uses its share of {share} query workers "
                                 "(--client-share); try again shortly")
            raise self._busy(f"all {self.size} query workers are busy; try again shortly")

    # -- running -----------------------------------------------------------

    def run(self, task: Task) -> Response:
        """Run ``task`` in a worker and return its response."""
        client = CLIENT.get()
        worker = self._acquire(client)
        try:
            worker.conn.send(task)
            answered = worker.conn.poll(self.timeout)
            reply, keep = worker.conn.recv() if answered else (None, False)
        except (EOFError, OSError):
            error = self._died(worker)
            self._replace(worker, client)
            raise error from None
        except BaseException:
            self._replace(worker, client)
            raise
        if not answered:
            self._replace(worker, client)
            raise QueryTimeout(f"the query exceeded the time limit of {self.timeout:g} s and was stopped")
        assert isinstance(reply, Response)
        if keep:
            self._release(worker, client)
        else:
            self._replace(worker, client)
        return reply

    def _replace(self, worker: _Worker, client: str) -> None:
        """Kill ``worker`` and start a replacement in the background."""
        with self._lock:
            self._workers.discard(worker)
            closed = self._closed
        self._forget(client)
        threading.Thread(target=worker.kill, daemon=True).start()
        if not closed:
            threading.Thread(target=self._restart, name="ntx-graph-replace", daemon=True).start()

    def _restart(self) -> None:
        for attempt in range(5):
            with self._lock:
                if self._closed:
                    return
            try:
                self._release(self._spawn())
                return
            except WorkerError as error:
                if self._closed:
                    return
                log.error("replacing a query worker (attempt %d): %s", attempt + 1, error)
                time.sleep(0.5 * (attempt + 1))

    def _died(self, worker: _Worker) -> HttpError:
        code = worker.exit_code(2)
        if code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGBUS):
            return HttpError(503, _memory_message(self.settings.memory_bytes))
        return HttpError(500, f"the query worker stopped unexpectedly (exit code {code}); it has been replaced")

    def close(self) -> None:
        """Stop every worker (waits briefly for each to finish)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._free.clear()
            for waiter in self._waiting:
                waiter.ready.set()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        deadline = time.monotonic() + 2
        for worker in workers:
            worker.exit_code(max(0.0, deadline - time.monotonic()))
            worker.kill()

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._lock:
            return [w.process.pid for w in self._workers]
