"""The ASGI adapter: an ASGI 3 application over the router.

The router plans each request in the event loop's thread (parsing,
negotiation and checks cost microseconds, and nothing there waits); a task
for a query worker is awaited from the worker pool in the same loop, with no
thread in between. The adapter holds the policies that need the connection:
the body limit (chunked bodies too), the Host check against DNS rebinding,
admission (a bounded number of requests waiting for workers), refusal while
draining, the answer cache (looked up before the router runs), the security
headers and the access log.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from ntx_graph.server.cache import ResponseCache
from ntx_graph.server.messages import Request, Response, text
from ntx_graph.server.router import SECURITY_HEADERS, Router
from ntx_graph.server.tasks import Deferred

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

access_log = logging.getLogger("ntx_graph.server.access")
#: The most of an oversized body read (and discarded) so that the client sees the 413.
DRAIN_LIMIT = 8 * 1024 * 1024
#: The headers that tell of a request body.
_BODY_HEADERS = frozenset(("content-length", "transfer-encoding"))


@functools.lru_cache(maxsize=256)
def _encoded(headers: tuple[tuple[str, str], ...]) -> tuple[tuple[bytes, bytes], ...]:
    """A response's own headers over the security headers, encoded (the same few sets recur)."""
    merged = {**SECURITY_HEADERS, **dict(headers)}
    return tuple((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in merged.items())


#: Encoded once: the headers of a response that has none of its own.
_SECURITY = _encoded(())


def is_loopback(host: str) -> bool:
    """True for a loopback address or name (``localhost``, ``*.localhost``)."""
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_name(value: str) -> str:
    """The name in a Host header, without the port: ``[::1]:80`` -> ``[::1]``."""
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rpartition(":")[0] if value.count(":") == 1 else value


class HostPolicy:
    """Which Host headers are accepted. Bound to a loopback address, only
    loopback names and the ``allowed`` ones (a web page on another name that
    resolves to 127.0.0.1 must not read the endpoint: DNS rebinding); bound
    elsewhere, any Host unless ``allowed`` is given. ``*`` allows all."""

    def __init__(self, bound: str, allowed: Iterable[str] = ()) -> None:
        self.allowed = {a.lower() for a in allowed}
        self.check = "*" not in self.allowed and (is_loopback(bound) or bool(self.allowed))
        self.loopback_ok = is_loopback(bound)
        self._seen: dict[str, bool] = {}

    def accepts(self, host: str) -> bool:
        """True if a request with this Host header may be answered."""
        if not self.check or not host:
            return True
        known = self._seen.get(host)
        if known is None:
            name = host_name(host.strip().lower())
            known = name in self.allowed or (self.loopback_ok and is_loopback(name))
            if len(self._seen) < 256:  # the few names clients use, each read once
                self._seen[host] = known
        return known


class App:
    """The ASGI application."""

    def __init__(self, router: Router, *, hosts: HostPolicy | None = None, max_in_flight: int = 64,
                 log_queries: bool = False, cache: ResponseCache | None = None) -> None:
        self.router = router
        self.cache = cache
        self.hosts = hosts or HostPolicy("0.0.0.0")
        self.max_request_bytes = router.limits.max_request_bytes
        self.max_in_flight = max_in_flight
        self.log_queries = log_queries
        self.in_flight = 0
        self.draining = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        response = await self._respond(scope, receive)
        size = await self._send(scope, response, send)
        if access_log.isEnabledFor(logging.INFO):
            self._log(scope, response.status, size, time.perf_counter() - started)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                attach = getattr(self.router.executor, "attach", None)
                if attach is not None:  # the worker pool schedules in this loop
                    await attach()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            if name in headers:
                if name in ("host", "content-length", "content-type"):
                    return text(400, f"the {name} header is given twice")
                value = f"{headers[name]}, {value}"
            headers[name] = value
        if "host" not in headers and scope.get("http_version") == "1.1":
            return text(400, "an HTTP/1.1 request needs a Host header", {"Connection": "close"})
        if self.draining:
            return text(503, "the server is shutting down; try again shortly",
                        {"Retry-After": "5", "Connection": "close"})
        if not self.hosts.accepts(headers.get("host", "")):
            return text(403, f"Host {headers['host'][:100]!r} is not allowed: this server answers only to "
                             "loopback names; start it with --allowed-host NAME to answer to another")
        body = b"" if _BODY_HEADERS.isdisjoint(headers) else await self._read_body(headers, receive)
        if isinstance(body, Response):
            return body
        raw_path = scope.get("raw_path") or scope["path"].encode()
        request = Request(scope["method"], raw_path.decode("latin-1"), scope["query_string"].decode("latin-1"),
                          headers, body)
        cache = self.cache
        key = cache.key(request) if cache is not None else ()
        if cache is not None and (cached := cache.get(key)) is not None:
            return cached
        outcome = self.router.plan(request)
        if isinstance(outcome, Deferred):
            if self.in_flight >= self.max_in_flight:
                return text(503, f"the server has {self.in_flight} requests in flight, its limit; try again "
                                 "shortly", {"Retry-After": "1"})
            client = scope.get("client")
            self.in_flight += 1
            result: Response | Exception
            try:
                result = await self.router.executor.submit(outcome.task, client[0] if client else "")
            except Exception as error:
                result = error
            finally:
                self.in_flight -= 1
            outcome = self.router.complete(request, outcome, result)
        if cache is not None:
            cache.put(key, outcome)
        return outcome

    async def _read_body(self, headers: dict[str, str], receive: Receive) -> bytes | Response:
        limit = self.max_request_bytes
        declared = headers.get("content-length")
        chunks: list[bytes] = []
        size = 0
        too_big = declared is not None and declared.isdigit() and int(declared) > limit
        while not too_big or size < DRAIN_LIMIT:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                too_big = True
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        if too_big:
            shown = f"({declared} bytes) " if declared is not None and declared.isdigit() else ""
            return text(413, f"the request body {shown}is larger than the limit of {limit} bytes",
                        {"Connection": "close"})
        return b"".join(chunks)

    async def _send(self, scope: Scope, response: Response, send: Send) -> int:
        head = [(b"content-type", response.content_type.encode("latin-1")),
                (b"content-length", str(len(response.body)).encode("latin-1"))]
        # the router's own headers win over the defaults
        head += _encoded(tuple(response.headers.items())) if response.headers else _SECURITY
        await send({"type": "http.response.start", "status": response.status, "headers": head})
        body = b"" if scope["method"] == "HEAD" or response.status in (204, 304) else response.body
        await send({"type": "http.response.body", "body": body})
        return len(body)

    def _log(self, scope: Scope, status: int, size: int, seconds: float) -> None:
        client = scope.get("client")
        path = scope["path"]
        if self.log_queries and scope["query_string"]:
            path += "?" + scope["query_string"].decode("latin-1")
        access_log.info('%s "%s %s" %d %d %.1fms', client[0] if client else "-", scope["method"], path, status,
                        size, seconds * 1000)
