"""The OpenAPI 3.0 description of the endpoint: every route the router
serves (tests/test_openapi.py derives them from the router and checks both
ways), one group of operations per saved query (its results, its results
by suffix, its text), the SPARQL endpoint, the pages and the service."""

from __future__ import annotations

import re
from typing import Any

from ntx_graph import __version__, formats
from ntx_graph.catalog import Parameter, SavedQuery
from ntx_graph.server.negotiation import offers_for
from ntx_graph.server.pages import SWAGGER_FILES
from ntx_graph.server.paging import PAGE_ARGS
from ntx_graph.server.snapshot import Snapshot

_SCHEMA_TYPES = {"iri": "string", "string": "string", "integer": "integer", "decimal": "number", "boolean": "boolean"}
_ERRORS = {
    "400": "Malformed query, bad parameter value, unknown parameter, or a refused update or outbound request",
    "404": "No such saved query",
    "406": "No acceptable result format",
    "413": "The request is too large, or the result has more rows than the endpoint's limit",
    "503": "The query exceeded the time limit, or every query worker is busy",
}
#: The paging arguments (:data:`ntx_graph.server.paging.PAGE_ARGS`), described.
_PAGING: dict[str, tuple[dict[str, Any], str]] = {
    "_offset": ({"type": "integer", "minimum": 0}, "Skip this many rows (SELECT answers in SPARQL JSON only)"),
    "_limit": ({"type": "integer", "minimum": 0}, "Return at most this many rows (SELECT answers in SPARQL JSON "
                                                  "only); the total is in the X-Total-Count header"),
    "_sort": ({"type": "string"}, "Sort the rows by this variable (numbers by value); a leading '-' sorts "
                                  "descending (SELECT answers in SPARQL JSON only)"),
}
_TOTAL = {"X-Total-Count": {"description": "The number of rows of the whole answer, when a page was asked for",
                            "schema": {"type": "integer"}}}
_TEXT = {"schema": {"type": "string"}}
_OBJECT = {"schema": {"type": "object"}}
_LIST = {"schema": {"type": "array", "items": {"type": "object"}}}


def _plain(description: str, media_type: str = "text/plain") -> dict[str, Any]:
    return {"description": description, "content": {media_type: _TEXT}}


def _errors(*codes: str) -> dict[str, Any]:
    return {code: _plain(text) for code, text in _ERRORS.items() if not codes or code in codes}


def _content(graph: bool) -> dict[str, Any]:
    types = dict.fromkeys(m for m, _ in offers_for("CONSTRUCT" if graph else "SELECT"))
    return {m: {"schema": {"type": "string"} if not m.endswith("json") else {"type": "object"}} for m in types}


def _get(operation_id: str, summary: str, tag: str, content: dict[str, Any], *, description: str = "",
         parameters: tuple[dict[str, Any], ...] = (), others: dict[str, Any] | None = None,
         ok: str = "OK") -> dict[str, Any]:
    """A GET operation answering ``content`` (media type to schema)."""
    operation: dict[str, Any] = {"operationId": operation_id, "summary": summary, "tags": [tag]}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = list(parameters)
    operation["responses"] = {"200": {"description": ok, "content": content}, **(others or {})}
    return {"get": operation}


def _query_arg(name: str, description: str, schema: dict[str, Any] | None = None, *,
               required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}


def _path_arg(name: str, description: str, values: list[str] | None = None, example: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if values:
        schema["enum"] = values
    if example:
        schema["example"] = example
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def _paging() -> list[dict[str, Any]]:
    return [_query_arg(name, _PAGING[name][1], _PAGING[name][0]) for name in PAGE_ARGS]


def _parameter(p: Parameter, snapshot: Snapshot) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _SCHEMA_TYPES.get(p.type, "string")}
    if p.type == "iri":
        schema["description"] = "an IRI, <IRI> or a prefixed name such as " + (p.default or "ntx:Drug")
    if p.default is not None:
        schema["default"] = _typed(p.type, p.default)
    choices = snapshot.choices.get(p.of_class or "", ())
    if choices:
        values = [c.short if not c.short.startswith("<") else c.value for c in choices]
        if p.default is not None and p.default not in values:
            values.append(p.default)
        schema["enum"] = values
    description = p.description or p.name
    if p.of_class:
        description += f" (an instance of {p.of_class})"
    return {"name": p.name, "in": "query", "required": p.required, "description": description, "schema": schema}


def _typed(kind: str, value: str) -> Any:
    try:
        if kind == "integer":
            return int(value)
        if kind == "decimal":
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.strip().lower() in ("true", "1")
    return value


