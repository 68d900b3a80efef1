"""Serving the ASGI adapter with uvicorn.

:class:`NtxServer` binds the socket (so that a port in use is reported
before anything starts), starts the query workers, and serves with uvicorn:
HTTP/1.1 with keep-alive, a listen backlog of ``BACKLOG``, httptools'
request parsing (a duplicate or conflicting Content-Length, a bad chunked
body or a bad request line is refused) and graceful shutdown. uvicorn's own
error answers go through :class:`Protocol`, so that they too carry the
security headers. :func:`serve` is ``ntx-graph serve``: one process, or
``processes`` server processes sharing one listening socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import multiprocessing
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, cast

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ntx_graph.errors import NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.asgi import App, HostPolicy
from ntx_graph.server.cache import ResponseCache
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import HttpError
from ntx_graph.server.router import SECURITY_HEADERS, Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import DumpedGraph, GraphSource, WorkerPool

log = logging.getLogger(__name__)

BACKLOG = 1024
#: The most bytes of request line plus headers (431 past it, 414 for the URL alone).
MAX_HEAD_BYTES = 64 * 1024
#: Open connections a server process keeps; more are answered 503 and closed.
MAX_CONNECTIONS = 1000
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
_REASONS = {400: b"Bad Request", 414: b"URI Too Long", 431: b"Request Header Fields Too Large",
            501: b"Not Implemented", 503: b"Service Unavailable", 505: b"HTTP Version Not Supported"}
_SECURITY = b"".join(f"{k}: {v}\r\n".encode("latin-1") for k, v in SECURITY_HEADERS.items())


#: The most body bytes joined to a held response head in one write.
JOIN_BYTES = 64 * 1024


class _OneWrite:
    """A connection's transport that writes a response's head together with
    its body. uvicorn writes the head and the body in two calls, and each
    is a ``send()`` of its own; on a cached answer those two system calls
    were half of the server's CPU (py-spy, 2 virtual cores). A head alone
    (a write that starts with ``HTTP/`` and ends with the blank line) is
    held until the next write, the response's end or a close; everything
    else passes straight through, in order."""

    __slots__ = ("_held", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if len(data) <= JOIN_BYTES:
                self._transport.write(held + bytes(data))
                return
            self._transport.write(held)
        elif data[:5] == b"HTTP/" and data[-4:] == b"\r\n\r\n":
            self._held = bytes(data)
            return
        self._transport.write(data)

    def flush(self) -> None:
        """Write a held head (the response had no body to join it to)."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with bounded request heads, a cap on
    connections, error answers that carry the security headers, and a
    response's head and body written in one system call (:class:`_OneWrite`)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(cast(asyncio.Transport, _OneWrite(transport)))
        self._head_bytes = 0
        self._refusal: HttpError | None = None
        if len(self.connections) > MAX_CONNECTIONS:
            self._answer(503, "too many open connections; try again shortly", b"Retry-After: 1\r\n")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0

    def _refuse(self, status: int, message: str) -> None:
        """Stop parsing (httptools wraps what a callback raises); data_received answers the refusal."""
        self._refusal = HttpError(status, message)
        raise self._refusal

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_HEAD_BYTES:
            self._refuse(414, f"the URL is longer than the limit of {MAX_HEAD_BYTES} bytes; POST the query instead")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value) + 4
        if self._head_bytes > MAX_HEAD_BYTES:
            self._refuse(431, f"the request's headers are larger than the limit of {MAX_HEAD_BYTES} bytes")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        version = self.parser.get_http_version()
        if version not in ("1.0", "1.1"):
            self._refuse(505, f"only HTTP/1.0 and HTTP/1.1 are served, not HTTP/{version}")
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._answer(501, "protocol upgrades (WebSocket, h2c) are not supported")
        except httptools.HttpParserError as error:
            refusal, self._refusal = self._refusal, None
            if refusal is not None:
                self._answer(refusal.status, str(refusal))
            else:
                self._answer(*_classify(error))

    def on_response_complete(self) -> None:
        cast(_OneWrite, self.transport).flush()  # a HEAD answer's head, which no body follows
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        self._answer(400, msg)

    def _answer(self, status: int, message: str, extra: bytes = b"") -> None:
        body = (message + "\n").encode("utf-8")
        head = (b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
                b"connection: close\r\n" % (status, _REASONS.get(status, b"Error"), len(body)))
        if not self.transport.is_closing():
            self.transport.write(head + _SECURITY + extra + b"\r\n" + body)
            self.transport.close()


