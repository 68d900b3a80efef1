"""The saved queries as JSON for ``/queries`` (and for the web page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ntx_graph import formats
from ntx_graph.catalog import SavedQuery
from ntx_graph.server.snapshot import Snapshot


def links(saved: SavedQuery) -> dict[str, str]:
    """The URLs of one saved query: itself, its text, the page, each format."""
    base = "/queries/" + quote(saved.name)
    out = {"self": base, "rq": base + ".rq", "page": "/#" + quote(saved.name)}
    for suffix in formats.url_suffixes(formats.use_of(saved.form)):
        out[suffix] = f"{base}.{suffix}"
    return out


def describe_query(saved: SavedQuery, snapshot: Snapshot) -> dict[str, Any]:
    """One saved query as a JSON object."""
    parameters = []
    for p in saved.parameters:
        item: dict[str, Any] = {"name": p.name, "type": p.type, "default": p.default, "required": p.required,
                                "description": p.description, "of_class": p.of_class}
        if p.of_class:
            item["values"] = [{"iri": c.value, "short": c.short, "label": c.label}
                              for c in snapshot.choices.get(p.of_class, ())]
        parameters.append(item)
    return {"name": saved.name, "title": saved.title, "description": saved.description, "form": saved.form,
            "answers": formats.use_of(saved.form), "parameters": parameters, "text": saved.text,
            "links": links(saved)}
