"""Server-rendered HTML: the entity (evidence) page, the list of saved
queries, a saved query's page and answer, the source reader and the
browsable API page (Swagger UI, from the ``swagger-ui-bundle`` package).
Every piece of data is escaped with ``html.escape``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from pyoxigraph import RdfFormat, parse

from ntx_graph import formats
from ntx_graph.results import compact
from ntx_graph.server.entity import Claim, EntityView, Quote, Value, term_value
from ntx_graph.server.messages import HttpError, Response
from ntx_graph.server.reader import Uncited, marked_text, source_url

#: The site's navigation, on every page.
NAV = ("<a href=\"/\">Query editor</a><a href=\"/queries\">Saved queries</a><a href=\"/source\">Sources</a>"
       "<a href=\"/sparql\">Service description</a><a href=\"/api\">API</a>")
#: Rows shown on a saved query's page (the downloads hold them all).
PAGE_ROWS = 200
#: The files of Swagger UI that the API page uses.
SWAGGER_FILES = ("swagger-ui.css", "swagger-ui-bundle.js")


def plural(count: int, noun: str) -> str:
    """``count`` and ``noun``, with an s unless there is one: ``plural(2, 'row') == '2 rows'``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def entity_url(iri: str) -> str:
    """The path of the entity page about ``iri``."""
    return "/entity?" + urlencode({"iri": iri})


def layout(title: str, body: str, *, scripts: Sequence[str] = (), styles: Sequence[str] = ()) -> str:
    """A complete page around ``body`` (already HTML); ``scripts`` and
    ``styles`` are extra same-origin URLs (the CSP allows nothing else)."""
    extra = "".join(f"<link rel=\"stylesheet\" href=\"{escape(href)}\">\n" for href in styles)
    extra += "".join(f"<script src=\"{escape(src)}\" defer></script>\n" for src in scripts)
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"color-scheme\" content=\"light dark\">\n"
        f"<title>{escape(title)} · ntx-graph</title>\n"
        "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
        f"<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n{extra}</head>\n<body>\n"
        "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
        "<header class=\"bar\"><a class=\"brand\" href=\"/\">ntx-graph</a>\n"
        f"<nav aria-label=\"Site\">{NAV}</nav></header>\n"
        f"<main id=\"main\">\n{body}\n</main>\n</body>\n</html>\n"
    )


def term_html(value: Value) -> str:
    """A term: IRIs link to their entity page, showing the label."""
    if value.kind == "iri":
        name = value.label or value.short or value.value
        short = f" <code class=\"short\">{escape(value.short)}</code>" if value.label and value.short else ""
        return (f"<a class=\"iri\" href=\"{escape(entity_url(value.value))}\" title=\"{escape(value.value)}\">"
                f"{escape(name)}</a>{short}")
    if value.kind == "bnode":
        return f"<span class=\"bnode\">{escape(value.short or value.value)}</span>"
    note = f" <span class=\"note\">{escape(value.note)}</span>" if value.note else ""
    return f"<span class=\"literal\">{escape(value.value)}</span>{note}"


def _rows(rows: Iterable[Sequence[Value | None]]) -> str:
    return "\n".join("<tr>" + "".join(f"<td>{term_html(t) if t is not None else ''}</td>" for t in row) + "</tr>"
                     for row in rows)


def _facts(title: str, columns: tuple[str, str], rows: Sequence[tuple[Value, Value]], more: bool) -> str:
    head = "".join(f"<th>{c}</th>" for c in columns)
    note = "<p class=\"more\">Only the first 500 are listed.</p>" if more else ""
    return (f"<section><h2>{title}</h2><table class=\"facts\"><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{_rows(rows)}\n</tbody></table>{note}</section>")


