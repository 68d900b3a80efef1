"""Fixtures shared by several test modules."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.limits import Limits
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor


@dataclass
class Listener:
    """A loopback socket that records every connection made to it."""

    port: int
    hits: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A loopback socket that records any connection made to it (to prove nothing connects)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    found = Listener(server.getsockname()[1])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                found.hits.append(conn.recv(200) or b"(connected)")
            except OSError:
                found.hits.append(b"(connected)")
            conn.close()  # a reset: the query engine gets an error, not an answer

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield found
    stop.set()
    thread.join(2)
    server.close()


@pytest.fixture(scope="session")
def kg() -> KnowledgeGraph:
    """The bundled graph, loaded once (read-only: no test changes it)."""
    return KnowledgeGraph.open()


@pytest.fixture(scope="module")
def router(kg: KnowledgeGraph) -> Router:
    """The endpoint's router over the bundled graph, with default limits, queries run inline
    (modules that need other limits define their own)."""
    return Router(Snapshot.of(kg), Limits(), InlineExecutor(kg), host="example.test")
