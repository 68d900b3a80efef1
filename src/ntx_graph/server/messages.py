"""Requests and responses as plain values, and the mapping of errors to HTTP
statuses. Errors are answered as one line of ``text/plain``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from ntx_graph.errors import NtxError, ParameterError, QueryNotFound, QuerySyntaxError, QueryTimeout
from ntx_graph.results import FormatError

TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSON = "application/json"


@dataclass(frozen=True)
class Request:
    """An HTTP request: method, path (without the query string), the raw query
    string, headers (names in lower case) and body."""

    method: str
    path: str
    query_string: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def args(self) -> dict[str, list[str]]:
        """The query-string parameters (each may repeat): a new dict each
        time (callers pop from it), parsed once."""
        return {name: list(values) for name, values in self._args.items()}

    @cached_property
    def _args(self) -> dict[str, list[str]]:
        return parse_form(self.query_string)

    def header(self, name: str) -> str:
        """A header's value, or ``""``."""
        return self.headers.get(name.lower(), "")

    def body_text(self, what: str) -> str:
        """The body as UTF-8 text; HttpError 400 naming ``what`` if it is not UTF-8."""
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise HttpError(400, f"the {what} is not valid UTF-8") from None

    @property
    def media_type(self) -> str:
        """The body's media type, without parameters, in lower case."""
        return self.header("content-type").split(";")[0].strip().lower()


def parse_form(text: str) -> dict[str, list[str]]:
    """``urllib.parse.parse_qs(text, keep_blank_values=True)``, faster on
    escaped text: urllib decodes each ``%XX`` in a Python loop (about 35 µs
    for the flagship query's URL, a tenth of a small query's whole cost);
    here the codec machinery decodes them, and urllib takes over for any
    text the fast path cannot read exactly as it would.

    >>> parse_form("query=ASK%20%7B%7D&a=1+2&a&=x")
    {'query': ['ASK {}'], 'a': ['1 2', ''], '': ['x']}
    """
    form: dict[str, list[str]] = {}
    for pair in text.split("&") if text else ():
        if pair:
            name, _, value = pair.partition("=")
            form.setdefault(_unquote_plus(name), []).append(_unquote_plus(value))
    return form


def _unquote_plus(text: str) -> str:
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        try:  # every backslash doubled, every "%" made "\x": unicode_escape then reads only the %XX escapes
            escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
            return escaped.decode("unicode_escape").encode("latin-1").decode("utf-8")
        except UnicodeError:  # a malformed escape, or bytes that are not UTF-8: urllib's reading
            pass
    return unquote(text)


@dataclass
class Response:
    """An HTTP response; picklable, so that worker processes can return it."""

    status: int
    body: bytes = b""
    content_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(NtxError):
    """An error with its HTTP status; ``str(error)`` is the one-line message."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


class RowLimitExceeded(NtxError):
    """A result has more rows than the endpoint returns."""


def text(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    """A one-line ``text/plain`` response."""
    line = " ".join(message.split())
    return Response(status, (line + "\n").encode(), TEXT, dict(headers or {}))


def single(args: Mapping[str, list[str]], name: str) -> str | None:
    """The one value of the query-string argument ``name`` (None if absent);
    HttpError 400 if it is given more than once."""
    values = args.get(name, [])
    if len(values) > 1:
        raise HttpError(400, f"the {name!r} parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def json_response(value: Any) -> Response:
    """``value`` as indented JSON."""
    return Response(200, (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode(), JSON)


#: The HTTP status for each kind of error.
STATUS: tuple[tuple[type[Exception], int], ...] = (
    (QuerySyntaxError, 400),
    (ParameterError, 400),
    (QueryNotFound, 404),
    (FormatError, 406),
    (RowLimitExceeded, 413),
    (QueryTimeout, 503),
)


def error_response(error: NtxError) -> Response:
    """The response for an error: its status and its message."""
    if isinstance(error, HttpError):
        return text(error.status, str(error), error.headers)
    status = next((code for kind, code in STATUS if isinstance(error, kind)), 400)
    return text(status, str(error))