def _claim_html(claim: Claim, entity: Value) -> str:
    if claim.node.value == entity.value:
        head = "<h3>This entity itself is a claim</h3>"
    else:
        via = ", ".join(term_html(link) for link in claim.links)
        head = f"<h3>{term_html(claim.node)}</h3>" + (f"<p class=\"via\">links here by {via}</p>" if via else "")
    quotes = []
    for q in claim.quotes:
        where = []
        if q.start is not None and q.end is not None:
            where.append(f"characters {q.start}\u2013{q.end}")
        if q.source is not None:
            where.append(("of " if where else "from ") + term_html(q.source))
            where.append(f"· <a class=\"read\" href=\"{escape(source_url(q.source.value, q.start, q.end))}\">"
                         "read it in the source</a>")
        footer = f"<footer>{' '.join(where)}</footer>" if where else ""
        quotes.append(f"<blockquote class=\"quote\"><p class=\"exact\">{escape(q.exact)}</p>{footer}</blockquote>")
    return f"<article class=\"claim\">{head}\n" + "\n".join(quotes) + "</article>"


def entity_html(view: EntityView) -> str:
    """The entity page: facts, incoming links and the evidence view."""
    e = view.entity
    name = e.label or e.short or e.value
    parts = [f"<h1>{escape(name)}</h1>", f"<p class=\"iri\"><code>{escape(e.value)}</code></p>",
             formats_html({label: f"/entity.{suffix}?" + urlencode({"iri": e.value})
                           for suffix, label in formats.downloads(formats.GRAPH).items()}, "This entity as")]
    if view.types:
        parts.append("<p class=\"types\">a " + ", ".join(term_html(t) for t in view.types) + "</p>")
    if not view.known:
        parts.append("<p class=\"empty\">The graph has no triples about this IRI.</p>")
        return layout(name, "\n".join(parts))
    if view.as_property:
        parts.append(f"<p class=\"uses\">Used as a property in {plural(view.as_property, 'triple')}.</p>")
    parts.append("<section class=\"evidence\"><h2>Evidence</h2>")
    if view.claims:
        parts.append("<p class=\"hint\">Claims about this entity and the verbatim quotes of the source "
                     "that they rest on.</p>")
        parts += [_claim_html(c, e) for c in view.claims]
    else:
        parts.append("<p class=\"empty\">No claim about this entity cites a quote.</p>")
    parts.append("</section>")
    parts.append(_facts("Facts", ("property", "value"), view.outgoing, view.more_outgoing))
    if view.incoming:
        parts.append(_facts("Referenced by", ("subject", "property"), view.incoming, view.more_incoming))
    return layout(name, "\n".join(parts))


def formats_html(links: Mapping[str, str], label: str = "Download") -> str:
    """A line of links to the same data in other formats."""
    items = " ".join(f"<a href=\"{escape(href)}\">{escape(name)}</a>" for name, href in links.items())
    return f"<p class=\"formats\"><span class=\"label\">{escape(label)}:</span> {items}</p>"


def queries_html(queries: Sequence[Mapping[str, Any]]) -> str:
    """The list of saved queries as a page (for clients preferring HTML)."""
    items = []
    for q in queries:
        name = str(q["name"])
        links = {fmt: str(href) for fmt, href in q["links"].items() if fmt not in ("self", "page")}
        params = ", ".join(escape(f"{p['name']} ({p['type']})") for p in q["parameters"]) or "none"
        items.append(
            f"<li><h2><a href=\"/queries/{escape(quote(name))}\">{escape(str(q['title']))}</a></h2>"
            f"<p><code>{escape(name)}</code> · {escape(str(q['form']))} · parameters: {params}"
            f" · <a href=\"/#{escape(quote(name))}\">open in the editor</a></p>"
            f"<p>{escape(str(q['description']))}</p>{formats_html(links)}</li>"
        )
    body = ("<h1>Saved queries</h1>\n<p class=\"hint\">Each runs with the parameters of its form; "
            "<code>GET /queries</code> with <code>Accept: application/json</code> lists them for programs.</p>\n"
            "<ul class=\"saved\">\n" + "\n".join(items) + "\n</ul>")
    return layout("Saved queries", body)


