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

The pool is driven by the HTTP server's event loop: a task is pickled once
and written to a free worker's socket, the answer is read by the loop (one
frame, no thread between the HTTP layer and the worker), and the time limit
is a timer of that loop. A worker that answers is given its next task
before its answer goes back to the client.

The pool is fair: a free worker goes to the waiting request whose client
holds the fewest, and a client holds more than ``client_share`` workers only
while no other client within its share waits (or until a lent worker is
taken back, once one does). Idle workers are lent (unless
``strict_share``): a client alone may use them all, as long as its queries
are quick. When another client within its share waits and no worker is
free, a lent worker is reclaimed: once the query it runs has run
:data:`RECLAIM_AFTER` seconds (at once if it already has), its worker is killed and
replaced, the query waits again (it is read-only, so running it again is
safe) and runs later only within its own client's share, and that client
borrows no more until one of its queries answers within that time. So a
waiting client within its share, while a worker is lent, gets one after at most
:data:`RECLAIM_AFTER` plus a worker's start. A request that finds no worker
within ``queue_wait`` seconds (a query that gave way, or that waited in
a worker's socket behind one that stopped, waits once more, as long at
most), or that would make the queue longer than ``max_queue``, is
answered 503 with ``Retry-After``; a query stopped at the
time limit is a different 503 (QueryTimeout).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import contextvars
import logging
import math
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Protocol, cast

from ntx_graph.errors import NtxError, QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server import tasks
from ntx_graph.server.limits import Limits, mib
from ntx_graph.server.messages import HttpError, Response, text
from ntx_graph.server.tasks import Task, execute

log = logging.getLogger(__name__)

#: The client address of the request being handled (set by the HTTP layer).
CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("ntx_graph_client", default="")
#: Seconds a new worker may take to open the graph.
START_TIMEOUT = 120.0
#: The most jobs sent to one worker at once: the one it runs and the next of the same client.
PIPELINE = 2
#: Seconds a query on a lent worker runs (counted from its start) before the worker is taken back for a waiting client.
RECLAIM_AFTER = 0.1
#: The most client addresses remembered as slow (not lent workers until a quick answer).
SLOW_CLIENTS = 4096
#: Attempts at starting and connecting one replacement worker, 0.5 s more apart each time.
REPLACE_ATTEMPTS = 5


class Executor(Protocol):
    """Something that runs tasks against the graph."""

    def run(self, task: Task) -> Response:
        """The task's response; raises QueryTimeout or HttpError(503)."""
        ...

    async def submit(self, task: Task, client: str = "") -> Response:
        """:meth:`run` from an event loop, for ``client`` (an address)."""
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

    async def submit(self, task: Task, client: str = "") -> Response:
        """The task's response (run in the loop's thread)."""
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
        tasks.response_limit = settings.max_response_bytes  # checked while serialising
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
                response = text(413, tasks.too_large(settings.max_response_bytes))
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
    """A worker process and the pool's end of its socket pair."""

    def __init__(self, process: subprocess.Popen[bytes], conn: Connection) -> None:
        self.process = process
        self.conn = conn  # blocking, for the start-up handshake
        self.sock: socket.socket | None = None  # the same socket, read by the event loop once adopted
        self.link: _Link | None = None
        self.jobs: collections.deque[_Job] = collections.deque()  # the first runs; the next waits in the socket
        self.client = ""  # whose jobs these are

    def exit_code(self, wait: float) -> int | None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(wait)
        return self.process.returncode

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        self.exit_code(5)
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.link is None and self.sock is not None:
            self.sock.close()


class _Job:
    """A task on its way to a worker: its pickled frame, its client, when
    it arrived and when it started to run, the timer that ends its wait or
    its run, whether it gave way on a lent worker (then it runs only within
    its client's share), and the future of its answer."""

    __slots__ = ("again", "client", "frame", "future", "since", "started", "timer")

    def __init__(self, frame: bytes, client: str, future: asyncio.Future[Response]) -> None:
        self.frame = frame
        self.client = client
        self.since = self.started = time.monotonic()
        self.future = future
        self.timer: asyncio.TimerHandle | None = None
        self.again = False


