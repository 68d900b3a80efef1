"""Upload triples to a triplestore with the SPARQL 1.1 Graph Store HTTP Protocol.

``PUT {endpoint}?graph=IRI`` replaces the named graph, ``POST`` adds to it.
The body is N-Triples sent as ``text/turtle; charset=utf-8``: N-Triples is
Turtle, and ``text/turtle`` is the one RDF type every Graph Store accepts
(older Virtuoso 7 builds reject ``application/n-triples``). It is streamed in
chunks, with an optional progress line. An empty ``HEAD`` first checks the
credentials (and fetches a digest challenge), so the body is sent once and a
wrong password is reported instead of a reset connection (Virtuoso closes the
connection on a 401 while a large body is still being sent).
"""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from ntx_graph.errors import NtxError
from ntx_graph.http_client import Client, Credentials, HttpError, connection_problem

CONTENT_TYPE = "text/turtle; charset=utf-8"
CHUNK_SIZE = 1 << 16
DEFAULT_TIMEOUT = 60.0


class PushError(NtxError):
    """An upload failed; the message starts with ``push failed:``."""


@dataclass(frozen=True)
class PushResult:
    """What an upload did."""

    graph: str
    triples: int
    bytes: int
    status: int
    seconds: float
    replaced: bool

    def __str__(self) -> str:
        verb = "replaced" if self.replaced else "appended to"
        return (f"{verb} <{self.graph}>: {self.triples:,} triples, {_size(self.bytes)} "
                f"in {self.seconds:.2f} s (HTTP {self.status})")


def push_graph(data: bytes, *, endpoint: str, graph: str, replace: bool = True, user: str | None = None,
               password: str | None = None, auth: str = "basic", progress: bool = False,
               timeout: float = DEFAULT_TIMEOUT, chunk_size: int = CHUNK_SIZE,
               stream: IO[str] | None = None) -> PushResult:
    """Send N-Triples ``data`` to the named graph ``graph`` of the Graph Store
    at ``endpoint``: PUT (``replace``) or POST. ``auth`` is ``basic`` or
    ``digest``; ``timeout`` (seconds) bounds the whole upload; a progress line
    goes to ``stream`` (stderr) when ``progress``.
    Raises PushError (``push failed: the server answered HTTP 401 ...``)."""
    problem = connection_problem(endpoint, graph, auth)
    if problem:
        raise PushError(f"push failed: {problem}")
    if (user is None) != (password is None):
        raise PushError("push failed: give both a user name and a password, or neither")
    url = endpoint + ("&" if urllib.parse.urlsplit(endpoint).query else "?") + urllib.parse.urlencode({"graph": graph})
    started = time.monotonic()
    body = _Body(data, chunk_size, (stream or sys.stderr) if progress else None)
    try:
        client = Client(endpoint, Credentials(user, password, auth) if user is not None and password is not None
                        else None, timeout)
        head = client.request("HEAD", url)
        # a server without HEAD (404, 405, 501, ...) says nothing about credentials: go on
        if head.status in (401, 403, 407):
            client.check(head)
        try:
            answer = client.check(client.request("PUT" if replace else "POST", url, body=body, headers={
                "Content-Type": CONTENT_TYPE, "Content-Length": str(len(data))}))
        finally:
            body.finish()
    except HttpError as error:
        raise PushError(f"push failed: {error}") from None
    return PushResult(graph=graph, triples=count_triples(data), bytes=len(data), status=answer.status,
                      seconds=time.monotonic() - started, replaced=replace)


def count_triples(data: bytes) -> int:
    """The number of statements in N-Triples ``data`` (non-blank, non-comment lines)."""
    return sum(1 for line in data.splitlines() if line.strip() and not line.lstrip().startswith(b"#"))


class _Body:
    """A request body that can be sent more than once, in chunks, reporting progress."""

    def __init__(self, data: bytes, chunk_size: int, stream: IO[str] | None) -> None:
        self.data = data
        self.chunk_size = max(1, chunk_size)
        self.stream = stream
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        total = len(self.data)
        self.sent = 0
        self._show()
        for start in range(0, total, self.chunk_size):
            chunk = view[start:start + self.chunk_size].tobytes()
            yield chunk
            self.sent = start + len(chunk)
            self._show()

    def _show(self) -> None:
        if self.stream is None:
            return
        total = len(self.data)
        percent = 100 if total == 0 else self.sent * 100 // total
        self.stream.write(f"\rpush: {_size(self.sent)} / {_size(total)} ({percent}%)")
        self.stream.flush()

    def finish(self) -> None:
        """End the progress line."""
        if self.stream is not None:
            self.stream.write("\n")
            self.stream.flush()


def _size(count: int) -> str:
    """A byte count for people: 532 B, 48.1 kB, 3.2 MB."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"
