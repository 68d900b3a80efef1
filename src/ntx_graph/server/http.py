"""The HTTP glue: a ThreadingHTTPServer whose handler turns each request into
a Request for the router and writes back its Response."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from ntx_graph import __version__
from ntx_graph.errors import NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import Request, Response, text
from ntx_graph.server.router import SECURITY_HEADERS, Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import WorkerPool

#: The most of an oversized body read (and discarded) so the client sees the 413.
_DRAIN_LIMIT = 8 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    """Hands each request to the server's router."""

    server: NtxServer
    server_version = f"ntx-graph/{__version__}"
    protocol_version = "HTTP/1.0"  # one request per connection: shutdown never waits on idle keep-alives
    timeout = 30  # seconds a client may stay silent

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_OPTIONS(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def setup(self) -> None:
        """Register the connection as idle until its request line arrives."""
        super().setup()
        self.server.track(self.connection, idle=True)

    def parse_request(self) -> bool:
        """Mark the connection busy: a request has started."""
        self.server.track(self.connection, idle=False)
        return super().parse_request()

    def finish(self) -> None:
        """Forget the connection."""
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def _handle(self) -> None:
        limit = self.server.limits.max_request_bytes
        path, _, query_string = self.path.partition("?")
        if len(self.path) > limit:
            self._send(text(414, f"the URL is longer than the limit of {limit} bytes; POST the query instead"))
            return
        body = self._read_body(limit)
        if body is None:
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        request = Request(self.command, path, query_string, headers, body)
        self._send(self.server.router(request))

    def _read_body(self, limit: int) -> bytes | None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            self._send(text(411, "chunked bodies are not accepted; send a Content-Length"))
            return None
        raw = self.headers.get("Content-Length")
        if raw is None:
            return b""
        try:
            length = int(raw)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            self._send(text(400, f"bad Content-Length {raw!r}"))
            return None
        if length > limit:
            self.close_connection = True
            remaining = min(length, _DRAIN_LIMIT)
            with contextlib.suppress(OSError):
                while remaining > 0:
                    chunk = self.rfile.read(min(remaining, 65536))
                    if not chunk:
                        break
                    remaining -= len(chunk)
            self._send(text(413, f"the request body ({length} bytes) is larger than the limit of {limit} bytes"))
            return None
        return self.rfile.read(length)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in {**SECURITY_HEADERS, **response.headers}.items():  # also on the glue's own errors
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304):
            with contextlib.suppress(OSError):
                self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            super().log_message(format, *args)


class NtxServer(ThreadingHTTPServer):
    """The HTTP server: one thread per connection, queries in a worker pool.

    ``shutdown()`` stops accepting, waits for the requests in flight, then
    stops the workers and closes the socket.
    """

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(self, kg: KnowledgeGraph, host: str, port: int, limits: Limits, *,
                 access_log: bool = False) -> None:
        snapshot = Snapshot.of(kg)  # before any worker is forked or request served
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, port), Handler)
        self.limits = limits
        self.access_log = access_log
        self.pool = WorkerPool(kg, limits.workers, limits.timeout)
        address, port = str(self.server_address[0]), int(self.server_address[1])
        bound = f"[{address}]" if ":" in address else address
        self.url = f"http://{bound}:{port}/"
        self.router = Router(snapshot, limits, self.pool, host=f"{bound}:{port}")
        self._serving = threading.Event()
        self._closed = False
        self._connections: dict[socket.socket, bool] = {}  # connection -> idle
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, idle: bool) -> None:
        """Note whether a connection is idle (no request yet) or busy."""
        with self._connections_lock:
            self._connections[connection] = idle

    def untrack(self, connection: socket.socket) -> None:
        """Forget a finished connection."""
        with self._connections_lock:
            self._connections.pop(connection, None)

    def _drop_idle_connections(self) -> None:
        with self._connections_lock:
            idle = [c for c, is_idle in self._connections.items() if is_idle]
        for connection in idle:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until shutdown() is called."""
        self._serving.set()
        super().serve_forever(poll_interval)

    def stop_accepting(self) -> None:
        """End serve_forever's loop (from another thread)."""
        if self._serving.is_set():
            super().shutdown()

    def shutdown(self) -> None:
        """Stop accepting, finish in-flight requests, stop the workers."""
        self.stop_accepting()
        self.server_close()

    def server_close(self) -> None:
        """Close the socket, drop connections that sent no request, wait for
        the requests in flight, stop the workers."""
        if self._closed:
            return
        self._closed = True
        self._drop_idle_connections()
        super().server_close()
        self.pool.close()


def make_server(kg: KnowledgeGraph, host: str = "127.0.0.1", port: int = 0, limits: Limits | None = None, *,
                access_log: bool = False) -> NtxServer:
    """A ready server (bound, workers started) that is not serving yet: call
    ``serve_forever()`` (e.g. in a thread) and later ``shutdown()``."""
    return NtxServer(kg, host, port, limits or Limits(), access_log=access_log)


def serve(kg: KnowledgeGraph, *, host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then stop accepting, let the requests in
    flight finish, and return."""
    try:
        server = make_server(kg, host, port, limits, access_log=True)
    except OSError as error:
        raise NtxError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.stop_accepting, name="ntx-graph-stop", daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    sys.stderr.write(f"ntx-graph: serving {server.url} (read-only)\n")
    sys.stderr.flush()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    sys.stderr.write("ntx-graph: stopped\n")
