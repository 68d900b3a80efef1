"""The one HTTP client of ntx-graph, for remote SPARQL queries and Graph Store uploads.

One policy: ``http``/``https`` only; no credentials in URLs or messages; no
proxy from the environment; redirects only to the same scheme, host and port
(307/308 repeat the request, 301/302/303 only a GET or HEAD; five at most);
one deadline per exchange, enforced on the socket (each call gets the time
left, and a watchdog shuts the socket at the deadline, so a dripping server is
abandoned on time); answers read in chunks up to a byte cap; digest answered
with the standard library's RFC 2617 code; one wording of errors.

SPARQLWrapper's public API cannot give this: ``query()`` uses ``urlopen``,
whose process-wide opener takes proxies from the environment and follows
redirects anywhere; ``setHTTPAuth(DIGEST)`` installs a process-wide opener
holding the password; ``setTimeout`` keeps whole seconds per socket read,
which a dripping server never trips; ``convert()`` reads the whole body;
``setQuery`` guesses the operation with a regex that ends comments only at
``\\n`` and posts what it takes for an update as ``update=``. So the protocol
request (a form POST) is sent here.
"""

from __future__ import annotations

import base64
import http.client
import logging
import re
import socket
import ssl
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from email.message import Message

from pyoxigraph import NamedNode

from ntx_graph import __version__
from ntx_graph.errors import NtxError, reason

log = logging.getLogger(__name__)

AUTH_SCHEMES = ("basic", "digest")
USER_AGENT = f"ntx-graph/{__version__}"
#: The default cap on an answer's size: far above any answer of the bundled graph.
DEFAULT_MAX_BYTES = 256 * 1024 * 1024
MAX_REDIRECTS = 5
_CHUNK = 1 << 16
_REDIRECTS = (301, 302, 303, 307, 308)


class HttpError(NtxError):
    """A request failed; the message is one line and shows no credentials."""


class HttpTimeout(HttpError):
    """No complete answer came within the deadline."""


@dataclass(frozen=True)
class Credentials:
    """A user name and password for ``basic`` or ``digest`` authentication."""

    user: str
    password: str
    scheme: str = "basic"


@dataclass
class Response:
    """A complete answer."""

    status: int
    reason: str
    headers: Message
    body: bytes

    @property
    def media_type(self) -> str:
        """The Content-Type without parameters, in lower case."""
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def shown(url: str) -> str:
    """``url`` without its userinfo, as it may appear in a message.

    >>> shown("http://alice:S3cr3t@host:8890/sparql?x=1")
    'http://host:8890/sparql?x=1'
    """
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@", r"\1", url)


def connection_problem(url: str, graph: str | None = None, auth: str = "basic") -> str | None:
    """What is wrong with a server URL, graph IRI and authentication scheme, or None.

    >>> connection_problem("http://ann:pw@host/x")
    "the URL 'http://host/x' holds a user name or password: give them with --user and --password-env instead"
    """
    try:
        parts = urllib.parse.urlsplit(url)
        usable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a bad port or IPv6 address
        usable = False
    if not usable:
        return f"{shown(url)!r} is not an http(s) URL"
    if "@" in parts.netloc:
        return (f"the URL {shown(url)!r} holds a user name or password: give them with --user and "
                "--password-env instead")
    if graph is not None:
        try:
            NamedNode(graph)
        except ValueError as error:
            return f"the graph {graph!r} is not an absolute IRI ({error})"
    if auth not in AUTH_SCHEMES:
        return f"unknown authentication scheme {auth!r}; use basic or digest"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    return (parts.scheme, (parts.hostname or "").lower(), parts.port or {"http": 80, "https": 443}.get(parts.scheme))


