"""Fixtures shared by several test modules, and how the suite runs in parallel.

The README's test command runs the suite on three pytest-xdist workers
(``-n 3 --dist loadfile``: many tests wait on servers and child processes, so
three keep two cores busy). Each module is one unit of work, so that its
module fixtures are built once; the modules in :data:`GROUPS` share a worker
and so its session fixtures (one start of each triplestore, one cache of SHACL
reports). A test marked ``alone`` (one whose timing other tests' load could
disturb) runs while no other test runs: see :class:`AloneLock`.
"""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import socket
import tempfile
import threading
from collections.abc import Generator, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from ntx_graph import resources
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.limits import Limits
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor
from ntx_graph.validate import Engine, ValidationReport, validate
from servers import Server, oxigraph_server, virtuoso_server

SHAPES_FIXTURES = Path(__file__).parent / "fixtures" / "shapes"


class Listener:
    """A loopback socket that records every connection made to it (to prove
    nothing connects).

    A connection counts from the moment its handshake is done: one the accept
    thread has not taken yet is seen waiting in the socket's backlog, so
    :attr:`hits` is complete as soon as the call that might have connected has
    returned, with no waiting."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(16)
        self.port: int = self._socket.getsockname()[1]
        self._hits: list[bytes] = []
        self._lock = threading.Lock()
        self._wake, self._waker = socket.socketpair()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def hits(self) -> list[bytes]:
        """What each connection sent first (``(connected)`` if nothing yet), one
        entry per connection, those still waiting to be accepted included."""
        with self._lock:
            waiting = select.select([self._socket], [], [], 0)[0]
            return [*self._hits, *([b"(connected, not yet accepted)"] if waiting else [])]

    def _accept(self) -> None:
        while True:
            ready = select.select([self._socket, self._wake], [], [])[0]
            if self._wake in ready:
                return
            with self._lock:  # accepted and counted at once, as hits sees it
                try:
                    conn, _ = self._socket.accept()
                except OSError:
                    continue
                index = len(self._hits)
                self._hits.append(b"(connected)")
            conn.settimeout(1)
            try:
                first = conn.recv(200)
            except OSError:
                first = b""
            if first:
                self._hits[index] = first
            conn.close()  # a reset: the query engine gets an error, not an answer

    def close(self) -> None:
        self._waker.send(b"x")
        self._thread.join(2)
        for sock in (self._socket, self._wake, self._waker):
            sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback socket that records any connection made to it (to prove nothing connects)."""
    found = Listener()
    yield found
    found.close()


@pytest.fixture(scope="session")
def kg() -> KnowledgeGraph:
    """The bundled graph, loaded once (read-only: no test changes it)."""
    return KnowledgeGraph.open()


@pytest.fixture(scope="module")
def router(kg: KnowledgeGraph) -> Router:
    """The endpoint's router over the bundled graph, with default limits, queries run inline
    (modules that need other limits define their own)."""
    return Router(Snapshot.of(kg), Limits(), InlineExecutor(kg), host="example.test")



@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """An Oxigraph server, started once per session: its tests keep to named graphs of their own."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A private Virtuoso, started once per session: its tests keep to named graphs of their own."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@cache
def shacl_report(fixture: str | None = None, engine: Engine = "pyshacl-turbo") -> ValidationReport:
    """The SHACL report (reports are immutable, so computed once per session) on the
    bundled graph, or on the shapes fixture ``fixture`` (a file name in
    fixtures/shapes) with the ontology and the fixtures' shared context but
    without the bundled data."""
    if fixture is None:
        return validate(engine=engine)
    files = [*resources.ontology_files(), SHAPES_FIXTURES / "_context.ttl", SHAPES_FIXTURES / fixture]
    return validate(files, include_bundled=False, engine=engine)

# -- running in parallel ------------------------------------------------------------------

#: Modules that run on one worker, to share its session fixtures.
GROUPS = {
    "test_agreement.py": "triplestores", "test_remote_oxigraph.py": "triplestores",
    "test_remote_virtuoso.py": "triplestores",
    "test_shapes.py": "shacl", "test_shacl_engines.py": "shacl",
}


class AloneLock:
    """Lets the tests of a module marked ``alone`` run while no other worker runs a
    test: every other test holds the ``run`` lock shared while it runs (setup to
    teardown), an ``alone`` module holds it exclusively from its first test's setup
    to its last test's teardown (its module fixtures included). Taking the
    ``gate`` first means the exclusive request waits only for the tests already
    running, not for a stream of new ones. The files live in a folder the
    controller makes for the run."""

    def __init__(self, folder: str) -> None:
        self._gate = open(Path(folder) / "gate", "a+")  # noqa: SIM115 (held for the session)
        self._run = open(Path(folder) / "run", "a+")  # noqa: SIM115
        self.exclusive = False

    def take(self, *, exclusive: bool) -> None:
        fcntl.flock(self._gate, fcntl.LOCK_EX)
        fcntl.flock(self._run, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        if exclusive:
            self.exclusive = True
        else:
            fcntl.flock(self._gate, fcntl.LOCK_UN)

    def release(self) -> None:
        fcntl.flock(self._run, fcntl.LOCK_UN)
        if self.exclusive:
            self.exclusive = False
            fcntl.flock(self._gate, fcntl.LOCK_UN)


LOCK_FOLDER = pytest.StashKey[str]()
LOCK = pytest.StashKey[AloneLock]()


def _alone(item: pytest.Item | None) -> bool:
    return item is not None and item.get_closest_marker("alone") is not None


def pytest_configure(config: pytest.Config) -> None:
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    if workerinput is not None and "ntx_lock_folder" in workerinput:
        config.stash[LOCK] = AloneLock(workerinput["ntx_lock_folder"])
    elif workerinput is None and config.pluginmanager.hasplugin("xdist") and config.getoption("numprocesses"):
        config.stash[LOCK_FOLDER] = tempfile.mkdtemp(prefix="ntx-graph-tests-")


def pytest_unconfigure(config: pytest.Config) -> None:
    if LOCK_FOLDER in config.stash:
        shutil.rmtree(config.stash[LOCK_FOLDER], ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """(pytest-xdist, in the controller) Tell each worker where the run's lock is."""
    if LOCK_FOLDER in node.config.stash:
        node.workerinput["ntx_lock_folder"] = node.config.stash[LOCK_FOLDER]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """(pytest-xdist, in the controller) ``--dist loadfile``, with the files of each
    entry of GROUPS sent to one worker as one unit of work."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class Scheduling(LoadFileScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            path: str = super()._split_scope(nodeid)
            return GROUPS.get(os.path.basename(path), path)

    return Scheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    lock = item.config.stash.get(LOCK, None)
    if lock is None:
        return (yield)
    alone = _alone(item)
    if not (alone and lock.exclusive):
        lock.take(exclusive=alone)
    try:
        return (yield)
    finally:
        if not alone or not _alone(nextitem) or nextitem.path != item.path:  # type: ignore[union-attr]
            lock.release()
