"""Bad inputs, one table row each, with the exact message (or a stable,
distinctive prefix of it) and the exit code or HTTP status.

The command line runs as a user runs it (``python -m ntx_graph`` in a fresh
process): a refused input exits with code 2 and prints one line on stderr that
starts with ``ntx-graph: error: `` and never a traceback. The endpoint is
driven both through its router (no sockets) and through a live server.

Parameter values that try to break out of a query stay data: strings come back
unchanged and find what a harmless value finds; IRIs that cannot be IRIs are
refused. Property tests push random values through ``KnowledgeGraph.bind`` and
the remote ``VALUES`` injection (the injection of hand-made literals is tested
in test_remote_unit.py; here the values go through the typed binding first).

Tests named ``test_regression_*`` pin bugs found while writing this file; they
fail until the bug is fixed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import io
import itertools
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import Listener
from ntx_graph.catalog import PARAM_TYPES, Parameter, SavedQuery, saved_queries
from ntx_graph.cli import main
from ntx_graph.errors import ParameterError, QueryTimeout
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.params import bind_values as inject_values
from ntx_graph.server import Limits, NtxServer, make_server
from ntx_graph.server.messages import Request
from ntx_graph.server.router import Router
from ntx_graph.server.snapshot import Snapshot
from ntx_graph.server.workers import InlineExecutor
from test_remote_unit import algebra, differences

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "ntx-graph: error: "
XSD = "http://www.w3.org/2001/XMLSchema#"
ID = "https://w3id.org/ntx-graph/id/"
ENV = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
ON_LINUX = Path("/proc/self/mem").exists()
#: Runs far past any time limit: 20^8 rows to count.
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(
    f"VALUES ?v{i} {{ {' '.join(str(n) for n in range(1, 21))} }}" for i in range(8)) + " }"


# -- matching messages -----------------------------------------------------------------


@dataclass(frozen=True)
class Exact:
    """The whole message, after ``{tmp}`` is replaced."""

    text: str

    def regex(self, tmp: str) -> str:
        return re.escape(self.text.replace("{tmp}", tmp))


@dataclass(frozen=True)
class Prefix:
    """The start of the message (the rest is the parser's own wording)."""

    text: str

    def regex(self, tmp: str) -> str:
        return re.escape(self.text.replace("{tmp}", tmp)) + ".*"


@dataclass(frozen=True)
class Pattern:
    """A regular expression the whole message matches."""

    text: str

    def regex(self, tmp: str) -> str:
        return self.text.replace("{tmp}", re.escape(tmp))


Message = Exact | Prefix | Pattern


def ntx(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The command line on ARGS: called in-process through ``main()``, which
    proves as much as a process and costs a call, except where a time limit
    may end the command by ``os._exit`` (then ``python -m ntx_graph`` in a
    fresh process)."""
    if any(a == "--timeout" and re.fullmatch(r"[0-9.]+", b) for a, b in itertools.pairwise(args)):
        return subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True,
                              encoding="utf-8", errors="replace", cwd=cwd, timeout=timeout, env=ENV)
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    before = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    finally:
        os.chdir(before)
    stdout.flush()
    text = out.getvalue().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")  # as text=True
    return subprocess.CompletedProcess(list(args), code, text, err.getvalue())


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one-line message of a refused command (exit 2, nothing on stdout)."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, f"exit {result.returncode}; stderr: {result.stderr!r}"
    assert result.stdout == "", result.stdout[:300]
    assert result.stderr.startswith(PREFIX), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, f"not one line: {result.stderr!r}"
    return result.stderr[len(PREFIX):-1]


def assert_message(message: str, expected: Message, tmp: str = "") -> None:
    assert re.fullmatch(expected.regex(tmp), message, re.DOTALL), f"{message!r} does not match {expected}"


# -- files the table refers to ------------------------------------------------------------


TYPED_RQ = """#+ title: Typed
#+ description: Returns its typed parameters.
#+ param: n integer | a required number
#+ param: d decimal = 1.5 | a decimal
#+ param: b boolean = true | a flag
#+ param: i iri = <urn:ntx:x> | an IRI
#+ param: s string = x | a string
SELECT ?n ?d ?b ?i ?s WHERE { }
"""
SHAPES_BREAKER = """@prefix ntx: <https://w3id.org/ntx-graph/def/> .
@prefix ex: <http://example.org/> .
ex:bogus a ntx:Indication .
"""


@pytest.fixture(scope="module")
def tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-inputs")
    (folder / "bad.ttl").write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c ;\n  ex:d "x" ex:e .\n')
    (folder / "bad.nt").write_text('<urn:a> <urn:b> "x .\n')
    (folder / "bad.jsonld").write_text('{"@id": "urn:a", "urn:p": [')
    (folder / "bad.rdf").write_text('<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                                    '<rdf:Description rdf:about="urn:a"><x:p/></rdf:Description>')
    (folder / "binary.ttl").write_bytes(b"\xff\xfe<urn:a> <urn:b> <urn:c> .\n")
    (folder / "plain.txt").write_text("a regular file, not a folder\n")
    (folder / "folder.ttl").mkdir()
    (folder / "typed.rq").write_text(TYPED_RQ)
    (folder / "update.rq").write_text("#+ title: U\n#+ description: An update.\n"
                                      "INSERT DATA { <urn:a> <urn:b> <urn:c> }\n")
    (folder / "nohdr.rq").write_text("#+ title: No description\nSELECT * WHERE { ?s ?p ?o }\n")
    (folder / "latin1.rq").write_bytes(b"#+ title: Caf\xe9\n#+ description: Latin-1 bytes.\nSELECT * WHERE { }\n")
    (folder / "shapes.ttl").write_text(SHAPES_BREAKER)
    return folder


# -- the command line -----------------------------------------------------------------------


@dataclass(frozen=True)
class CliCase:
    id: str
    args: tuple[str, ...]
    message: Message
    linux_only: bool = False


def _iri_refused(value: str, char: str, name: str = "i") -> Exact:
    return Exact(f"parameter {name!r} (iri): {value!r} is not an absolute IRI or a known prefixed name "
                 f"(Invalid IRI code point '{char}')")


UPDATE = Exact("SPARQL Update is not accepted: ntx-graph queries are read-only")
BREAKOUT_IRIS = [
    ("space", "http://example.org/a b", " "),
    ("angle", "http://example.org/a> } UNION { ?s ?p ?o", ">"),
    ("brace", "http://example.org/} . ?s ?p ?o", "}"),
    ("quote", 'http://example.org/"x"', '"'),
    ("bracketed", "<http://example.org/a> . ?s ?p ?o", "<"),
    ("backslash", "http://example.org/\\u003E", "\\"),
]

CLI_CASES = [
    # --data files
    CliCase("turtle-syntax-error", ("query", "is-narcotic", "--data", "{tmp}/bad.ttl"),
            Prefix("{tmp}/bad.ttl: syntax error at line 3, column 12: ")),
    CliCase("ntriples-syntax-error", ("query", "is-narcotic", "--data", "{tmp}/bad.nt"),
            Prefix("{tmp}/bad.nt: syntax error at line 1, column 17: ")),
    CliCase("jsonld-syntax-error", ("query", "is-narcotic", "--data", "{tmp}/bad.jsonld"),
            Prefix("{tmp}/bad.jsonld: syntax error at line 1, column 28: ")),
    CliCase("rdfxml-syntax-error", ("query", "is-narcotic", "--data", "{tmp}/bad.rdf"),
            Prefix("{tmp}/bad.rdf: syntax error")),
    CliCase("data-not-utf8", ("query", "is-narcotic", "--data", "{tmp}/binary.ttl"),
            Prefix("{tmp}/binary.ttl: syntax error at line 1, column 1: ")),
    CliCase("export-syntax-error", ("export", "--data", "{tmp}/bad.ttl"),
            Prefix("{tmp}/bad.ttl: syntax error at line 3, column 12: ")),
    CliCase("data-missing", ("query", "is-narcotic", "--data", "{tmp}/absent.ttl"),
            Exact("{tmp}/absent.ttl: no such file")),
    CliCase("info-data-missing", ("info", "--data", "{tmp}/absent.ttl"), Exact("{tmp}/absent.ttl: no such file")),
    CliCase("serve-data-missing", ("serve", "--port", "0", "--data", "{tmp}/absent.ttl"),
            Exact("{tmp}/absent.ttl: no such file")),
    CliCase("push-data-missing", ("push", "--endpoint", "http://127.0.0.1:9/store", "--graph", "urn:ntx:g", "--data",
                                  "{tmp}/absent.ttl"), Exact("{tmp}/absent.ttl: no such file")),
    CliCase("data-is-a-folder", ("query", "is-narcotic", "--data", "{tmp}/folder.ttl"),
            Exact("{tmp}/folder.ttl: is a directory, not an RDF file")),
    CliCase("data-under-a-regular-file", ("query", "is-narcotic", "--data", "{tmp}/plain.txt/x.ttl"),
            Exact("{tmp}/plain.txt/x.ttl: cannot be read (Not a directory)")),
    CliCase("data-unreadable-proc-mem", ("query", "is-narcotic", "--data", "/proc/self/mem"),
            Exact("/proc/self/mem: cannot be read (Input/output error)"), linux_only=True),
    # query names
    CliCase("unknown-name", ("query", "no-such-query"),
            Exact("no saved query named 'no-such-query'; 'ntx-graph list' shows them all")),
    CliCase("misspelt-name", ("query", "is-narcotik"),
            Exact("no saved query named 'is-narcotik'; did you mean 'is-narcotic'?")),
    CliCase("ambiguous-name", ("query", "side-effects-by"),
            Prefix("query name 'side-effects-by' is ambiguous: it could be 'side-effects-by-body-system', ")),
    CliCase("show-unknown-name", ("show", "no-such-query"),
            Exact("no saved query named 'no-such-query'; 'ntx-graph list' shows them all")),
    CliCase("missing-query-file", ("query", "{tmp}/absent.rq"), Exact("{tmp}/absent.rq: no such query file")),
    CliCase("no-query", ("query",),
            Exact("give a saved query name, a .rq file, - (standard input) or --sparql TEXT "
                  "('ntx-graph list' shows the names)")),
    CliCase("name-and-sparql", ("query", "is-narcotic", "--sparql", "ASK {}"),
            Exact("give either a query name or --sparql, not both")),
    # parameters: missing, unknown, malformed, ill-typed
    CliCase("missing-parameter", ("query", "{tmp}/typed.rq"),
            Exact("query 'typed' needs parameter 'n' (integer): give --param n=VALUE")),
    CliCase("unknown-parameter", ("query", "quote-lookup", "-p", "nope=1"),
            Exact("query 'quote-lookup' has no parameter 'nope' (its parameters: text)")),
    CliCase("parameter-twice", ("query", "quote-lookup", "-p", "text=a", "-p", "text=b"),
            Exact("parameter 'text' is given twice")),
    CliCase("parameter-without-equals", ("query", "quote-lookup", "-p", "novalue"),
            Exact("--param expects KEY=VALUE, got 'novalue'")),
    CliCase("parameter-without-key", ("query", "quote-lookup", "-p", "=x"),
            Exact("--param expects KEY=VALUE, got '=x'")),
    CliCase("parameter-with-raw-sparql", ("query", "--sparql", "ASK {}", "-p", "a=1"),
            Exact("--param applies to saved queries and query files; SPARQL text (--sparql or -) takes no "
                  "parameters")),
    CliCase("integer-not-integer", ("query", "{tmp}/typed.rq", "-p", "n=1.5"),
            Exact("parameter 'n' (integer): '1.5' is not an integer")),
    CliCase("integer-with-payload", ("query", "{tmp}/typed.rq", "-p", "n=12 } ; DROP ALL"),
            Exact("parameter 'n' (integer): '12 } ; DROP ALL' is not an integer")),
    CliCase("decimal-exponent", ("query", "{tmp}/typed.rq", "-p", "n=1", "-p", "d=1e5"),
            Exact("parameter 'd' (decimal): '1e5' is not a decimal number")),
    CliCase("boolean-yes", ("query", "{tmp}/typed.rq", "-p", "n=1", "-p", "b=yes"),
            Exact("parameter 'b' (boolean): 'yes' is not true or false")),
    CliCase("iri-empty", ("query", "uses-in-category", "-p", "category="),
            Prefix("parameter 'category' (iri): '' is not an absolute IRI or a known prefixed name (")),
    CliCase("iri-relative", ("query", "{tmp}/typed.rq", "-p", "n=1", "-p", "i=relative/path"),
            Prefix("parameter 'i' (iri): 'relative/path' is not an absolute IRI or a known prefixed name (")),
    CliCase("iri-not-in-graph", ("query", "uses-in-category", "-p", "category=cond:nosuch"),
            Exact(f"parameter 'category': <{ID}condition/nosuch> is not a ntx:MedicalCondition in the graph")),
    CliCase("iri-of-wrong-class", ("query", "primary-uses", "-p", "drug=cond:hiv"),
            Exact(f"parameter 'drug': <{ID}condition/hiv> is not a ntx:Drug in the graph")),
    *[CliCase(f"iri-breakout-{name}", ("query", "{tmp}/typed.rq", "-p", "n=1", "-p", f"i={value}"),
              _iri_refused(value, char)) for name, value, char in BREAKOUT_IRIS],
    # raw SPARQL
    CliCase("sparql-syntax-error", ("query", "--sparql", "SELECT * WHERE { ?s ?p }"),
            Prefix("SPARQL syntax error at line 1, column 25: ")),
    # Oxigraph reports the furthest position its parser reached: here the end of the text, line 4
    CliCase("sparql-syntax-error-multiline", ("query", "--sparql", "SELECT *\nWHERE {\n  ?s ?p }\n"),
            Pattern(r"SPARQL syntax error at line [34], column \d+: .+")),
    CliCase("sparql-unknown-prefix", ("query", "--sparql", "SELECT * WHERE { ?s undeclared:p ?o }"),
            Exact("SPARQL syntax error at line 1, column 33: unknown prefix")),
    CliCase("sparql-syntax-error-rdflib", ("query", "--sparql", "SELECT * WHERE { ?s ?p }", "--engine", "rdflib"),
            Pattern(r"SPARQL syntax error: .*\(line:1, col:18\)")),
    CliCase("sparql-not-a-query", ("query", "--sparql", "hello"),
            Prefix("SPARQL syntax error at line 1, column 1: expected SELECT, ")),
    # SPARQL Update given to query
    *[CliCase(f"update-{name}", ("query", "--sparql", text), UPDATE) for name, text in [
        ("insert-data", "INSERT DATA { <urn:a> <urn:b> <urn:c> }"),
        ("insert-lowercase", "insert data { <urn:a> <urn:b> <urn:c> }"),
        ("delete-where", "DELETE WHERE { ?s ?p ?o }"),
        ("load", "LOAD <http://127.0.0.1:9/x.ttl>"),
        ("clear", "CLEAR ALL"),
        ("drop", "DROP GRAPH <urn:g>"),
        ("create", "CREATE GRAPH <urn:g>"),
        ("copy", "COPY DEFAULT TO <urn:g>"),
        ("with", "PREFIX ex: <urn:x:> WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"),
    ]],
    CliCase("update-rdflib", ("query", "--sparql", "DROP ALL", "--engine", "rdflib"), UPDATE),
    CliCase("update-in-query-file", ("query", "{tmp}/update.rq"), UPDATE),
    # federation without --allow-federation
    *[CliCase(f"federation-{name}-{engine}", ("query", "--sparql", text, "--engine", engine),
              Exact(f"{keyword} is refused: it could fetch remote data; allow federation explicitly to use it "
                    "(--allow-federation)"))
      for engine in ("oxigraph", "rdflib") for name, keyword, text in [
        ("service", "SERVICE", "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
        ("service-lowercase", "SERVICE", "select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
        ("service-silent", "SERVICE", "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
        ("from", "FROM", "SELECT * FROM <http://127.0.0.1:9/g> WHERE { ?s ?p ?o }"),
        ("from-named", "FROM NAMED", "SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }"),
    ]],
    # results that cannot be written in the asked format
    CliCase("ask-as-turtle", ("query", "--sparql", "ASK {}", "-f", "turtle"),
            Pattern(r"an? ASK result cannot be written as 'turtle'; use one of table, json, xml, csv, tsv")),
    CliCase("saved-ask-as-ntriples", ("query", "is-narcotic", "-f", "ntriples"),
            Pattern(r"an? ASK result cannot be written as 'ntriples'; use one of table, json, xml, csv, tsv")),
    CliCase("select-as-turtle", ("query", "primary-uses", "-f", "turtle"),
            Exact("a SELECT result cannot be written as 'turtle'; use one of table, json, xml, csv, tsv")),
    *[CliCase(f"construct-as-{fmt}", ("query", "drug-card", "-f", fmt),
              Exact(f"a graph result cannot be written as '{fmt}'; use one of turtle, ntriples, jsonld, rdfxml, trig"))
      for fmt in ("csv", "tsv", "table")],
    # output files
    CliCase("output-missing-folder", ("query", "is-narcotic", "-o", "{tmp}/missing/out.txt"),
            Exact("cannot write {tmp}/missing/out.txt: folder {tmp}/missing does not exist")),
    CliCase("export-missing-folder", ("export", "-o", "{tmp}/missing/out.ttl"),
            Exact("cannot write {tmp}/missing/out.ttl: folder {tmp}/missing does not exist")),
    CliCase("output-under-a-regular-file", ("query", "is-narcotic", "-o", "{tmp}/plain.txt/out.txt"),
            Prefix("cannot write {tmp}/plain.txt/out.txt: ")),
    CliCase("output-is-a-folder", ("query", "is-narcotic", "-f", "tsv", "-o", "{tmp}/folder.ttl"),
            Exact("cannot write {tmp}/folder.ttl: it is a folder")),
    CliCase("output-into-proc", ("query", "is-narcotic", "-o", "/proc/version"), Prefix("cannot write /proc/version: "),
            linux_only=True),
    CliCase("export-into-proc", ("export", "-o", "/proc/self/ntx-graph.ttl"),
            Prefix("cannot write /proc/self/ntx-graph.ttl: "), linux_only=True),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.id for c in CLI_CASES])
def test_cli_refuses_with_one_line_and_exit_2(tmp: Path, case: CliCase) -> None:
    if case.linux_only and not ON_LINUX:
        pytest.skip("needs Linux /proc")
    result = ntx(*(a.replace("{tmp}", str(tmp)) for a in case.args), cwd=tmp)
    assert_message(error_line(result), case.message, str(tmp))


def test_cli_table_names_each_case_once() -> None:
    assert len({c.id for c in CLI_CASES}) == len(CLI_CASES)


@pytest.mark.skipif(IS_ROOT, reason="running as root: chmod 000 does not stop root from reading a file "
                                    "(the unreadable case is covered by /proc/self/mem and a path under a file)")
def test_cli_refuses_a_file_without_read_permission(tmp_path: Path) -> None:
    locked = tmp_path / "locked.ttl"
    locked.write_text("<urn:a> <urn:b> <urn:c> .\n")
    locked.chmod(0)
    try:
        assert_message(error_line(ntx("query", "is-narcotic", "--data", str(locked))),
                       Exact(f"{locked}: cannot be read (Permission denied)"))
    finally:
        locked.chmod(0o644)


@pytest.mark.parametrize("args", [("query", "is-narcotic", "-f", "yaml"), ("query", "is-narcotic", "--engine", "jena"),
                                  ("query", "is-narcotic", "--timeout", "soon"), ("serve", "--port", "http"),
                                  ("frobnicate",)], ids=["format", "engine", "timeout", "port", "command"])
def test_cli_argument_errors_exit_2_without_a_traceback(args: tuple[str, ...]) -> None:
    """Command-line usage errors: one line in the project's form, naming the help to read."""
    result = ntx(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert re.fullmatch(r"ntx-graph: error: argument .* \(see 'ntx-graph( query| serve)? --help'\)\n",
                        result.stderr), result.stderr


def test_cli_shapes_breaking_data_is_refused_with_the_report(tmp: Path) -> None:
    result = ntx("query", "is-narcotic", "--data", str(tmp / "shapes.ttl"))
    assert result.returncode == 2 and result.stdout == "" and "Traceback" not in result.stderr
    report, sep, message = result.stderr.rpartition(PREFIX)
    assert sep and message.endswith("\n") and message.count("\n") == 1
    assert_message(message[:-1], Pattern(r"--data does not conform to the shapes \(does not conform: \d+ violations? "
                                         r"from \d+ shapes? on 1 node\); use --no-validate to load it anyway"))
    assert "ex:bogus -> ntx:drug: An indication must name exactly one drug" in report
    assert "ex:bogus -> ntx:evidenceQuote: " in report


def test_cli_shapes_breaking_data_is_accepted_with_no_validate(tmp: Path) -> None:
    data = str(tmp / "shapes.ttl")
    result = ntx("query", "--sparql", "ASK { <http://example.org/bogus> a ntx:Indication }", "--data", data,
                 "--no-validate")
    assert (result.returncode, result.stdout, result.stderr) == (0, "true\n", "")


def test_regression_shapes_report_ends_before_the_error_line(tmp: Path) -> None:
    """cli._open writes ``report.text`` without a final newline, so the error
    line is glued to the report's last line ("...(ntx:evidenceQuote).ntx-graph:
    error: --data does not conform ...")."""
    result = ntx("query", "is-narcotic", "--data", str(tmp / "shapes.ttl"))
    last = result.stderr.splitlines()[-1]
    assert last.startswith(PREFIX + "--data does not conform to the shapes"), last


def test_regression_iri_with_a_line_break_is_refused_in_one_line(router: Router) -> None:
    """params.expand_iri puts pyoxigraph's message into the error, and that
    message holds the offending character itself: a newline in an IRI value
    gives a two-line CLI error ("... (Invalid IRI code point '<LF>')"), and over
    HTTP, where the line is collapsed, a message naming the wrong character
    (code point ' ')."""
    value = "http://example.org/a\nb"
    expected = _iri_refused(value, "\\n", "drug")  # the character named as an escape, on one line
    assert_message(error_line(ntx("query", "primary-uses", "-p", f"drug={value}")), expected)
    response = router(Request("GET", "/queries/primary-uses.json", urlencode({"drug": value})))
    assert response.status == 400
    assert_message(response.body.decode()[:-1], expected)


def test_regression_query_file_not_in_utf8_is_a_one_line_error(tmp: Path) -> None:
    """catalog.parse_saved_query lets UnicodeDecodeError escape: exit 3,
    'internal error: UnicodeDecodeError: ...'."""
    assert_message(error_line(ntx("query", str(tmp / "latin1.rq"))),
                   Prefix("latin1.rq: "))


def test_regression_output_under_a_regular_file_is_not_called_missing(tmp: Path) -> None:
    """output.atomic_write says "folder X does not exist" when X exists but is a
    regular file."""
    message = error_line(ntx("query", "is-narcotic", "-o", str(tmp / "plain.txt" / "out.txt")))
    assert "does not exist" not in message, message
    assert_message(message, Exact("cannot write {tmp}/plain.txt/out.txt: {tmp}/plain.txt is not a folder"), str(tmp))


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_cli_timeout_stops_the_query_at_the_limit(engine: str) -> None:
    started = time.monotonic()
    result = ntx("query", "--sparql", SLOW, "--timeout", "0.5", "--engine", engine)
    elapsed = time.monotonic() - started
    assert_message(error_line(result), Exact("the query ran longer than the time limit of 0.5 s and was stopped"))
    assert elapsed < 0.5 + 8, f"took {elapsed:.1f} s"  # start-up (rdflib: building its graph) plus the limit


# -- output files stay whole ------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (("export", "--data", "{tmp}/bad.ttl"), Prefix("{tmp}/bad.ttl: syntax error at line 3, column 12: ")),
    (("export", "--data", "{tmp}/absent.ttl"), Exact("{tmp}/absent.ttl: no such file")),
    (("export", "-f", "rdfxml", "--data", "{tmp}/folder.ttl"),
     Exact("{tmp}/folder.ttl: is a directory, not an RDF file")),
    (("query", "--sparql", "SELECT * WHERE { ?s ?p }"), Prefix("SPARQL syntax error at line 1, column 25: ")),
    (("query", "drug-card", "-f", "csv"), Prefix("a graph result cannot be written as 'csv'")),
    (("query", "--sparql", SLOW, "--timeout", "0.3"), Exact("the query ran longer than the time limit of 0.3 s and "
                                                           "was stopped")),
], ids=["bad-data", "missing-data", "folder-data", "syntax-error", "format", "timeout"])
def test_failed_export_or_query_keeps_the_existing_output_file(tmp_path: Path, tmp: Path, args: tuple[str, ...],
                                                               message: Message) -> None:
    target = tmp_path / "keep.ttl"
    original = b"@prefix ex: <http://example.org/> .\nex:kept ex:is ex:intact .\n"
    target.write_bytes(original)
    result = ntx(*(a.replace("{tmp}", str(tmp)) for a in args), "-o", str(target))
    assert_message(error_line(result), message, str(tmp))
    assert target.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.ttl"], "a temporary file was left behind"


def test_failed_shapes_export_keeps_the_existing_output_file(tmp_path: Path, tmp: Path) -> None:
    target = tmp_path / "keep.ttl"
    target.write_bytes(b"kept\n")
    result = ntx("export", "--data", str(tmp / "shapes.ttl"), "-o", str(target))
    assert result.returncode == 2 and "does not conform to the shapes" in result.stderr
    assert target.read_bytes() == b"kept\n" and [p.name for p in tmp_path.iterdir()] == ["keep.ttl"]


# -- values that try to break out of the query ---------------------------------------------------


HOSTILE = [
    'x" } UNION { ?s ?p ?o } #',
    "x') || true || ('",
    'craving")) } UNION { ?claim ?p ?quote } #',
    "}> ; DROP ALL ; #",
    "a > b < c",
    "line\nbreak\r\n\ttab } #",
    "# not a comment",
    '"""triple""" and \'\'\'triple\'\'\'',
    "back\\slash \\u0022 \\U0001F600",
    "IRI-like <http://example.org/a b> ?s",
    "é😀\u2028\u2029\ufeff",
    "ünïcödé ✓ \U0001d518 😀 " * 2000,  # a Fraktur U, astral
]
ECHO_RQ = "#+ title: Echo\n#+ description: Returns its string parameters.\n" + "".join(
    f"#+ param: s{i} string = x | a string\n" for i in range(len(HOSTILE))) + \
    "SELECT " + " ".join(f"?s{i}" for i in range(len(HOSTILE))) + " WHERE { }\n"


def test_cli_hostile_strings_come_back_unchanged(tmp_path: Path) -> None:
    """Every hostile value, given on the command line, is one literal in the answer."""
    echo = tmp_path / "echo.rq"
    echo.write_text(ECHO_RQ, encoding="utf-8")
    args = [a for i, value in enumerate(HOSTILE) for a in ("-p", f"s{i}={value}")]
    result = ntx("query", str(echo), *args, "-f", "json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["results"]["bindings"]
    assert [row[f"s{i}"] for i in range(len(HOSTILE))] == [{"type": "literal", "value": v} for v in HOSTILE]


@pytest.mark.parametrize("value", HOSTILE[:4], ids=range(4))
def test_cli_hostile_strings_find_what_a_harmless_string_finds(value: str) -> None:
    """quote-lookup with a breakout attempt answers exactly as with a harmless
    value that matches nothing: the query's structure is unchanged."""
    hostile = ntx("query", "quote-lookup", "-p", f"text={value}", "-f", "json")
    harmless = ntx("query", "quote-lookup", "-p", "text=zzz-matches-nothing", "-f", "json")
    assert hostile.returncode == harmless.returncode == 0, hostile.stderr
    assert json.loads(hostile.stdout) == json.loads(harmless.stdout)
    assert json.loads(harmless.stdout)["results"]["bindings"] == []


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_api_hostile_strings_find_what_a_harmless_string_finds(kg: KnowledgeGraph, engine: str) -> None:
    harmless = kg.run("quote-lookup", {"text": "zzz-matches-nothing"}, engine=engine)  # type: ignore[arg-type]
    for value in HOSTILE:
        hostile = kg.run("quote-lookup", {"text": value}, engine=engine)  # type: ignore[arg-type]
        assert (hostile.variables, hostile.rows) == (harmless.variables, harmless.rows), value[:40]
    # and a real text still finds its quotes: the comparison above is not vacuous
    assert len(kg.run("quote-lookup", {"text": "craving"}, engine=engine)) > 0  # type: ignore[arg-type]


# -- property tests: random values through kg.bind and the remote VALUES injection ------------------


PROBE = SavedQuery("probe", "Probe", "Binds one parameter of each type.",
                   "PREFIX ntx: <https://w3id.org/ntx-graph/def/>\n"
                   "SELECT ?s ?p WHERE { ?s ?p ?v . OPTIONAL { ?s ntx:drug ?i } FILTER (?v != ?n || ?d > 0 || ?b) }\n",
                   Path("probe.rq"),
                   (Parameter("v", "string", default="x"), Parameter("i", "iri", default="<urn:ntx:x>"),
                    Parameter("n", "integer", default="1"), Parameter("d", "decimal", default="1.5"),
                    Parameter("b", "boolean", default="true")))
_KG = KnowledgeGraph.open()
_ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
_IRI_ISH = st.one_of(_ANY_TEXT, _ANY_TEXT.map(lambda s: "http://example.org/" + s),
                     _ANY_TEXT.map(lambda s: "<urn:ntx:" + s + ">"), _ANY_TEXT.map(lambda s: "cond:" + s))
_NUMBER_ISH = st.one_of(_ANY_TEXT, st.from_regex(r"[+-]?[0-9]{0,6}(\.[0-9]{0,4})?", fullmatch=True),
                        st.from_regex(r"[+-]?[0-9]{1,4}[ }#\"'>.;a-z]{1,6}", fullmatch=True))
STRATEGIES = {"string": _ANY_TEXT, "iri": _IRI_ISH, "integer": _NUMBER_ISH, "decimal": _NUMBER_ISH,
              "boolean": st.one_of(_ANY_TEXT, st.sampled_from(["true", "FALSE", " 1 ", "0", "yes", "true }"]))}


def _as_parsed(term: ox.NamedNode | ox.Literal) -> rdflib.term.Identifier:
    """The term as rdflib reads it back from query text (``"x"`` is a plain literal)."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if term.datatype.value == XSD + "string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def _only_the_value_differs(saved: SavedQuery, name: str, value: str) -> None:
    try:
        bound = _KG.bind(saved, {name: value})
    except ParameterError:
        return  # refused before any query is built
    baseline = _KG.bind(saved, {})
    assert set(bound) == set(baseline) and all(bound[k] == baseline[k] for k in bound if k != name)
    try:
        injected = inject_values(saved.text, bound)
    except ParameterError:
        return  # a term that cannot be written safely is refused before any request
    diffs = differences(algebra(injected), algebra(inject_values(saved.text, baseline)))
    if bound[name] == baseline[name]:
        assert diffs == []
        return
    assert [(d[1], d[2]) for d in diffs] == [(_as_parsed(bound[name]), _as_parsed(baseline[name]))], diffs
    assert ".res[0]" in diffs[0][0]  # inside the VALUES rows


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(PARAM_TYPES).flatmap(lambda t: st.tuples(st.just(t), STRATEGIES[t])))
def test_random_typed_values_only_change_the_value(typed: tuple[str, str]) -> None:
    ptype, value = typed
    name = next(p.name for p in PROBE.parameters if p.type == ptype)
    _only_the_value_differs(PROBE, name, value)


_SAVED_PARAMS = [(q, p) for q in saved_queries() for p in q.parameters]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SAVED_PARAMS).flatmap(lambda qp: st.tuples(st.just(qp), st.one_of(
    STRATEGIES[qp[1].type],
    # real instances in odd spellings, so that class-checked IRIs are accepted too
    st.sampled_from(["drug:naltrexone", " <" + ID + "drug/naltrexone> ", "severity:severe", "frequency:rare",
                     "cond:substance-dependence", ID + "condition/behavioural-addiction"])))))
def test_random_values_on_saved_queries_only_change_the_value(case: tuple[tuple[SavedQuery, Parameter], str]) -> None:
    (saved, param), value = case
    _only_the_value_differs(saved, param.name, value)


def test_property_tests_reach_accepted_values() -> None:
    """The strategies are not all refusals: each type has accepted values."""
    for value, ptype in (("http://example.org/a", "iri"), ("-12", "integer"), (".5", "decimal"), (" 0 ", "boolean")):
        name = next(p.name for p in PROBE.parameters if p.type == ptype)
        assert _KG.bind(PROBE, {name: value})[name] != _KG.bind(PROBE, {})[name]


# -- federation: what reaches the network ---------------------------------------------------------


@pytest.mark.parametrize("form", ["from", "from-named"])
def test_allowed_from_on_the_embedded_engine_stays_offline(listener: Listener, form: str) -> None:
    """--allow-federation: FROM and FROM NAMED naming a graph the store does not
    hold answer from the store (nothing), and never connect."""
    query = {"from": f"SELECT * FROM <{listener.url}/g> WHERE {{ ?s ?p ?o }}",
             "from-named": f"SELECT * FROM NAMED <{listener.url}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"}[form]
    result = ntx("query", "--sparql", query, "--allow-federation", "-f", "json")
    assert listener.hits == [], "the embedded engine connected to the FROM graph's IRI"
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"]["bindings"] == []


def test_allowed_from_on_rdflib_stays_offline(listener: Listener) -> None:
    ntx("query", "--sparql", f"SELECT * FROM <{listener.url}/g> WHERE {{ ?s ?p ?o }}", "--allow-federation",
        "--engine", "rdflib", "-f", "csv")
    assert listener.hits == [], "rdflib connected to the FROM graph's IRI"


def test_regression_rdflib_from_answers_like_oxigraph_or_refuses(listener: Listener) -> None:
    """--engine rdflib --allow-federation ignores FROM: a FROM naming a graph
    that is not there answers with the whole bundled graph, where Oxigraph
    (correctly) answers nothing. Either answer alike or refuse in one line."""
    query = f"SELECT (COUNT(*) AS ?n) FROM <{listener.url}/g> WHERE {{ ?s ?p ?o }}"
    answers = {engine: ntx("query", "--sparql", query, "--allow-federation", "--engine", engine, "-f", "csv")
               for engine in ("oxigraph", "rdflib")}
    assert answers["oxigraph"].stdout == "n\n0\n", answers["oxigraph"].stderr
    if answers["rdflib"].returncode == 0:
        assert answers["rdflib"].stdout == answers["oxigraph"].stdout, answers["rdflib"].stdout
    else:
        assert "internal error" not in error_line(answers["rdflib"])


def test_regression_rdflib_from_named_is_a_one_line_error(listener: Listener) -> None:
    """--engine rdflib --allow-federation with FROM NAMED: exit 3, 'internal
    error: Exception: You performed a query operation requiring a dataset'."""
    result = ntx("query", "--sparql", f"SELECT * FROM NAMED <{listener.url}/g> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
                 "--allow-federation", "--engine", "rdflib")
    assert "internal error" not in error_line(result)


@pytest.mark.parametrize("engine", ["oxigraph", "rdflib"])
def test_regression_failed_service_call_is_a_one_line_error(listener: Listener, engine: str) -> None:
    """--allow-federation and a SERVICE whose server resets the connection:
    exit 3 'internal error: ConnectionResetError ...'; with Oxigraph a second
    line follows ('RuntimeError: pyoxigraph::sparql::PyQuerySolutions is
    unsendable, but is being dropped on another thread'), because the
    solutions iterator is dropped on the main thread with the traceback."""
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}/sparql> {{ ?s ?p ?o }} }}"
    result = ntx("query", "--sparql", query, "--allow-federation", "--engine", engine)
    assert listener.hits, "the SERVICE call was expected to be made (federation is allowed)"
    assert_message(error_line(result), Prefix("the query failed: "))