@dataclass
class Client:
    """One exchange with one server: every request shares the deadline
    (``timeout`` seconds from now), the origin, the credentials and the
    digest challenge the server sent."""

    url: str
    credentials: Credentials | None = None
    timeout: float = 60.0
    max_bytes: int = DEFAULT_MAX_BYTES
    deadline: float = field(init=False)
    _challenge: dict[str, str] | None = field(default=None, init=False)
    _digest: urllib.request.HTTPDigestAuthHandler | None = field(default=None, init=False)
    _schemes: list[str] = field(default_factory=list, init=False)
    origin: tuple[str, str, int | None] = field(init=False)

    def __post_init__(self) -> None:
        problem = connection_problem(self.url, None, self.credentials.scheme if self.credentials else "basic")
        if problem:
            raise HttpError(problem)
        if not self.timeout > 0:
            raise HttpError("the timeout must be positive")
        if self.max_bytes < 1:
            raise HttpError("the answer size limit must be positive")
        self.deadline = time.monotonic() + self.timeout
        self.origin = _origin(self.url)

    def request(self, method: str, url: str | None = None, *, body: bytes | Iterable[bytes] | None = None,
                headers: Mapping[str, str] | None = None) -> Response:
        """Send a request (to ``url``, by default the client's) and return the
        answer, whatever its status; follows same-origin redirects and answers
        a digest challenge once. ``body`` must be bytes or re-iterable."""
        target = url or self.url
        if _origin(target) != self.origin:
            raise HttpError(f"{shown(target)} is not on the server {shown(self.url)}")
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        answered_challenge = False
        for _ in range(MAX_REDIRECTS + 1):
            response = self._exchange(method, target, body, {**sent, **self._authorization(method, target)})
            if response.status == 401:
                self._schemes = _challenges(response.headers)
                fresh = self._take_challenge(response.headers)
                if fresh and not answered_challenge:
                    answered_challenge = True
                    continue
                return response
            if response.status in _REDIRECTS and response.headers.get("Location"):
                target = self._redirect(method, target, response)
                continue
            return response
        raise HttpError(f"{shown(self.url)} redirects more than {MAX_REDIRECTS} times")

    def check(self, response: Response) -> Response:
        """``response`` if its status is 2xx, else HttpError: ``the server answered
        HTTP 400 Bad Request: <its message>`` (for a 401, what to do about it)."""
        if 200 <= response.status < 300:
            return response
        head = f"the server answered HTTP {response.status} {response.reason or ''}".rstrip()
        message = self._unauthorized() if response.status == 401 else self._redact(server_message(response.body))
        raise HttpError(f"{head}: {message}" if message else head)

    def _unauthorized(self) -> str:
        scheme = self._schemes[0] if self._schemes else ""
        if self.credentials is None:
            return f"the server asks for {scheme or 'some'} authentication; give --user and --password-env"
        if self.credentials.scheme == "basic":
            if not self._schemes:  # Virtuoso sends no challenge to a rejected Basic header: ask without one
                with suppress(OSError, HttpError):
                    bare = Client(self.url, None, max(0.001, self.deadline - time.monotonic()))
                    self._schemes = _challenges(bare.request("HEAD").headers)
            if "digest" in self._schemes and "basic" not in self._schemes:
                return "the server asks for digest authentication; use --auth digest"
        elif "digest" not in self._schemes:
            return f"the server asks for {scheme or 'unknown'} authentication, not digest; use --auth basic"
        return "the user name or password is wrong"

    def _redact(self, text: str) -> str:
        """``text`` (the server's) without the password, should the server echo it."""
        if self.credentials is None or not self.credentials.password:
            return text
        secret = self.credentials.password
        basic = base64.b64encode(f"{self.credentials.user}:{secret}".encode()).decode()
        return text.replace(basic, "…").replace(secret, "…")

    def _redirect(self, method: str, url: str, response: Response) -> str:
        target = urllib.parse.urljoin(url, response.headers.get("Location", ""))
        if _origin(target) != self.origin:
            raise HttpError(f"{shown(url)} redirects to another server ({shown(target)}); refused")
        if response.status not in (307, 308) and method not in ("GET", "HEAD"):
            raise HttpError(f"{shown(url)} answered HTTP {response.status} {response.reason}, redirecting the "
                            f"{method} request to {shown(target)}; give that URL instead")
        return target

    def _authorization(self, method: str, url: str) -> dict[str, str]:
        creds = self.credentials
        if creds is None:
            return {}
        if creds.scheme == "basic":
            token = base64.b64encode(f"{creds.user}:{creds.password}".encode()).decode("ascii")
            return {"Authorization": f"Basic {token}"}
        if self._challenge is None or self._digest is None:
            return {}
        challenge = {**self._challenge, "algorithm": self._challenge.get("algorithm", "MD5").upper()}
        if challenge["algorithm"] not in ("MD5", "SHA"):
            raise HttpError(f"the server's digest challenge uses the algorithm {self._challenge['algorithm']!r}, "
                            "which is not supported (MD5 and SHA are)")
        if "auth" not in (challenge.get("qop") or "auth").split(","):
            raise HttpError(f"the server's digest challenge asks for qop={challenge['qop']!r}, which is not "
                            "supported (auth is)")
        try:
            value = self._digest.get_authorization(urllib.request.Request(url, method=method), challenge)
        except UnicodeError:
            raise HttpError("digest authentication needs a user name and password in ASCII") from None
        if value is None:
            raise HttpError("the server's digest challenge lacks a realm or a nonce")
        return {"Authorization": f"Digest {value}"}

    def _take_challenge(self, headers: Message) -> bool:
        """Keep the server's digest challenge; whether it is one to answer."""
        if self.credentials is None or self.credentials.scheme != "digest":
            return False
        for value in headers.get_all("WWW-Authenticate") or []:
            scheme, _, rest = value.strip().partition(" ")
            if scheme.lower() == "digest":
                items = [item for item in urllib.request.parse_http_list(rest) if "=" in item]
                challenge = urllib.request.parse_keqv_list(items)
                if self._challenge is not None and challenge.get("stale", "").lower() != "true":
                    return False  # the answer to the same realm was refused: wrong password
                self._challenge = challenge
                if self._digest is None:
                    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
                    manager.add_password(None, self.url, self.credentials.user, self.credentials.password)
                    self._digest = urllib.request.HTTPDigestAuthHandler(manager)
                return True
        return False

    def _exchange(self, method: str, url: str, body: bytes | Iterable[bytes] | None,
                  headers: Mapping[str, str]) -> Response:
        parts = urllib.parse.urlsplit(url)
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._timeout()
        host = parts.hostname or ""
        connection = http.client.HTTPConnection(host, parts.port or self.origin[2], timeout=left)
        expired = threading.Event()
        opened: list[socket.socket] = []  # http.client drops connection.sock once a response will close

        def expire() -> None:
            expired.set()
            for sock in opened:
                with suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the raw socket, under any TLS layer

        watchdog = threading.Timer(left, expire)
        watchdog.daemon = True
        watchdog.start()
        selector = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        log.debug("%s %s (%.1f s left)", method, shown(url), left)
        try:
            connection.connect()  # TCP only: TLS is added here, so that the watchdog also ends a slow handshake
            opened.append(connection.sock)
            if parts.scheme == "https":
                connection.sock = ssl.create_default_context().wrap_socket(connection.sock, server_hostname=host)
            if expired.is_set():
                raise TimeoutError
            connection.request(method, selector, body=body, headers=dict(headers))
            answer = connection.getresponse()
            # of an error page, the start is enough for its message
            data = self._read(answer, url) if 200 <= answer.status < 300 else answer.read(_CHUNK)
            if expired.is_set():  # the watchdog ended the read: the body may be cut short
                raise self._timeout()
            return Response(answer.status, answer.reason, answer.headers, data)
        except ValueError as error:  # http.client refuses a URL or header with control characters
            raise HttpError(f"cannot send a request to {shown(url)}: {reason(error)[:200]}") from None
        except (TimeoutError, OSError, http.client.HTTPException) as error:
            if expired.is_set() or isinstance(error, TimeoutError):
                raise self._timeout() from None
            if not opened:
                raise HttpError(f"cannot reach {shown(url)}: {reason(error)[:200]}") from None
            raise HttpError(f"the connection to {shown(url)} broke: {reason(error)[:200]}") from None
        finally:
            watchdog.cancel()
            connection.close()

    def _read(self, answer: http.client.HTTPResponse, url: str) -> bytes:
        declared = (answer.getheader("Content-Length") or "").strip()
        data = bytearray()
        while len(data) <= self.max_bytes and not (declared.isdigit() and int(declared) > self.max_bytes):
            chunk = answer.read1(_CHUNK)
            if not chunk:
                if answer.length:  # read1 gives b"" at an early end instead of raising
                    raise http.client.IncompleteRead(bytes(data), answer.length)
                return bytes(data)
            data += chunk
        raise HttpError(f"the answer from {shown(url)} is larger than the limit of {self.max_bytes:,} bytes "
                        "(--max-answer-bytes)")

    def _timeout(self) -> HttpTimeout:
        return HttpTimeout(f"no complete answer from {shown(self.url)} within the time limit of {self.timeout:g} s")


def _challenges(headers: Message) -> list[str]:
    return [value.strip().split(" ", 1)[0].lower() for value in headers.get_all("WWW-Authenticate") or []
            if value.strip()]


def server_message(body: bytes, limit: int = 300) -> str:
    """The server's message in an error body, on one line and trimmed: the
    first line of plain text, or the text of an HTML page without its title
    and without a repeat of the status line.

    >>> server_message(b"<html><head><title>T</title></head><body><h1>HTTP/1.1 500 Failed</h1>"
    ...                b"<h3>Error 37000</h3><xmp>SP029: TURTLE loader, line 6</xmp></body></html>")
    'Error 37000 SP029: TURTLE loader, line 6'
    """
    text = body.decode("utf-8", "replace")
    if re.search(r"(?i)<(html|body|h1|p|pre|xmp)\b", text):
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
        blocks = (" ".join(b.split()) for b in re.sub(r"(?s)<[^>]*>", "\n", text).splitlines())
        text = " ".join(b for b in blocks if b and not re.match(r"HTTP/\d", b))
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
