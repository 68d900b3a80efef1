"""Result serialisations conform to the SPARQL 1.1 Query Results formats
(they are pyoxigraph's own writers'): each parses back to the same solutions,
RDF 1.2 triple terms included, also through the remote client's reader."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    Store,
    Triple,
    parse_query_results,
)

from ntx_graph import formats
from ntx_graph.results import XSD, FormatError, OutputTooLarge, QueryResult, Term

ROWS: list[tuple[NamedNode | BlankNode | Literal | None, ...]] = [
    (NamedNode("http://e.org/a"), Literal("plain, with \"quotes\"\nand a newline"),
     Literal("5", datatype=NamedNode(XSD + "integer"))),
    (BlankNode("b0"), Literal("chat", language="fr"), None),
    (None, Literal("1.50", datatype=NamedNode(XSD + "decimal")), Literal("tab\there")),
]
RESULT = QueryResult("select", variables=["s", "label", "n"], rows=ROWS, prefixes={"e": "http://e.org/"})


@pytest.mark.parametrize(("fmt", "reader"), [("json", QueryResultsFormat.JSON), ("xml", QueryResultsFormat.XML),
                                             ("tsv", QueryResultsFormat.TSV)])
def test_select_round_trips(fmt: str, reader: QueryResultsFormat) -> None:
    parsed = parse_query_results(RESULT.serialize(fmt), format=reader)
    assert [v.value for v in parsed.variables] == RESULT.variables  # type: ignore[union-attr]
    back = [tuple(solution[v] for v in RESULT.variables) for solution in parsed]  # type: ignore[union-attr]
    assert back == ROWS


def test_csv_follows_rfc4180_and_the_spec() -> None:
    text = RESULT.serialize("csv").decode()
    lines = text.split("\r\n")
    assert lines[0] == "s,label,n"
    assert lines[1] == 'http://e.org/a,"plain, with ""quotes""\nand a newline",5'
    import csv
    import io

    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[1] == ["http://e.org/a", 'plain, with "quotes"\nand a newline', "5"]
    assert records[2] == ["_:b0", "chat", ""]


def test_json_omits_unbound_and_xsd_string_datatype() -> None:
    doc = json.loads(RESULT.serialize("json"))
    assert doc["head"]["vars"] == ["s", "label", "n"]
    first, second, _ = doc["results"]["bindings"]
    assert first["label"] == {"type": "literal", "value": 'plain, with "quotes"\nand a newline'}
    assert second["label"] == {"type": "literal", "value": "chat", "xml:lang": "fr"}
    assert "n" not in second


@pytest.mark.parametrize(("fmt", "reader"), [("json", QueryResultsFormat.JSON), ("xml", QueryResultsFormat.XML)])
@pytest.mark.parametrize("value", [True, False])
def test_ask_round_trips(fmt: str, reader: QueryResultsFormat, value: bool) -> None:
    parsed = parse_query_results(QueryResult("ask", boolean=value).serialize(fmt), format=reader)
    assert bool(parsed) is value


def test_table_is_aligned_and_compacts_iris() -> None:
    lines = RESULT.serialize("table").decode().splitlines()
    assert lines[0].split() == ["s", "label", "n"]
    assert lines[2].startswith("e:a ")
    assert lines[-1] == "(3 rows)"
    header_at = lines[0].index("label")
    assert lines[2][header_at:].startswith("plain")


def test_table_truncates_only_when_asked() -> None:
    long = QueryResult("select", variables=["x"], rows=[(Literal("y" * 200),)])
    assert "y" * 200 in long.serialize("table").decode()
    assert "…" in long.serialize("table", max_width=40).decode()


def test_wrong_format_for_the_result_kind() -> None:
    with pytest.raises(FormatError, match="cannot be written as 'turtle'"):
        RESULT.serialize("turtle")
    with pytest.raises(FormatError, match="cannot be written as 'csv'"):
        QueryResult("graph").serialize("csv")


def test_to_python_values() -> None:
    rows = RESULT.to_python()
    assert rows[0] == {"s": "http://e.org/a", "label": 'plain, with "quotes"\nand a newline', "n": 5}
    assert rows[1]["n"] is None and rows[1]["s"] == "_:b0"
    assert str(rows[2]["label"]) == "1.50"


# -- written by pyoxigraph: RDF 1.2 triple terms, every format, budgets ------------------------------------------

E = "http://e.org/"
QUOTED = Triple(NamedNode(E + "s"), NamedNode(E + "p"), Literal("o", language="en"))
NESTED = Triple(NamedNode(E + "a"), NamedNode(E + "says"), QUOTED)
STAR_ROWS: list[tuple[Term | None, ...]] = [(NamedNode(E + "a"), QUOTED), (BlankNode("b1"), NESTED), (None, QUOTED)]
STAR = QueryResult("select", variables=["who", "claim"], rows=STAR_ROWS, prefixes={"e": E})
LOSSLESS = [f for f in formats.serving(formats.RESULTS) if f.results is not None and f.name != "csv"]


@pytest.mark.parametrize("fmt", LOSSLESS, ids=lambda f: f.name)
def test_triple_terms_round_trip_through_every_lossless_results_format(fmt: formats.Format) -> None:
    """Issue 15: a triple term was written as a string in JSON and a <literal> in XML."""
    assert fmt.results is not None
    parsed = parse_query_results(STAR.serialize(fmt.name), format=fmt.results)
    assert isinstance(parsed, QuerySolutions)
    assert [tuple(s[v] for v in STAR.variables) for s in parsed] == STAR_ROWS


def test_triple_terms_in_csv_follow_the_spec() -> None:
    """SPARQL CSV is lossy by design: a triple term is written as its three values."""
    lines = STAR.serialize("csv").decode().split("\r\n")
    assert lines[:2] == ["who,claim", "http://e.org/a,http://e.org/s http://e.org/p o"]


@pytest.mark.parametrize("fmt", [f for f in formats.serving(formats.RESULTS, http=True)], ids=lambda f: f.name)
def test_triple_terms_round_trip_through_remote_parse_answer(fmt: formats.Format) -> None:
    """ntx-graph's own server's answers read back by the remote client (remote.parse_answer rejected its JSON:
    "term of unknown type 'triple'")."""
    from ntx_graph.remote import parse_answer

    back = parse_answer(STAR.serialize(fmt.name), fmt.media_types[0], "SELECT")
    assert back.variables == STAR.variables
    if fmt.name == "csv":
        assert len(back.rows) == len(STAR_ROWS)
        return
    assert [tuple(_unlabel(t) for t in row) for row in back.rows] == [
        tuple(_unlabel(t) for t in row) for row in STAR_ROWS]


def _unlabel(term: Term | None) -> object:
    """A term with blank node labels left out (a reader may relabel them)."""
    if isinstance(term, BlankNode):
        return "_:"
    if isinstance(term, Triple):
        return (_unlabel(term.subject), term.predicate, _unlabel(term.object))
    return term


@pytest.mark.parametrize("fmt", [f.name for f in formats.serving(formats.RESULTS)])
@pytest.mark.parametrize("value", [True, False])
def test_ask_in_every_results_format(fmt: str, value: bool) -> None:
    data = QueryResult("ask", boolean=value).serialize(fmt)
    assert data.endswith(b"\n")
    found = formats.BY_NAME[fmt].results
    if found is not None and found in (QueryResultsFormat.JSON, QueryResultsFormat.XML):
        assert bool(parse_query_results(data, format=found)) is value
    else:
        assert data == (b"true\n" if value else b"false\n")


def test_results_are_written_by_pyoxigraph() -> None:
    """The bytes are pyoxigraph's own writer's (plus a final newline), for a store's live answer."""
    store = Store()
    store.add(Quad(NamedNode(E + "a"), NamedNode(E + "p"), QUOTED))
    store.add(Quad(BlankNode("x"), NamedNode(E + "p"), Literal("1.50", datatype=NamedNode(XSD + "decimal"))))
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o"
    solutions = store.query(query)
    assert isinstance(solutions, QuerySolutions)
    rows = [tuple(s[i] for i in range(2)) for s in solutions]
    result = QueryResult("select", variables=["s", "o"], rows=rows)
    for fmt in formats.serving(formats.RESULTS):
        if fmt.results is None:
            continue
        live = store.query(query)
        assert isinstance(live, QuerySolutions)
        expected = live.serialize(format=fmt.results) or b""
        assert result.serialize(fmt.name).rstrip(b"\n") == expected.rstrip(b"\n"), fmt.name


