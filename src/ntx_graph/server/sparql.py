"""The SPARQL 1.1 Protocol: reading a query request (GET, POST form, POST
sparql-query) into its parts."""

from __future__ import annotations

from dataclasses import dataclass

from ntx_graph.server.guard import READ_ONLY
from ntx_graph.server.messages import HttpError, Request, parse_form, single

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"


@dataclass(frozen=True)
class ProtocolRequest:
    """A query request's parts; ``query`` is None when none was given."""

    query: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    formats: tuple[str, ...]


def read_protocol(request: Request) -> ProtocolRequest:
    """The parts of a SPARQL Protocol query request; HttpError when the
    request is malformed, an update, or of an unsupported content type."""
    params = request.args
    body_query: str | None = None
    if request.method == "POST":
        media = request.media_type
        if media == FORM:
            for key, values in parse_form(request.body_text("form body")).items():
                params.setdefault(key, []).extend(values)
        elif media == SPARQL_QUERY:
            body_query = request.body_text("query")
        elif media == SPARQL_UPDATE:
            raise HttpError(400, READ_ONLY)
        else:
            shown = media or "none"
            raise HttpError(415, f"unsupported Content-Type {shown}: POST a query as {FORM} (query=...) "
                                 f"or as {SPARQL_QUERY}")
    if "update" in params or "using-graph-uri" in params or "using-named-graph-uri" in params:
        raise HttpError(400, READ_ONLY)
    query = single(params, "query")
    if body_query is not None:
        if query is not None:
            raise HttpError(400, "give the query either in the body or as the 'query' parameter, not both")
        query = body_query
    if query is not None and not query.strip():
        raise HttpError(400, "the query is empty")
    return ProtocolRequest(
        query=query,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
        formats=tuple(params.get("format", [])),
    )