def operation_id(name: str) -> str:
    """A saved query's name as an operationId: ``side-effects`` -> ``sideEffects``."""
    head, *rest = re.split(r"[^A-Za-z0-9]+", name)
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _saved_paths(saved: SavedQuery, snapshot: Snapshot) -> dict[str, Any]:
    """The saved query's three paths: its answer (or page), its answer by
    suffix, and its text."""
    graph = formats.is_graph_form(saved.form)
    use = formats.use_of(saved.form)
    params = [_parameter(p, snapshot) for p in saved.parameters]
    own = {p.name for p in saved.parameters}
    extra = []  # the endpoint's own arguments, unless the query has a parameter of that name
    if "base" not in own:
        extra.append(_query_arg("base", "The base IRI against which relative IRIs in the query resolve"))
    paging = [p for p in _paging() if p["name"] not in own]  # read for graph answers too, which come whole
    fmt = [] if "format" in own else [_query_arg("format", "Result format, overriding the Accept header",
                                                 {"type": "string", "enum": list(formats.names(use, http=True))})]
    run = [] if "_run" in own else [_query_arg("_run", "With the HTML page: run the query and show its first rows "
                                                        "below the parameter form (any value)")]
    suffixes = list(formats.url_suffixes(use))
    ok: dict[str, Any] = {"description": f"The {saved.form} result", "content": _content(graph)}
    if not graph:
        ok["headers"] = _TOTAL
    name, op = saved.name, operation_id(saved.name)
    answer = {"get": {
        "operationId": op,
        "summary": saved.title,
        "description": saved.description + f"\n\nA {saved.form} query. Browsers get its page, with the parameter "
                       f"form; the same result is at this path with a suffix naming the format "
                       f"({', '.join('.' + s for s in suffixes)}), and its text at .rq.",
        "tags": ["saved queries"],
        "parameters": [*params, *fmt, *extra, *paging, *run],
        "responses": {"200": {**ok, "content": {**ok["content"], "text/html": _TEXT}}, **_errors()},
    }}
    by_suffix = {"get": {
        "operationId": op + "BySuffix",
        "summary": f"{saved.title} (in the format the suffix names)",
        "tags": ["saved queries"],
        "parameters": [_path_arg("suffix", "The result format", suffixes), *params, *extra, *paging],
        "responses": {"200": ok, **_errors()},
    }}
    text_ok = {"200": _plain("The query's text; with parameters given (or posted text), the text with every "
                             "parameter bound as a VALUES block, which any SPARQL endpoint runs",
                             "application/sparql-query"), **_errors("400", "404")}
    text = {
        "get": {"operationId": op + "Text", "summary": f"The text of {name}", "tags": ["saved queries"],
                "parameters": [dict(p, required=False) for p in params], "responses": text_ok},
        "post": {"operationId": op + "BindText", "summary": f"Bind {name}'s parameters into an edited text",
                 "description": "The body is an edited version of the saved query; the parameters given in the "
                                "query string (defaults for the others) are bound into it, as the server binds "
                                "them into the saved text.",
                 "tags": ["saved queries"], "parameters": [dict(p, required=False) for p in params],
                 "requestBody": {"required": True, "content": {"application/sparql-query": _TEXT}},
                 "responses": {**text_ok, "415": _plain("The body is not application/sparql-query")}},
    }
    return {f"/queries/{name}": answer, f"/queries/{name}.{{suffix}}": by_suffix, f"/queries/{name}.rq": text}


def _sparql_path() -> dict[str, Any]:
    query = _query_arg("query", "A SPARQL 1.1 query. Without it, GET answers the service description.")
    graphs = [_query_arg(n, "Accepted only for a graph the endpoint holds; nothing is ever fetched.",
                         {"type": "array", "items": {"type": "string"}}) for n in ("default-graph-uri",
                                                                                  "named-graph-uri")]
    fmt = _query_arg("format", "Result format, overriding the Accept header: "
                     + ", ".join(dict.fromkeys(formats.names(formats.RESULTS, http=True)
                                               + formats.names(formats.GRAPH, http=True))))
    content = {**_content(False), **_content(True), "text/html": _TEXT}
    responses = {"200": {"description": "The result, or the service description (RDF, or HTML for browsers)",
                         "content": content, "headers": _TOTAL}, **_errors()}
    return {
        "get": {"operationId": "sparqlQuery", "summary": "Run a SPARQL query (read-only)", "tags": ["SPARQL"],
                "parameters": [query, *graphs, fmt, *_paging()], "responses": responses},
        "post": {"operationId": "sparqlQueryPost", "summary": "Run a SPARQL query sent in the body",
                 "tags": ["SPARQL"], "parameters": [*graphs, fmt, *_paging()],
                 "requestBody": {"required": True, "content": {
                     "application/sparql-query": _TEXT,
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}}}},
                 "responses": {**responses, "415": _plain("Unsupported request Content-Type")}},
    }


