"""The router: a function from a Request to a Response. It holds no socket
and no process; the work that reads the store goes to an Executor."""

from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path
from urllib.parse import unquote

from ntx_graph.catalog import SavedQuery
from ntx_graph.errors import NtxError, ParameterError
from ntx_graph.params import bind
from ntx_graph.server.catalog_view import listing
from ntx_graph.server.checked import checked_query
from ntx_graph.server.guard import Refused, check_dataset
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import HTML, HttpError, Request, Response, error_response, json_response, text
from ntx_graph.server.negotiation import SUFFIXES, NotAcceptable, choose, content_type, negotiate
from ntx_graph.server.openapi import openapi
from ntx_graph.server.pages import queries_html
from ntx_graph.server.service import service_description
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.sparql import read_protocol
from ntx_graph.server.tasks import QueryJob, entity_page, run_query
from ntx_graph.server.workers import Executor

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".html": HTML, ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml"}
#: Headers on every response.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Access-Control-Allow-Origin": "*",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type",
    "Access-Control-Max-Age": "600",
}
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


_log = logging.getLogger(__name__)

class Router:
    """Answers requests for the endpoint, the saved queries and the pages."""

    def __init__(self, snapshot: Snapshot, limits: Limits, executor: Executor, *,
                 host: str = "127.0.0.1") -> None:
        self.snapshot = snapshot
        self.limits = limits
        self.executor = executor
        self.host = host
        self.static = {p.name: p.read_bytes() for p in STATIC_DIR.iterdir() if p.suffix in STATIC_TYPES}

    def __call__(self, request: Request) -> Response:
        """The response to ``request``; never raises."""
        try:
            response = self.dispatch(request)
        except NotAcceptable as error:
            response = text(406, str(error))
        except Refused as error:
            response = text(400, str(error))
        except NtxError as error:
            response = error_response(error)
        except Exception:  # the traceback to the server's log, never to the client
            _log.exception("internal error answering %s %s", request.method, request.path)
            response = text(500, "internal error")
        response.headers = {**SECURITY_HEADERS, "Vary": "Accept", **response.headers}
        return response

    def dispatch(self, request: Request) -> Response:
        """Route by path and method (errors raised)."""
        path = request.path
        if request.method == "OPTIONS":
            return Response(204, b"", "text/plain", dict(PREFLIGHT_HEADERS))
        allowed = ("GET", "HEAD", "POST") if path == "/sparql" else ("GET", "HEAD")
        if request.method not in allowed:
            raise HttpError(405, f"{request.method} is not allowed on {path}; use {', '.join(allowed)}",
                            {"Allow": ", ".join((*allowed, "OPTIONS"))})
        if len(request.query_string) > self.limits.max_request_bytes:
            raise HttpError(414, f"the query string is longer than the limit of {self.limits.max_request_bytes} "
                                 "bytes; POST the query instead")
        if len(request.body) > self.limits.max_request_bytes:
            raise HttpError(413, f"the request body is larger than the limit of {self.limits.max_request_bytes} bytes")
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path.startswith("/static/"):
            return self._static(path[len("/static/"):])
        if path == "/health":
            return text(200, "ok")
        if path == "/sparql":
            return self.sparql(request)
        if path == "/queries":
            return self.catalog(request)
        if path.startswith("/queries/"):
            return self.saved(request, unquote(path[len("/queries/"):]))
        if path == "/openapi.json":
            return json_response(openapi(self.snapshot))
        if path == "/prefixes":
            return json_response(self.snapshot.prefixes)
        if path == "/entity":
            iri = _one(request.args, "iri")
            return self.executor.run((entity_page, (iri or "",)))
        raise HttpError(404, f"nothing at {path}; the page is at /, the endpoint at /sparql, "
                             "the API at /openapi.json")

    def _static(self, name: str) -> Response:
        if name not in self.static:
            raise HttpError(404, f"no static file {name!r}")
        return Response(200, self.static[name], STATIC_TYPES[Path(name).suffix], {"Cache-Control": "no-cache"})

    # -- the SPARQL endpoint ---------------------------------------------

    def endpoint_url(self, request: Request) -> str:
        """The endpoint's absolute URL, from the Host header when it is sane."""
        host = request.header("host")
        return f"http://{host if _HOST.match(host) else self.host}/sparql"

    def sparql(self, request: Request) -> Response:
        """The SPARQL 1.1 Protocol query operation, or the service description."""
        proto = read_protocol(request)
        accept = request.header("accept")
        if proto.query is None:
            if request.method == "POST":
                raise HttpError(400, "no query given: send query=... or a body of type application/sparql-query")
            fmt = negotiate("DESCRIBE", accept, proto.formats)
            body = service_description(self.endpoint_url(request), self.snapshot.triples, self.limits, fmt)
            return Response(200, body, content_type(fmt))
        check_dataset(proto.default_graphs, proto.named_graphs, self.snapshot.graphs)
        job = QueryJob("", self.limits.max_rows, sparql=proto.query, default_graphs=proto.default_graphs,
                       named_graphs=proto.named_graphs, graphs=self.snapshot.graphs)
        # the text is analysed in the worker, within the time limit and the client's share of workers
        return self.executor.run((checked_query, (job, accept, proto.formats)))

    # -- saved queries ---------------------------------------------------

    def catalog(self, request: Request) -> Response:
        """The saved queries: JSON, or HTML for clients that prefer it."""
        items = listing(self.snapshot)
        kind = choose(request.header("accept"), (("application/json", "json"), ("text/html", "html")))
        if kind == "html":
            return Response(200, queries_html(items).encode(), HTML)
        return json_response(items)

    def _find(self, segment: str) -> tuple[SavedQuery, str | None]:
        queries = self.snapshot.queries
        if segment in queries:
            return queries[segment], None
        stem, dot, suffix = segment.rpartition(".")
        if dot and stem in queries and suffix in (*SUFFIXES, "rq"):
            return queries[stem], suffix
        close = difflib.get_close_matches(stem or segment, list(queries), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; GET /queries lists them"
        raise HttpError(404, f"no saved query named {segment!r}{hint}")

    def saved(self, request: Request, segment: str) -> Response:
        """Run a saved query with parameters from the query string."""
        saved, suffix = self._find(segment)
        if suffix == "rq":
            return Response(200, saved.text.encode(), "application/sparql-query; charset=utf-8")
        args = request.args
        requested: list[str] = [suffix] if suffix else []
        if "format" in args and saved.parameter("format") is None:
            requested += args.pop("format")
        base = args.pop("base", [None])[-1] if saved.parameter("base") is None else None
        params = {name: _one(args, name) or "" for name in args}
        check_parameters(saved, params, self.snapshot.prefixes)
        fmt = negotiate(saved.form, request.header("accept"), requested)
        job = QueryJob(fmt, self.limits.max_rows, saved=saved.name, params=params, graphs=self.snapshot.graphs,
                       base=base)
        return self.executor.run((run_query, (job,)))


def check_parameters(saved: SavedQuery, params: dict[str, str], prefixes: dict[str, str]) -> None:
    """Raise ParameterError for an unknown, missing or ill-typed parameter
    (instance-of-class checks happen in the worker, on the store)."""
    for param in saved.parameters:
        if param.required and param.name not in params:
            raise ParameterError(f"query {saved.name!r} needs parameter {param.name!r} ({param.type}): "
                                 f"add ?{param.name}=VALUE to the URL")
    bind(saved, params, prefixes)


def _one(args: dict[str, list[str]], name: str) -> str | None:
    values = args.get(name, [])
    if len(values) > 1:
        raise HttpError(400, f"the {name!r} parameter is given {len(values)} times; give it once")
    return values[0] if values else None
