"""What the server needs to know about the graph without querying it: the
saved queries, the instances offered for ``of CLASS`` parameters, the
prefixes, the named graphs and the size. Taken once, at start-up, before any
worker is forked or any request is served."""

from __future__ import annotations

from dataclasses import dataclass

from pyoxigraph import NamedNode, QuerySolutions

from ntx_graph.catalog import SavedQuery, saved_queries
from ntx_graph.graph import KnowledgeGraph, bind_class
from ntx_graph.results import compact
from ntx_graph.server.entity import Value, labels_of

#: The most instances listed for an ``of CLASS`` parameter.
MAX_CHOICES = 300


@dataclass(frozen=True)
class Snapshot:
    """The server's read-only view of the graph's metadata."""

    queries: dict[str, SavedQuery]
    choices: dict[str, tuple[Value, ...]]  # the allowed IRIs of each ``of CLASS``, with labels
    prefixes: dict[str, str]
    graphs: frozenset[str]
    triples: int

    @classmethod
    def of(cls, kg: KnowledgeGraph) -> Snapshot:
        """Take the snapshot (queries the store: call before serving)."""
        queries = {q.name: q for q in saved_queries()}
        classes = {p.of_class for q in queries.values() for p in q.parameters if p.of_class}
        choices = {name: _instances(kg, name) for name in sorted(c for c in classes if c)}
        graphs = frozenset(g.value for g in kg.store.named_graphs() if isinstance(g, NamedNode))
        return cls(queries, choices, dict(kg.prefixes), graphs, len(kg))


def _instances(kg: KnowledgeGraph, class_name: str) -> tuple[Value, ...]:
    try:
        cls_iri = bind_class(class_name, kg.prefixes)
    except Exception:
        return ()
    answer = kg.store.query(
        f"SELECT DISTINCT ?v WHERE {{ ?v a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* {cls_iri} }} "
        f"ORDER BY ?v LIMIT {MAX_CHOICES + 1}")
    assert isinstance(answer, QuerySolutions)
    iris = [row["v"].value for row in answer if isinstance(row["v"], NamedNode)]
    if len(iris) > MAX_CHOICES:
        return ()
    labels = labels_of(kg, iris)
    found = [Value("iri", iri, labels.get(iri, ""), compact(iri, kg.prefixes)) for iri in iris]
    return tuple(sorted(found, key=lambda c: (c.label or c.short).lower()))
