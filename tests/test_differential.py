"""Differential test: every saved query gives the same answers on four engines,
the embedded Oxigraph (the reference), rdflib, an Oxigraph server and a
private Virtuoso, on the bundled graph and on a larger generated graph (the
bundled graph plus synthetic drugs, about 20,000 triples).

Each graph is pushed to each server once, into its own named graph, and the
remote queries run through ``RemoteEndpoint(graph=...)``. Answers are compared
with the suite's normaliser (servers.assert_same_answer: SELECT as multisets of
rows of values with numbers compared numerically and ``xsd:string`` equal to a
plain literal, the ORDER BY columns in the same sequence; ASK by value;
CONSTRUCT by isomorphism).

On the generated graph each query with a ``drug`` parameter is also asked
about a synthetic drug that has what the query looks for, so that answers are
not empty and the comparison means something.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

import pyoxigraph as ox
import pytest

from ntx_graph.catalog import get_saved_query, saved_queries
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.push import push_graph
from ntx_graph.remote import RemoteEndpoint
from ntx_graph.results import QueryResult
from servers import EXTRA_CASES, Server, assert_same_answer, order_keys, oxigraph_server, virtuoso_server
from support.generate import synthetic_drug, write_generated

pytestmark = [pytest.mark.server, pytest.mark.slow]

NTX = "https://w3id.org/ntx-graph/def/"
GRAPH_IRI = "https://w3id.org/ntx-graph/test/differential/"
#: Synthetic drugs next to the bundled graph: about 20,000 triples in all.
GENERATED_DRUGS = 170
SEED = 11
GRAPHS = ("bundled", "generated")
ENGINES = ("rdflib", "oxigraph-server", "virtuoso")

Params = tuple[tuple[str, str], ...]


def _has(predicate: Callable[[list[ox.Triple]], bool]) -> str:
    """The IRI of the first generated drug whose triples satisfy ``predicate``."""
    for index in range(GENERATED_DRUGS):
        drug = synthetic_drug(index, SEED)
        if predicate(drug.triples):
            return drug.iri.value
    raise AssertionError("no generated drug has the feature")


def _typed(name: str) -> Callable[[list[ox.Triple]], bool]:
    return lambda triples: any(t.object == ox.NamedNode(NTX + name) for t in triples)


def _object_ends(suffix: str) -> Callable[[list[ox.Triple]], bool]:
    return lambda triples: any(t.object.value.endswith(suffix) for t in triples)


#: For each query with a ``drug`` parameter, what its synthetic drug must have.
FEATURE = {
    "is-narcotic": lambda ts: any(t.predicate.value == NTX + "isNarcotic" and t.object.value == "true" for t in ts),
    "liver-damage-warning-signs": _typed("WarningSign"),
    "contraindications-and-precautions": _typed("Contraindication"),
    "treatment-duration": _typed("TreatmentDuration"),
    "formulations-and-dosing": _typed("Regimen"),
    "off-label-uses-lacking-evidence": _object_ends("/no-evidence-cited"),
    "side-effects-needing-immediate-attention": _object_ends("frequency/rare"),
    "side-effects-by-frequency": _object_ends("frequency/rare"),
    "suggested-claims": lambda ts: any(t.predicate.value == NTX + "modalityQuote" for t in ts),
}


def _cases(graph: str) -> list[tuple[str, Params]]:
    """(query name, parameters) to run on ``graph``."""
    cases: list[tuple[str, Params]] = []
    extra = dict(EXTRA_CASES)
    for query in saved_queries():
        cases.append((query.name, ()))
        if query.name in extra:
            cases.append((query.name, tuple(sorted(extra[query.name].items()))))
        if graph == "generated" and query.parameter("drug") is not None:
            drug = _has(FEATURE.get(query.name, lambda ts: True))
            params = {**extra.get(query.name, {}), "drug": drug}
            cases.append((query.name, tuple(sorted(params.items()))))
    return cases


def _case_id(name: str, params: Params) -> str:
    if not params:
        return name
    return name + "-" + "-".join("synthetic" if k == "drug" else v.rsplit("/", 1)[-1].split(":")[-1] for k, v in params)


CASES = [(graph, name, params, engine) for graph in GRAPHS for name, params in _cases(graph) for engine in ENGINES]
CASE_IDS = [f"{graph}-{_case_id(name, params)}-{engine}" for graph, name, params, engine in CASES]


# -- the graphs and the engines -----------------------------------------------------------


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KnowledgeGraph]:
    data = tmp_path_factory.mktemp("differential") / "generated.nt"
    write_generated(data, GENERATED_DRUGS, seed=SEED)
    return {"bundled": KnowledgeGraph.open(), "generated": KnowledgeGraph.open([data], validate=False)}


def _pushed(server: Server, graphs: dict[str, KnowledgeGraph]) -> dict[str, RemoteEndpoint]:
    endpoints = {}
    for name, kg in graphs.items():
        iri = GRAPH_IRI + name
        push_graph(kg.export("ntriples"), endpoint=server.store_url, graph=iri, user=server.user,
                   password=server.password, auth=server.auth)
        endpoints[name] = RemoteEndpoint(server.query_url, graph=iri, prefixes=kg.prefixes, timeout=120)
    return endpoints


@pytest.fixture(scope="module")
def oxigraph_endpoints(tmp_path_factory: pytest.TempPathFactory,
                       graphs: dict[str, KnowledgeGraph]) -> Iterator[dict[str, RemoteEndpoint]]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield _pushed(server, graphs)


@pytest.fixture(scope="module")
def virtuoso_endpoints(tmp_path_factory: pytest.TempPathFactory,
                       graphs: dict[str, KnowledgeGraph]) -> Iterator[dict[str, RemoteEndpoint]]:
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        yield _pushed(server, graphs)


@pytest.fixture(scope="module")
def reference(graphs: dict[str, KnowledgeGraph]) -> Callable[[str, str, Params], QueryResult]:
    """The embedded Oxigraph engine's answer (computed once per case)."""

    @cache
    def answer(graph: str, name: str, params: Params) -> QueryResult:
        return graphs[graph].run(name, dict(params))

    return answer