def _classify(error: Exception) -> tuple[int, str]:
    """The status and message for an httptools parse error."""
    reason = str(error) or type(error).__name__
    lowered = reason.lower()
    if "invalid method" in lowered:  # an unknown method token; "GET\r\n" is a malformed request line (400)
        return 501, f"the request method is not supported ({reason})"
    if "version" in lowered:
        return 505, f"only HTTP/1.0 and HTTP/1.1 are served ({reason})"
    if "transfer-encoding" in lowered:
        return 501, f"the Transfer-Encoding is not supported ({reason})"
    return 400, f"invalid HTTP request: {reason}"


class _Uvicorn(uvicorn.Server):
    """uvicorn's server, refusing new requests as soon as shutdown begins."""

    def __init__(self, config: uvicorn.Config, app: App) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.app.draining = True
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal once it has stopped; a drained stop on SIGTERM exits 0 instead
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; NtxError naming the address if it cannot be bound."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # asyncio sets TCP_NODELAY only then
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise NtxError(f"port {port} on {host} is in use; stop what listens there or choose another "
                           "with --port") from None
        raise NtxError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None
    sock.set_inheritable(True)
    return sock


@dataclass(frozen=True)
class Options:
    """How to serve, besides the graph and the limits."""

    host: str = "127.0.0.1"
    port: int = 0
    allowed_hosts: tuple[str, ...] = ()
    cache_bytes: int = DEFAULT_CACHE_BYTES
    access_log: bool = False
    log_queries: bool = False
    grace: float | None = None  # seconds for requests in flight at shutdown (default: wait + time limit + 2)
    max_in_flight: int = 128


