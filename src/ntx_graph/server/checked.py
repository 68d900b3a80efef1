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
from ntx_graph.server.messages import Response, text
from ntx_graph.server.negotiation import NotAcceptable, negotiate
from ntx_graph.server.tasks import QueryJob, run_query
from ntx_graph.sparql_text import operation


def checked_query(kg: KnowledgeGraph, job: QueryJob, accept: str, requested: tuple[str, ...]) -> Response:
    """Choose the format from the text's form and run it; run_query checks
    the text (read-only, no outbound: ``tasks.evaluate`` calls the guard)
    before the store sees it."""
    try:
        fmt = negotiate(operation(job.sparql) or "SELECT", accept, requested)
    except NotAcceptable as error:
        return text(406, str(error))
    return run_query(kg, replace(job, fmt=fmt))
