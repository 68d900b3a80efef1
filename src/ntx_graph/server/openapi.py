"""The OpenAPI 3.0 description of the endpoint: one operation per saved
query, plus the SPARQL endpoint and the catalogue."""

from __future__ import annotations

import re
from typing import Any

from ntx_graph import __version__, formats
from ntx_graph.catalog import Parameter, SavedQuery
from ntx_graph.formats import is_graph_form
from ntx_graph.server.negotiation import offers_for
from ntx_graph.server.snapshot import Snapshot

_SCHEMA_TYPES = {"iri": "string", "string": "string", "integer": "integer", "decimal": "number", "boolean": "boolean"}
_ERRORS = {
    "400": "Malformed query, bad parameter value, unknown parameter, or a refused update or outbound request",
    "404": "No such saved query",
    "406": "No acceptable result format",
    "413": "The request is too large, or the result has more rows than the endpoint's limit",
    "503": "The query exceeded the time limit, or every query worker is busy",
}


def _errors() -> dict[str, Any]:
    return {code: {"description": text, "content": {"text/plain": {"schema": {"type": "string"}}}}
            for code, text in _ERRORS.items()}


def _content(graph: bool) -> dict[str, Any]:
    types = dict.fromkeys(m for m, _ in offers_for("CONSTRUCT" if graph else "SELECT"))
    return {m: {"schema": {"type": "string"} if not m.endswith("json") else {"type": "object"}} for m in types}


def _parameter(p: Parameter, snapshot: Snapshot) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": _SCHEMA_TYPES.get(p.type, "string")}
    if p.type == "iri":
        schema["description"] = "an IRI, <IRI> or a prefixed name such as " + (p.default or "ntx:Drug")
    if p.default is not None:
        schema["default"] = _typed(p.type, p.default)
    choices = snapshot.choices.get(p.of_class or "", ())
    if choices:
        values = [c.short if not c.short.startswith("<") else c.iri for c in choices]
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


def _saved_operation(saved: SavedQuery, snapshot: Snapshot) -> dict[str, Any]:
    graph = is_graph_form(saved.form)
    use = formats.use_of(saved.form)
    params = [_parameter(p, snapshot) for p in saved.parameters]
    params.append({"name": "format", "in": "query", "required": False,
                   "description": "result format, overriding the Accept header",
                   "schema": {"type": "string", "enum": list(formats.names(use, http=True))}})
    suffixes = ", ".join("." + s for s in formats.url_suffixes(use))
    return {"get": {
        "operationId": operation_id(saved.name),
        "summary": saved.title,
        "description": saved.description + f"\n\nA {saved.form} query. The same result is at this path with "
                       f"a suffix naming the format ({suffixes}).",
        "tags": ["saved queries"],
        "parameters": params,
        "responses": {"200": {"description": f"The {saved.form} result", "content": _content(graph)},
                      **_errors()},
    }}


def _sparql_path() -> dict[str, Any]:
    query = {"name": "query", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "A SPARQL 1.1 query. Without it, GET answers the service description."}
    graphs = [{"name": n, "in": "query", "required": False, "schema": {"type": "array", "items": {"type": "string"}},
               "description": "Accepted only for a graph the endpoint holds; nothing is ever fetched."}
              for n in ("default-graph-uri", "named-graph-uri")]
    fmt = {"name": "format", "in": "query", "required": False, "schema": {"type": "string"},
           "description": "Result format, overriding the Accept header: "
                          + ", ".join(dict.fromkeys(formats.names(formats.RESULTS, http=True)
                                                    + formats.names(formats.GRAPH, http=True)))}
    content = {**_content(False), **_content(True)}
    responses = {"200": {"description": "The result, or the service description", "content": content}, **_errors()}
    return {
        "get": {"operationId": "sparqlQuery", "summary": "Run a SPARQL query (read-only)", "tags": ["SPARQL"],
                "parameters": [query, *graphs, fmt], "responses": responses},
        "post": {"operationId": "sparqlQueryPost", "summary": "Run a SPARQL query sent in the body",
                 "tags": ["SPARQL"], "parameters": [*graphs, fmt],
                 "requestBody": {"required": True, "content": {
                     "application/sparql-query": {"schema": {"type": "string"}},
                     "application/x-www-form-urlencoded": {"schema": {
                         "type": "object", "required": ["query"], "properties": {"query": {"type": "string"}}}}}},
                 "responses": responses},
    }


def openapi(snapshot: Snapshot) -> dict[str, Any]:
    """The OpenAPI document."""
    paths: dict[str, Any] = {
        "/sparql": _sparql_path(),
        "/queries": {"get": {"operationId": "listQueries", "summary": "The saved queries and their parameters",
                             "tags": ["saved queries"],
                             "responses": {"200": {"description": "The catalogue", "content": {
                                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                                 "text/html": {"schema": {"type": "string"}}}}}}},
        "/entity": {"get": {"operationId": "entityPage", "summary": "An entity's facts and evidence quotes (HTML)",
                            "tags": ["pages"],
                            "parameters": [{"name": "iri", "in": "query", "required": True,
                                            "schema": {"type": "string"}}],
                            "responses": {"200": {"description": "The page",
                                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                                          "404": {"description": "The graph says nothing about this IRI"}}}},
        "/formats": {"get": {"operationId": "listFormats", "tags": ["service"],
                             "summary": "Every format: names, media types, suffixes, and which answers it serves",
                             "responses": {"200": {"description": "The formats registry", "content": {
                                 "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}},
        "/health": {"get": {"operationId": "health", "summary": "Liveness check", "tags": ["service"],
                            "responses": {"200": {"description": "ok",
                                                  "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
    }
    for saved in snapshot.queries.values():
        paths[f"/queries/{saved.name}"] = _saved_operation(saved, snapshot)
    return {
        "openapi": "3.0.3",
        "info": {"title": "ntx-graph", "version": __version__,
                 "description": "A read-only SPARQL endpoint over the naltrexone knowledge graph, with its "
                                "saved queries as operations. The server makes no outbound connections."},
        "paths": paths,
        "tags": [{"name": "saved queries"}, {"name": "SPARQL"}, {"name": "pages"}, {"name": "service"}],
    }
