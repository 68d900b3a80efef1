"""The work done in query worker processes: everything that reads the store.

A task is a module-level function ``task(kg, *args) -> Response`` and its
arguments; both are pickled by reference to reach a worker. Nothing outside
the workers queries the store once the server is up, so a worker can be
forked at any time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, Triple, Variable

from ntx_graph.catalog import get_saved_query
from ntx_graph.errors import NtxError, QuerySyntaxError
from ntx_graph.graph import KnowledgeGraph, syntax_message
from ntx_graph.params import Term
from ntx_graph.results import QueryResult
from ntx_graph.results import Term as AnyTerm
from ntx_graph.server.guard import NO_OUTBOUND, check_query
from ntx_graph.server.messages import Response, RowLimitExceeded, error_response, text
from ntx_graph.server.negotiation import content_type

Task = tuple[Callable[..., Response], tuple[Any, ...]]


@dataclass(frozen=True)
class QueryJob:
    """A query to answer: SPARQL text, or a saved query's name and parameter
    values (as text); the format to answer in; the row cap; the dataset."""

    fmt: str
    max_rows: int
    sparql: str = ""
    saved: str = ""
    params: Mapping[str, str] = field(default_factory=dict)
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    graphs: frozenset[str] = frozenset()


def execute(kg: KnowledgeGraph, task: Task) -> Response:
    """Run one task, turning errors into responses."""
    function, args = task
    try:
        return function(kg, *args)
    except NtxError as error:
        return error_response(error)
    except Exception as error:  # reported to the client, never a traceback
        return text(500, f"internal error: {type(error).__name__}: {error}")


def run_query(kg: KnowledgeGraph, job: QueryJob) -> Response:
    """Answer a query job in its format."""
    bindings: dict[str, Term] = {}
    sparql = job.sparql
    if job.saved:
        saved = get_saved_query(job.saved)
        bindings = kg.bind(saved, job.params)
        sparql = saved.text
    result = evaluate(kg, sparql, bindings, job)
    return Response(200, result.serialize(job.fmt), content_type(job.fmt))


def evaluate(kg: KnowledgeGraph, sparql: str, bindings: Mapping[str, Term], job: QueryJob) -> QueryResult:
    """Run ``sparql`` on the store, reading at most ``job.max_rows`` rows or
    triples; RowLimitExceeded if there are more."""
    try:
        check_query(sparql, job.graphs, kg.prefixes)
    except Exception as error:  # the router checks first; this is a second line
        raise NtxError(str(error)) from None
    dataset: dict[str, Any] = {}
    if job.default_graphs:
        dataset["default_graph"] = [NamedNode(g) for g in job.default_graphs]
    if job.named_graphs:
        dataset["named_graphs"] = [NamedNode(g) for g in job.named_graphs]
    try:
        answer = kg.store.query(sparql, prefixes=kg.prefixes,
                                substitutions={Variable(k): v for k, v in bindings.items()}, **dataset)
    except SyntaxError as error:
        raise QuerySyntaxError(f"SPARQL syntax error {syntax_message(str(error))}") from None
    try:
        if isinstance(answer, QueryBoolean):
            return QueryResult("ask", boolean=bool(answer), prefixes=kg.prefixes)
        if isinstance(answer, QuerySolutions):
            variables = [v.value for v in answer.variables]
            rows: list[tuple[AnyTerm | None, ...]] = []
            for solution in answer:
                if len(rows) == job.max_rows:
                    raise RowLimitExceeded(_too_many(job.max_rows, "rows"))
                rows.append(tuple(solution[i] for i in range(len(variables))))
            return QueryResult("select", variables=variables, rows=rows, prefixes=kg.prefixes)
        triples: list[Triple] = []
        for t in answer:
            if len(triples) == job.max_rows:
                raise RowLimitExceeded(_too_many(job.max_rows, "triples"))
            triples.append(Triple(t.subject, t.predicate, t.object))
        return QueryResult("graph", triples=triples, prefixes=kg.prefixes)
    except (OSError, ValueError, RuntimeError) as error:
        message = str(error)
        if "SERVICE" in message:
            raise NtxError(f"SERVICE is refused: {NO_OUTBOUND}") from None
        raise NtxError(f"the query failed: {message}") from None


def _too_many(limit: int, what: str) -> str:
    return f"the result has more than {limit} {what}, the endpoint's limit; add a LIMIT (and OFFSET to page)"


def entity_page(kg: KnowledgeGraph, iri: str) -> Response:
    """The HTML page about one entity: its facts and their evidence."""
    from ntx_graph.server.entity import describe
    from ntx_graph.server.pages import entity_html

    view = describe(kg, iri)
    body = entity_html(view)
    return Response(200 if view.known else 404, body.encode(), "text/html; charset=utf-8")