def _entity_paths() -> dict[str, Any]:
    from ntx_graph.server.router import ENTITY_SUFFIXES  # the router imports this module

    iri = _query_arg("iri", "The entity: an IRI or a prefixed name", {"type": "string", "example": "drug:naltrexone"},
                     required=True)
    graph = formats.names(formats.GRAPH, http=True)
    content = {"text/html": _TEXT, **_content(True)}
    errors = {"404": _plain("The graph says nothing about this IRI", "text/html"), **_errors("400", "406")}
    return {
        "/entity": _get("entityPage", "An entity's facts and evidence quotes: HTML, or its triples as RDF by "
                        "Accept or format", "pages", content, others=errors, parameters=(
                            iri, _query_arg("format", "html, or an RDF format overriding the Accept header",
                                            {"type": "string", "enum": ["html", *graph]}))),
        "/entity.{suffix}": _get("entityBySuffix", "An entity's page or triples, in the format the suffix names",
                                 "pages", content, others=errors, parameters=(
                                     _path_arg("suffix", "The format", list(ENTITY_SUFFIXES)), iri)),
    }


def _page_paths() -> dict[str, Any]:
    from ntx_graph.server.router import STATIC_DIR, STATIC_TYPES  # the router imports this module

    html = {"text/html": _TEXT}
    static = sorted(p.name for p in STATIC_DIR.iterdir() if p.suffix in STATIC_TYPES)
    missing = {"404": _plain("No such file")}
    return {
        "/": _get("homePage", "The query page", "pages", html),
        "/index.html": _get("indexPage", "The query page (as /)", "pages", html),
        "/static/{file}": _get("staticFile", "The page's scripts, style sheet and icon", "pages",
                               {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                               parameters=(_path_arg("file", "The file", static),), others=missing),
        "/source": _get("sourceList", "The graph's source documents, each linked to its reader", "pages", html),
        "/source/{name}": _get(
            "sourceReader", "The source reader: the document with every quoted passage marked", "pages", html,
            description="NAME is the last path segment of the source document's IRI. The fragment "
                        "#chars=START,END (RFC 5147) scrolls to and highlights a passage.",
            parameters=(_path_arg("name", "The source's name", example="facts-about-naltrexone"),),
            others={"404": _plain("No source of that name"), **_errors("400")}),
        "/api": _get("apiPage", "This description, browsable (Swagger UI)", "pages", html),
        "/vendor/swagger-ui/{file}": _get(
            "swaggerUiFile", "Swagger UI's files, as the swagger-ui-bundle package ships them", "pages",
            {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            parameters=(_path_arg("file", "The file", list(SWAGGER_FILES)),), others=missing),
    }


def _service_paths() -> dict[str, Any]:
    return {
        "/openapi.json": _get("openapi", "This OpenAPI description (browsers are sent to /api)", "service",
                              {"application/json": _OBJECT},
                              others={"303": {"description": "To /api, for a client that prefers HTML"}}),
        "/queries": _get("listQueries", "The saved queries and their parameters (JSON, or HTML for browsers)",
                         "saved queries", {"application/json": _LIST, "text/html": _TEXT}, ok="The catalogue"),
        "/queries.json": _get("listQueriesJson", "The saved queries and their parameters", "saved queries",
                              {"application/json": _LIST}, ok="The catalogue"),
        "/queries.html": _get("listQueriesHtml", "The saved queries, as a page", "saved queries",
                              {"text/html": _TEXT}, ok="The catalogue"),
        "/prefixes": _get("listPrefixes", "The prefixes the endpoint knows, name to namespace IRI", "service",
                          {"application/json": {"schema": {"type": "object",
                                                           "additionalProperties": {"type": "string"}}}}),
        "/formats": _get("listFormats", "Every format: names, media types, suffixes, and which answers it serves",
                         "service", {"application/json": _LIST}, ok="The formats registry"),
        "/health": _get("health", "Liveness check", "service", {"text/plain": _TEXT}, ok="ok"),
    }


def openapi(snapshot: Snapshot) -> dict[str, Any]:
    """The OpenAPI document."""
    paths: dict[str, Any] = {"/sparql": _sparql_path(), **_service_paths(), **_entity_paths(), **_page_paths()}
    for saved in snapshot.queries.values():
        paths.update(_saved_paths(saved, snapshot))
    return {
        "openapi": "3.0.3",
        "info": {"title": "ntx-graph", "version": __version__,
                 "description": "A read-only SPARQL endpoint over the naltrexone knowledge graph, with its "
                                "saved queries as operations, and its pages. The server makes no outbound "
                                "connections. Every GET also answers HEAD, and every path OPTIONS (a CORS "
                                "preflight); other methods get 405."},
        "paths": paths,
        "tags": [{"name": "saved queries"}, {"name": "SPARQL"}, {"name": "pages"}, {"name": "service"}],
    }