class NtxServer:
    """A bound server with its workers started, not serving yet: call
    ``serve_forever()`` (e.g. in a thread) and later ``shutdown()``."""

    def __init__(self, kg: KnowledgeGraph, limits: Limits, options: Options, *, store: str | Path | None = None,
                 sock: socket.socket | None = None, source: GraphSource | None = None) -> None:
        self.limits = limits
        self.sock = sock or bind(options.host, options.port)
        self._dump: DumpedGraph | None = None
        try:
            snapshot = Snapshot.of(kg)
            if source is None:
                self._dump = DumpedGraph(kg, store)
                source = self._dump.source
            self.pool = WorkerPool(source, limits)
        except BaseException:
            self._close_files()
            raise
        address, port = self.sock.getsockname()[:2]
        self.server_address = (str(address), int(port))
        self.url = f"http://{_authority(self.sock)}/"
        self.cache = ResponseCache(options.cache_bytes) if options.cache_bytes else None
        self.router = Router(snapshot, limits, self.pool, host=_authority(self.sock))
        self.app = App(self.router, hosts=HostPolicy(str(address), options.allowed_hosts),
                       max_in_flight=options.max_in_flight, log_queries=options.log_queries, cache=self.cache)
        grace = options.grace if options.grace is not None else limits.queue_wait + limits.timeout + 2
        config = uvicorn.Config(
            self.app, http=Protocol, lifespan="on", log_config=None, access_log=False, proxy_headers=False,
            server_header=False, backlog=BACKLOG, timeout_keep_alive=5, timeout_graceful_shutdown=max(1, int(grace)),
            ws="none")
        self._uvicorn = _Uvicorn(config, self.app)
        self._stopped = threading.Event()
        self._closed = False

    @property
    def isolation(self) -> str | None:
        """Why the workers have the network (None: they have none)."""
        return self.pool.isolation

    def serve_forever(self) -> None:
        """Serve until shutdown() (or, in the main thread, SIGTERM/SIGINT)."""
        try:
            self._uvicorn.run(sockets=[self.sock])
        finally:
            self._stopped.set()

    def shutdown(self, timeout: float = 30) -> None:
        """Refuse new requests, let those in flight finish, stop the workers."""
        self.app.draining = True
        self._uvicorn.should_exit = True
        self._stopped.wait(timeout)
        self.close()

    def close(self) -> None:
        """Stop the workers and close the socket (after serving)."""
        if self._closed:
            return
        self._closed = True
        if self.cache is not None:
            self.cache.clear()
        self.pool.close()
        self._close_files()

    def _close_files(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        if self._dump is not None:
            self._dump.close()


def _authority(sock: socket.socket) -> str:
    """``host:port`` of the server listening on ``sock``, as a URL writes it."""
    address, port = sock.getsockname()[:2]
    return f"[{address}]:{port}" if ":" in str(address) else f"{address}:{port}"


def make_server(kg: KnowledgeGraph, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None, *,
                access_log: bool = False, store: str | Path | None = None, **options: Any) -> NtxServer:
    """An :class:`NtxServer`; ``options`` are :class:`Options` fields."""
    return NtxServer(kg, limits or Limits(), Options(host=host, port=port, access_log=access_log, **options),
                     store=store)


def _configure_logging(options: Options) -> None:
    access = logging.getLogger("ntx_graph.server.access")
    access.propagate = False
    access.setLevel(logging.INFO if options.access_log else logging.WARNING)
    if options.access_log and not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(handler)
    logging.getLogger("uvicorn.error").setLevel(logging.ERROR)


def _say(line: str) -> None:
    sys.stderr.write(f"ntx-graph: {line}\n")
    sys.stderr.flush()


def _warn_isolation(server: NtxServer) -> None:
    if server.isolation is not None:
        if server.limits.allow_federation:
            _say("--allow-federation: query workers have the network")
        else:
            _say(f"warning: query workers could not leave the network ({server.isolation}); the lexical guard "
                 "is the only defence against SERVICE and FROM")


def _child_main(source: GraphSource, limits: Limits, options: Options, sock: socket.socket) -> None:
    _configure_logging(options)
    with contextlib.closing(NtxServer(source.open(), limits, options, sock=sock, source=source)) as server:
        server.serve_forever()


def serve(kg: KnowledgeGraph, *, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None,
          store: str | Path | None = None, processes: int = 1, **settings: Any) -> None:
    """Serve until SIGTERM or SIGINT, then refuse new requests, let those in
    flight finish, and return. ``settings`` are :class:`Options` fields."""
    limits = limits or Limits()
    options = Options(host=host, port=port, **settings)
    _configure_logging(options)
    if processes > 1:
        _serve_processes(kg, limits, options, store, processes)
        return
    with contextlib.closing(NtxServer(kg, limits, options, store=store)) as server:
        _say(f"serving {server.url} (read-only)")
        _warn_isolation(server)
        server.serve_forever()
    _say("stopped")


def _serve_processes(kg: KnowledgeGraph, limits: Limits, options: Options, store: str | Path | None,
                     processes: int) -> None:
    sock = bind(options.host, options.port)
    dump = DumpedGraph(kg, store)
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    children: list[multiprocessing.process.BaseProcess] = []

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=_child_main, args=(dump.source, limits, options, sock),
                                  name="ntx-graph-server")
        process.start()
        return process

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        for process in children:
            if process.pid is not None and process.is_alive():
                with contextlib.suppress(OSError):
                    process.terminate()
        with contextlib.suppress(OSError):
            sock.close()  # the children hold their own copies until they have drained

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        children.extend(start() for _ in range(processes))
        _say(f"serving http://{_authority(sock)}/ (read-only, {processes} processes)")
        while not stopping.is_set():
            for index, process in enumerate(children):
                process.join(0.2)
                if process.exitcode is not None and not stopping.is_set():
                    log.error("server process %s stopped (exit code %s); starting another", process.pid,
                              process.exitcode)
                    children[index] = start()
        for process in children:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in children:
            if process.is_alive():
                process.kill()
                process.join(5)
        sock.close()
        dump.close()
    _say("stopped")