def test_serialisation_is_deterministic_and_rebuildable() -> None:
    """Serialising twice gives the same bytes: the solutions are rebuilt each time, as pyoxigraph's read once."""
    for fmt in formats.serving(formats.RESULTS):
        assert STAR.serialize(fmt.name) == STAR.serialize(fmt.name)


def test_a_byte_budget_stops_the_writer() -> None:
    """What `--max-response-bytes` uses: nothing past the budget reaches the stream."""
    import io

    big = QueryResult("select", variables=["x"], rows=[(Literal("y" * 100),) for _ in range(1000)])
    full = big.serialize("json")
    assert big.serialize("json", max_bytes=len(full)) == full
    out = io.BytesIO()
    with pytest.raises(OutputTooLarge) as caught:
        big.write(out, "json", max_bytes=5000)
    assert caught.value.limit == 5000 and len(out.getvalue()) <= 5000
    assert "larger than 5000 bytes" in str(caught.value)


def test_graph_results_take_graph_formats_and_json_means_json_ld() -> None:
    graph = QueryResult("graph", triples=[Triple(NamedNode(E + "a"), NamedNode(E + "p"), Literal("x"))],
                        prefixes={"e": E})
    assert graph.serialize() == graph.serialize("turtle")
    assert graph.serialize("json") == graph.serialize("jsonld")
    assert graph.serialize("xml") == graph.serialize("rdfxml")
    for name in formats.names(formats.GRAPH):
        assert graph.serialize(name)


