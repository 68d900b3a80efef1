"""Every saved query gives the same answers on every engine: the embedded
Oxigraph (the reference) against rdflib, a persistent on-disk store opened
read-only, an Oxigraph server and a private Virtuoso, one parametrised test
per pair.

The graphs: the bundled graph; a generated graph (the bundled graph plus 100
synthetic drugs, about 14,000 triples) on which each query with a ``drug``
parameter is also asked about a synthetic drug that has what the query looks
for, so that answers are not empty and the comparison means something; and,
for the persistent store only, a large generated graph (1,000 drugs, about
115,000 triples).

Answers are compared with the suite's normaliser (servers.assert_same_answer:
SELECT as multisets of rows of values with numbers compared numerically and
``xsd:string`` equal to a plain literal, the ORDER BY columns in the same
sequence; ASK by value; CONSTRUCT by isomorphism); rdflib and the persistent
store must also project the variables in the same order. Each graph is pushed
to each server once, into a named graph of its own (the bundled graph by
``ntx-graph push``), and the remote queries run through
``RemoteEndpoint(graph=...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest

from ntx_graph.catalog import get_saved_query, saved_queries
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.persistent import build_store, open_graph
from ntx_graph.push import push_graph
from ntx_graph.remote import RemoteEndpoint
from ntx_graph.results import QueryResult
from servers import EXTRA_CASES, PASSWORD_VAR, Server, assert_same_answer, cli, order_keys, value
from support.generate import synthetic_drug, write_generated

NTX = "https://w3id.org/ntx-graph/def/"
XSD = "http://www.w3.org/2001/XMLSchema#"
GRAPH_IRI = "https://w3id.org/ntx-graph/test/agreement/"
GENERATED_DRUGS = 100
LARGE_DRUGS = 1000
SEED = 11

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
#: Non-default values: servers.EXTRA_CASES, and the quote lookup in other letter case (matching ignores case).
EXTRA: list[tuple[str, dict[str, str]]] = [*EXTRA_CASES, ("quote-lookup", {"text": "IMMEDIATELY"})]


def _cases(graph: str) -> list[tuple[str, Params]]:
    """(query name, parameters) to run on ``graph``."""
    cases: list[tuple[str, Params]] = []
    for query in saved_queries():
        cases.append((query.name, ()))
        extras = [params for name, params in EXTRA if name == query.name]
        cases += [(query.name, tuple(sorted(params.items()))) for params in extras]
        if graph != "bundled" and query.parameter("drug") is not None:
            drug = _has(FEATURE.get(query.name, lambda ts: True))
            for params in extras or [{}]:
                cases.append((query.name, tuple(sorted({**params, "drug": drug}.items()))))
    return cases


def _case_id(graph: str, name: str, params: Params) -> str:
    if not params:
        return f"{graph}-{name}"
    return f"{graph}-{name}-" + "-".join("synthetic" if k == "drug" else v.rsplit("/", 1)[-1].split(":")[-1]
                                         for k, v in params)


def _parametrize(*graphs: str) -> pytest.MarkDecorator:
    cases = [(graph, name, params) for graph in graphs for name, params in _cases(graph)]
    return pytest.mark.parametrize(("graph", "name", "params"), cases, ids=[_case_id(*case) for case in cases])


# -- the graphs and the engines -----------------------------------------------------------


@dataclass
class Graphs:
    embedded: dict[str, KnowledgeGraph]
    persistent: dict[str, KnowledgeGraph]
    answers: dict[tuple[str, str, Params], QueryResult] = field(default_factory=dict)

    def reference(self, graph: str, name: str, params: Params) -> QueryResult:
        """The embedded Oxigraph engine's answer, computed once per case."""
        key = (graph, name, params)
        if key not in self.answers:
            self.answers[key] = self.embedded[graph].run(name, dict(params))
        return self.answers[key]


