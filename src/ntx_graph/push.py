"""Upload triples to a triplestore with the SPARQL 1.1 Graph Store HTTP Protocol.

``PUT {endpoint}?graph=IRI`` replaces the named graph, ``POST`` adds to it.
The body is N-Triples sent as ``text/turtle; charset=utf-8``: N-Triples is a
subset of Turtle, and ``text/turtle`` is the one RDF media type every Graph
Store implementation accepts (Oxigraph's ``/store``, Virtuoso 7's
``/sparql-graph-crud-auth``, Fuseki, GraphDB); older Virtuoso 7 builds reject
``application/n-triples``.

The body is streamed in chunks, with an optional progress line on stderr.
Before sending it, an empty ``HEAD`` request checks the credentials, and for
digest authentication fetches the challenge, so the body is sent once and a
wrong password is reported instead of a reset connection (Virtuoso closes the
connection on a 401 while a large body is still being sent). Only the stdlib
is used; no proxy from the environment, no redirect.
"""

from __future__ import annotations

import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from ntx_graph import __version__
from ntx_graph.connection import connection_problem
from ntx_graph.errors import NtxError

CONTENT_TYPE = "text/turtle; charset=utf-8"
_Authorize = Callable[[urllib.request.Request], str]
CHUNK_SIZE = 1 << 16


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
               timeout: float = 300.0, chunk_size: int = CHUNK_SIZE, stream: IO[str] | None = None) -> PushResult:
    """Send N-Triples ``data`` to the named graph ``graph`` of the Graph Store
    at ``endpoint``: PUT (``replace``) or POST. ``auth`` is ``basic`` or
    ``digest``; a progress line goes to ``stream`` (stderr) when ``progress``.
    Raises PushError (``push failed: HTTP 401 Unauthorized: ...``)."""
    problem = connection_problem(endpoint, graph, auth)
    if problem:
        raise PushError(f"push failed: {problem}")
    parts = urllib.parse.urlsplit(endpoint)
    if (user is None) != (password is None):
        raise PushError("push failed: give both a user name and a password, or neither")
    url = endpoint + ("&" if parts.query else "?") + urllib.parse.urlencode({"graph": graph})
    method = "PUT" if replace else "POST"
    started = time.monotonic()
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({}), _NoRedirects()]
    if user is not None and password is not None and auth == "basic":  # sent up front
        manager = urllib.request.HTTPPasswordMgrWithPriorAuth()
        manager.add_password(None, endpoint, user, password, is_authenticated=True)
        handlers.append(_BasicAuth(manager))
    opener = urllib.request.build_opener(*handlers)
    headers = {"User-Agent": f"ntx-graph/{__version__}"}
    authorize = _preflight(opener, url, headers, user, password, auth, timeout)
    body = _Body(data, chunk_size, (stream or sys.stderr) if progress else None)
    request = urllib.request.Request(url, data=body, method=method, headers={
        **headers, "Content-Type": CONTENT_TYPE, "Content-Length": str(len(data))})
    if authorize is not None:
        request.add_header("Authorization", authorize(request))
    try:
        status = _send(opener, request, timeout, endpoint)
    finally:
        body.finish()
    return PushResult(graph=graph, triples=count_triples(data), bytes=len(data), status=status,
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


def _preflight(opener: urllib.request.OpenerDirector, url: str, headers: dict[str, str],
               user: str | None, password: str | None, auth: str, timeout: float) -> _Authorize | None:
    """HEAD the graph's URL: None when the server asks for nothing more, else a
    function giving the digest Authorization header for a request. Raises
    PushError when the server refuses the credentials or wants others."""
    try:
        challenge = _head(opener, urllib.request.Request(url, method="HEAD", headers=headers), timeout)
    except urllib.error.HTTPError as error:
        raise PushError(f"push failed: {_http_error(error)}") from None
    if challenge is None:
        return None
    scheme = challenge.split(None, 1)[0].lower() if challenge.strip() else ""
    if user is None or password is None:
        raise PushError(f"push failed: HTTP 401 Unauthorized: the server asks for {scheme or 'some'} "
                        "authentication; give --user and --password-env")
    if auth == "basic":
        if not scheme:  # Virtuoso sends no challenge to a rejected Basic header: ask without one
            bare = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects())
            again = _head(bare, urllib.request.Request(url, method="HEAD", headers=headers), timeout)
            scheme = again.split(None, 1)[0].lower() if again and again.strip() else ""
        if scheme == "digest":
            raise PushError("push failed: HTTP 401 Unauthorized: the server asks for digest authentication; "
                            "use --auth digest")
        raise PushError("push failed: HTTP 401 Unauthorized: the user name or password is wrong")
    if scheme != "digest":
        raise PushError(f"push failed: HTTP 401 Unauthorized: the server asks for {scheme or 'unknown'} "
                        "authentication, not digest; use --auth basic")
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, user, password)
    digest = urllib.request.HTTPDigestAuthHandler(manager)
    params = _challenge_params(challenge)

    def authorize(request: urllib.request.Request) -> str:
        value = digest.get_authorization(request, params)
        if value is None:
            raise PushError("push failed: the server's digest challenge is not supported")
        return f"Digest {value}"

    check = urllib.request.Request(url, method="HEAD", headers=headers)
    check.add_header("Authorization", authorize(check))
    try:
        again = _head(opener, check, timeout)
    except urllib.error.HTTPError as error:
        raise PushError(f"push failed: {_http_error(error)}") from None
    if again is not None:
        raise PushError("push failed: HTTP 401 Unauthorized: the user name or password is wrong")
    return authorize


