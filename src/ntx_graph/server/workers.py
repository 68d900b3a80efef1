"""Query worker processes.

pyoxigraph cannot cancel a running query, so queries run in worker processes
forked from the server (they inherit the loaded store). Each task goes to a
free worker; a worker that exceeds the time limit is killed and replaced.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import queue
import signal
import stat
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Protocol

from ntx_graph.errors import QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.messages import HttpError, Response
from ntx_graph.server.tasks import Task, execute


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


def _close_inherited_sockets(keep: int) -> None:
    """Close the sockets a forked worker inherited (the listening socket,
    clients' connections, other workers' pipes), keeping ``keep``."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, 256))
    for fd in fds:
        if fd <= 2 or fd == keep:
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.close(fd)


def _worker_main(kg: KnowledgeGraph, conn: Connection) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when workers stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _close_inherited_sockets(conn.fileno())
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        conn.send(execute(kg, task))


class _Worker:
    def __init__(self, process: BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class WorkerPool:
    """A fixed number of forked worker processes holding ``kg``.

    A task waits up to ``timeout`` seconds for a free worker (else 503), then
    up to ``timeout`` seconds for its answer (else the worker is killed and
    replaced, and QueryTimeout is raised).
    """

    def __init__(self, kg: KnowledgeGraph, size: int, timeout: float) -> None:
        self.kg = kg
        self.size = size
        self.timeout = timeout
        self._context = multiprocessing.get_context("fork")
        self._free: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._workers: set[_Worker] = set()
        self._closed = False
        for _ in range(size):
            self._free.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=_worker_main, args=(self.kg, child), name="ntx-graph-query",
                                        daemon=True)
        with self._lock:
            process.start()
            child.close()
            worker = _Worker(process, parent)
            self._workers.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
            closed = self._closed
        if not closed:
            self._free.put(self._spawn())

    def run(self, task: Task) -> Response:
        """Run ``task`` in a free worker and return its response."""
        if self._closed:
            raise HttpError(503, "the server is shutting down")
        try:
            worker = self._free.get(timeout=self.timeout)
        except queue.Empty:
            raise HttpError(503, f"all {self.size} query workers are busy; try again shortly",
                            {"Retry-After": str(math.ceil(self.timeout))}) from None
        try:
            worker.conn.send(task)
            if not worker.conn.poll(self.timeout):
                self._retire(worker)
                raise QueryTimeout(f"the query exceeded the time limit of {self.timeout:g} s and was stopped")
            reply = worker.conn.recv()
        except (EOFError, OSError):
            self._retire(worker)
            raise HttpError(500, "the query worker stopped unexpectedly; it has been replaced") from None
        self._free.put(worker)
        if not isinstance(reply, Response):
            raise HttpError(500, "the query worker sent an unexpected reply")
        return reply

    def close(self) -> None:
        """Stop every worker (waits briefly for each to finish)."""
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        for worker in workers:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        for worker in workers:
            worker.process.join(2)
            worker.kill()

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._lock:
            return [w.process.pid for w in self._workers if w.process.pid is not None]
