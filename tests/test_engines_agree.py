"""Every saved query gives the same answer on pyoxigraph and on rdflib.

SELECT results are compared as multisets of rows of values (numbers compared
numerically, not by lexical form), and for ordered queries the sequence of the
ORDER BY columns must match too; ASK results by their boolean; CONSTRUCT
results by graph isomorphism.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

import servers
from ntx_graph.catalog import get_saved_query
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.rdflib_bridge import to_rdflib
from ntx_graph.resources import queries_dir


@cache
def open_graph() -> KnowledgeGraph:
    return KnowledgeGraph.open()


XSD = "http://www.w3.org/2001/XMLSchema#"

ID = "https://w3id.org/ntx-graph/id/"
DEF = "https://w3id.org/ntx-graph/def/"
QUERY_NAMES = sorted(path.stem for path in queries_dir().glob("*.rq"))
#: Non-default parameters worth running on both engines as well.
EXTRA_CASES = [
    ("side-effects-by-severity", {"min_severity": DEF + "severity/severe"}),
    ("side-effects-by-frequency", {"frequency": DEF + "frequency/rare"}),
    ("uses-in-category", {"category": ID + "condition/substance-dependence"}),
    ("quote-lookup", {"text": "Immediately"}),
]
CASES = [(name, None) for name in QUERY_NAMES] + [case for case in EXTRA_CASES if case[0] in QUERY_NAMES]


value = servers.value  # one normalisation for every comparison of answers


def order_keys(text: str) -> list[str]:
    """The variables of the outermost ORDER BY clause of a query."""
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    tail = body[body.rfind("}") + 1 :]
    match = re.search(r"ORDER\s+BY\s+(.*?)(?:\bLIMIT\b|\bOFFSET\b|$)", tail, re.IGNORECASE | re.DOTALL)
    return re.findall(r"\?(\w+)", match.group(1)) if match else []


def as_graph(triples: Any) -> rdflib.Graph:
    graph = rdflib.Graph()
    for triple in triples:
        graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
    return graph


@pytest.mark.parametrize(
    ("name", "params"), CASES, ids=[name + ("" if params is None else "-" + "-".join(params)) for name, params in CASES]
)
def test_engines_agree(name: str, params: dict[str, str] | None) -> None:
    oxigraph = open_graph().run(name, params, engine="oxigraph")
    rdflib_result = open_graph().run(name, params, engine="rdflib")
    assert oxigraph.kind == rdflib_result.kind
    if oxigraph.kind == "ask":
        assert oxigraph.boolean == rdflib_result.boolean
        return
    if oxigraph.kind == "graph":
        assert len(oxigraph.triples) == len(rdflib_result.triples)
        assert isomorphic(as_graph(oxigraph.triples), as_graph(rdflib_result.triples))
        return
    assert oxigraph.variables == rdflib_result.variables
    ox_rows = [tuple(value(t) for t in row) for row in oxigraph.rows]
    rdflib_rows = [tuple(value(t) for t in row) for row in rdflib_result.rows]
    assert Counter(ox_rows) == Counter(rdflib_rows)
    assert ox_rows, f"{name} gives no rows, so the comparison proves nothing"
    keys = [oxigraph.variables.index(k) for k in order_keys(get_saved_query(name).text) if k in oxigraph.variables]
    if keys:
        assert [tuple(row[i] for i in keys) for row in ox_rows] == [tuple(row[i] for i in keys) for row in rdflib_rows]


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
