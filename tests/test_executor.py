"""One executor (KnowledgeGraph.query) behind the CLI, the API and the
endpoint's workers; the policy lives in the API; internal errors reach no
HTTP client."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from ntx_graph.catalog import get_saved_query
from ntx_graph.errors import NtxError, QueryRefused, QuerySyntaxError, TooManyResults, ValidationFailed
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.params import bind_values
from ntx_graph.server.limits import Limits
from ntx_graph.server.messages import Request
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.tasks import QueryJob, execute, run_query
from ntx_graph.server.workers import InlineExecutor

FIXTURES = Path(__file__).parent / "fixtures"
NALTREXONE = "https://w3id.org/ntx-graph/id/drug/naltrexone"


@pytest.fixture(scope="module")
def router(kg: KnowledgeGraph) -> Router:
    return Router(Snapshot.of(kg), Limits(max_rows=50), InlineExecutor(kg), host="example.test")


def test_the_workers_run_queries_through_the_one_executor(kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    real = KnowledgeGraph.query

    def spy(self: KnowledgeGraph, sparql: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(self, sparql, *args, **kwargs)

    monkeypatch.setattr(KnowledgeGraph, "query", spy)
    assert run_query(kg, QueryJob("json", 10, sparql="ASK { ?s ?p ?o }")).status == 200
    assert run_query(kg, QueryJob("json", 10, saved="is-narcotic")).status == 200
    assert [c["max_rows"] for c in calls] == [10, 10]


def test_parameters_are_one_values_block_on_every_engine(kg: KnowledgeGraph) -> None:
    saved = get_saved_query("primary-uses")
    bindings = kg.bind(saved, {})
    text = bind_values(saved.text, bindings)
    assert f"VALUES (?drug) {{ (<{NALTREXONE}>) }}" in text
    for engine in ("oxigraph", "rdflib"):
        assert kg.run(saved, engine=engine).to_python() == kg.query(text, engine=engine).to_python()


def test_a_select_without_its_parameter_projected_is_bound(kg: KnowledgeGraph) -> None:
    """Oxigraph's substitutions bound only projected variables ("must also
    appear in the SELECT clause"); a VALUES block binds any."""
    from pyoxigraph import NamedNode

    sparql = "SELECT ?label WHERE { ?drug rdfs:label ?label }"
    for engine in ("oxigraph", "rdflib"):
        result = kg.query(sparql, {"drug": NamedNode(NALTREXONE)}, engine=engine)  # type: ignore[arg-type]
        assert [r["label"] for r in result.to_python()] == ["naltrexone"]


def test_short_construct_where_takes_parameters(kg: KnowledgeGraph) -> None:
    from pyoxigraph import NamedNode

    result = kg.query("CONSTRUCT WHERE { ?drug rdfs:label ?label }", {"drug": NamedNode(NALTREXONE)})
    assert len(result) == 1


def test_run_takes_every_option_query_takes(kg: KnowledgeGraph) -> None:
    import inspect

    query_options = set(inspect.signature(KnowledgeGraph.query).parameters) - {"self", "sparql", "bindings",
                                                                               "default_graphs", "named_graphs"}
    assert query_options <= set(inspect.signature(KnowledgeGraph.run).parameters)
    with pytest.raises(TooManyResults, match="more than 1 rows"):
        kg.run("primary-uses", max_rows=1)
    assert kg.run("is-narcotic", engine="rdflib", timeout=30, allow_federation=False,
                  base="https://example.org/").boolean is False


def test_open_applies_the_shapes_to_user_data() -> None:
    bad = FIXTURES / "data" / "indication-without-evidence.ttl"
    with pytest.raises(ValidationFailed) as caught:
        KnowledgeGraph.open([bad])
    assert "does not conform to the shapes" in str(caught.value)
    assert "naltrexone-for-boredom" in caught.value.report
    assert len(KnowledgeGraph.open([bad], validate=False)) > len(KnowledgeGraph.open())


def test_policy_is_the_apis(kg: KnowledgeGraph) -> None:
    with pytest.raises(QueryRefused, match="SERVICE is refused"):
        kg.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused, match="read-only"):
        kg.query("#x\rDELETE WHERE { ?s ?p ?o }")
    with pytest.raises(QuerySyntaxError, match="relative IRI <x>"):
        kg.query("ASK { ?s ?p <x> }")
    assert kg.query("ASK { ?s ?p <naltrexone> }", base="https://w3id.org/ntx-graph/id/drug/").boolean is True
    with pytest.raises(NtxError, match="unknown engine"):
        kg.query("ASK {}", engine="jena")  # type: ignore[arg-type]


def test_dataset_of_the_store(kg: KnowledgeGraph) -> None:
    assert kg.query("ASK { ?s ?p ?o }", default_graphs=["urn:ntx:no-such-graph"]).boolean is False
    with pytest.raises(NtxError, match="not supported by the rdflib engine"):
        kg.query("ASK { ?s ?p ?o }", engine="rdflib", default_graphs=["urn:ntx:g"])


def test_saved_query_base_over_http(router: Router) -> None:
    folder = Path(__file__).parent / "fixtures" / "queries"
    assert folder.is_dir()
    response = router(Request("GET", "/queries/is-narcotic.json", urlencode({"base": "https://example.org/"})))
    assert response.status == 200, response.body
    unknown = router(Request("GET", "/queries/is-narcotic.json", urlencode({"bogus": "1"})))
    assert unknown.status == 400 and b"has no parameter 'bogus'" in unknown.body


def test_http_clients_never_see_internal_error_text(kg: KnowledgeGraph, router: Router,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret path /home/alice/.ssh")

    caplog.set_level(logging.ERROR)
    response = execute(kg, (boom, ()))
    assert (response.status, response.body) == (500, b"internal error\n")
    assert "secret path" in caplog.text and "Traceback" in caplog.text
    monkeypatch.setattr(Router, "dispatch", boom)
    answer = router(Request("GET", "/sparql", urlencode({"query": "ASK {}"})))
    assert answer.status == 500 and b"secret" not in answer.body and answer.body == b"internal error\n"


def test_a_query_declaring_a_graph_prefix_itself_uses_its_own(kg: KnowledgeGraph) -> None:
    """The graph's prefixes are handed to the engine only for the names the
    query uses and does not declare; a query's own PREFIX always wins."""
    from ntx_graph.graph import _used_prefixes
    from ntx_graph.sparql_text import analyse

    own = "PREFIX ntx: <http://example.org/elsewhere/> SELECT ?x WHERE { ?x a ntx:Indication }"
    assert "ntx" not in _used_prefixes(analyse(own), kg.prefixes)
    assert kg.query(own).rows == []
    assert "ntx" in _used_prefixes(analyse("SELECT ?x WHERE { ?x a ntx:Indication }"), kg.prefixes)
    assert kg.query("SELECT ?x WHERE { ?x a ntx:Indication }").rows
