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
from ntx_graph.server.messages import Response
from ntx_graph.server.negotiation import negotiate
from ntx_graph.server.paging import Page, paged_query
from ntx_graph.server.tasks import QueryJob


def checked_query(kg: KnowledgeGraph, job: QueryJob, accept: str, requested: tuple[str, ...],
                  page: Page | None = None) -> Response:
    """Check the text (read-only, no outbound: the endpoint's guard over the
    one analyser; Refused is answered 400), choose the format from its form
    (NotAcceptable: 406), run it, and answer the rows of ``page`` if given."""
    info = check_query(job.sparql, job.graphs, kg.prefixes, allow_federation=job.allow_federation)
    return paged_query(kg, job, page, negotiate(info.form, accept, requested))
