"""The endpoint's policy over the one analyser's reading of a query
(:func:`ntx_graph.sparql_text.analyse`): read-only and no outbound connection.

The endpoint answers only from its own store: updates are refused, and so is
anything that names a graph the store does not hold (SERVICE, FROM, FROM
NAMED, GRAPH <iri>, default-graph-uri, named-graph-uri), since another
endpoint would fetch it. Text the analyser cannot read is refused too.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ntx_graph.errors import NtxError, QueryRefused
from ntx_graph.sparql_text import NO_OUTBOUND as _NO_OUTBOUND
from ntx_graph.sparql_text import QueryInfo, analyse

NO_OUTBOUND = "the endpoint makes no outbound connections"
READ_ONLY = "SPARQL Update is refused: this endpoint is read-only"


class Refused(NtxError):
    """The request would change the graph or reach outside it."""


def _graph_name(written: str, declared: Mapping[str, str], prefixes: Mapping[str, str]) -> str:
    if written.startswith("<"):
        return written[1:-1]
    prefix, _, local = written.partition(":")
    namespace = declared.get(prefix, prefixes.get(prefix))
    return namespace + local if namespace is not None else written


def _absent(name: str, graphs: Collection[str]) -> str:
    held = "it holds only the default graph" if not graphs else f"its named graphs are {', '.join(sorted(graphs))}"
    return f"<{name}> is not a graph in the endpoint's dataset ({held})"


def check_query(text: str, graphs: Collection[str], prefixes: Mapping[str, str], *,
                allow_federation: bool = False) -> QueryInfo:
    """The analysis of ``text``; Refused if it is an update, uses SERVICE,
    names (in FROM, FROM NAMED or GRAPH) a graph that is not in ``graphs``,
    or cannot be read as a query (QuerySyntaxError). With
    ``allow_federation`` (``serve --allow-federation``), SERVICE and FROM are
    let through; updates never are."""
    try:
        info = analyse(text)
    except QueryRefused as error:
        raise Refused(str(error).replace(_NO_OUTBOUND, NO_OUTBOUND)) from None
    if info.update:
        raise Refused(f"{READ_ONLY} ({info.operation} found)" if info.operation == "LOAD" else READ_ONLY)
    if allow_federation:
        return info
    if "SERVICE" in info.federation:  # in either reading, as the CLI and the API refuse it
        raise Refused(f"SERVICE is refused: {NO_OUTBOUND}")
    named = len(info.from_graphs) + len(info.from_named)
    if sum(k.startswith("FROM") for k in info.federation) > named:  # found only with escapes expanded
        raise Refused(f"FROM is refused: {NO_OUTBOUND}")
    for keyword, written in (*(("FROM", g) for g in info.from_graphs), *(("FROM NAMED", g) for g in info.from_named),
                             *(("GRAPH", g) for g in info.graphs)):
        is_iri = written.startswith("<") or ":" in written
        if written.startswith(("?", "$")) or (keyword == "GRAPH" and not is_iri):
            continue
        if not is_iri:
            raise Refused(f"{keyword} is refused: {NO_OUTBOUND}")
        name = _graph_name(written, info.prefixes, prefixes)
        if name not in graphs:
            raise Refused(f"{keyword} <{name}> is refused: {NO_OUTBOUND}, and {_absent(name, graphs)}")
    return info


def check_dataset(default_graphs: Sequence[str], named_graphs: Sequence[str], graphs: Collection[str]) -> None:
    """Raise Refused if a default-graph-uri or named-graph-uri parameter names
    a graph that is not in ``graphs``."""
    for parameter, names in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for name in names:
            if name not in graphs:
                raise Refused(f"{parameter} <{name}> is refused: {NO_OUTBOUND}, and {_absent(name, graphs)}")