def _field(p: Mapping[str, Any], given: Mapping[str, str]) -> str:
    name = str(p["name"])
    ident = "param-" + name
    value = given.get(name, "")
    default = p["default"]
    if p.get("values"):
        options = [] if p["required"] and default is not None else [
            f"<option value=\"\">{'— choose —' if p['required'] else '(default)'}</option>"]
        for v in p["values"]:
            chosen = value in (v["iri"], v["short"]) if value else default in (v["iri"], v["short"])
            shown = f"{v['label']} ({v['short']})" if v["label"] else v["short"]
            options.append(f"<option value=\"{escape(v['iri'])}\"{' selected' if chosen else ''}>"
                           f"{escape(shown)}</option>")
        control = f"<select id=\"{escape(ident)}\" name=\"{escape(name)}\">{''.join(options)}</select>"
    else:
        kind = "number" if p["type"] in ("integer", "decimal") else "text"
        placeholder = escape(str(default)) if default is not None else "required"
        step = ' step="1"' if p["type"] == "integer" else ' step="any"' if kind == "number" else ""
        control = (f"<input id=\"{escape(ident)}\" name=\"{escape(name)}\" type=\"{kind}\"{step} "
                   f"value=\"{escape(value)}\" placeholder=\"{placeholder}\"{' required' if p['required'] else ''}>")
    kind_text = str(p["type"]) + (f" of {p['of_class']}" if p["of_class"] else "")
    help_text = f"<small>{escape(str(p['description']))}</small>" if p["description"] else ""
    return (f"<div class=\"field\"><label for=\"{escape(ident)}\">{escape(name)}"
            f"<span class=\"ptype\">{escape(kind_text)}</span></label>{control}{help_text}</div>")


def results_html(variables: Sequence[str], rows: Sequence[Sequence[Value | None]]) -> str:
    """A results table, terms linked to their entity pages."""
    head = "".join(f"<th scope=\"col\">{escape(v)}</th>" for v in variables)
    return (f"<div class=\"results\"><table class=\"grid\"><thead><tr>{head}</tr></thead>"
            f"<tbody>\n{_rows(rows)}\n</tbody></table></div>")


def saved_query_html(item: Mapping[str, Any], given: Mapping[str, str], answer: str) -> str:
    """A saved query's own page: its description, a form for its parameters
    (sent back to this URL by GET), its text, and ``answer`` (HTML) when run."""
    name = str(item["name"])
    base = "/queries/" + quote(name)
    fields = "".join(_field(p, given) for p in item["parameters"])
    query = ("?" + urlencode({k: v for k, v in given.items() if v})) if given else ""
    links = {label: f"{base}.{suffix}{query}" for suffix, label in
             formats.downloads(formats.use_of(str(item["form"]))).items()}
    links["SPARQL text"] = f"{base}.rq{query}"
    parts = [
        f"<h1>{escape(str(item['title']))}</h1>",
        f"<p><code>{escape(name)}</code> · {escape(str(item['form']))} · "
        f"<a href=\"/#{escape(quote(name))}{escape(('&' + query[1:]) if query else '')}\">open in the editor</a></p>",
        f"<p class=\"description\">{escape(str(item['description']))}</p>",
        f"<form class=\"params\" method=\"get\" action=\"{escape(base)}\" aria-label=\"Parameters\">{fields}"
        "<div class=\"field submit\"><button type=\"submit\" name=\"_run\" value=\"1\">Run</button></div></form>",
        formats_html(links),
        f"<details><summary>SPARQL</summary><pre class=\"sparql\"><code>{escape(str(item['text']))}</code></pre>"
        "</details>",
        answer,
    ]
    return layout(str(item["title"]), "\n".join(p for p in parts if p))