#: SERVICE hidden from the lexical guard (sparql_text.tokens / guard.check_query),
#: which Oxigraph's parser still reads as SERVICE.
HIDDEN_SERVICE = {
    # PN_LOCAL escapes: the tokenizer ends the prefixed name at ';' (or ',' or ')') and
    # takes the escaped '#' for the start of a comment that hides the rest of the line
    "escaped-prefixed-name": "PREFIX ex: <http://example.org/> SELECT * WHERE {{ {{ ?s ex:a\\;\\# ?o }} "
                             "UNION {{ SERVICE <{url}/sparql> {{ ?a ?b ?c }} }} }}",
    # a \\u escape in an IRI: the tokenizer does not see an IRI, and its '#' starts a "comment"
    "escaped-iri": "SELECT * WHERE {{ {{ ?s <http\\u003A//example.org/#> ?o }} "
                   "UNION {{ SERVICE <{url}/sparql> {{ ?a ?b ?c }} }} }}",
}


@pytest.mark.parametrize("trick", list(HIDDEN_SERVICE))
def test_regression_hidden_service_is_refused_by_the_cli(listener: Listener, trick: str) -> None:
    """Without --allow-federation, a SERVICE the lexical check misses reaches
    the network from the embedded Oxigraph engine."""
    result = ntx("query", "--sparql", HIDDEN_SERVICE[trick].format(url=listener.url))
    assert listener.hits == [], f"outbound connection without --allow-federation: {listener.hits[0][:60]!r}"
    assert_message(error_line(result), Prefix("SERVICE is refused"))


