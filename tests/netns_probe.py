"""A worker task that runs SPARQL on the store with no check at all: the
tests send it to real query workers to show that the network namespace
alone stops SERVICE (imported by the workers, so it lives in its own module)."""

from __future__ import annotations

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.messages import Response, text


def unguarded_query(kg: KnowledgeGraph, sparql: str) -> Response:
    """Run ``sparql`` on the store directly, bypassing every lexical guard."""
    try:
        answer = kg.store.query(sparql)
        rows = list(answer) if not isinstance(answer, bool) and hasattr(answer, "__iter__") else [answer]
    except Exception as error:
        return text(502, f"{type(error).__name__}: {error}")
    return text(200, f"{len(rows)} rows")
