"""The graph as a TriG dataset: the ontology and the facts in named graphs of their own.

The ontology and its value scales go to :data:`ONTOLOGY_GRAPH`, every other
triple to :data:`DATA_GRAPH` (the graph name the README uses for triplestores).
A TriG or N-Quads ``--data`` file keeps its named graphs (its default graph goes
to :data:`DATA_GRAPH`); blank nodes in a named graph are refused, as they could
not be told apart from the file's other blank nodes once loaded. The output is
sorted and byte-identical across runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, RdfFormat, Triple, parse, serialize

from ntx_graph import resources
from ntx_graph.errors import NtxError

if TYPE_CHECKING:
    from ntx_graph.graph import KnowledgeGraph

#: The named graph of the facts (bundled and the user's).
DATA_GRAPH = "https://w3id.org/ntx-graph/graph"
#: The named graph of the ontology and its value scales.
ONTOLOGY_GRAPH = "https://w3id.org/ntx-graph/graph/ontology"


def export_trig(kg: KnowledgeGraph) -> bytes:
    """``kg`` as TriG with the named graphs above, sorted, prefixes kept."""
    from ntx_graph.rdf_io import sorted_triples

    files = [Path(f) for f in kg.files]
    ontology = _ontology_triples(files)
    named = _named_graphs(files, kg.base)
    claimed = set(ontology).union(*named.values())
    data = (t for t in (Triple(q.subject, q.predicate, q.object) for q in kg.store) if t not in claimed)
    graphs = {DATA_GRAPH: sorted_triples(data), ONTOLOGY_GRAPH: sorted_triples(ontology),
              **{name: sorted_triples(triples) for name, triples in named.items()}}  # never the two above
    return serialize_trig([Quad(t.subject, t.predicate, t.object, NamedNode(name))
                           for name in sorted(graphs) for t in graphs[name]], kg.prefixes)


def serialize_trig(quads: Sequence[Quad], prefixes: Mapping[str, str]) -> bytes:
    """``quads`` as TriG, in their order, with the ``prefixes`` whose namespace
    begins some IRI of them, the ``@prefix`` lines in name order."""
    iris: set[str] = set()
    for quad in quads:
        iris.update(term.value for term in (quad.subject, quad.predicate, quad.object, quad.graph_name)
                    if isinstance(term, NamedNode))
        if isinstance(quad.object, Literal):
            iris.add(quad.object.datatype.value)
    used = {p: ns for p, ns in sorted(prefixes.items()) if p and any(iri.startswith(ns) for iri in iris)}
    lines = (serialize(quads, format=RdfFormat.TRIG, prefixes=used) or b"").split(b"\n", len(used))
    header = lines[:len(used)]  # one @prefix line per prefix given, in the serializer's own order
    assert all(line.startswith(b"@prefix ") for line in header)
    return b"\n".join(sorted(header) + lines[len(used):])


def _ontology_triples(files: Sequence[Path]) -> list[Triple]:
    """The triples of the bundled ontology files among ``files``."""
    loaded = {f.resolve() for f in files}
    out: list[Triple] = []
    for path in resources.ontology_files():
        if path.resolve() in loaded:
            out.extend(Triple(q.subject, q.predicate, q.object) for q in parse(path=path, format=RdfFormat.TURTLE)
                       if not isinstance(q.subject, BlankNode) and not isinstance(q.object, BlankNode))
    return out


def _named_graphs(files: Sequence[Path], base: str | None) -> dict[str, list[Triple]]:
    """The named graphs of the TriG and N-Quads files among ``files``, read again by the one RDF reader."""
    from ntx_graph.rdf_io import RDF_FORMATS, format_of, read_rdf

    out: dict[str, list[Triple]] = {}
    for path in files:
        if RDF_FORMATS[format_of(path)] not in (RdfFormat.TRIG, RdfFormat.N_QUADS):
            continue
        with read_rdf(path, base=base) as rdf:
            quads = list(rdf.parser)  # the parser's own quads, graph names kept
        for quad in quads:
            if isinstance(quad.graph_name, DefaultGraph):
                continue
            if isinstance(quad.graph_name, BlankNode):
                raise NtxError(f"{path}: a named graph is a blank node; TriG export keeps graph names and needs "
                               "IRIs (export another format to merge the graphs)")
            if isinstance(quad.subject, BlankNode) or isinstance(quad.object, BlankNode):
                raise NtxError(f"{path}: the named graph <{quad.graph_name.value}> holds blank nodes, which TriG "
                               "export cannot keep apart; give them IRIs, or export another format to merge the "
                               "graphs")
            if quad.graph_name.value in (DATA_GRAPH, ONTOLOGY_GRAPH):
                continue  # already the graph it goes to
            out.setdefault(quad.graph_name.value, []).append(Triple(quad.subject, quad.predicate, quad.object))
    return out
