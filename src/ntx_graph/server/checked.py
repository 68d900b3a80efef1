"""Query text analysed in the worker.

The lexical checks cost CPU in proportion to the text (about 2.6 s per MB of
dense SPARQL here). The HTTP process analyses a text only up to
``ANALYSE_IN_SERVER_BYTES``; a longer one is analysed by the worker that
runs it, inside the time limit, so a client sending huge texts spends its own
share of workers, not the server's CPU.
"""

from __future__ import annotations

from dataclasses import replace

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.guard import Refused, check_query
from ntx_graph.server.messages import Response, text
from ntx_graph.server.negotiation import NotAcceptable, negotiate
from ntx_graph.server.tasks import QueryJob, run_query
from ntx_graph.sparql_text import operation

#: The longest query text the HTTP process analyses itself (about 40 ms of CPU at most).
ANALYSE_IN_SERVER_BYTES = 16 * 1024


def checked_query(kg: KnowledgeGraph, job: QueryJob, accept: str, requested: tuple[str, ...]) -> Response:
    """Check ``job.sparql`` (as the router does for short texts), choose the
    format, and run it."""
    try:
        check_query(job.sparql, job.graphs, kg.prefixes)
        fmt = negotiate(operation(job.sparql) or "SELECT", accept, requested)
    except Refused as error:
        return text(400, str(error))
    except NotAcceptable as error:
        return text(406, str(error))
    return run_query(kg, replace(job, fmt=fmt))