@pytest.mark.parametrize("keyword", ["\\u0053ERVICE", "SERVIC\\u0045", "\\u0073ervice"])
def test_regression_unicode_escaped_service_is_refused_on_rdflib(listener: Listener, keyword: str) -> None:
    """rdflib expands \\uXXXX escapes in the whole query before parsing
    (SPARQL 1.1, 19.2), so an escaped SERVICE passes the lexical check and
    rdflib POSTs the query to the named server, without --allow-federation."""
    query = f"SELECT * WHERE {{ {keyword} <{listener.url}/sparql> {{ ?s ?p ?o }} }}"
    result = ntx("query", "--sparql", query, "--engine", "rdflib")
    assert listener.hits == [], f"outbound connection without --allow-federation: {listener.hits[0][:60]!r}"
    assert_message(error_line(result), Prefix("SERVICE is refused"))


# -- the HTTP endpoint ------------------------------------------------------------------------------


LIMITS = Limits(timeout=1.0, max_rows=50, max_request_bytes=5000, workers=1)
FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SELECT_OFFERS = ("application/sparql-results+json, application/sparql-results+xml, text/csv, "
                 "text/tab-separated-values, application/json, application/xml, text/xml")
GRAPH_OFFERS = ("text/turtle, application/n-triples, application/ld+json, application/rdf+xml, application/trig, "
                "application/x-turtle, application/json")