class _Link(asyncio.Protocol):
    """The event loop's end of one worker's socket: length-prefixed pickled
    frames (multiprocessing.connection's framing, which the worker reads
    and writes with a plain Connection), read without a thread."""

    def __init__(self, pool: WorkerPool, worker: _Worker, ready: asyncio.Future[None]) -> None:
        self.pool = pool
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ready = ready

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio's classes
        self.worker.link = self
        if not self.ready.done():
            self.ready.set_result(None)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        if not buffer and len(data) >= 4 and int.from_bytes(data[:4], "big", signed=True) == len(data) - 4:
            self.pool._answered(self.worker, memoryview(data)[4:])  # one whole frame: the usual case
            return
        buffer += data
        while len(buffer) >= 4:
            size, head = int.from_bytes(buffer[:4], "big", signed=True), 4
            if size == -1:  # a frame of 2 GiB or more
                if len(buffer) < 12:
                    return
                size, head = int.from_bytes(buffer[4:12], "big"), 12
            if len(buffer) < head + size:
                return
            frame = bytes(buffer[head:head + size])
            del buffer[:head + size]
            self.pool._answered(self.worker, frame)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool._lost(self.worker)

    def send(self, frame: bytes) -> None:
        assert self.transport is not None
        self.transport.write(frame)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def _frame(task: Task) -> bytes:
    payload = pickle.dumps(task, pickle.HIGHEST_PROTOCOL)
    if len(payload) > 0x7FFFFFFF:
        return b"\xff\xff\xff\xff" + len(payload).to_bytes(8, "big") + payload
    return len(payload).to_bytes(4, "big", signed=True) + payload


class WorkerError(NtxError):
    """A worker could not be started."""


