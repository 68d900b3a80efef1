"""The work done in query worker processes: everything that reads the store.

A task is a module-level function ``task(kg, *args) -> Response`` and its
arguments; both are pickled by reference to reach a worker. Nothing outside
the workers queries the store once the server is up, so a worker can be
forked at any time. Queries go through the one executor,
:meth:`ntx_graph.graph.KnowledgeGraph.query`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ntx_graph.errors import NtxError, TooManyResults
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.results import OutputTooLarge, QueryResult
from ntx_graph.server.guard import check_query
from ntx_graph.server.messages import Response, RowLimitExceeded, error_response, text
from ntx_graph.server.negotiation import content_type

Task = tuple[Callable[..., Response], tuple[Any, ...]]
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deferred:
    """What the router answers when the response needs a query worker: the
    task, and what turns the worker's response (or the error it raised)
    into the response to send (None: send it as it is)."""

    task: Task
    then: Callable[[Response | Exception], Response] | None = None


@dataclass(frozen=True)
class QueryJob:
    """A query to answer: SPARQL text, or a saved query's name and parameter
    values (as text); the format to answer in; the row cap; the dataset; the
    base IRI for relative IRIs."""

    fmt: str
    max_rows: int
    sparql: str = ""
    saved: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    graphs: frozenset[str] = frozenset()
    base: str | None = None
    allow_federation: bool = False


def execute(kg: KnowledgeGraph, task: Task) -> Response:
    """Run one task, turning errors into responses; an internal error is
    logged with its traceback and answered "internal error"."""
    function, args = task
    try:
        return function(kg, *args)
    except NtxError as error:
        return error_response(error)
    except Exception:
        _log.exception("internal error in task %s", getattr(function, "__name__", function))
        return text(500, "internal error")


#: The largest answer body a worker writes (``--max-response-bytes``), set by
#: the worker process at start; None: no limit. Checked while serialising.
response_limit: int | None = None


def run_query(kg: KnowledgeGraph, job: QueryJob, fmt: str = "") -> Response:
    """Answer a query job in ``fmt`` (default: the job's format), within
    :data:`response_limit` bytes (else 413)."""
    fmt = fmt or job.fmt
    result = evaluate(kg, job)
    try:
        body = result.serialize(fmt, max_bytes=response_limit)
    except OutputTooLarge as error:
        return text(413, too_large(error.limit))
    return Response(200, body, content_type(fmt))


def bound_text(kg: KnowledgeGraph, name: str, text: str, params: Mapping[str, str]) -> Response:
    """``text`` (an edited copy of the saved query ``name``) with the saved
    query's parameters bound as a VALUES block: the text, which a client
    sends, is analysed here in a worker, within the time limit, not in the
    server's event loop."""
    from ntx_graph.catalog import get_saved_query
    from ntx_graph.params import bind, bind_values

    saved = get_saved_query(name)
    body = bind_values(text, bind(saved, params, kg.prefixes))
    return Response(200, body.encode(), "application/sparql-query; charset=utf-8")


def too_large(limit: int) -> str:
    """The message of an answer over the byte limit."""
    return (f"the answer is larger than the limit of {limit} bytes (--max-response-bytes); "
            "add a LIMIT, or ask for fewer variables")


def evaluate(kg: KnowledgeGraph, job: QueryJob) -> QueryResult:
    """Run the job's query, reading at most ``job.max_rows`` rows or triples;
    RowLimitExceeded if there are more. The endpoint's policy
    (:func:`~ntx_graph.server.guard.check_query`) is checked again here, in
    the worker, for every task that runs text (``checked_query`` checks it
    first, to choose the format; the text's analysis is cached, so the
    second check costs a few microseconds)."""
    options: dict[str, Any] = {"max_rows": job.max_rows, "base": job.base}
    try:
        if job.saved:
            return kg.run(job.saved, job.params, **options)
        check_query(job.sparql, job.graphs, kg.prefixes, allow_federation=job.allow_federation)
        return kg.query(job.sparql, default_graphs=job.default_graphs, named_graphs=job.named_graphs,
                        allow_federation=job.allow_federation, **options)
    except TooManyResults as error:
        raise RowLimitExceeded(f"the result has more than {error.limit} {error.what}, the endpoint's limit; "
                               "add a LIMIT (and OFFSET to page)") from None