NO_OUTBOUND = "the endpoint makes no outbound connections"
ABSENT = "is not a graph in the endpoint's dataset (it holds only the default graph)"
READ_ONLY = "SPARQL Update is refused: this endpoint is read-only"


@dataclass(frozen=True)
class HttpCase:
    id: str
    method: str
    path: str
    status: int
    message: Message
    params: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    live_only: bool = False


def _q(text: str) -> tuple[tuple[str, str]]:
    return (("query", text),)


HTTP_CASES = [
    # malformed
    HttpCase("syntax-error-get", "GET", "/sparql", 400, Prefix("SPARQL syntax error at line 1, column 25: "),
             _q("SELECT * WHERE { ?s ?p }")),
    HttpCase("syntax-error-post", "POST", "/sparql", 400, Prefix("SPARQL syntax error at line 2, column "),
             body=b"SELECT * WHERE {\n  ?s ?p }", headers=(("Content-Type", SPARQL_QUERY),)),
    HttpCase("syntax-error-form", "POST", "/sparql", 400, Prefix("SPARQL syntax error at line 1, column 1: expected "),
             body=urlencode({"query": "SELEC * WHERE { ?s ?p ?o }"}).encode(), headers=(("Content-Type", FORM),)),
    HttpCase("empty-query", "GET", "/sparql", 400, Exact("the query is empty"), _q("   ")),
    HttpCase("no-query-post", "POST", "/sparql", 400,
             Exact("no query given: send query=... or a body of type application/sparql-query"),
             headers=(("Content-Type", FORM),)),
    HttpCase("query-twice", "GET", "/sparql", 400, Exact("the 'query' parameter is given 2 times; give it once"),
             (("query", "ASK {}"), ("query", "ASK {}"))),
    HttpCase("query-in-body-and-url", "POST", "/sparql", 400,
             Exact("give the query either in the body or as the 'query' parameter, not both"), _q("ASK {}"),
             body=b"ASK {}", headers=(("Content-Type", SPARQL_QUERY),)),
    HttpCase("not-utf8", "POST", "/sparql", 400, Exact("the query is not valid UTF-8"), body=b"ASK { \xff }",
             headers=(("Content-Type", SPARQL_QUERY),)),
    HttpCase("content-type", "POST", "/sparql", 415, Prefix("unsupported Content-Type text/plain: POST a query as "),
             body=b"query=ASK+%7B%7D", headers=(("Content-Type", "text/plain"),)),
    HttpCase("method", "PUT", "/sparql", 405, Exact("PUT is not allowed on /sparql; use GET, HEAD, POST")),
    # updates
    HttpCase("update-content-type", "POST", "/sparql", 400, Exact(READ_ONLY), body=b"DROP ALL",
             headers=(("Content-Type", "application/sparql-update"),)),
    HttpCase("update-form", "POST", "/sparql", 400, Exact(READ_ONLY), body=b"update=CLEAR+ALL",
             headers=(("Content-Type", FORM),)),
    HttpCase("update-as-query", "GET", "/sparql", 400, Exact(READ_ONLY), _q("INSERT DATA { <urn:a> <urn:b> <urn:c> }")),
    HttpCase("update-as-query-body", "POST", "/sparql", 400, Exact(READ_ONLY), body=b"delete where { ?s ?p ?o }",
             headers=(("Content-Type", SPARQL_QUERY),)),
    HttpCase("load", "GET", "/sparql", 400, Exact(READ_ONLY + " (LOAD found)"), _q("LOAD <http://127.0.0.1:9/x.ttl>")),
    # outbound
    HttpCase("service", "GET", "/sparql", 400, Exact(f"SERVICE is refused: {NO_OUTBOUND}"),
             _q("SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")),
    HttpCase("service-silent-lowercase", "GET", "/sparql", 400, Exact(f"SERVICE is refused: {NO_OUTBOUND}"),
             _q("select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")),
    HttpCase("from", "GET", "/sparql", 400,
             Exact(f"FROM <http://127.0.0.1:9/g> is refused: {NO_OUTBOUND}, and <http://127.0.0.1:9/g> {ABSENT}"),
             _q("SELECT * FROM <http://127.0.0.1:9/g> WHERE { ?s ?p ?o }")),
    HttpCase("from-named", "GET", "/sparql", 400,
             Exact(f"FROM NAMED <http://127.0.0.1:9/g> is refused: {NO_OUTBOUND}, and <http://127.0.0.1:9/g> {ABSENT}"),
             _q("SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }")),
    HttpCase("graph-iri", "GET", "/sparql", 400,
             Exact(f"GRAPH <http://example.org/g> is refused: {NO_OUTBOUND}, and <http://example.org/g> {ABSENT}"),
             _q("PREFIX ex: <http://example.org/> SELECT * WHERE { GRAPH ex:g { ?s ?p ?o } }")),
    HttpCase("default-graph-uri", "GET", "/sparql", 400,
             Exact(f"default-graph-uri <http://127.0.0.1:9/g> is refused: {NO_OUTBOUND}, and <http://127.0.0.1:9/g> "
                   f"{ABSENT}"), (("query", "ASK {}"), ("default-graph-uri", "http://127.0.0.1:9/g"))),
    # sizes
    HttpCase("oversized-body", "POST", "/sparql", 413,
             Pattern(r"the request body (\(6000 bytes\) )?is larger than the limit of 5000 bytes"),
             body=b"ASK {} #" + b"x" * 5992, headers=(("Content-Type", SPARQL_QUERY),)),
    HttpCase("oversized-url", "GET", "/sparql", 414,
             Pattern(r"the (URL|query string) is longer than the limit of 5000 bytes; POST the query instead"),
             _q("ASK {} #" + "x" * 6000)),
    HttpCase("row-cap", "GET", "/sparql", 413,
             Exact("the result has more than 50 rows, the endpoint's limit; add a LIMIT (and OFFSET to page)"),
             _q("SELECT * WHERE { ?s ?p ?o }")),
    HttpCase("triple-cap", "GET", "/sparql", 413,
             Exact("the result has more than 50 triples, the endpoint's limit; add a LIMIT (and OFFSET to page)"),
             _q("CONSTRUCT WHERE { ?s ?p ?o }")),
    HttpCase("saved-query-row-cap", "GET", "/queries/claims-with-sources.json", 413,
             Exact("the result has more than 50 rows, the endpoint's limit; add a LIMIT (and OFFSET to page)")),
    # content negotiation
    HttpCase("accept-select", "GET", "/sparql", 406,
             Exact(f"cannot answer a SELECT query in any type the Accept header (image/png) allows; available: "
                   f"{SELECT_OFFERS}"), _q("SELECT * WHERE { ?s ?p ?o } LIMIT 1"), headers=(("Accept", "image/png"),)),
    HttpCase("accept-construct", "GET", "/sparql", 406,
             Exact(f"cannot answer a CONSTRUCT query in any type the Accept header (text/csv) allows; available: "
                   f"{GRAPH_OFFERS}"), _q("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1"), headers=(("Accept", "text/csv"),)),
    HttpCase("accept-q-zero", "GET", "/sparql", 406, Prefix("cannot answer a SELECT query in any type the Accept "),
             _q("SELECT * WHERE { ?s ?p ?o } LIMIT 1"),
             headers=(("Accept", "application/sparql-results+json;q=0, text/html"),)),
    HttpCase("format-param", "GET", "/sparql", 406, Prefix("format 'turtle' is not available for a"),
             (("query", "ASK {}"), ("format", "turtle"))),
    HttpCase("saved-select-as-turtle", "GET", "/queries/primary-uses.ttl", 406,
             Prefix("format 'ttl' is not available for a SELECT query; use one of ")),
    # saved-query parameters
    HttpCase("saved-unknown-query", "GET", "/queries/no-such-query", 404,
             Exact("no saved query named 'no-such-query'; GET /queries lists them")),
    HttpCase("saved-unknown-parameter", "GET", "/queries/off-label-uses-lacking-evidence", 400,
             Exact("query 'off-label-uses-lacking-evidence' has no parameter 'dose' (its parameters: drug)"),
             (("dose", "3"),)),
    HttpCase("saved-parameter-twice", "GET", "/queries/quote-lookup.json", 400,
             Exact("the 'text' parameter is given 2 times; give it once"), (("text", "a"), ("text", "b"))),
    HttpCase("saved-iri-space", "GET", "/queries/off-label-uses-lacking-evidence.csv", 400,
             _iri_refused("http://a b", " ", "drug"), (("drug", "http://a b"),)),
    *[HttpCase(f"saved-iri-breakout-{name}", "GET", "/queries/primary-uses.json", 400,
               _iri_refused(value, char, "drug"), (("drug", value),)) for name, value, char in BREAKOUT_IRIS],
    HttpCase("saved-iri-wrong-class", "GET", "/queries/primary-uses.json", 400,
             Exact(f"parameter 'drug': <{ID}condition/hiv> is not a ntx:Drug in the graph"), (("drug", "cond:hiv"),)),
    HttpCase("saved-iri-empty", "GET", "/queries/primary-uses.json", 400,
             Prefix("parameter 'drug' (iri): '' is not an absolute IRI or a known prefixed name ("), (("drug", ""),)),
    # only a live server has a time limit and reads the raw request
    HttpCase("slow-query", "GET", "/sparql", 503, Exact("the query exceeded the time limit of 1 s and was stopped"),
             _q(SLOW), live_only=True),
    HttpCase("chunked-body-too-large", "POST", "/sparql", 413,
             Exact("the request body is larger than the limit of 5000 bytes"),
             headers=(("Content-Type", SPARQL_QUERY), ("Transfer-Encoding", "chunked")),
             body=b"".join([b"1000\r\n" + b"#" * 4096 + b"\r\n"] * 2) + b"0\r\n\r\n", live_only=True),
]


