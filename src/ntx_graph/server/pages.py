"""Server-rendered HTML: the entity (evidence) page and the list of saved
queries. Every piece of data is escaped with ``html.escape``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from ntx_graph.server.entity import Claim, EntityView, Value


def entity_url(iri: str) -> str:
    """The path of the entity page about ``iri``."""
    return "/entity?" + urlencode({"iri": iri})


def layout(title: str, body: str) -> str:
    """A complete page around ``body`` (already HTML)."""
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)} · ntx-graph</title>\n"
        "<link rel=\"stylesheet\" href=\"/static/style.css\">\n"
        "<link rel=\"icon\" href=\"/static/favicon.svg\" type=\"image/svg+xml\">\n</head>\n<body>\n"
        "<header class=\"bar\"><a class=\"brand\" href=\"/\">ntx-graph</a>\n"
        "<nav><a href=\"/\">Query editor</a><a href=\"/queries\">Saved queries</a>"
        "<a href=\"/sparql\">Service description</a><a href=\"/openapi.json\">OpenAPI</a></nav></header>\n"
        f"<main>\n{body}\n</main>\n</body>\n</html>\n"
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


def _rows(pairs: Iterable[tuple[Value, Value]]) -> str:
    return "\n".join(f"<tr><td>{term_html(a)}</td><td>{term_html(b)}</td></tr>" for a, b in pairs)


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
        footer = f"<footer>{' '.join(where)}</footer>" if where else ""
        quotes.append(f"<blockquote class=\"quote\"><p class=\"exact\">{escape(q.exact)}</p>{footer}</blockquote>")
    return f"<article class=\"claim\">{head}\n" + "\n".join(quotes) + "</article>"


def entity_html(view: EntityView) -> str:
    """The entity page: facts, incoming links and the evidence view."""
    e = view.entity
    name = e.label or e.short or e.value
    parts = [f"<h1>{escape(name)}</h1>", f"<p class=\"iri\"><code>{escape(e.value)}</code></p>"]
    if view.types:
        parts.append("<p class=\"types\">a " + ", ".join(term_html(t) for t in view.types) + "</p>")
    if not view.known:
        parts.append("<p class=\"empty\">The graph has no triples about this IRI.</p>")
        return layout(name, "\n".join(parts))
    if view.as_property:
        count = view.as_property
        parts.append(f"<p class=\"uses\">Used as a property in {count} triple{'s' if count != 1 else ''}.</p>")
    parts.append("<section class=\"evidence\"><h2>Evidence</h2>")
    if view.claims:
        parts.append("<p class=\"hint\">Claims about this entity and the verbatim quotes of the source "
                     "that they rest on.</p>")
        parts += [_claim_html(c, e) for c in view.claims]
    else:
        parts.append("<p class=\"empty\">No claim about this entity cites a quote.</p>")
    parts.append("</section>")
    more = "<p class=\"more\">Only the first 500 are listed.</p>"
    parts.append("<section><h2>Facts</h2><table class=\"facts\"><thead><tr><th>property</th><th>value</th>"
                 f"</tr></thead><tbody>\n{_rows(view.outgoing)}\n</tbody></table>"
                 f"{more if view.more_outgoing else ''}</section>")
    if view.incoming:
        parts.append("<section><h2>Referenced by</h2><table class=\"facts\"><thead><tr><th>subject</th>"
                     f"<th>property</th></tr></thead><tbody>\n{_rows(view.incoming)}\n</tbody></table>"
                     f"{more if view.more_incoming else ''}</section>")
    return layout(name, "\n".join(parts))


def queries_html(queries: Sequence[Mapping[str, Any]]) -> str:
    """The list of saved queries as a page (for clients preferring HTML)."""
    items = []
    for q in queries:
        name = str(q["name"])
        links = " ".join(f"<a href=\"{escape(str(href))}\">{escape(str(fmt))}</a>"
                         for fmt, href in q["links"].items() if fmt not in ("self", "page"))
        params = ", ".join(escape(f"{p['name']} ({p['type']})") for p in q["parameters"]) or "none"
        items.append(
            f"<li><h2><a href=\"/#{escape(quote(name))}\">{escape(str(q['title']))}</a></h2>"
            f"<p><code>{escape(name)}</code> · {escape(str(q['form']))} · parameters: {params}</p>"
            f"<p>{escape(str(q['description']))}</p><p class=\"formats\">{links}</p></li>"
        )
    return layout("Saved queries", "<h1>Saved queries</h1>\n<ul class=\"saved\">\n" + "\n".join(items) + "\n</ul>")
