"""Pages of a SELECT answer: ``_offset``, ``_limit`` and ``_sort`` on
``/sparql`` and ``/queries/NAME``, for SPARQL JSON results.

The query runs as any other (bounded by the endpoint's row limit); the
worker then sorts (if asked), counts and slices the rows, so the total comes
for free and the client receives one page. The total is sent as
``X-Total-Count``. Graph answers have no rows and come whole.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.results import XSD
from ntx_graph.server.messages import HttpError, Response, single, text
from ntx_graph.server.negotiation import GRAPH_OFFERS
from ntx_graph.server.tasks import QueryJob, run_query

#: The query-string arguments read here (never saved-query parameters).
PAGE_ARGS = ("_offset", "_limit", "_sort")
PAGING_NEEDS_JSON = ("paging (_offset, _limit, _sort) is offered for SELECT answers in SPARQL JSON; "
                     "ask for application/sparql-results+json")
#: The names of the formats of graph answers, which come whole.
GRAPH_FORMATS = frozenset(name for _, name in GRAPH_OFFERS)
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "nonPositiveInteger", "negativeInteger",
                              "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


@dataclass(frozen=True)
class Page:
    """Which rows to return: from ``offset``, at most ``limit`` (None: all),
    sorted by the variable ``sort`` (descending if ``descending``)."""

    offset: int = 0
    limit: int | None = None
    sort: str = ""
    descending: bool = False


def read_page(args: dict[str, list[str]]) -> Page | None:
    """The page asked for by ``args`` (the paging arguments are removed from
    it), or None if none is given; HttpError for a bad value."""
    given = {name: args.pop(name) for name in PAGE_ARGS if name in args}
    if not given:
        return None
    values = {name: (single(given, name) or "").strip() for name in given}
    for name in ("_offset", "_limit"):
        if name in values and not values[name].isdecimal():
            raise HttpError(400, f"{name} must be a whole number of rows, not {values[name]!r}")
    limit, sort = values.get("_limit"), values.get("_sort", "")
    return Page(int(values.get("_offset", 0)), None if limit is None else int(limit), sort.lstrip("-").lstrip("?"),
                sort.startswith("-"))


def _key(term: dict[str, Any] | None) -> tuple[int, Decimal, str]:
    if term is None:
        return (0, Decimal(0), "")
    value = str(term.get("value", ""))
    if term.get("type") == "literal" and term.get("datatype") in _NUMERIC:
        try:
            return (1, Decimal(value), "")
        except InvalidOperation:
            pass
    return (2, Decimal(0), value.casefold())


def paged(fmt: str, page: Page | None) -> Page | None:
    """``page`` if answers in ``fmt`` are paged (SPARQL JSON), None if there
    is none or they come whole (graphs); HttpError for the other formats."""
    if page is None or fmt in GRAPH_FORMATS:
        return None
    if fmt != "json":
        raise HttpError(400, PAGING_NEEDS_JSON)
    return page


def page_response(response: Response, page: Page) -> Response:
    """The rows of ``page`` from an answer in SPARQL JSON (an ASK answer as it is)."""
    data = json.loads(response.body)
    if "results" not in data:  # an ASK answer has no rows to page
        return response
    rows: list[dict[str, Any]] = data["results"]["bindings"]
    if page.sort:
        if page.sort not in data["head"]["vars"]:
            return text(400, f"cannot sort by {page.sort!r}: the answer's variables are "
                             f"{', '.join(data['head']['vars'])}")
        rows.sort(key=lambda row: _key(row.get(page.sort)), reverse=page.descending)
    end = None if page.limit is None else page.offset + page.limit
    data["results"]["bindings"] = rows[page.offset:end]
    headers = {"X-Total-Count": str(len(rows)), "Access-Control-Expose-Headers": "X-Total-Count"}
    return Response(200, json.dumps(data, ensure_ascii=False).encode(), response.content_type, headers)


def paged_query(kg: KnowledgeGraph, job: QueryJob, page: Page | None, fmt: str = "") -> Response:
    """Answer ``job`` in ``fmt`` (default: the job's format), with only the
    rows of ``page`` where :func:`paged` says it applies."""
    fmt = fmt or job.fmt
    page = paged(fmt, page)
    response = run_query(kg, job, fmt)
    return response if page is None or response.status != 200 else page_response(response, page)
