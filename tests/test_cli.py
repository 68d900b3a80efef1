"""The ntx-graph command line: outputs, formats and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyoxigraph import QueryResultsFormat, RdfFormat, parse, parse_query_results

from ntx_graph.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def process(*args: str, cwd: Path | None = None, stdin: bytes | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process, as a user runs it (only where a process
    proves more than a call: exit by os._exit, standard input, environment)."""
    return subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, cwd=cwd, timeout=120,
                          input=stdin, env=env)  # type: ignore[call-overload, no-any-return]


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Outcome]:
    """The CLI called in-process through main(): its exit code and output."""
    def call(*args: str) -> Outcome:
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)
    return call


def out(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_main_job_prints_the_three_off_label_uses(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "query", "off-label-uses-lacking-evidence", "-f", "table")
    lines = text.splitlines()
    body = "\n".join(lines[2:])
    order = [body.index(name) for name in ("HIV", "cancer", "multiple sclerosis")]
    assert order == sorted(order)
    assert lines[-1] == "(3 rows)"
    assert "not supported by scientific evidence" in text


def test_list_and_show(capsys: pytest.CaptureFixture[str]) -> None:
    listing = out(capsys, "list")
    assert "side-effects-by-severity" in listing and "min_severity:iri=severity:mild" in listing
    shown = out(capsys, "show", "side-effects-by-severity")
    assert "parameter:   min_severity (iri of ntx:Severity; default severity:mild)" in shown
    assert "SELECT" in shown


@pytest.mark.parametrize("fmt", ["json", "xml", "tsv"])
def test_select_formats_parse_as_sparql_results(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    data = out(capsys, "query", "primary-uses", "--format", fmt).encode()
    reader = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML, "tsv": QueryResultsFormat.TSV}[fmt]
    assert len(list(parse_query_results(data, format=reader))) == 2  # type: ignore[arg-type]


def test_csv_has_a_header_and_crlf(capsys: pytest.CaptureFixture[str]) -> None:
    text = out(capsys, "query", "primary-uses", "--format", "csv")
    assert text.count("\r\n") == 3


def test_parameters_change_the_answer(capsys: pytest.CaptureFixture[str]) -> None:
    every = out(capsys, "query", "side-effects-by-severity", "--format", "json")
    severe = out(capsys, "query", "side-effects-by-severity", "-p", "min_severity=severity:life-threatening", "-f",
                 "json")
    assert len(json.loads(every)["results"]["bindings"]) == 11
    assert len(json.loads(severe)["results"]["bindings"]) == 0


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
def test_errors_are_one_line_with_exit_code_2(run: Callable[..., Outcome], args: list[str],
                                              message: str | None) -> None:
    result = run(*args)
    if message is None:
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stdout
    assert result.stderr.startswith("ntx-graph: error: ")
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_turtle_syntax_error_names_file_line_and_column(run: Callable[..., Outcome], tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "unterminated .\n')
    result = run("query", "is-narcotic", "--data", str(bad))
    assert result.returncode == 2
    assert f"{bad}: syntax error at line 2, column 11" in result.stderr
    assert result.stderr.count("\n") == 1


def test_unreadable_file(run: Callable[..., Outcome], tmp_path: Path) -> None:
    folder = tmp_path / "folder.ttl"
    folder.mkdir()
    result = run("query", "is-narcotic", "--data", str(folder))
    assert result.returncode == 2 and "is a directory" in result.stderr


def test_data_breaking_the_shapes_is_refused_unless_asked(run: Callable[..., Outcome], tmp_path: Path) -> None:
    bad = FIXTURES / "data" / "indication-without-evidence.ttl"
    refused = run("query", "is-narcotic", "--data", str(bad))
    assert refused.returncode == 2
    assert "naltrexone-for-boredom" in refused.stderr  # the report comes first
    assert "does not conform to the shapes" in refused.stderr.splitlines()[-1]
    accepted = run("query", "is-narcotic", "--data", str(bad), "--no-validate")
    assert accepted.returncode == 0 and accepted.stdout == "false\n"


def test_validate_command(run: Callable[..., Outcome], tmp_path: Path) -> None:
    ok = run("validate")
    assert ok.returncode == 0, ok.stdout
    bad = run("validate", str(FIXTURES / "data" / "indication-without-evidence.ttl"))
    assert bad.returncode == 1
    assert "evidence" in bad.stdout.lower()


def test_timeout_stops_a_long_query() -> None:
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
        f"VALUES ?v{i} {{ 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 }}" for i in range(8)) + " }")
    result = process("query", "--sparql", slow, "--timeout", "0.5")  # leaves by os._exit: a process
    assert result.returncode == 2
    assert b"time limit of 0.5 s" in result.stderr


