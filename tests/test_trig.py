"""TriG export: a dataset with the facts and the ontology in named graphs of their own."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from ntx_graph import resources
from ntx_graph.cli import main
from ntx_graph.errors import NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.trig import DATA_GRAPH, ONTOLOGY_GRAPH


def dataset(data: bytes) -> dict[str, set[ox.Triple]]:
    """The graphs of a TriG document by name ("" for the default graph)."""
    out: dict[str, set[ox.Triple]] = {}
    for q in ox.parse(data, format=ox.RdfFormat.TRIG):
        name = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        out.setdefault(name, set()).add(ox.Triple(q.subject, q.predicate, q.object))
    return out


def triples(paths: list[Path]) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for path in paths for q in ox.parse(path=path)}


def test_facts_and_ontology_in_their_named_graphs() -> None:
    kg = KnowledgeGraph.open()
    graphs = dataset(kg.export("trig"))
    assert set(graphs) == {DATA_GRAPH, ONTOLOGY_GRAPH}
    assert graphs[ONTOLOGY_GRAPH] == triples(resources.ontology_files())
    assert graphs[DATA_GRAPH] == triples(resources.data_files()) - graphs[ONTOLOGY_GRAPH]
    assert graphs[DATA_GRAPH] | graphs[ONTOLOGY_GRAPH] == set(kg.triples())


def test_the_bundled_ontology_has_no_blank_nodes() -> None:
    """The ontology graph is told apart from the facts by value, which needs IRIs."""
    for t in triples(resources.ontology_files()):
        assert not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode), t


def test_without_the_ontology_only_the_facts_graph(tmp_path: Path) -> None:
    out = tmp_path / "facts.trig"
    assert main(["export", "-f", "trig", "--no-ontology", "-o", str(out)]) == 0
    graphs = dataset(out.read_bytes())
    assert set(graphs) == {DATA_GRAPH}
    assert graphs[DATA_GRAPH] == triples(resources.data_files())


def test_byte_identical_across_runs_with_sorted_prefixes() -> None:
    first = KnowledgeGraph.open().export("trig")
    assert first == KnowledgeGraph.open().export("trig")
    header = [line for line in first.decode().splitlines() if line.startswith("@prefix ")]
    assert header and header == sorted(header)


def test_trig_input_keeps_its_graph_names(tmp_path: Path) -> None:
    mine = tmp_path / "mine.trig"
    mine.write_text("""
        @prefix ex: <https://example.org/> .
        ex:loose ex:p "in the default graph" .
        ex:g1 { ex:a ex:p "in g1" . ex:b ex:p ex:c . }
        GRAPH ex:g2 { ex:a ex:p "in g2" . }
        <https://w3id.org/ntx-graph/graph> { ex:d ex:p "already in the data graph" . }
    """)
    kg = KnowledgeGraph.open([mine])
    graphs = dataset(kg.export("trig"))
    ex = "https://example.org/"
    assert set(graphs) == {DATA_GRAPH, ONTOLOGY_GRAPH, ex + "g1", ex + "g2"}
    p = ox.NamedNode(ex + "p")
    assert graphs[ex + "g1"] == {ox.Triple(ox.NamedNode(ex + "a"), p, ox.Literal("in g1")),
                                 ox.Triple(ox.NamedNode(ex + "b"), p, ox.NamedNode(ex + "c"))}
    assert graphs[ex + "g2"] == {ox.Triple(ox.NamedNode(ex + "a"), p, ox.Literal("in g2"))}
    assert ox.Triple(ox.NamedNode(ex + "loose"), p, ox.Literal("in the default graph")) in graphs[DATA_GRAPH]
    assert ox.Triple(ox.NamedNode(ex + "d"), p, ox.Literal("already in the data graph")) in graphs[DATA_GRAPH]
    assert not any(t.subject.value.startswith(ex) for t in graphs[DATA_GRAPH]  # type: ignore[union-attr]
                   if t.object in (ox.Literal("in g1"), ox.Literal("in g2")))
    assert set().union(*graphs.values()) == set(kg.triples())


def test_blank_nodes_in_a_named_graph_are_refused(tmp_path: Path) -> None:
    mine = tmp_path / "mine.nq"
    mine.write_text('_:x <https://example.org/p> "v" <https://example.org/g> .\n')
    kg = KnowledgeGraph.open([mine])
    with pytest.raises(NtxError, match="holds blank nodes"):
        kg.export("trig")
    assert kg.export("turtle")  # other formats merge the graphs as before


@pytest.mark.parametrize("base", [None, "https://example.org/base/"])
def test_relative_iris_in_named_graphs_resolve_as_they_loaded(tmp_path: Path, base: str | None) -> None:
    """The TriG export reads a TriG file's named graphs again with the base it was loaded with."""
    mine = tmp_path / "mine.trig"
    mine.write_text('<g> { <a> <https://example.org/p> "v" . }\n')
    kg = KnowledgeGraph.open([mine], validate=False, base=base)
    prefix = base or tmp_path.resolve().as_uri() + "/"
    graphs = dataset(kg.export("trig"))
    assert graphs[prefix + "g"] == {ox.Triple(ox.NamedNode(prefix + "a"), ox.NamedNode("https://example.org/p"),
                                              ox.Literal("v"))}
    assert set().union(*graphs.values()) == set(kg.triples())
