"""Result serialisations conform to the SPARQL 1.1 Query Results formats:
each parses back (with pyoxigraph's reader) to the same solutions."""

from __future__ import annotations

import json

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, QueryResultsFormat, parse_query_results

from ntx_graph.results import XSD, FormatError, QueryResult

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