@pytest.fixture(scope="module")
def router(kg: KnowledgeGraph) -> Router:
    return Router(Snapshot.of(kg), LIMITS, InlineExecutor(kg), host="example.test")


@pytest.fixture(scope="module")
def live(kg: KnowledgeGraph) -> Iterator[NtxServer]:
    server = make_server(kg, "127.0.0.1", 0, LIMITS)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    thread.join(10)


@dataclass
class Reply:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def send(url: str, method: str, path: str, params: Sequence[tuple[str, str]] = (), body: bytes = b"",
         headers: Sequence[tuple[str, str]] = ()) -> Reply:
    """One request over a fresh connection, the body sent as given."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        target = path + ("?" + urlencode(list(params)) if params else "")
        conn.putrequest(method, target, skip_accept_encoding=True)
        names = {k.lower() for k, _ in headers}
        for key, value in headers:
            conn.putheader(key, value)
        if body and "transfer-encoding" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        response = conn.getresponse()
        return Reply(response.status, response.getheader("Content-Type") or "", response.read())
    finally:
        conn.close()


def ask(transport: str, router: Router, live_url: str, case: HttpCase) -> Reply:
    if transport == "live":
        return send(live_url, case.method, case.path, case.params, case.body, case.headers)
    headers = {k.lower(): v for k, v in case.headers}
    response = router(Request(case.method, case.path, urlencode(list(case.params)), headers, case.body))
    return Reply(response.status, response.content_type, response.body)


#: Every case on a live server, and on the router alone unless it needs the HTTP layer or a time limit
#: (the router runs queries inline).
HTTP_RUNS = [(c, t) for c in HTTP_CASES for t in ("router", "live") if t == "live" or not c.live_only]


@pytest.mark.parametrize(("case", "transport"), HTTP_RUNS, ids=[f"{c.id}-{t}" for c, t in HTTP_RUNS])
def test_http_refuses_with_status_and_one_line(request: pytest.FixtureRequest, router: Router, case: HttpCase,
                                               transport: str) -> None:
    live_url = request.getfixturevalue("live").url if transport == "live" else ""
    started = time.monotonic()
    reply = ask(transport, router, live_url, case)
    assert reply.status == case.status, reply.text
    assert reply.content_type.startswith("text/plain"), reply.content_type
    assert reply.text.endswith("\n") and reply.text.count("\n") == 1, reply.text
    assert_message(reply.text[:-1], case.message)
    if case.id == "slow-query":
        assert 0.9 <= time.monotonic() - started < LIMITS.timeout + 3


def test_http_table_names_each_case_once() -> None:
    assert len({c.id for c in HTTP_CASES}) == len(HTTP_CASES)


def test_http_missing_and_ill_typed_saved_query_parameters(kg: KnowledgeGraph) -> None:
    """No bundled query has a required or numeric parameter: a router whose
    catalogue also holds one checks them before any worker runs."""
    typed = SavedQuery("typed", "Typed", "Typed parameters.", TYPED_RQ, Path("typed.rq"), (
        Parameter("n", "integer"), Parameter("d", "decimal", default="1.5"), Parameter("b", "boolean", default="true")))
    snapshot = Snapshot.of(kg)
    snapshot = dataclasses.replace(snapshot, queries={**snapshot.queries, "typed": typed})
    typed_router = Router(snapshot, LIMITS, InlineExecutor(kg))
    for params, status, expected in [
        ({}, 400, Exact("query 'typed' needs parameter 'n' (integer): add ?n=VALUE to the URL")),
        ({"n": "1.5"}, 400, Exact("parameter 'n' (integer): '1.5' is not an integer")),
        ({"n": "1 } UNION { ?s ?p ?o"}, 400,
         Exact("parameter 'n' (integer): '1 } UNION { ?s ?p ?o' is not an integer")),
        ({"n": "1", "d": "1e5"}, 400, Exact("parameter 'd' (decimal): '1e5' is not a decimal number")),
        ({"n": "1", "b": "yes"}, 400, Exact("parameter 'b' (boolean): 'yes' is not true or false")),
    ]:
        response = typed_router(Request("GET", "/queries/typed.json", urlencode(params)))
        assert response.status == status, response.body
        assert_message(response.body.decode()[:-1], expected)


@pytest.mark.parametrize("transport", ["router", "live"])
def test_http_hostile_strings_find_what_a_harmless_string_finds(request: pytest.FixtureRequest, router: Router,
                                                                transport: str) -> None:
    live_url = request.getfixturevalue("live").url if transport == "live" else ""

    def lookup(text: str) -> Reply:
        return ask(transport, router, live_url, HttpCase("q", "GET", "/queries/quote-lookup.json", 200, Exact(""),
                                                         (("text", text),)))

    harmless = lookup("zzz-matches-nothing")
    assert harmless.status == 200 and json.loads(harmless.body)["results"]["bindings"] == []
    for value in [*HOSTILE[:-1], "ünïcödé ✓ 😀 " * 30]:  # the URL limit is 5000 bytes here
        hostile = lookup(value)
        assert hostile.status == 200, hostile.text
        assert json.loads(hostile.body) == json.loads(harmless.body), value[:40]
    assert json.loads(lookup("craving").body)["results"]["bindings"], "a real text finds its quotes"


@pytest.mark.parametrize("trick", list(HIDDEN_SERVICE))
def test_regression_hidden_service_makes_no_outbound_connection_from_the_endpoint(
        listener: Listener, live: NtxServer, trick: str) -> None:
    """A read-only endpoint that promises no outbound connections POSTs to any
    URL named in a SERVICE the lexical guard (guard.check_query) misses: a
    server-side request forgery. The worker answers 400 'the query failed:
    Connection reset by peer', after the connection was made."""
    reply = send(live.url, "GET", "/sparql", _q(HIDDEN_SERVICE[trick].format(url=listener.url)))
    assert listener.hits == [], f"the endpoint connected to {listener.url}: {listener.hits[0][:60]!r}"
    assert reply.status == 400
    assert_message(reply.text[:-1], Prefix("SERVICE is refused"))


