"""Checks shared by the clients that talk to other servers (remote queries, push)."""

from __future__ import annotations

import urllib.parse

from pyoxigraph import NamedNode

AUTH_SCHEMES = ("basic", "digest")


def connection_problem(url: str, graph: str | None, auth: str) -> str | None:
    """What is wrong with a server URL, graph IRI and authentication scheme, or None.

    >>> connection_problem("ftp://host/x", None, "basic")
    "'ftp://host/x' is not an http(s) URL"
    >>> connection_problem("http://host/sparql", "https://w3id.org/g", "digest") is None
    True
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an http(s) URL"
    if graph is not None:
        try:
            NamedNode(graph)
        except ValueError as error:
            return f"the graph {graph!r} is not an absolute IRI ({error})"
    if auth not in AUTH_SCHEMES:
        return f"unknown authentication scheme {auth!r}; use basic or digest"
    return None
