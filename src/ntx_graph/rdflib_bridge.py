"""Conversions between pyoxigraph and rdflib, and the rdflib query engine.

Everything here imports rdflib, so only call it when rdflib is wanted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import rdflib
from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from rdflib.term import Identifier, Node

from ntx_graph.errors import DataError, NtxError, QuerySyntaxError
from ntx_graph.formats import is_graph_form
from ntx_graph.rdf_io import read_rdf
from ntx_graph.results import QueryResult, Term


def to_rdflib(term: Any) -> Identifier:
    """An rdflib term for a pyoxigraph term."""
    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError(f"cannot convert {term!r}")


def from_rdflib(term: Node | None) -> NamedNode | BlankNode | Literal | None:
    """A pyoxigraph term for an rdflib term (None stays None)."""
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return Literal(str(term), language=term.language)
        datatype = term.datatype or rdflib.XSD.string
        return Literal(str(term), datatype=NamedNode(str(datatype)))
    raise TypeError(f"cannot convert {term!r}")


def to_rdflib_graph(triples: Iterable[Triple], prefixes: Mapping[str, str]) -> rdflib.Graph:
    """An rdflib Graph holding ``triples``, with ``prefixes`` bound."""
    graph = rdflib.Graph()
    for prefix, namespace in prefixes.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


def read_graph(paths: Sequence[str | os.PathLike[str]], graph: rdflib.Graph | None = None, *,
               base: str | None = None) -> rdflib.Graph:
    """Files read by ntx-graph's one RDF reader (:func:`ntx_graph.rdf_io.read_rdf`:
    pyoxigraph's parsers, the same checks and messages as ``--data``, nothing
    fetched) into ``graph`` (a new one by default), with their prefixes bound."""
    graph = rdflib.Graph() if graph is None else graph
    for path in paths:
        with read_rdf(path, base=base) as rdf:
            try:
                graph.addN((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object), graph)
                           for q in rdf.quads)
            except TypeError:
                raise DataError(f"{path}: RDF 1.2 triple terms cannot be checked with rdflib") from None
            declared = rdf.prefixes
        for prefix, namespace in declared.items():
            graph.bind(prefix, namespace, override=False)
    return graph


def run_query(graph: rdflib.Graph, sparql: str, bindings: Mapping[str, Any],
              prefixes: Mapping[str, str]) -> QueryResult:
    """Run ``sparql`` with rdflib's engine, parameters bound as initBindings."""
    from rdflib.plugins.sparql import prepareQuery

    try:
        prepared = prepareQuery(sparql, initNs=dict(prefixes))
    except Exception as error:
        raise QuerySyntaxError(f"SPARQL syntax error: {str(error).splitlines()[0]}") from None
    try:
        result = graph.query(prepared, initBindings={k: to_rdflib(v) for k, v in bindings.items()})
        _ = result.bindings  # evaluate here, so that engine errors are reported as such
    except Exception as error:
        raise NtxError(f"the query failed: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                       ) from None
    if result.type == "ASK":
        return QueryResult("ask", boolean=bool(result.askAnswer), prefixes=prefixes)
    if is_graph_form(str(result.type)):
        assert result.graph is not None
        triples = [Triple(from_rdflib(s), from_rdflib(p), from_rdflib(o))  # type: ignore[arg-type]
                   for s, p, o in result.graph]
        return QueryResult("graph", triples=triples, prefixes=prefixes)
    variables = [str(v) for v in (result.vars or [])]
    rows: list[tuple[Term | None, ...]] = [
        tuple(from_rdflib(row[i]) for i in range(len(variables)))  # type: ignore[index]
        for row in result
    ]
    return QueryResult("select", variables=variables, rows=rows, prefixes=prefixes)
