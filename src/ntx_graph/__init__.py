"""ntx-graph: a knowledge graph of naltrexone's facts with a SPARQL query interface.

>>> from ntx_graph import KnowledgeGraph
>>> KnowledgeGraph.open().run("is-narcotic").boolean
False
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
__version__ = "0.1.0"
__all__ = ["KnowledgeGraph", "QueryResult", "SavedQuery", "__version__", "get_saved_query", "saved_queries"]

if TYPE_CHECKING:
    from typing import Any

    from ntx_graph.catalog import SavedQuery, get_saved_query, saved_queries
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.results import QueryResult

_LAZY = {"KnowledgeGraph": "graph", "QueryResult": "results", "SavedQuery": "catalog",
         "get_saved_query": "catalog", "saved_queries": "catalog"}


def __getattr__(name: str) -> Any:
    """Import the public API on first use, keeping ``import ntx_graph`` light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"ntx_graph.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'ntx_graph' has no attribute {name!r}")
