"""Query text analysed in the worker.

The lexical checks cost CPU in proportion to the text (about 2.6 s per MB of
dense SPARQL here, 2.6 ms for the flagship query's 3 kB). The HTTP process
does none of it: the worker that runs a query also analyses it, inside the
time limit and the client's share of workers, so a client sending huge texts
spends its own share, not the server's CPU, and the one HTTP process is free
for HTTP.
"""

from __future__ import annotations

from dataclasses import replace

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.guard import Refused, check_query
from ntx_graph.server.messages import Response, text
from ntx_graph.server.negotiation import NotAcceptable, negotiate
from ntx_graph.server.tasks import QueryJob, run_query
from ntx_graph.sparql_text import operation


def checked_query(kg: KnowledgeGraph, job: QueryJob, accept: str, requested: tuple[str, ...]) -> Response:
    """Check ``job.sparql`` (read-only, no outbound), choose the format from
    its form, and run it."""
    try:
        check_query(job.sparql, job.graphs, kg.prefixes)
        fmt = negotiate(operation(job.sparql) or "SELECT", accept, requested)
    except Refused as error:
        return text(400, str(error))
    except NotAcceptable as error:
        return text(406, str(error))
    return run_query(kg, replace(job, fmt=fmt))
