"""Property-based tests: random user graphs survive export and re-import in
every format; random bytes given as --data never crash the program; random
parameter strings stay data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import BlankNode, Literal, NamedNode, Quad, RdfFormat, Store, Triple, parse
from rdflib.compare import isomorphic

from ntx_graph.catalog import get_saved_query
from ntx_graph.errors import DataError, NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.rdf_io import RDF_FORMATS, serialize_triples
from ntx_graph.rdflib_bridge import to_rdflib_graph

EXPORT_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml", "trig")
XSD = "http://www.w3.org/2001/XMLSchema#"
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_local = st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True)
_iri = _local.map(lambda s: NamedNode(f"http://example.org/user/{s}"))
_predicate = _local.map(lambda s: NamedNode(f"http://example.org/vocab/{s}"))
_literal = st.one_of(
    _text.map(Literal),
    st.tuples(_text, st.sampled_from(["en", "fr", "de-ch"])).map(lambda t: Literal(t[0], language=t[1])),
    st.integers(-10**12, 10**12).map(lambda i: Literal(str(i), datatype=NamedNode(XSD + "integer"))),
    st.booleans().map(lambda b: Literal(str(b).lower(), datatype=NamedNode(XSD + "boolean"))),
)
_bnode = st.sampled_from(["b1", "b2", "b3"]).map(BlankNode)
_triple = st.builds(Triple, st.one_of(_iri, _bnode), _predicate, st.one_of(_iri, _bnode, _literal))
PREFIXES = {"u": "http://example.org/user/", "v": "http://example.org/vocab/"}


def _as_rdflib(triples: list[Triple]):  # type: ignore[no-untyped-def]
    return to_rdflib_graph(triples, {})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_triple, min_size=1, max_size=25), st.sampled_from(EXPORT_FORMATS))
def test_random_graphs_round_trip_in_every_format(triples: list[Triple], fmt: str) -> None:
    data = serialize_triples(triples, fmt, PREFIXES)
    back = [Triple(q.subject, q.predicate, q.object) for q in parse(data, format=RDF_FORMATS[fmt])]
    assert isomorphic(_as_rdflib(back), _as_rdflib(triples))
    # and the bytes are canonical: the re-read graph exports to the same bytes
    assert serialize_triples(back, fmt, PREFIXES) == data


@settings(max_examples=40, deadline=None)
@given(st.lists(_triple, min_size=1, max_size=15, unique=True))
def test_random_user_data_loads_next_to_the_bundled_graph(tmp_path_factory: pytest.TempPathFactory,
                                                          triples: list[Triple]) -> None:
    path = tmp_path_factory.mktemp("user") / "user.ttl"
    path.write_bytes(serialize_triples(triples, "turtle", PREFIXES))
    kg = KnowledgeGraph.open([path], validate=False)  # loading is tested here, the shapes elsewhere
    store = Store()
    store.extend(Quad(t.subject, t.predicate, t.object) for t in triples)
    assert len(kg) == _BUNDLED_SIZE + len(store)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([".ttl", ".nt", ".rdf", ".jsonld", ".trig"]))
def test_random_bytes_as_data_raise_data_error_or_load(tmp_path_factory: pytest.TempPathFactory,
                                                       data: bytes, suffix: str) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"random{suffix}"
    path.write_bytes(data)
    try:
        KnowledgeGraph.open([path], validate=False)
    except DataError as error:
        assert str(error).startswith(str(path)) and "\n" not in str(error)


def test_random_bytes_through_the_cli_never_show_a_traceback(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import random

    from ntx_graph.cli import main

    rng = random.Random(7)
    for i in range(12):
        path = tmp_path / f"junk{i}.{['ttl', 'rdf', 'nt', 'jsonld'][i % 4]}"
        path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400))))
        try:
            code = main(["query", "is-narcotic", "--data", str(path)])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        err = capsys.readouterr().err
        assert code in (0, 1, 2)
        assert "Traceback" not in err
        if code:
            assert err.startswith("ntx-graph: error: ")
            assert err.count("\n") == 1 or "does not conform to the shapes" in err


@settings(max_examples=200, deadline=None)
@given(_text)
def test_random_parameter_strings_stay_one_literal(value: str) -> None:
    kg = _KG
    query = get_saved_query("quote-lookup")
    try:
        bound = kg.bind(query, {"text": value})
    except NtxError:
        pytest.fail("a string parameter accepts any text")
    assert bound["text"] == Literal(value)
    echo = kg.query("SELECT ?text WHERE { }", {"text": bound["text"]})
    assert echo.rows == [(Literal(value),)]


_KG = KnowledgeGraph.open()
_BUNDLED_SIZE = len(_KG)


def test_rdf_format_table_covers_exports() -> None:
    assert set(EXPORT_FORMATS) <= set(RDF_FORMATS)
    assert RDF_FORMATS["turtle"] == RdfFormat.TURTLE


_form_text = st.sampled_from([*"%+=&;\\aZ09 é\u00ff\u20ac\U0001f600",
                              "%2", "%4", "%41", "%e2%82", "%E2%82%AC", "%zz", "%C3", "%25", "%0A", "%5C"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_form_text).map("".join))
def test_form_decoding_reads_as_urllib_does(text: str) -> None:
    """The endpoint's fast query-string reader gives what urllib's parse_qs gives, on any text."""
    from urllib.parse import parse_qs, quote_plus

    from ntx_graph.server.messages import parse_form

    assert parse_form(text) == parse_qs(text, keep_blank_values=True)
    encoded = f"query={quote_plus(text)}&x=1"
    assert parse_form(encoded) == parse_qs(encoded, keep_blank_values=True)
