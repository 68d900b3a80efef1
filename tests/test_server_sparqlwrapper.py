"""SPARQLWrapper, a common SPARQL client, against the live server: its
answers equal the embedded engine's."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import rdflib
from rdflib.compare import isomorphic
from SPARQLWrapper import GET, JSON, JSONLD, POST, RDFXML, TURTLE, SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server import Limits, make_server

# rdflib's JSON-LD parser (used by SPARQLWrapper) warns about its own internals
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

SELECT = """PREFIX ntx: <https://w3id.org/ntx-graph/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?indication ?label WHERE { ?indication a ntx:Indication ; rdfs:label ?label } ORDER BY ?indication"""
ASK = "ASK { <https://w3id.org/ntx-graph/id/drug/naltrexone> ?p ?o }"
CONSTRUCT = """PREFIX ntx: <https://w3id.org/ntx-graph/def/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT { ?i rdfs:label ?l ; ntx:condition ?c } WHERE { ?i a ntx:Indication ; rdfs:label ?l ; ntx:condition ?c }"""


@pytest.fixture(scope="module")
def endpoint(kg: KnowledgeGraph) -> Iterator[str]:
    server = make_server(kg, "127.0.0.1", 0, Limits(timeout=5, workers=2))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.url + "sparql"
    server.shutdown()
    thread.join(10)


def client(endpoint: str, query: str, fmt: str, method: str = GET) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    sparql.setMethod(method)
    return sparql


@pytest.mark.parametrize("method", [GET, POST])
def test_select_json(endpoint: str, kg: KnowledgeGraph, method: str) -> None:
    answer = client(endpoint, SELECT, JSON, method).queryAndConvert()
    assert isinstance(answer, dict)
    assert answer["head"]["vars"] == ["indication", "label"]
    got = [(b["indication"]["value"], b["label"]["value"], b["label"].get("xml:lang"))
           for b in answer["results"]["bindings"]]
    expected = [(row[0].value, row[1].value, row[1].language) for row in kg.query(SELECT).rows]  # type: ignore[union-attr]
    assert got == expected and got


def test_ask(endpoint: str, kg: KnowledgeGraph) -> None:
    answer = client(endpoint, ASK, JSON).queryAndConvert()
    assert isinstance(answer, dict)
    assert answer["boolean"] is kg.query(ASK).boolean is True


@pytest.mark.parametrize("fmt", [TURTLE, RDFXML, JSONLD])
def test_construct_to_rdflib(endpoint: str, kg: KnowledgeGraph, fmt: str) -> None:
    answer = client(endpoint, CONSTRUCT, fmt).queryAndConvert()
    # SPARQLWrapper makes an rdflib graph of RDF/XML and JSON-LD, and returns Turtle as bytes
    graph = rdflib.Graph().parse(data=answer, format="turtle") if isinstance(answer, bytes) else answer
    expected = kg.query(CONSTRUCT).to_rdflib()
    assert len(graph) == len(expected) > 0
    assert isomorphic(graph, expected)


def test_malformed_query_is_reported(endpoint: str) -> None:
    with pytest.raises(QueryBadFormed, match="line 1, column"):
        client(endpoint, "SELECT ?s WHERE { ?s ?p }", JSON).queryAndConvert()