def test_default_format_depends_on_the_terminal() -> None:
    assert RESULT.default_format(terminal=True) == "table"
    assert RESULT.default_format(terminal=False) == "tsv"
    assert QueryResult("graph").default_format(terminal=False) == "turtle"


def test_table_shows_triple_terms() -> None:
    assert "<< e:s e:p o >>" in STAR.serialize("table").decode()


def test_a_graph_a_writer_refuses_is_a_format_error() -> None:
    """pyoxigraph's JSON-LD writer does not take RDF 1.2 triple terms: a one-line FormatError, not an internal error."""
    graph = QueryResult("graph", triples=[NESTED])
    assert b"<<(" in graph.serialize("turtle")
    with pytest.raises(FormatError, match="the graph cannot be written as JSON-LD: "):
        graph.serialize("jsonld")


@pytest.mark.parametrize("fmt", [f for f in formats.serving(formats.RESULTS, http=True) if f.name != "csv"],
                         ids=lambda f: f.name)
def test_regression_the_endpoints_triple_terms_read_back_by_the_remote_client(fmt: formats.Format) -> None:
    """Issue 15: remote.parse_answer rejected ntx-graph's own server's JSON ("term of unknown type 'triple'")."""
    from urllib.parse import urlencode

    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.remote import parse_answer
    from ntx_graph.server import Limits
    from ntx_graph.server.messages import Request
    from ntx_graph.server.router import Router
    from ntx_graph.server.snapshot import Snapshot
    from ntx_graph.server.workers import InlineExecutor

    kg = KnowledgeGraph.open([], include_bundled=False)
    router = Router(Snapshot.of(kg), Limits(), InlineExecutor(kg), host="example.test")
    query = f'SELECT ?t WHERE {{ BIND(TRIPLE(<{E}a>, <{E}says>, TRIPLE(<{E}s>, <{E}p>, "o"@en)) AS ?t) }}'
    response = router(Request("GET", "/sparql", urlencode({"query": query}), {"accept": fmt.media_types[0]}, b""))
    assert response.status == 200, response.body
    assert parse_answer(response.body, fmt.media_types[0], "SELECT").rows == [(NESTED,)]


def test_a_row_too_large_for_the_results_writer_is_a_clear_error() -> None:
    """A value over pyoxigraph's 16 MiB row limit: OutputTooLarge under a budget (checked
    before the answer is rebuilt), else a FormatError saying why; never an internal error."""
    from ntx_graph.errors import NtxError
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.results import OutputTooLarge

    binds = " ".join(f"BIND(CONCAT(?s{i}, ?s{i}) AS ?s{i + 1})" for i in range(21))
    result = KnowledgeGraph.open().query(f'SELECT ?s21 WHERE {{ BIND("0123456789abcdef" AS ?s0) {binds} }}')
    with pytest.raises(OutputTooLarge):
        result.serialize("csv", max_bytes=1_000_000)
    with pytest.raises(NtxError, match="16 MiB"):
        result.serialize("json")