def test_load_builds_a_store_that_query_export_and_info_use(run: Callable[..., Outcome], tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text('<http://example.org/x> <http://www.w3.org/2000/01/rdf-schema#label> "stored fact" .\n')
    store = tmp_path / "store"
    built = run("load", str(extra), "--store", str(store))
    assert built.returncode == 0, built.stderr
    assert f"built {store}: 2,706 triples" in built.stderr
    answer = run("query", "off-label-uses-lacking-evidence", "--store", str(store), "-f", "csv")
    assert answer.returncode == 0
    assert answer.stdout == run("query", "off-label-uses-lacking-evidence", "-f", "csv").stdout
    found = run("query", "--sparql", 'ASK { ?s rdfs:label "stored fact" }', "--store", str(store))
    assert found.stdout == "true\n"
    assert "triples: 2706" in run("info", "--store", str(store)).stdout
    exported = run("export", "--store", str(store), "-f", "ntriples")
    assert exported.stdout == run("export", "--data", str(extra), "-f", "ntriples").stdout


def test_store_errors_are_one_line(run: Callable[..., Outcome], tmp_path: Path) -> None:
    missing = run("query", "is-narcotic", "--store", str(tmp_path / "none"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "ntx-graph load" in missing.stderr
    (tmp_path / "half").mkdir()
    half = run("query", "is-narcotic", "--store", str(tmp_path / "half"))
    assert half.returncode == 2 and half.stderr.count("\n") == 1 and "Traceback" not in half.stderr
    both = run("query", "is-narcotic", "--store", str(tmp_path / "none"), "--data", "x.ttl")
    assert both.returncode == 2 and "cannot be combined" in both.stderr


# -- regressions -------------------------------------------------------------------------


def test_regression_plain_query_file_without_header_runs(run: Callable[..., Outcome], tmp_path: Path) -> None:
    """Defect 3: 'the header has no '#+ title:' line' for an ad-hoc file."""
    plain = tmp_path / "plain.rq"
    plain.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?i a ntx:Indication }\n")
    result = run("query", str(plain), "-f", "csv")
    assert (result.returncode, result.stdout, result.stderr) == (0, "n\r\n11\r\n", "")
    other = tmp_path / "plain.sparql"  # any existing file, whatever its suffix
    other.write_text("ASK { ?s a ntx:Drug }\n")
    assert run("query", str(other)).stdout == "true\n"


def test_regression_query_dash_reads_standard_input() -> None:
    """Defect 3: 'ntx-graph query -' did not read standard input."""
    result = process("query", "-", "-f", "csv", stdin=b"SELECT (COUNT(*) AS ?n) WHERE { ?i a ntx:Indication }\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, b"n\r\n11\r\n", b"")
    bad = process("query", "-", stdin=b"ASK { ?s ?p \"caf\xe9\" }")
    assert (bad.returncode, bad.stderr) == (2, b"ntx-graph: error: standard input is not UTF-8 text (byte 0xe9 at "
                                               b"offset 16)\n")


@pytest.mark.parametrize(("args", "message"), [
    (("query", "--sparql", "ASK { ?s ?p \udce9 }"), "--sparql is not UTF-8 text (byte 0xe9 at character 12)"),
    (("query", "quote-lookup", "-p", "text=caf\udce9"), "--param is not UTF-8 text (byte 0xe9 at character 8)"),
])
def test_regression_non_utf8_text_is_a_one_line_error(run: Callable[..., Outcome], args: tuple[str, ...],
                                                      message: str) -> None:
    """Issue 11 finding 8: bytes that are not UTF-8 gave exit 3, internal error."""
    result = run(*args)
    assert (result.returncode, result.stderr) == (2, f"ntx-graph: error: {message}\n")


def test_regression_non_utf8_argument_from_a_real_process() -> None:
    result = process("query", "--sparql", b"ASK { ?s ?p \"\xff\" }")  # type: ignore[arg-type]
    assert result.returncode == 2 and b"--sparql is not UTF-8 text (byte 0xff" in result.stderr


@pytest.mark.parametrize(("sparql", "message"), [
    ("# only a comment", "the query is empty: it has no SELECT, CONSTRUCT, ASK or DESCRIBE"),
    ("BASE <http://example.org/>", "the query is empty: after its BASE and PREFIX declarations it has no SELECT"),
    ("PREFIX ex: <http://example.org/>", "the query is empty: after its BASE and PREFIX declarations"),
    ("SELECT * WHERE { ?s ?p ?o FILTER(?o IN (1, <x>)) }",
     "the query uses the relative IRI <x> and sets no base IRI: give one (--base IRI"),
    ("SELECT * WHERE { ?s ?p \\u005cU00000031 }",
     "SPARQL syntax error at line 1, column 24: a backslash outside strings, IRIs and prefixed names is not SPARQL"),
])
def test_regression_messages_say_what_is_wrong(run: Callable[..., Outcome], sparql: str, message: str) -> None:
    """Defect 11: "expected [_]" for an empty query, "expected one of COALESCE,
    ..." for a relative IRI, "SERVICE is refused" for an escaped backslash."""
    result = run("query", "--sparql", sparql)
    assert result.returncode == 2 and result.stderr.startswith(f"ntx-graph: error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_base_resolves_relative_iris(run: Callable[..., Outcome], engine: str) -> None:
    sparql = "SELECT ?x WHERE { BIND(<naltrexone> AS ?x) FILTER(?x = <naltrexone>) }"
    result = run("query", "--sparql", sparql, "--base", "https://w3id.org/ntx-graph/id/drug/", "-f", "csv",
                 "--engine", engine)
    assert result.stdout == "x\r\nhttps://w3id.org/ntx-graph/id/drug/naltrexone\r\n", result.stderr
    written = run("query", "--sparql", "BASE <https://e.org/a/> SELECT ?x WHERE { BIND(<b> AS ?x) }", "-f", "csv")
    assert written.stdout == "x\r\nhttps://e.org/a/b\r\n"
    bad = run("query", "--sparql", sparql, "--base", "not an iri")
    assert (bad.returncode, bad.stderr) == (2, "ntx-graph: error: the base 'not an iri' is not an absolute IRI\n")


def test_internal_errors_are_one_line_unless_debug(run: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from ntx_graph import cli

    def broken(args: object) -> int:
        raise RuntimeError("the disk fell off\nsecond line")

    monkeypatch.setattr(cli.COMMANDS["list"], "run", broken)
    monkeypatch.delenv("NTX_DEBUG", raising=False)
    quiet = run("list")
    assert (quiet.returncode, quiet.stderr) == (3, "ntx-graph: error: internal error: RuntimeError: the disk fell off "
                                                   "(run with --debug for the traceback)\n")
    import logging

    monkeypatch.setattr(logging.root, "handlers", [])  # let basicConfig install its stderr handler
    for args in (("--debug", "list"), ("list", "--debug")):  # before the command or after it
        monkeypatch.setattr(logging.root, "handlers", [])
        loud = run(*args)
        assert loud.returncode == 3 and "Traceback (most recent call last)" in loud.stderr, args
        assert loud.stderr.endswith("ntx-graph: error: internal error: RuntimeError: the disk fell off\n")


def test_every_subcommand_and_argument_has_help(run: Callable[..., Outcome]) -> None:
    """Defect 12: every subcommand a description, every argument help, examples."""
    from ntx_graph.cli import COMMANDS

    for name, command in COMMANDS.items():
        assert command.description and command.examples, name
        shown = run(name, "--help")
        assert shown.returncode == 0 and "examples:" in shown.stdout, name
        for option in command.arguments():
            assert option.help, f"{name} {option.dest} has no help"
            assert (option.metavar if option.positional else option.flags[0]) in shown.stdout, (name, option.dest)
    top = run("--help")
    assert "examples:" in top.stdout and "Exit codes" in top.stdout


def test_exit_codes_are_the_documented_ones(run: Callable[..., Outcome]) -> None:
    """Defect 8: the README's exit codes are the code's."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for line in ("| 0 | success", "| 1 | `validate` found SHACL violations", "| 2 | a usage or input error",
                 "| 3 | an internal error", "| 130 | interrupted"):
        assert line in readme, line
    assert run("validate", str(FIXTURES / "data" / "indication-without-evidence.ttl")).returncode == 1
    assert run("query", "no-such-query").returncode == 2
