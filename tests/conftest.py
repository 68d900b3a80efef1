"""Fixtures shared by several test modules."""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator

import pytest

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.limits import Limits
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor


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
