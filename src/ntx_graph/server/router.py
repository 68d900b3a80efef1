"""The router: a function from a Request to a Response. It holds no socket
and no process; the work that reads the store goes to an Executor.

:meth:`Router.plan` is the router without waiting: a Response, or a
:class:`~ntx_graph.server.tasks.Deferred` task for a query worker, which
the HTTP layer awaits and hands to :meth:`Router.complete`. Calling the
router does both, waiting for the executor."""

from __future__ import annotations

import difflib
import logging
import re
from pathlib import Path
from urllib.parse import unquote

from ntx_graph import formats
from ntx_graph.catalog import SavedQuery
from ntx_graph.errors import NtxError, ParameterError
from ntx_graph.params import bind, bind_values
from ntx_graph.server import pages
from ntx_graph.server.catalog_view import describe_query
from ntx_graph.server.checked import checked_query
from ntx_graph.server.entity import entity_answer
from ntx_graph.server.guard import check_dataset
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import HTML, HttpError, Request, Response, error_response, json_response, single, text
from ntx_graph.server.negotiation import GRAPH_OFFERS, RESULT_OFFERS, SUFFIXES, choose, content_type, negotiate
from ntx_graph.server.openapi import openapi
from ntx_graph.server.paging import Page, paged, paged_query, read_page
from ntx_graph.server.reader import source_page, sources_page
from ntx_graph.server.service import service_description, service_html
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.sparql import read_protocol
from ntx_graph.server.tasks import Deferred, QueryJob, bound_text, run_query
from ntx_graph.server.workers import Executor

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_TYPES = {".html": HTML, ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png"}
#: What a person's browser is offered besides data: the page.
PAGE_OFFERS = (("text/html", "html"), ("application/xhtml+xml", "html"))
JSON_OFFERS = (("application/json", "json"),)
#: The suffixes of /entity.SUFFIX, with the format each names.
ENTITY_SUFFIXES = {**{f.suffix: f.name for f in formats.serving(formats.GRAPH, http=True)}, "html": "html"}
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
        """The response to ``request``, waiting for the executor; never raises."""
        outcome = self.plan(request)
        if not isinstance(outcome, Deferred):
            return outcome
        result: Response | Exception
        try:
            result = self.executor.run(outcome.task)
        except Exception as error:
            result = error
        return self.complete(request, outcome, result)

    def plan(self, request: Request) -> Response | Deferred:
        """The response to ``request``, or the task that makes it; never raises."""
        try:
            outcome = self.dispatch(request)
        except Exception as error:
            return self.finish(request, error)
        return outcome if isinstance(outcome, Deferred) else self.finish(request, outcome)

    def complete(self, request: Request, deferred: Deferred, result: Response | Exception) -> Response:
        """The response to ``request`` once its deferred task gave ``result``."""
        if deferred.then is not None:
            try:
                result = deferred.then(result)
            except Exception as error:
                result = error
        return self.finish(request, result)

    def finish(self, request: Request, outcome: Response | Exception) -> Response:
        """``outcome`` (an error becomes its response) with the headers every response carries."""
        if isinstance(outcome, NtxError):  # NotAcceptable 406, Refused 400, and the others by their kind
            response = error_response(outcome)
        elif isinstance(outcome, Exception):  # the traceback to the server's log, never to the client
            _log.error("internal error answering %s %s", request.method, request.path, exc_info=outcome)
            response = text(500, "internal error")
        else:
            response = outcome
        response.headers = {**SECURITY_HEADERS, "Vary": "Accept", **response.headers}
        return response

    def dispatch(self, request: Request) -> Response | Deferred:
        """Route by path and method (errors raised)."""
        path = request.path
        if request.method == "OPTIONS":
            return Response(204, b"", "text/plain", dict(PREFLIGHT_HEADERS))
        binds = path.startswith("/queries/") and path.endswith(".rq")  # POST: bind the saved parameters into a text
        allowed = ("GET", "HEAD", "POST") if path == "/sparql" or binds else ("GET", "HEAD")
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
        if path in ("/queries", "/queries.json", "/queries.html"):
            return self.catalog(request, path.rpartition(".")[2] if "." in path else None)
        if path.startswith("/queries/"):
            return self.saved(request, unquote(path[len("/queries/"):]))
        if path == "/openapi.json":
            if _prefers_page(request, JSON_OFFERS):
                return Response(303, b"", HTML, {"Location": "/api"})
            return json_response(openapi(self.snapshot))
        if path == "/api":
            return Response(200, pages.api_html().encode(), HTML)
        if path.startswith("/vendor/swagger-ui/"):
            name = path[len("/vendor/swagger-ui/"):]
            return Response(200, pages.swagger_file(name), STATIC_TYPES[Path(name).suffix],
                            {"Cache-Control": "max-age=86400"})
        if path == "/prefixes":
            return json_response(self.snapshot.prefixes)
        if path == "/formats":
            return json_response(formats.catalogue())
        if path in ("/source", "/source/"):
            return Deferred((sources_page, ()))
        if path.startswith("/source/"):
            return Deferred((source_page, (unquote(path[len("/source/"):]),)))
        if path == "/entity" or path.startswith("/entity."):
            return self.entity(request, path.partition(".")[2])
        raise HttpError(404, f"nothing at {path}; the page is at /, the endpoint at /sparql, "
                             "the API at /openapi.json")

    def entity(self, request: Request, suffix: str) -> Deferred:
        """The entity page, or its triples as RDF by Accept, suffix or ``format``."""
        args = request.args
        iri = single(args, "iri") or ""
        if suffix:
            if suffix not in ENTITY_SUFFIXES:
                raise HttpError(404, f"no format {suffix!r} for an entity; use one of {', '.join(ENTITY_SUFFIXES)}")
            fmt = ENTITY_SUFFIXES[suffix]
        elif "format" in args:
            requested = args["format"]
            fmt = "html" if requested == ["html"] else negotiate("DESCRIBE", "", requested)
        else:
            fmt = choose(request.header("accept"), (*PAGE_OFFERS, *GRAPH_OFFERS)) or negotiate(
                "DESCRIBE", request.header("accept"))
        return Deferred((entity_answer, (iri, fmt)))

    def _static(self, name: str) -> Response:
        if name not in self.static:
            raise HttpError(404, f"no static file {name!r}")
        return Response(200, self.static[name], STATIC_TYPES[Path(name).suffix], {"Cache-Control": "no-cache"})

    # -- the SPARQL endpoint ---------------------------------------------

    def sparql(self, request: Request) -> Response | Deferred:
        """The SPARQL 1.1 Protocol query operation, or the service description."""
        proto = read_protocol(request)
        accept = request.header("accept")
        if proto.query is None:
            if request.method == "POST":
                raise HttpError(400, "no query given: send query=... or a body of type application/sparql-query")
            host = request.header("host")  # the endpoint's absolute URL, from the Host header when it is sane
            endpoint = f"http://{host if _HOST.match(host) else self.host}/sparql"
            if proto.formats == ("html",) or (not proto.formats and _prefers_page(request, GRAPH_OFFERS)):
                return Response(200, service_html(endpoint, self.snapshot.triples, self.limits).encode(), HTML)
            fmt = negotiate("DESCRIBE", accept, proto.formats)
            body = service_description(endpoint, self.snapshot.triples, self.limits, fmt)
            return Response(200, body, content_type(fmt))
        check_dataset(proto.default_graphs, proto.named_graphs, self.snapshot.graphs)
        page = read_page(request.args)
        job = QueryJob("", self.limits.max_rows, sparql=proto.query, default_graphs=proto.default_graphs,
                       named_graphs=proto.named_graphs, graphs=self.snapshot.graphs,
                       allow_federation=self.limits.allow_federation)
        # the text is analysed in the worker, within the time limit and the client's share of workers
        return Deferred((checked_query, (job, accept, proto.formats, page)))

    def _run(self, job: QueryJob, page: Page | None) -> Deferred:
        page = paged(job.fmt, page)  # a format that cannot be paged is refused here, before any work
        return Deferred((run_query, (job,)) if page is None else (paged_query, (job, page)))

    # -- saved queries ---------------------------------------------------

    def catalog(self, request: Request, suffix: str | None) -> Response:
        """The saved queries: JSON, or HTML for clients that prefer it."""
        items = [describe_query(q, self.snapshot) for q in self.snapshot.queries.values()]
        if suffix == "html" or (not suffix and _prefers_page(request, JSON_OFFERS)):
            return Response(200, pages.queries_html(items).encode(), HTML)
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

    def saved(self, request: Request, segment: str) -> Response | Deferred:
        """Run a saved query with parameters from the query string; its page
        (with the parameter form) for browsers; its text (bound, if
        parameters are given) for ``.rq``."""
        saved, suffix = self._find(segment)
        args = request.args
        if suffix == "rq":
            params = {name: single(args, name) or "" for name in args}
            body = saved.text
            if request.method == "POST":  # an edited text keeps the saved query's parameters, bound by a worker
                if request.media_type != "application/sparql-query":
                    raise HttpError(415, "POST the text to bind as application/sparql-query")
                return Deferred((bound_text, (saved.name, request.body_text("text"), params)))
            if params:  # as a VALUES block: plain SPARQL that any endpoint runs
                body = bind_values(body, bind(saved, params, self.snapshot.prefixes))
            return Response(200, body.encode(), "application/sparql-query; charset=utf-8")
        page = read_page(args)
        requested: list[str] = [suffix] if suffix else []
        if "format" in args and saved.parameter("format") is None:
            requested += args.pop("format")
        wants_page = not requested and _prefers_page(request, (*RESULT_OFFERS, *GRAPH_OFFERS))
        run = args.pop("_run", None) is not None or not wants_page
        base = args.pop("base", [None])[-1] if saved.parameter("base") is None else None
        params = {name: single(args, name) or "" for name in args}
        if wants_page:
            return self.saved_page(saved, params, run)
        check_parameters(saved, params, self.snapshot.prefixes)
        fmt = negotiate(saved.form, request.header("accept"), requested)
        job = QueryJob(fmt, self.limits.max_rows, saved=saved.name, params=params, graphs=self.snapshot.graphs,
                       base=base)
        return self._run(job, page)

    def saved_page(self, saved: SavedQuery, params: dict[str, str], run: bool) -> Response | Deferred:
        """A saved query's page; with ``run``, its first rows below the form."""
        item = describe_query(saved, self.snapshot)

        def page(answer: str) -> Response:
            return Response(200, pages.saved_query_html(item, params, answer).encode(), HTML)

        if not run and any(p.required for p in saved.parameters):
            return page("")
        graph = formats.is_graph_form(saved.form)
        try:
            check_parameters(saved, params, self.snapshot.prefixes)
            job = QueryJob("ntriples" if graph else "json", self.limits.max_rows, saved=saved.name,
                           params=params, graphs=self.snapshot.graphs)
            work = self._run(job, None if graph else Page(limit=pages.PAGE_ROWS))
        except NtxError as error:
            return page(pages.error_html(str(error)))

        def then(result: Response | Exception) -> Response:
            if isinstance(result, NtxError):
                return page(pages.error_html(str(result)))
            if isinstance(result, Exception):
                raise result
            return page(pages.answer_html(result, graph, self.snapshot.prefixes))

        return Deferred(work.task, then)


def _prefers_page(request: Request, offers: tuple[tuple[str, str], ...]) -> bool:
    """Whether the Accept header likes a page better than the data ``offers``."""
    return choose(request.header("accept"), (*offers, *PAGE_OFFERS)) == "html"


def check_parameters(saved: SavedQuery, params: dict[str, str], prefixes: dict[str, str]) -> None:
    """Raise ParameterError for an unknown, missing or ill-typed parameter
    (instance-of-class checks happen in the worker, on the store)."""
    for param in saved.parameters:
        if param.required and param.name not in params:
            raise ParameterError(f"query {saved.name!r} needs parameter {param.name!r} ({param.type}): "
                                 f"add ?{param.name}=VALUE to the URL")
    bind(saved, params, prefixes)