def test_endpoint_still_answers_after_the_bad_inputs(live: NtxServer, kg: KnowledgeGraph) -> None:
    """After every refusal above (timeouts, resets, oversized bodies) the
    server is healthy and answers correctly."""
    assert send(live.url, "GET", "/health").text == "ok\n"
    reply = send(live.url, "GET", "/queries/primary-uses.json")
    assert reply.status == 200
    expected = kg.run("primary-uses").serialize("json")
    assert json.loads(reply.body) == json.loads(expected)
    with contextlib.suppress(OSError):
        assert len(live.pool.pids()) == LIMITS.workers


CATASTROPHIC = ('SELECT ?x WHERE { BIND("' + "a" * 40 + '!" AS ?x) FILTER(REGEX(?x, "^(a+)+$")) }')


def test_regression_rdflib_catastrophic_regex_stops_at_the_time_limit() -> None:
    """Issue 11 finding 6: Python's re holds the GIL, so the thread that
    waited for rdflib could never time out; the query now runs in a child
    process that is killed."""
    started = time.monotonic()
    result = ntx("query", "--engine", "rdflib", "--timeout", "3", "--sparql", CATASTROPHIC)
    elapsed = time.monotonic() - started
    assert_message(error_line(result), Exact("the query ran longer than the time limit of 3 s and was stopped"))
    assert elapsed < 3 + 2 + 3, f"took {elapsed:.1f} s"  # the limit, 2 s, and the CLI's start-up with rdflib


