"""The task of an ad-hoc query, whose text is analysed in the worker.

The lexical checks cost CPU in proportion to the text (about 2.6 s per MB of
dense SPARQL here). Done by the worker that runs the query, they are bounded
by the time limit and spend the client's own share of workers, not the CPU
of the one HTTP process.
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
