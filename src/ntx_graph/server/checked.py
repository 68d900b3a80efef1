"""Query text analysed in the worker.

The lexical checks cost CPU in proportion to the text (about 2.6 s per MB of
dense SPARQL here, 2.6 ms for the flagship query's 3 kB). The HTTP process
does none of it: the worker that runs a query also analyses it, inside the
time limit and the client's share of workers, so a client sending huge texts
spends its own share, not the server's CPU, and the one HTTP process is free
for HTTP.
"""

from __future__ import annotations

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.guard import check_query
from ntx_graph.server.messages import Response, text
from ntx_graph.server.negotiation import NotAcceptable, negotiate
from ntx_graph.server.tasks import QueryJob, run_query


def checked_query(kg: KnowledgeGraph, job: QueryJob, accept: str, requested: tuple[str, ...]) -> Response:
    """Check the text (read-only, no outbound: the endpoint's guard over the
    one analyser), choose the format from its form, and run it."""
    # Refused is an NtxError, answered 400
    info = check_query(job.sparql, job.graphs, kg.prefixes, allow_federation=job.allow_federation)
    try:
        fmt = negotiate(info.form, accept, requested)
    except NotAcceptable as error:
        return text(406, str(error))
    return run_query(kg, job, fmt)
