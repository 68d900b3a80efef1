"""Parameters: typed conversion, and values that try to break out of a query
stay data."""

from __future__ import annotations

import pytest
from pyoxigraph import Literal, NamedNode

from ntx_graph.catalog import Parameter, get_saved_query
from ntx_graph.errors import ParameterError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.params import XSD, bind, expand_iri, parse_assignments, to_term

PREFIXES = {"severity": "https://w3id.org/ntx-graph/def/severity/", "": "http://example.org/default#"}


@pytest.mark.parametrize(
    ("ptype", "text", "expected"),
    [
        ("iri", "severity:severe", NamedNode("https://w3id.org/ntx-graph/def/severity/severe")),
        ("iri", "<http://example.org/x>", NamedNode("http://example.org/x")),
        ("iri", "http://example.org/y", NamedNode("http://example.org/y")),
        ("iri", ":z", NamedNode("http://example.org/default#z")),
        ("string", "HIV", Literal("HIV")),
        ("integer", "12", Literal("12", datatype=NamedNode(XSD + "integer"))),
        ("integer", "-3", Literal("-3", datatype=NamedNode(XSD + "integer"))),
        ("decimal", "0.0530", Literal("0.0530", datatype=NamedNode(XSD + "decimal"))),
        ("boolean", "TRUE", Literal("true", datatype=NamedNode(XSD + "boolean"))),
        ("boolean", "0", Literal("false", datatype=NamedNode(XSD + "boolean"))),
    ],
)
def test_values_become_typed_terms(ptype: str, text: str, expected: object) -> None:
    assert to_term(Parameter("p", ptype), text, PREFIXES) == expected


@pytest.mark.parametrize(
    ("ptype", "text", "message"),
    [
        ("iri", "not an iri", "not an absolute IRI"),
        ("iri", "unknown:thing x", "not an absolute IRI"),
        ("iri", "http://example.org/a b", "not an absolute IRI"),
        ("iri", "relative/path", "not an absolute IRI"),
        ("integer", "1.5", "not an integer"),
        ("integer", "12; DROP", "not an integer"),
        ("decimal", "1e5", "not a decimal"),
        ("decimal", "abc", "not a decimal"),
        ("boolean", "yes", "not true or false"),
    ],
)
def test_ill_typed_values_are_refused(ptype: str, text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        to_term(Parameter("p", ptype), text, PREFIXES)


def test_missing_and_unknown_parameters() -> None:
    query = get_saved_query("side-effects-by-severity")
    with pytest.raises(ParameterError, match="has no parameter 'severity'"):
        bind(query, {"severity": "severity:mild"}, PREFIXES)


def test_of_class_is_checked_against_the_graph(kg: KnowledgeGraph) -> None:
    query = get_saved_query("side-effects-by-severity")
    with pytest.raises(ParameterError, match="is not a ntx:Severity in the graph"):
        kg.bind(query, {"min_severity": "https://w3id.org/ntx-graph/id/drug/naltrexone"})


def test_parse_assignments() -> None:
    assert parse_assignments(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_assignments(["novalue"])
    with pytest.raises(ParameterError, match="given twice"):
        parse_assignments(["a=1", "a=2"])


HOSTILE = [
    'x" } ; DROP ALL ; SELECT * WHERE { "',
    "a > b < c",
    "} UNION { ?s ?p ?o }",
    "line\nbreak\r\nand tab\t",
    "# not a comment",
    "\\u0022 escaped quote",
    "ünïcödé ✓ 𝔘 " * 200,  # noqa: RUF001
    "'single' and \"double\" and '''triple'''",
]


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_strings_are_bound_as_data(kg: KnowledgeGraph, value: str, engine: str) -> None:
    """The value comes back exactly as given and matches nothing in the graph."""
    term = Literal(value)
    echo = kg.query("SELECT ?v WHERE { BIND(?v AS ?w) }", {"v": term}, engine=engine)  # type: ignore[arg-type]
    assert [row[0] for row in echo.rows] == [term]
    found = kg.query("SELECT ?s ?v WHERE { ?s ?p ?v }", {"v": term}, engine=engine)  # type: ignore[arg-type]
    assert found.rows == []


def test_iri_values_with_breakout_characters_are_refused() -> None:
    for bad in ["http://example.org/> } ; DROP ALL", "http://example.org/a\nb", 'http://e.org/"x"']:
        with pytest.raises(ParameterError):
            expand_iri(bad, {})
