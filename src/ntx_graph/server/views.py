"""Pieces of the HTML views that the router assembles: the browsable API
page (Swagger UI, from the ``swagger-ui-bundle`` package) and a saved
query's answer as a table."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from html import escape
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, parse

from ntx_graph.results import compact
from ntx_graph.server.entity import Value
from ntx_graph.server.messages import HttpError, Response
from ntx_graph.server.pages import layout, plural, results_html

#: Rows shown on a saved query's page (the downloads hold them all).
PAGE_ROWS = 200
#: The files of Swagger UI that the API page uses.
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")


@cache
def _swagger_dir() -> Path:
    import swagger_ui_bundle  # imported on first use: the CLI never needs it

    return Path(swagger_ui_bundle.swagger_ui_path)


def swagger_file(name: str) -> bytes:
    """One of Swagger UI's files, as the package ships it."""
    if name not in SWAGGER_FILES:
        raise HttpError(404, f"no file {name!r} of Swagger UI is served")
    return (_swagger_dir() / name).read_bytes()


def api_html() -> str:
    """The browsable API page: Swagger UI over ``/openapi.json``."""
    body = ("<h1 class=\"visually-hidden\">The ntx-graph HTTP API</h1>"
            "<p class=\"hint\">The OpenAPI description is at <a href=\"/openapi.json\">/openapi.json</a>.</p>"
            "<div id=\"swagger-ui\"></div>")
    return layout("API", body, scripts=("/vendor/swagger-ui/swagger-ui-bundle.js", "/static/api.js"),
                  styles=("/vendor/swagger-ui/swagger-ui.css",))


def _value(term: object, prefixes: Mapping[str, str]) -> Value:
    if isinstance(term, NamedNode):
        return Value("iri", term.value, short=compact(term.value, prefixes))
    if isinstance(term, BlankNode):
        return Value("bnode", term.value, short="_:" + term.value)
    if isinstance(term, Literal):
        return Value("literal", term.value, note="@" + term.language if term.language else "")
    return Value("literal", str(term))


def _json_value(term: Mapping[str, str], prefixes: Mapping[str, str]) -> Value:
    kind = term.get("type")
    if kind == "uri":
        return Value("iri", term["value"], short=compact(term["value"], prefixes))
    if kind == "bnode":
        return Value("bnode", term["value"], short="_:" + term["value"])
    lang = term.get("xml:lang")
    return Value("literal", str(term.get("value", "")), note="@" + lang if lang else "")


def error_html(message: str) -> str:
    """An error in place of an answer."""
    return f"<p class=\"status error\" role=\"alert\">{escape(message)}</p>"


def answer_html(response: Response, graph: bool, prefixes: Mapping[str, str]) -> str:
    """A saved query's answer (SPARQL JSON, or N-Triples for ``graph``) as HTML."""
    if response.status != 200:
        return error_html(f"Error {response.status}: {response.body.decode(errors='replace').strip()}")
    if graph:
        triples = list(parse(response.body, format=RdfFormat.N_TRIPLES))
        table: list[list[Value | None]] = [
            [_value(t.subject, prefixes), _value(t.predicate, prefixes), _value(t.object, prefixes)]
            for t in triples[:PAGE_ROWS]]
        total, head = len(triples), ["subject", "predicate", "object"]
    else:
        data = json.loads(response.body)
        if "boolean" in data:
            return f"<p class=\"boolean {str(data['boolean']).lower()}\">{'yes' if data['boolean'] else 'no'}</p>"
        head = data["head"]["vars"]
        table = [[_json_value(b[v], prefixes) if v in b else None for v in head] for b in data["results"]["bindings"]]
        total = int(response.headers.get("X-Total-Count", len(table)))
    shown = min(total, PAGE_ROWS)
    count = f"<p class=\"status\">{plural(total, 'triple' if graph else 'row')}"
    count += f"; the first {shown} are shown, the downloads hold all.</p>" if total > shown else ".</p>"
    return count + results_html(head, table)