def test_regression_rdflib_catastrophic_regex_stops_in_the_api(kg: KnowledgeGraph) -> None:
    kg.to_rdflib()  # built before the clock starts
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="time limit of 1 s"):
        kg.query(CATASTROPHIC, engine="rdflib", timeout=1)
    assert time.monotonic() - started < 1 + 2
    assert kg.query("ASK { }", engine="rdflib", timeout=5).boolean is True  # and the engine still answers


@pytest.mark.parametrize(("what", "text", "answer"), [
    ("30,000 nested negations", "SELECT ?y WHERE { BIND(" + "!" * 30000 + "true AS ?y) }", "true"),
    ("a sum of 8,000 terms", "SELECT ?y WHERE { BIND(" + "+".join(["1"] * 8000) + " AS ?y) }", "8000"),
])
def test_regression_a_deep_query_does_not_crash_the_process(tmp_path: Path, what: str, text: str,
                                                              answer: str) -> None:
    """pyoxigraph recurses about 1.5 KB of stack per level: these short texts overflowed the
    default 8 MiB stack and killed the command with SIGSEGV (exit 139, no message). A long query now
    runs on a thread whose stack grows with its text. In a fresh process, as a crash would end it."""
    path = tmp_path / "deep.rq"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "ntx_graph", "query", str(path), "-f", "csv"],
                            capture_output=True, text=True, timeout=120, env=ENV)
    assert (result.returncode, result.stdout.split()) == (0, ["y", answer]), (what, result.stderr)


def test_regression_rdfxml_syntax_errors_say_syntax_error_once(tmp_path: Path) -> None:
    """pyoxigraph's RDF/XML messages start with 'syntax error:' themselves; it was said twice."""
    path = tmp_path / "cut.rdf"
    path.write_text('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
                    '<rdf:Description rdf:about="http://example.org/a"\n', encoding="utf-8")
    result = ntx("query", "is-narcotic", "--data", str(path))
    assert result.returncode == 2
    assert error_line(result).endswith("cut.rdf: syntax error: tag not closed: `>` not found before end of input")