def _head(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float) -> str | None:
    """The WWW-Authenticate challenge of a 401 answer, else None. Errors that
    say nothing about authentication (404, 405, 501, ...) pass; 403 raises."""
    try:
        with opener.open(request, timeout=timeout):
            return None
    except urllib.error.HTTPError as error:
        if error.code == 401:
            error.read()
            return str(error.headers.get("WWW-Authenticate") or "")
        if error.code in (403, 407):
            raise
        return None
    except urllib.error.URLError as error:
        raise PushError(f"push failed: cannot reach {request.full_url.split('?')[0]}: "
                        f"{_reason(error.reason)}") from None
    except OSError as error:
        raise PushError(f"push failed: cannot reach {request.full_url.split('?')[0]}: {_reason(error)}") from None


def _challenge_params(challenge: str) -> dict[str, str]:
    rest = challenge.split(None, 1)[1] if " " in challenge.strip() else ""
    items = urllib.request.parse_http_list(rest)
    return urllib.request.parse_keqv_list([item for item in items if "=" in item])


def _send(opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float,
          endpoint: str) -> int:
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            status: int = response.status
    except urllib.error.HTTPError as error:
        raise PushError(f"push failed: {_http_error(error)}") from None
    except urllib.error.URLError as error:
        if isinstance(error.reason, TimeoutError):
            raise PushError(f"push failed: no answer from {endpoint} within {timeout:g} s") from None
        raise PushError(f"push failed: cannot reach {endpoint}: {_reason(error.reason)}") from None
    except TimeoutError:
        raise PushError(f"push failed: no answer from {endpoint} within {timeout:g} s") from None
    except OSError as error:
        raise PushError(f"push failed: the connection to {endpoint} broke: {_reason(error)}") from None
    if not 200 <= status < 300:
        raise PushError(f"push failed: HTTP {status}: unexpected answer")
    return status


class _BasicAuth(urllib.request.HTTPBasicAuthHandler):
    """Basic credentials sent with every request; a 401 goes back to the
    caller (the stdlib handler would retry, or fail on a Digest challenge)."""

    def http_error_401(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                       headers: Any) -> None:
        return None


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        raise PushError(f"push failed: HTTP {code} {msg}: the server redirects to {newurl}; "
                        "give that URL as --endpoint")


def _http_error(error: urllib.error.HTTPError) -> str:
    from ntx_graph.remote import http_error_text

    return http_error_text(error)


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _size(count: int) -> str:
    """A byte count for people: 532 B, 48.1 kB, 3.2 MB."""
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"