def test_the_generated_graph_is_about_twenty_thousand_triples(graphs: dict[str, KnowledgeGraph]) -> None:
    assert 18_000 <= len(graphs["generated"]) <= 25_000
    assert len(graphs["generated"]) > 8 * len(graphs["bundled"])


def test_every_saved_query_is_compared_on_both_graphs() -> None:
    for graph in GRAPHS:
        assert {q.name for q in saved_queries()} <= {name for g, name, _, _ in CASES if g == graph}


@pytest.mark.parametrize(("graph", "name", "params", "engine"), CASES, ids=CASE_IDS)
def test_engines_agree(request: pytest.FixtureRequest, graphs: dict[str, KnowledgeGraph],
                       reference: Callable[[str, str, Params], QueryResult], graph: str, name: str, params: Params,
                       engine: str) -> None:
    saved = get_saved_query(name)
    expected = reference(graph, name, params)
    if any(k == "drug" for k, _ in params):
        # a synthetic drug chosen for having what the query asks about
        assert (expected.boolean is True) if expected.kind == "ask" else len(expected) > 0, \
            f"{name} {dict(params)} finds nothing on the generated graph, so agreement would prove little"
    if engine == "rdflib":
        answer = graphs[graph].run(name, dict(params), engine="rdflib")
    else:
        endpoints = request.getfixturevalue("oxigraph_endpoints" if engine == "oxigraph-server"
                                            else "virtuoso_endpoints")
        answer = endpoints[graph].run(saved, dict(params))
    assert_same_answer(answer, expected, f"{name} {dict(params)} on the {graph} graph, {engine}",
                       order_keys(saved.text))


def test_pushed_graphs_hold_every_triple(oxigraph_endpoints: dict[str, RemoteEndpoint],
                                         virtuoso_endpoints: dict[str, RemoteEndpoint],
                                         graphs: dict[str, KnowledgeGraph]) -> None:
    for endpoints in (oxigraph_endpoints, virtuoso_endpoints):
        for graph, endpoint in endpoints.items():
            cell = endpoint.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
            assert isinstance(cell, ox.Literal) and int(cell.value) == len(graphs[graph]), (endpoint.url, graph)


def test_case_ids_are_unique() -> None:
    assert len(set(CASE_IDS)) == len(CASE_IDS), [i for i in CASE_IDS if CASE_IDS.count(i) > 1][:3]


def test_the_generated_drugs_differ_per_feature() -> None:
    """The synthetic drugs picked per query are real generated drugs."""
    drugs = {_has(feature) for feature in FEATURE.values()}
    assert all(d.startswith("https://w3id.org/ntx-graph/id/synthetic/drug/") for d in drugs)