class WorkerPool:
    """A fixed number of worker processes holding the graph (see the module's
    docstring for the policy).

    The scheduling runs in one event loop, the server's (:meth:`attach`):
    a request's task is written to a free worker's socket and its answer
    read by the loop, with no thread between the HTTP layer and the worker;
    the time limit is a timer of that loop. :meth:`run` (for callers in
    other threads) hands the task to that loop, or to a loop of the pool's
    own started on first use."""

    def __init__(self, source: GraphSource, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.size = limits.workers
        self.timeout = limits.timeout
        self.settings = WorkerSettings(limits.memory_bytes, limits.max_response_bytes, limits.allow_federation)
        self.isolation: str | None = None  # why workers have network, or None
        self._env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        self._lock = threading.Lock()  # guards _workers and _closed, read from other threads
        self._loop: asyncio.AbstractEventLoop | None = None
        self._own_loop: threading.Thread | None = None
        self._free: list[_Worker] = []
        self._workers: set[_Worker] = set()
        self._held: Counter[str] = Counter()
        self._waiting: list[_Job] = []
        self._slow: collections.OrderedDict[str, None] = collections.OrderedDict()  # not lent workers
        self._starting = 0  # replacement workers on their way
        self._replacing_fails = False  # the last replacement could not be started: lend nothing, take nothing back
        self._reclaim_timer: asyncio.TimerHandle | None = None
        self._closed = False
        started: list[_Worker | None] = [self._spawn()]  # the first start reports a broken graph or sandbox at once
        starters = [threading.Thread(target=lambda: started.append(self._spawn_quietly()), daemon=True)
                    for _ in range(self.size - 1)]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join()
        self._pending = [w for w in started if w is not None]
        if len(self._pending) < self.size:
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
        worker = _Worker(process, Connection(ours.detach()))
        try:
            worker.conn.send((self.source, self.settings))
            if not worker.conn.poll(START_TIMEOUT):
                raise WorkerError(f"a query worker did not open the graph within {START_TIMEOUT:g} s")
            status, detail = worker.conn.recv()
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
            closed = self._closed
            if not closed:
                self.isolation = detail
                self._workers.add(worker)
        if closed:  # close() did not see it: nothing else would stop it
            worker.kill()
            raise WorkerError("the query workers are stopping")
        return worker

    def _spawn_quietly(self) -> _Worker | None:
        try:
            return self._spawn()
        except WorkerError as error:
            log.error("%s", error)
            return None

    # -- the event loop ------------------------------------------------------

    async def attach(self) -> None:
        """Schedule in the running event loop (the server's), unless the pool
        already has a loop."""
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            for worker in self._pending:
                await self._adopt(worker)
            self._pending = []

    async def _adopt(self, worker: _Worker, *, replacement: bool = False, attempt: int = 0) -> None:
        """Read ``worker``'s socket in the loop and make it free. A worker
        (a replacement: its ``attempt``-th) that cannot be connected (say, out
        of file descriptors) is killed and started again in the background, up
        to :data:`REPLACE_ATTEMPTS` times in all."""
        assert self._loop is not None
        try:
            if self._closed:
                worker.kill()
                return
            try:
                worker.sock = socket.socket(fileno=os.dup(worker.conn.fileno()))
                worker.conn.close()
                worker.sock.setblocking(False)
                ready = self._loop.create_future()
                await self._loop.connect_accepted_socket(lambda: _Link(self, worker, ready), worker.sock)
                await ready  # connection_made may come after the transport (uvloop)
            except OSError as error:  # a first worker (attach) is replaced like a replacement is
                log.error("connecting a new query worker (attempt %d): %s", attempt + 1, error)
                with self._lock:
                    self._workers.discard(worker)
                if worker.link is not None:
                    worker.link.close()
                threading.Thread(target=worker.kill, daemon=True).start()
                if attempt + 1 < REPLACE_ATTEMPTS and not self._closed:
                    self._starting += 1  # the next attempt is on its way
                    threading.Thread(target=self._restart, args=(attempt + 1,), name="ntx-graph-replace",
                                     daemon=True).start()
                else:
                    self._replacing_fails = True
                    self._dispatch()
                return
        finally:
            if replacement:
                self._starting -= 1
        if replacement:
            self._replacing_fails = False
        self._free.append(worker)
        self._dispatch()

    def _replaced(self) -> None:
        """A replacement worker will not come (in the loop's thread): until
        one starts again, a lent worker taken back would be lost, not handed on."""
        self._starting -= 1
        self._replacing_fails = True
        self._dispatch()

    def _loop_for_threads(self) -> asyncio.AbstractEventLoop:
        """The pool's loop; one of its own, in a thread, if it has none yet."""
        with self._lock:
            if self._loop is None and self._own_loop is None:
                loop = asyncio.new_event_loop()
                self._own_loop = threading.Thread(target=loop.run_forever, name="ntx-graph-pool", daemon=True)
                self._own_loop.start()
                asyncio.run_coroutine_threadsafe(self.attach(), loop).result()
                self._loop = loop
        assert self._loop is not None
        return self._loop

    # -- scheduling (in the loop's thread) ----------------------------------

    def _may_borrow(self, job: _Job) -> bool:
        """Whether ``job`` may run on a worker beyond its client's share (not
        while replacements fail: that worker could not be taken back)."""
        return not (self.limits.strict_share or job.again or job.client in self._slow or self._replacing_fails)

    def _next_waiter(self) -> _Job | None:
        share = self.limits.client_share
        eligible = [job for job in self._waiting if self._held[job.client] < share]
        if not eligible:  # nobody within its share waits: lend the worker
            eligible = [job for job in self._waiting if self._may_borrow(job)]
            if not eligible:
                return None
        return min(eligible, key=lambda job: (self._held[job.client], job.since))

    def _dispatch(self) -> None:
        """Give free workers to the most deserving waiting jobs."""
        while self._free and self._waiting and not self._closed:
            job = self._next_waiter()
            if job is None:
                return
            self._waiting.remove(job)
            if job.future.done():  # its request went away
                _fail(job, HttpError(503, "cancelled"))
                continue
            worker = self._free.pop()
            self._start(job, worker)
            self._top_up(worker)
        self._reclaim()

    def _reclaim(self) -> None:
        """When a client within its share waits and no worker is free (nor
        on its way to it), take back a lent worker: the one whose query started
        first, once that query has run :data:`RECLAIM_AFTER` seconds."""
        if self._closed or self._free or self._replacing_fails or self._reclaim_timer is not None:
            return
        share = self.limits.client_share
        wanted = Counter(job.client for job in self._waiting
                         if self._held[job.client] < share and not job.future.done())
        if sum(min(n, share - self._held[client]) for client, n in wanted.items()) <= self._starting:
            return  # the workers on their way serve them
        lent = [w for w in self._busy_workers() if self._held[w.client] > share]
        if not lent:
            return
        # a job running again started within its client's share: its worker is not the lent one
        worker = min(lent, key=lambda w: (w.jobs[0].again, w.jobs[0].started))
        assert self._loop is not None
        due = worker.jobs[0].started + RECLAIM_AFTER - time.monotonic()
        if due > 0:
            self._reclaim_timer = self._loop.call_later(due, self._reclaim_due)
            return
        log.info("a lent query worker is taken back for another client; its query will run again")
        self._mark(worker.client, slow=True)
        first = self._drop(worker)
        if first is not None:
            first.again = True
            self._wait(first, first=True)

    def _reclaim_due(self) -> None:
        self._reclaim_timer = None
        self._reclaim()

    def _mark(self, client: str, *, slow: bool) -> None:
        """Remember whether ``client``'s last query was slow (it is then lent no worker)."""
        if not slow:
            self._slow.pop(client, None)
            return
        self._slow[client] = None
        self._slow.move_to_end(client)
        if len(self._slow) > SLOW_CLIENTS:
            self._slow.popitem(last=False)

    def _start(self, job: _Job, worker: _Worker) -> None:
        """Run ``job`` on the idle ``worker``: the client now holds it, and the time limit runs."""
        assert self._loop is not None and worker.link is not None
        if job.timer is not None:
            job.timer.cancel()
        self._held[job.client] += 1
        worker.client = job.client
        worker.jobs.append(job)
        job.started = time.monotonic()
        job.timer = self._loop.call_later(self.timeout, self._expired, worker, job)
        worker.link.send(job.frame)

    def _top_up(self, worker: _Worker) -> None:
        """Queue the next job of ``worker``'s client behind the one it runs,
        when no other client waits: the worker then reads it as soon as it
        answers, with no round trip between (a client's jobs wait only
        behind its own; the time limit of each starts when the one before
        it is answered)."""
        if len(worker.jobs) >= PIPELINE or worker.link is None or self._closed:
            return
        mine = None
        for job in self._waiting:
            if job.client != worker.client:
                return
            if mine is None and not job.future.done():
                mine = job
        if mine is None or (mine.again and self._held[worker.client] > self.limits.client_share):
            return  # a job that gave way runs only within its client's share
        self._waiting.remove(mine)
        if mine.timer is not None:
            mine.timer.cancel()
            mine.timer = None
        worker.jobs.append(mine)
        worker.link.send(mine.frame)

    def _unhold(self, client: str) -> None:
        self._held[client] -= 1
        if self._held[client] <= 0:
            del self._held[client]

    def _busy(self, why: str) -> HttpError:
        return HttpError(503, why, {"Retry-After": str(max(1, math.ceil(self.timeout / 2)))})

    def _enqueue(self, job: _Job) -> None:
        """Start ``job`` at once, or queue it; HttpError(503) if it cannot wait."""
        assert self._loop is not None
        if self._closed:
            raise HttpError(503, "the server is shutting down", {"Connection": "close"})
        if self._free and not self._waiting and (self._held[job.client] < self.limits.client_share
                                                 or self._may_borrow(job)):
            self._start(job, self._free.pop())
            return
        if len(self._waiting) >= self.limits.max_queue:
            raise self._busy(f"all {self.size} query workers are busy and {len(self._waiting)} requests "
                             "wait for one; try again shortly")
        self._wait(job)
        if len(self._waiting) == 1:  # nobody else waits: behind this client's own job, if it runs one
            busy, share = self._busy_workers(), self.limits.client_share
            if self._held[job.client] < share and any(self._held[w.client] > share for w in busy):
                busy = []  # within its share, while a worker is lent: take that one back (_dispatch) instead
            for worker in busy:
                if worker.client == job.client and len(worker.jobs) < PIPELINE:
                    self._top_up(worker)
                    return
        self._dispatch()

    def _busy_workers(self) -> list[_Worker]:
        with self._lock:
            return [worker for worker in self._workers if worker.jobs]

    def _wait(self, job: _Job, first: bool = False) -> None:
        assert self._loop is not None
        if job.timer is not None:
            job.timer.cancel()
        job.timer = self._loop.call_later(self.limits.queue_wait, self._waited, job)
        if first:
            self._waiting.insert(0, job)
        else:
            self._waiting.append(job)

    def _waited(self, job: _Job) -> None:
        """``job`` found no worker within the queue wait."""
        if job not in self._waiting:
            return
        self._waiting.remove(job)
        share = self.limits.client_share
        if self._held[job.client] >= share:
            error = self._busy(f"this client already uses its share of {share} query workers (--client-share); "
                               "try again shortly")
        else:
            error = self._busy(f"all {self.size} query workers are busy; try again shortly")
        _fail(job, error)

    def _answered(self, worker: _Worker, frame: bytes | memoryview) -> None:
        """A worker's answer arrived: give the worker its next job first, then the answer to its request."""
        if not worker.jobs:  # an answer after the time limit fired: the worker is being replaced
            return
        job = worker.jobs.popleft()
        if job.timer is not None:
            job.timer.cancel()
        now = time.monotonic()
        self._mark(job.client, slow=now - job.started >= RECLAIM_AFTER)
        try:
            reply, keep = pickle.loads(frame)
        except Exception:
            log.exception("an unreadable answer from a query worker")
            reply, keep = text(500, "internal error"), False
        if not keep:  # the worker stops: _drop releases it and queues again the job behind this one
            worker.jobs.appendleft(job)
            self._drop(worker)
        elif worker.jobs:  # the next job of the same client is already in the worker's socket
            assert self._loop is not None
            head = worker.jobs[0]
            head.started = now
            head.timer = self._loop.call_later(self.timeout, self._expired, worker, head)
            self._top_up(worker)
        else:
            self._unhold(worker.client)
            self._free.append(worker)
            self._dispatch()
        if not job.future.done():
            job.future.set_result(reply)

    def _drop(self, worker: _Worker) -> _Job | None:
        """Take ``worker`` out of service: its client no longer holds it, the
        jobs queued behind its first wait again (they have not run), and a
        replacement starts. Its first job, if any, is returned."""
        jobs = list(worker.jobs)
        worker.jobs.clear()
        if jobs:
            self._unhold(worker.client)
        for job in reversed(jobs[1:]):
            if not self._closed:
                self._wait(job, first=True)
            else:
                _fail(job, HttpError(503, "the server is shutting down", {"Connection": "close"}))
        self._replace(worker)
        return jobs[0] if jobs else None

    def _expired(self, worker: _Worker, job: _Job) -> None:
        """``job`` ran past the time limit: kill its worker."""
        if not worker.jobs or worker.jobs[0] is not job:
            return
        self._mark(job.client, slow=True)
        self._drop(worker)
        _fail(job, QueryTimeout(f"the query exceeded the time limit of {self.timeout:g} s and was stopped"))

    def _lost(self, worker: _Worker) -> None:
        """``worker``'s socket closed: it died (or the pool is closing)."""
        if worker in self._free:
            self._free.remove(worker)
        if self._closed:
            for job in worker.jobs:
                _fail(job, HttpError(503, "the server is shutting down", {"Connection": "close"}))
            worker.jobs.clear()
            return
        with self._lock:
            known = worker in self._workers
        if not known:
            return
        first = self._drop(worker)
        if first is not None:
            assert self._loop is not None
            died = self._loop.run_in_executor(None, self._died, worker)
            died.add_done_callback(lambda done: _fail(first, done.result()))

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` and start a replacement in the background."""
        with self._lock:
            self._workers.discard(worker)
            closed = self._closed
        if worker in self._free:
            self._free.remove(worker)
        if worker.link is not None:
            worker.link.close()
        threading.Thread(target=worker.kill, daemon=True).start()
        if not closed:
            self._starting += 1
        self._dispatch()
        if not closed:
            threading.Thread(target=self._restart, name="ntx-graph-replace", daemon=True).start()

    def _restart(self, first: int = 0) -> None:
        """Start a replacement worker (in a thread of its own, from attempt
        ``first``) and hand it to the loop."""
        loop = self._loop
        for attempt in range(first, REPLACE_ATTEMPTS):
            if attempt:
                time.sleep(0.5 * attempt)
            if self._closed:
                return
            try:
                worker = self._spawn()
            except WorkerError as error:
                if self._closed:
                    return
                log.error("replacing a query worker (attempt %d): %s", attempt + 1, error)
                continue
            loop = self._loop
            if loop is None or loop.is_closed():
                worker.kill()
                return
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                asyncio.run_coroutine_threadsafe(self._adopt(worker, replacement=True, attempt=attempt), loop)
                return
            worker.kill()
            return
        if loop is not None:  # every attempt failed
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._replaced)

    def _died(self, worker: _Worker) -> HttpError:
        code = worker.exit_code(2)
        if code in (-signal.SIGKILL, -signal.SIGABRT, -signal.SIGBUS):
            log.error("a query worker was killed (exit code %s), most likely past the memory limit", code)
            return HttpError(503, _memory_message(self.settings.memory_bytes))
        log.error("a query worker died (exit code %s) while answering; it has been replaced", code)
        if code == -signal.SIGSEGV:  # the engine's recursion past the stack: a query nested too deeply
            return HttpError(500, "the query engine crashed on this query (most likely it nests too deeply for "
                                  "its stack); the query worker has been replaced")
        return HttpError(500, f"the query worker stopped unexpectedly (exit code {code}); it has been replaced")

    # -- running -----------------------------------------------------------

    async def submit(self, task: Task, client: str = "") -> Response:
        """Run ``task`` in a worker for ``client`` (an address) and return
        its response; QueryTimeout at the time limit, HttpError(503) when
        no worker is free in time."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            await self.attach()
        if self._loop is not loop:  # the workers are read by another loop
            future = asyncio.run_coroutine_threadsafe(self.submit(task, client), self._loop_for_threads())
            return await asyncio.wrap_future(future)
        job = _Job(_frame(task), client, loop.create_future())
        self._enqueue(job)
        return await job.future

    def run(self, task: Task) -> Response:
        """:meth:`submit` from a thread that is not the pool's loop's (the
        client is :data:`CLIENT`'s value)."""
        loop = self._loop_for_threads()
        if _running_loop() is loop:
            raise RuntimeError("WorkerPool.run() called from its own event loop; await submit() instead")
        return asyncio.run_coroutine_threadsafe(self.submit(task, CLIENT.get()), loop).result()

    def close(self) -> None:
        """Stop every worker (waits briefly for each to finish)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
        loop = self._loop
        if loop is not None and loop.is_running():
            if _running_loop() is loop:
                self._close_links(workers)
            else:
                with contextlib.suppress(Exception):
                    asyncio.run_coroutine_threadsafe(_call(lambda: self._close_links(workers)), loop).result(5)
        for worker in (*workers, *self._pending):  # end of input: the worker's loop returns
            with contextlib.suppress(OSError):
                worker.conn.close()
            if worker.sock is not None and (loop is None or not loop.is_running()):
                with contextlib.suppress(OSError):
                    worker.sock.close()
        deadline = time.monotonic() + 2
        for worker in workers:
            worker.exit_code(max(0.0, deadline - time.monotonic()))
            worker.kill()
        if self._own_loop is not None and loop is not None:
            loop.call_soon_threadsafe(loop.stop)

    def _close_links(self, workers: list[_Worker]) -> None:
        for job in self._waiting:
            _fail(job, HttpError(503, "the server is shutting down", {"Connection": "close"}))
        self._waiting.clear()
        self._free.clear()
        for worker in workers:
            if worker.link is not None:
                worker.link.close()

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        with self._lock:
            return [w.process.pid for w in self._workers]


def _fail(job: _Job, error: BaseException) -> None:
    if job.timer is not None:
        job.timer.cancel()
    if not job.future.done():
        job.future.set_exception(error)


async def _call(function: Callable[[], None]) -> None:
    function()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
