"""Every Turtle file under ontology/ and tests/fixtures/ parses the same with rdflib and pyoxigraph.

Both parsers must read the same number of triples and, after RDFC-1.0
canonicalisation of blank nodes, the same triples. The bundled files have no
blank nodes, so for them the plain N-Triples lines must be equal too.

A fixture that is deliberately not valid Turtle starts with the line
``# invalid-turtle``; both parsers must then reject it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Quad,
    RdfFormat,
    Triple,
    parse,
    serialize,
)

from ntx_graph import resources

ROOT = Path(__file__).resolve().parents[1]
TTL_FILES = sorted(resources.ontology_dir().rglob("*.ttl")) + sorted((ROOT / "tests" / "fixtures").rglob("*.ttl"))


def name(path: Path) -> str:
    for base in (resources.ontology_dir().parent, ROOT):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def with_oxigraph(path: Path) -> list[Triple]:
    return [Triple(q.subject, q.predicate, q.object)
            for q in parse(path=path, format=RdfFormat.TURTLE, base_iri=path.as_uri())]


def with_rdflib(path: Path) -> tuple[int, list[Triple]]:
    """rdflib's triple count, and its triples read back from its N-Triples output."""
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=path.as_uri())
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    return len(graph), [Triple(q.subject, q.predicate, q.object)
                        for q in parse(ntriples, format=RdfFormat.N_TRIPLES)]


def canonical(triples: list[Triple]) -> set[str]:
    dataset = Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    return {str(quad) for quad in dataset}


def ntriples_lines(triples: list[Triple]) -> set[str]:
    return {line for line in serialize(triples, format=RdfFormat.N_TRIPLES).decode().splitlines() if line}


def test_the_expected_files_are_checked() -> None:
    names = {name(path) for path in TTL_FILES}
    assert {"ontology/ntx.ttl", "ontology/scales.ttl", "ontology/naltrexone.ttl", "ontology/shapes.ttl"} <= names
    assert any(n.startswith("tests/fixtures/shapes/") for n in names)


def is_invalid_on_purpose(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return lines.readline().strip() == "# invalid-turtle"


@pytest.mark.parametrize("path", TTL_FILES, ids=name)
def test_rdflib_and_pyoxigraph_read_the_same_triples(path: Path) -> None:
    if is_invalid_on_purpose(path):
        with pytest.raises(SyntaxError):
            with_oxigraph(path)
        with pytest.raises(Exception):  # noqa: B017 - rdflib's parsers raise assorted exception types
            with_rdflib(path)
        return
    oxigraph_triples = with_oxigraph(path)
    count, rdflib_triples = with_rdflib(path)
    assert oxigraph_triples, f"{name(path)} has no triples"
    distinct = len(set(oxigraph_triples))
    assert count == distinct, f"{name(path)}: rdflib reads {count} triples, pyoxigraph {distinct}"
    only_oxigraph = canonical(oxigraph_triples) - canonical(rdflib_triples)
    only_rdflib = canonical(rdflib_triples) - canonical(oxigraph_triples)
    assert not only_oxigraph and not only_rdflib, (
        f"{name(path)}: only pyoxigraph reads {sorted(only_oxigraph)[:5]}; only rdflib reads {sorted(only_rdflib)[:5]}")


@pytest.mark.parametrize("path", resources.bundled_files(), ids=name)
def test_bundled_file_has_no_blank_nodes_and_the_same_ntriples(path: Path) -> None:
    oxigraph_triples = with_oxigraph(path)
    blank = [t for t in oxigraph_triples if isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)]
    assert not blank, f"{name(path)} has blank nodes: {blank[:3]}"
    assert ntriples_lines(oxigraph_triples) == ntriples_lines(with_rdflib(path)[1])
