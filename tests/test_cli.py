"""The ntx-graph command line: outputs, formats and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from ntx_graph.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120)


def out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_main_job_prints_the_four_off_label_uses(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "query", "off-label-uses-lacking-evidence", "-f", "table")
    lines = text.splitlines()
    body = "\n".join(lines[2:])
    order = [body.index(name) for name in ("HIV", "cancer", "depersonalization disorder", "multiple sclerosis")]
    assert order == sorted(order)
    assert lines[-1] == "(4 rows)"
    assert "not supported by scientific evidence" in text


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    listing = out(capsys, "list")
    assert "side-effects-by-severity" in listing and "min_severity:iri=severity:mild" in listing
    shown = out(capsys, "show", "side-effects-by-severity")
    assert "parameter:   min_severity (iri of ntx:Severity; default severity:mild)" in shown
    assert "SELECT" in shown


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_select_formats_parse_as_sparql_results(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    data = out(capsys, "query", "approved-indications", "--format", fmt).encode()
    reader = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "tsv": QueryResultsFormat.TSV}[fmt]
    assert len(list(parse_query_results(data, format=reader))) == 2  # type: ignore[arg-type]


def test_csv_has_a_header_and_crlf(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "query", "approved-indications", "--format", "csv")
    assert text.count("\r\n") == 3


def test_parameters_change_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    every = out(capsys, "query", "side-effects-by-severity", "--format", "json")
    severe = out(capsys, "query", "side-effects-by-severity", "-p", "min_severity=severity:severe", "-f", "json")
    assert len(json.loads(every)["results"]["bindings"]) == 11
    assert len(json.loads(severe)["results"]["bindings"]) == 5


def test_ask_prints_true_or_false(capsys: pytest.CaptureFixture[str]) -> None:
    assert out(capsys, "query", "is-narcotic") == "false\n"
    assert json.loads(out(capsys, "query", "is-narcotic", "--format", "json")) == {"head": {}, "boolean": False}


def test_construct_defaults_to_turtle_and_json_means_json_ld(capsys: pytest.CaptureFixture[str]) -> None:
    turtle = out(capsys, "query", "drug-card")
    assert turtle.startswith("@prefix ")
    triples = list(parse(turtle.encode(), format=RdfFormat.TURTLE))
    assert len(triples) > 200
    jsonld = out(capsys, "query", "drug-card", "--format", "json")
    assert "@context" in json.loads(jsonld)
    assert len(list(parse(jsonld.encode(), format=RdfFormat.JSON_LD))) == len(triples)


def test_raw_sparql_with_default_prefixes(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "query", "--sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?i a ntx:Indication }", "-f", "csv")
    assert text == "n\r\n11\r\n"


def test_rdflib_engine_gives_the_same_rows(capsys: pytest.CaptureFixture[str]) -> None:
    ox = out(capsys, "query", "off-label-uses-lacking-evidence", "-f", "csv")
    rdf = out(capsys, "query", "off-label-uses-lacking-evidence", "-f", "csv", "--engine", "rdflib")
    assert ox == rdf


def test_a_query_file_and_user_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "extra.ttl"
    data.write_text('<http://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "extra fact" .\n')
    query = tmp_path / "mine.rq"
    query.write_text("#+ title: Mine\n#+ description: A user's own saved query file.\n"
                     "#+ param: text string = extra fact | The label to look for.\n"
                     "SELECT ?s ?text WHERE { ?s rdfs:label ?text }\n")
    text = out(capsys, "query", str(query), "--data", str(data), "--format", "csv")
    assert text == "s,text\r\nhttp://example.org/x,extra fact\r\n"


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "result.json"
    assert main(["query", "is-narcotic", "-f", "json", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["boolean"] is False


def test_info_reports_counts_and_checksum(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "info")
    assert "ntx-graph 0.1.0" in text
    assert "ntx:Indication: 11" in text
    assert "7ca39982b05c6b5e40fd84a849bd235fecf7a28f34c1bb1a0823414396fcc942 (matches)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "no-such-query"], "no saved query named 'no-such-query'"),
        (["query", "off-label-uses-lacking-evidenc"], None),  # unique prefix works
        (["query", "side-effects"], "is ambiguous"),
        (["query", "side-effects-by-severity", "-p", "min_severity=extreme"], "parameter 'min_severity' (iri)"),
        (["query", "side-effects-by-severity", "-p", "nope=1"], "has no parameter 'nope'"),
        (["query", "side-effects-by-severity", "-p", "novalue"], "--param expects KEY=VALUE"),
        (["query", "--sparql", "SELECT ?x WHERE { ?x ?y }"], "SPARQL syntax error at line 1, column"),
        (["query", "--sparql", "INSERT DATA { <http://a/> <http://b/> <http://c/> }"], "read-only"),
        (["query", "--sparql", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"],
         "SERVICE is refused"),
        (["query", "--sparql", "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"], "FROM is refused"),
        (["query", "missing.rq"], "missing.rq: no such query file"),
        (["query", "is-narcotic", "--data", "no/such/file.ttl"], "no/such/file.ttl: no such file"),
        (["query", "is-narcotic", "-f", "turtle"], "cannot be written as 'turtle'"),
        (["query"], "give a saved query name"),
        (["show", "nothing-like-this"], "no saved query named"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(args: list[str], message: str | None) -> None:
    result = run(*args)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("ntx-graph: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_turtle_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "unterminated .\n')
    result = run("query", "is-narcotic", "--data", str(bad))
    assert result.returncode == 2
    assert f"{bad}: syntax error at line 2, column 11" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unreadable_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder.ttl"
    folder.mkdir()
    result = run("query", "is-narcotic", "--data", str(folder))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_data_breaking_the_shapes_is_refused_unless_asked(tmp_path: Path) -> None:
    bad = FIXTURES / "data" / "indication-without-evidence.ttl"
    refused = run("query", "is-narcotic", "--data", str(bad))
    assert refused.returncode == 2
    assert "naltrexone-for-boredom" in refused.stderr  # the report comes first
    assert "does not conform to the shapes" in refused.stderr.splitlines()[-1]
    accepted = run("query", "is-narcotic", "--data", str(bad), "--no-validate")
    assert accepted.returncode == 0 and accepted.stdout == "false\n"


def test_validate_command(tmp_path: Path) -> None:
    ok = run("validate")
    assert ok.returncode == 0, ok.stdout
    bad = run("validate", str(FIXTURES / "data" / "indication-without-evidence.ttl"))
    assert bad.returncode == 1
    assert "evidence" in bad.stdout.lower()


def test_timeout_stops_a_long_query() -> None:
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
        f"VALUES ?v{i} {{ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 }}" for i in range(8)) + " }")
    result = run("query", "--sparql", slow, "--timeout", "0.5")
    assert result.returncode == 2
    assert "time limit of 0.5 s" in result.stderr


def test_load_builds_a_store_that_query_export_and_info_use(tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text('<http://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "stored fact" .\n')
    store = tmp_path / "store"
    built = run("load", str(extra), "--store", str(store))
    assert built.returncode == 0, built.stderr
    assert f"2116 triples in {store}" in built.stderr
    answer = run("query", "off-label-uses-lacking-evidence", "--store", str(store), "-f", "csv")
    assert answer.returncode == 0
    assert answer.stdout == run("query", "off-label-uses-lacking-evidence", "-f", "csv").stdout
    found = run("query", "--sparql", 'ASK { ?s rdfs:label "stored fact" }', "--store", str(store))
    assert found.stdout == "true\n"
    assert "triples: 2116" in run("info", "--store", str(store)).stdout
    exported = run("export", "--store", str(store), "-f", "ntriples")
    assert exported.stdout == run("export", "--data", str(extra), "-f", "ntriples").stdout


def test_store_errors_are_one_line(tmp_path: Path) -> None:
    missing = run("query", "is-narcotic", "--store", str(tmp_path / "none"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "ntx-graph load" in missing.stderr
    (tmp_path / "half").mkdir()
    half = run("query", "is-narcotic", "--store", str(tmp_path / "half"))
    assert half.returncode == 2 and half.stderr.count("\n") == 1 and "Traceback" not in half.stderr
    both = run("query", "is-narcotic", "--store", str(tmp_path / "none"), "--data", "x.ttl")
    assert both.returncode == 2 and "cannot be combined" in both.stderr