def _generate(folder: Path, drugs: int) -> tuple[KnowledgeGraph, KnowledgeGraph]:
    """The bundled graph with ``drugs`` synthetic drugs, in memory and in a persistent store."""
    data = folder / "generated.nt"
    write_generated(data, drugs, seed=SEED)
    build_store([data], folder / "store")
    return KnowledgeGraph.open([data], validate=False), open_graph(folder / "store")


@pytest.fixture(scope="module")
def graphs(kg: KnowledgeGraph, tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    generated, persistent = _generate(tmp_path_factory.mktemp("generated"), GENERATED_DRUGS)
    return Graphs({"bundled": kg, "generated": generated}, {"generated": persistent})


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Graphs:
    embedded, persistent = _generate(tmp_path_factory.mktemp("large"), LARGE_DRUGS)
    return Graphs({"large": embedded}, {"large": persistent})


def _pushed(server: Server, graphs: Graphs) -> dict[str, RemoteEndpoint]:
    """The bundled graph pushed by the command line (as a user does), the generated one by push_graph."""
    auth = [] if server.user is None else ["--user", server.user, "--password-env", PASSWORD_VAR, "--auth", server.auth]
    done = cli("push", "--endpoint", server.store_url, "--graph", GRAPH_IRI + "bundled", *auth,
               env={PASSWORD_VAR: server.password or ""})
    assert done.returncode == 0, done.stderr
    generated = graphs.embedded["generated"]
    push_graph(generated.export("ntriples"), endpoint=server.store_url, graph=GRAPH_IRI + "generated",
               user=server.user, password=server.password, auth=server.auth)
    return {name: RemoteEndpoint(server.query_url, graph=GRAPH_IRI + name, prefixes=graphs.embedded[name].prefixes,
                                 timeout=120) for name in ("bundled", "generated")}


@pytest.fixture(scope="module")
def oxigraph_endpoints(oxigraph: Server, graphs: Graphs) -> Iterator[dict[str, RemoteEndpoint]]:
    yield _pushed(oxigraph, graphs)


@pytest.fixture(scope="module")
def virtuoso_endpoints(virtuoso: Server, graphs: Graphs) -> Iterator[dict[str, RemoteEndpoint]]:
    yield _pushed(virtuoso, graphs)


def _compare(graphs: Graphs, graph: str, name: str, params: Params, answer: QueryResult, engine: str, *,
             same_projection: bool) -> None:
    expected = graphs.reference(graph, name, params)
    what = f"{name} {dict(params)} on the {graph} graph, {engine}"
    # else agreement would prove little: on the bundled graph every SELECT and CONSTRUCT finds something, and
    # on a generated graph every query with values chosen for it (a synthetic drug that has what it asks about)
    if graph == "bundled" and expected.kind != "ask":
        assert len(expected) > 0, f"{what}: the reference finds nothing"
    elif graph != "bundled" and params:
        assert expected.boolean is True if expected.kind == "ask" else len(expected) > 0, \
            f"{what}: the reference finds nothing"
    assert_same_answer(answer, expected, what, order_keys(get_saved_query(name).text))
    if same_projection and expected.kind == "select":
        assert answer.variables == expected.variables, what


# -- one test per pair of engines ---------------------------------------------------------


@_parametrize("bundled", "generated")
def test_rdflib_agrees_with_oxigraph(graphs: Graphs, graph: str, name: str, params: Params) -> None:
    answer = graphs.embedded[graph].run(name, dict(params), engine="rdflib")
    _compare(graphs, graph, name, params, answer, "rdflib", same_projection=True)


@_parametrize("generated", "large")
def test_a_persistent_store_agrees_with_the_embedded_store(request: pytest.FixtureRequest, graph: str, name: str,
                                                           params: Params) -> None:
    each: Graphs = request.getfixturevalue("large" if graph == "large" else "graphs")
    answer = each.persistent[graph].run(name, dict(params))
    _compare(each, graph, name, params, answer, "persistent store", same_projection=True)


@pytest.mark.server
@_parametrize("bundled", "generated")
def test_an_oxigraph_server_agrees_with_the_embedded_engine(oxigraph_endpoints: dict[str, RemoteEndpoint],
                                                            graphs: Graphs, graph: str, name: str,
                                                            params: Params) -> None:
    answer = oxigraph_endpoints[graph].run(get_saved_query(name), dict(params))
    _compare(graphs, graph, name, params, answer, "Oxigraph server", same_projection=False)


@pytest.mark.server
@_parametrize("bundled", "generated")
def test_virtuoso_agrees_with_the_embedded_engine(virtuoso_endpoints: dict[str, RemoteEndpoint], graphs: Graphs,
                                                  graph: str, name: str, params: Params) -> None:
    answer = virtuoso_endpoints[graph].run(get_saved_query(name), dict(params))
    _compare(graphs, graph, name, params, answer, "Virtuoso", same_projection=False)


# -- what makes the comparisons mean something ------------------------------------------------


def test_the_graphs_are_as_large_as_said(graphs: Graphs, large: Graphs) -> None:
    assert 12_000 <= len(graphs.embedded["generated"]) <= 16_000
    assert len(graphs.embedded["generated"]) > 5 * len(graphs.embedded["bundled"])
    assert 100_000 <= len(large.embedded["large"]) <= 130_000
    for each in (graphs, large):
        for name, persistent in each.persistent.items():
            assert len(persistent) == len(each.embedded[name]), name


def test_unparameterised_queries_see_the_generated_drugs(graphs: Graphs) -> None:
    rows = graphs.embedded["generated"].run("claims-with-sources").to_python()
    assert sum(1 for row in rows if "/synthetic/" in str(row["claim"])) > 5 * GENERATED_DRUGS
    found = graphs.persistent["generated"].run("quote-lookup", {"text": "craving"}).to_python()
    assert any("/synthetic/" in str(row["claim"]) for row in found)


@pytest.mark.server
def test_pushed_graphs_hold_every_triple(oxigraph_endpoints: dict[str, RemoteEndpoint],
                                         virtuoso_endpoints: dict[str, RemoteEndpoint], graphs: Graphs) -> None:
    for endpoints in (oxigraph_endpoints, virtuoso_endpoints):
        for graph, endpoint in endpoints.items():
            cell = endpoint.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").rows[0][0]
            assert isinstance(cell, ox.Literal) and int(cell.value) == len(graphs.embedded[graph]), (endpoint.url,
                                                                                                    graph)


def test_every_saved_query_is_compared_on_every_graph() -> None:
    for graph in ("bundled", "generated", "large"):
        assert {q.name for q in saved_queries()} <= {name for name, _ in _cases(graph)}, graph
        assert {name for name, params in _cases(graph) if params} >= {name for name, _ in EXTRA}, graph


def test_case_ids_are_unique() -> None:
    ids = [_case_id(graph, *case) for graph in ("bundled", "generated") for case in _cases(graph)]
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1][:3]


def test_the_generated_drugs_differ_per_feature() -> None:
    """The synthetic drugs picked per query are real generated drugs."""
    drugs = {_has(feature) for feature in FEATURE.values()}
    assert all(d.startswith("https://w3id.org/ntx-graph/id/synthetic/drug/") for d in drugs)


def test_the_order_keys_are_found() -> None:
    assert order_keys("SELECT ?a WHERE { ?a ?b ?c } ORDER BY DESC(?b) ?a LIMIT 3") == ["b", "a"]
    assert order_keys("SELECT ?a WHERE { { SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?c } }") == []
    assert order_keys("ASK { ?a ?b ?c }") == []


def test_values_compare_numbers_numerically() -> None:
    integer = ox.NamedNode(XSD + "integer")
    decimal = ox.NamedNode(XSD + "decimal")
    assert value(ox.Literal("01", datatype=integer)) == value(ox.Literal("1.0", datatype=decimal))
    assert value(ox.Literal("1")) != value(ox.Literal("1", datatype=integer))
    assert value(ox.Literal("true", datatype=ox.NamedNode(XSD + "boolean"))) == ("boolean", True)