def source_html(iri: str, labels: Mapping[str, str], text: str | None, quotes: Sequence[Quote],
                gaps: Sequence[Uncited], warnings: Sequence[str], prefixes: Mapping[str, str]) -> str:
    """The source reader: the text with its quoted spans marked, the claims
    on each, and the index of quotes."""
    title = labels.get(iri) or iri.rsplit("/", 1)[-1]
    claims = sum(len(q.claims) for q in quotes)
    parts = [f"<h1>{escape(title)}</h1>",
             f"<p class=\"iri\"><a href=\"{escape(entity_url(iri))}\"><code>{escape(iri)}</code></a></p>",
             f"<p class=\"hint\">{plural(len(quotes), 'quoted passage')} carry {plural(claims, 'claim')}; "
             f"{plural(len(gaps), 'sentence')} no claim cites, in grey with a dotted underline. Hover over or "
             "focus a highlighted passage to list the claims that rest on it.</p>"]
    parts += [f"<p class=\"warning\" role=\"note\">{escape(w)}</p>" for w in warnings]
    if text is not None:
        parts.append("<div class=\"reader\">"
                     f"<div class=\"source-text\" id=\"source-text\">{marked_text(text, quotes, gaps)}</div>"
                     "<aside class=\"claims-panel\" id=\"claims-panel\" aria-live=\"polite\" "
                     "aria-label=\"Claims on the passage\"><h2>Claims on this passage</h2>"
                     "<p class=\"hint\" id=\"claims-empty\">Hover over or focus a highlighted passage.</p>"
                     "<div id=\"claims-list\"></div></aside></div>")
    items = []
    for q in quotes:
        where = f"characters {q.start}\u2013{q.end}" if q.placed else "no position recorded"
        links = "".join(f"<li><a href=\"{escape(entity_url(c))}\">{escape(labels.get(c) or compact(c, prefixes))}"
                        "</a></li>" for c in q.claims) or "<li class=\"empty\">no claim cites it</li>"
        jump = (f" <a class=\"jump\" href=\"#chars={q.start},{q.end}\">show in the text</a>"
                if q.placed and text is not None else "")
        items.append(f"<li id=\"{escape(q.anchor)}\" class=\"quote-entry\"><q>{escape(q.exact)}</q> "
                     f"<span class=\"where\">{where}</span>{jump}<ul class=\"claims\">{links}</ul></li>")
    parts.append("<section class=\"quote-index\"><h2>Quotes and their claims</h2><ol>" + "\n".join(items)
                 + "</ol></section>")
    if gaps:
        rows = "".join(f"<li><span class=\"uncited-text\">{escape(g.sentence.text)}</span> "
                       f"<span class=\"where\">characters {g.sentence.start}\u2013{g.sentence.end}: "
                       f"{escape(g.reason)}</span></li>" for g in gaps)
        parts.append(f"<section><h2>Sentences no claim cites</h2><ul class=\"uncited-list\">{rows}</ul></section>")
    return layout(title, "\n".join(parts), scripts=("/static/reader.js",))


def swagger_file(name: str) -> bytes:
    """One of Swagger UI's files, as the ``swagger-ui-bundle`` package ships it."""
    if name not in SWAGGER_FILES:
        raise HttpError(404, f"no file {name!r} of Swagger UI is served")
    import swagger_ui_bundle  # imported on first use: the CLI never needs it

    return (Path(swagger_ui_bundle.swagger_ui_path) / name).read_bytes()


def api_html() -> str:
    """The browsable API page: Swagger UI over ``/openapi.json``."""
    body = ("<h1 class=\"visually-hidden\">The ntx-graph HTTP API</h1>"
            "<p class=\"hint\">The OpenAPI description is at <a href=\"/openapi.json\">/openapi.json</a>.</p>"
            "<div id=\"swagger-ui\"></div>")
    return layout("API", body, scripts=("/vendor/swagger-ui/swagger-ui-bundle.js", "/static/api.js"),
                  styles=("/vendor/swagger-ui/swagger-ui.css",))


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
            [term_value(term, prefixes, datatype=False) for term in (t.subject, t.predicate, t.object)]
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
