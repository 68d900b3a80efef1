"""A cold CLI stays light: what ``query``, ``list`` and ``--help`` import and
compile, the prebuilt bundled graph equal to its Turtle, the lazy logger,
and the hand-written argument parser reading as argparse did. (Speed itself
is measured by benchmarks/run.py, never by a test.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pyoxigraph import Store

from ntx_graph import resources
from ntx_graph.argv import Option, parse

ROOT = Path(__file__).resolve().parents[1]

#: Never imported by a cold query, list or --help: each costs milliseconds
#: (or, for rdflib and pyshacl, the bundled graph validated at query time).
HEAVY = ("argparse", "dataclasses", "typing", "inspect", "pathlib", "logging", "json", "urllib", "urllib.parse",
         "tempfile", "threading", "decimal", "contextlib", "difflib", "shutil", "textwrap", "gettext", "ast",
         "rdflib", "pyshacl", "pyshacl_turbo", "SPARQLWrapper", "uvicorn", "ntx_graph.rdf_io", "ntx_graph.validate",
         "ntx_graph.persistent", "ntx_graph.remote", "ntx_graph.http_client", "ntx_graph.server")

PROBE = """
import os, sys
before = set(sys.modules)
from ntx_graph.cli import main
out = os.dup(1)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
try:
    code = main(sys.argv[1:])
except SystemExit as exit_:
    code = exit_.code
sys.stdout.flush()
os.dup2(out, 1)
imported = sorted(set(sys.modules) - before)
re = sys.modules.get("re")
patterns = [key[1] if isinstance(key[1], str) else repr(key[1]) for key in getattr(re, "_cache", {})
            if isinstance(key, tuple) and len(key) > 1]
import json
print(json.dumps({"code": code, "imported": imported, "patterns": patterns}))
"""


def probe(*args: str) -> dict[str, Any]:
    """Run ``main(args)`` in a fresh interpreter: its exit code, the modules
    it imported and the regular expressions it compiled."""
    environment = {k: v for k, v in os.environ.items() if k != "NTX_DEBUG"}
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env=environment)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return found


@pytest.mark.parametrize("args", [("query", "off-label-uses-lacking-evidence", "-f", "csv"),
                                  ("query", "side-effects-by-sev", "-p", "min_severity=severity:severe"),
                                  ("list",), ("--help",), ("query", "--help"), ("show", "drug-card")],
                         ids=["query", "query-prefix-param", "list", "help", "query-help", "show"])
def test_a_cold_command_imports_nothing_heavy(args: tuple[str, ...]) -> None:
    found = probe(*args)
    assert found["code"] in (0, None)
    imported = set(found["imported"])
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))


@pytest.mark.parametrize("args", [("list",), ("--help",), ("list", "--help")], ids=["list", "help", "list-help"])
def test_list_and_help_import_neither_pyoxigraph_nor_re(args: tuple[str, ...]) -> None:
    imported = set(probe(*args)["imported"])
    assert not imported & {"pyoxigraph", "re", "ntx_graph.graph", "ntx_graph.formats"}, imported


def test_a_cold_query_imports_no_re() -> None:
    """No regular expression: the analyser's scanner and every check on the
    path (prefixed names, IRIs, variable names, header lines, schemes) are
    written with str methods. (Parameters of other types, text with escapes,
    and errors may use re.)"""
    found = probe("query", "off-label-uses-lacking-evidence", "-f", "csv")
    assert "re" not in found["imported"] and found["patterns"] == []


@pytest.mark.parametrize("args", [("query", "off-label-uses-lacking-evidence", "-f", "csv"), ("list",), ("--help",)],
                         ids=["query", "list", "help"])
def test_the_installed_command_imports_no_re(args: tuple[str, ...]) -> None:
    """The ntx-graph script (bin/ntx-graph, installed as a wheel script): no
    re, unlike the wrapper pip writes for a console-script entry point."""
    result = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "bin" / "ntx-graph"), *args],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-500:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    imported = {line.rpartition("|")[2].strip() for line in lines}
    assert "ntx_graph.cli" in imported
    assert not imported & {"re", "argparse", *HEAVY}, sorted(imported & {"re", "argparse", *HEAVY})


def test_debug_still_logs_with_logging() -> None:
    found = probe("--debug", "query", "is-narcotic")
    assert "logging" in found["imported"]


# -- the prebuilt bundled graph ---------------------------------------------------------


def _bundled(prebuilt: str | None, *, ontology: bool = True) -> tuple[set[object], dict[str, str], list[str]]:
    store, prefixes = Store(), dict[str, str]()
    files = resources.load_bundled(store, prefixes, ontology=ontology, prebuilt=prebuilt)
    return set(store), prefixes, files


@pytest.mark.parametrize("ontology", [True, False], ids=["whole", "no-ontology"])
def test_the_prebuilt_graph_is_the_turtle_graph(tmp_path: Path, ontology: bool) -> None:
    written = resources.write_prebuilt(str(tmp_path))
    assert sorted(os.path.basename(p) for p in written) == sorted(
        resources.prebuilt_name(t) for t in resources.bundled_paths())
    quads, prefixes, files = _bundled(str(tmp_path), ontology=ontology)
    turtle_quads, turtle_prefixes, turtle_files = _bundled(None, ontology=ontology)
    assert len(quads) > 2000 if ontology else len(quads) > 1000
    assert quads == turtle_quads
    assert list(prefixes.items()) == list(turtle_prefixes.items())  # the same bindings, in the same order
    assert files == turtle_files  # the graph still names its Turtle sources


def test_the_prebuilt_files_are_stable(tmp_path: Path) -> None:
    first = [Path(p).read_bytes() for p in resources.write_prebuilt(str(tmp_path / "a"))]
    second = [Path(p).read_bytes() for p in resources.write_prebuilt(str(tmp_path / "b"))]
    assert first == second


def test_a_source_checkout_parses_the_turtle() -> None:
    if resources.prebuilt_folder() is None:
        assert not (Path(resources.__file__).parent / "data").exists()
    else:  # installed from a wheel
        assert (Path(resources.prebuilt_folder() or "") / "naltrexone.nt").is_file()


@pytest.mark.slow
def test_the_wheel_carries_the_prebuilt_graph_its_build_step_made(tmp_path: Path) -> None:
    """The wheel's build step (hatch_build.py) writes what write_prebuilt
    writes (the cost to the wheel is stated in the CHANGELOG); the command is
    the plain script."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = zipfile.ZipFile(next((tmp_path / "dist").glob("ntx_graph-*.whl")))
    script = next(n for n in wheel.namelist() if n.endswith(".data/scripts/ntx-graph"))
    assert wheel.read(script).startswith(b"#!python\n")  # the installer points it at its interpreter
    entry_points = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert not entry_points or b"ntx-graph" not in wheel.read(entry_points[0])  # one ntx-graph in bin/
    expected = resources.write_prebuilt(str(tmp_path / "prebuilt"))
    for path in expected:
        name = f"ntx_graph/data/{resources.PREBUILT}/{os.path.basename(path)}"
        assert wheel.read(name) == Path(path).read_bytes(), name


# -- the lazy logger ------------------------------------------------------------------------


def test_the_lazy_logger_imports_logging_only_for_what_would_be_shown() -> None:
    code = ("import sys\nfrom ntx_graph.logs import get_logger\nlog = get_logger('ntx_graph.x')\n"
            "log.debug('quiet %s', 1)\nlog.info('quiet')\nprint('logging' in sys.modules)\n"
            "log.warning('shown %s', 2)\nprint('logging' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["False", "True"]
    assert result.stderr == "shown 2\n"  # Python's last-resort handler


def test_the_lazy_logger_passes_records_on_once_logging_is_configured(caplog: pytest.LogCaptureFixture) -> None:
    from ntx_graph.logs import get_logger

    log = get_logger("ntx_graph.test")
    with caplog.at_level("DEBUG", logger="ntx_graph.test"):
        log.debug("seen %d", 3)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
    assert [r.getMessage() for r in caplog.records] == ["seen 3", "failed"]
    assert caplog.records[0].filename == "test_cold_start.py"  # the caller's line, not the stand-in's
    assert caplog.records[1].exc_info is not None


# -- the hand-written parser reads as argparse did -----------------------------------------

SPEC = (
    Option("name", action="?", metavar="QUERY", help="a name"),
    Option("--format", "-f", choices=("csv", "tsv"), help="the format"),
    Option("--param", "-p", action="append", help="a parameter"),
    Option("--timeout", convert=float, default=30.0, help="seconds"),
    Option("--no-validate", action="store_true", help="a flag"),
    Option("--no-ontology", action="store_true", help="another flag"),
    Option("--access-log", action="switch", help="a switch"),
    Option("--store", required=True, help="required"),
    Option("--replace", action="store_true", exclusive="mode", help="one"),
    Option("--append", action="store_true", exclusive="mode", help="or the other"),
)


@pytest.mark.parametrize(("argv", "expected"), [
    (["q", "--store", "s"], {"name": "q", "format": None, "param": [], "timeout": 30.0, "no_validate": False,
                             "access_log": None}),
    (["--store=s", "-fcsv", "q"], {"name": "q", "format": "csv"}),
    (["--store", "s", "-f=tsv", "--form", "csv"], {"format": "csv"}),  # a unique prefix; the last one wins
    (["--store", "s", "-p", "a=1", "--param=b=2", "-pc=3"], {"param": ["a=1", "b=2", "c=3"]}),
    (["--store", "s", "--timeout", "-1"], {"timeout": -1.0}),  # a negative number is a value
    (["--store", "s", "--no-access-log"], {"access_log": False}),
    (["--store", "s", "--access-log", "--no-v"], {"access_log": True, "no_validate": True}),
    (["--store", "s", "--", "-q"], {"name": "-q"}),
    (["--store", "s", "-"], {"name": "-"}),
])
def test_the_parser_reads_what_argparse_read(argv: list[str], expected: dict[str, object]) -> None:
    args = parse(SPEC, argv, prog="ntx-graph demo")
    for key, value in expected.items():
        assert getattr(args, key) == value, key


@pytest.mark.parametrize(("argv", "message"), [
    (["--store", "s", "-f", "yaml"], "argument --format/-f: invalid choice: 'yaml' (choose from 'csv', 'tsv')"),
    (["--store", "s", "--timeout", "soon"], "argument --timeout: invalid float value: 'soon'"),
    (["--store", "s", "--no", "q"], "ambiguous option: --no could match --no-validate, --no-ontology, "
                                    "--no-access-log"),
    (["--store", "s", "--format"], "argument --format/-f: expected one argument"),
    (["--store", "s", "--replace", "--append"], "argument --append: not allowed with argument --replace"),
    (["q"], "the following arguments are required: --store"),
    (["--store", "s", "a", "b", "--what"], "unrecognized arguments: --what b"),
    (["--store", "s", "--no-validate=yes"], "argument --no-validate: ignored explicit argument 'yes'"),
])
def test_the_parsers_usage_errors_are_argparses_one_line(argv: list[str], message: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse(SPEC, argv, prog="ntx-graph demo")
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"ntx-graph: error: {message} (see 'ntx-graph demo --help')\n"


def test_help_lists_every_option_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from ntx_graph.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["push", "--he"])  # a unique prefix of --help
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage: ntx-graph push [-h] --endpoint GSP_URL --graph IRI [--replace]")
    for flag in ("--endpoint GSP_URL", "--append", "--auth {basic,digest}", "--password-env VAR", "--data, -d FILE"):
        assert flag in text, flag
    assert "examples:\n  NTX_PW=secret ntx-graph push" in text


# -- the analyser's scanner reads what its grammar says ------------------------------------


def _grammar_tokens(text: str, comment_end: str) -> list[tuple[str | None, int, int]]:
    import re

    from ntx_graph.sparql_text import _LEXICON

    pattern = re.compile(_LEXICON.replace("COMMENT", f"[^{comment_end}]*"), re.VERBOSE | re.DOTALL)
    return [(m.lastgroup, m.start(), m.end()) for m in pattern.finditer(text)]


def _scanned(text: str, comment_end: str) -> list[tuple[str | None, int, int]]:
    from ntx_graph.sparql_text import _scan

    return list(_scan(text, comment_end))


def _texts() -> list[str]:
    corpus = json.loads((ROOT / "tests" / "fixtures" / "bypass-corpus.json").read_text(encoding="utf-8"))["cases"]
    queries = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("*.rq"))]
    fixtures = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "tests" / "fixtures" / "queries").glob("*.rq"))]
    w3c = ROOT / ".cache" / "w3c-sparql"  # the W3C suites, where .ci/fetch-w3c-sparql-suite.sh has put them
    suites = [p.read_bytes().decode("utf-8", "replace") for p in sorted(w3c.rglob("*.rq"))] if w3c.is_dir() else []
    return [c["query"] for c in corpus] + queries + fixtures + suites


def test_the_scanner_gives_the_grammars_tokens_on_every_known_query() -> None:
    texts = _texts()
    assert len(texts) > 80
    for text in texts:
        for end in ("\r\n", "\n"):
            assert _scanned(text, end) == _grammar_tokens(text, end), text


#: Characters where the grammar's alternatives meet: quotes, escapes, name
#: characters, dots, colons, digits and exponents, brackets, non-ASCII letters.
_ALPHABET = [*"'\"\\<>?$_:.-%@#eE+09aZ{}()[]|^&!=;,*/~ \t\r\nuU", "\u00b7", "\u00e9", "\u017f", "\u0300", "\u2028",
             "\U0001f600", "\x00", "\x7f"]


def test_the_scanner_gives_the_grammars_tokens_on_random_text() -> None:
    import random

    rng = random.Random(13)
    for _ in range(20000):
        text = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 24)))
        end = rng.choice(("\r\n", "\n"))
        assert _scanned(text, end) == _grammar_tokens(text, end), repr(text)


@pytest.mark.parametrize("text", [
    "'''a''''", "'''a''", "'''a'\\''b'''", '"""x""""', "'a\\\n'", "<a\\u00e9b>", "<a\\u00zz>", "<a b>",
    "ex:a.b.", "ex.:a", "a.b:c", ":a%2Fb%2", ":a\\.", "_:b.c.", "_:", "1.e5", "1.5e+", ".5", "5.", "1e5.",
    "@en-US-", "@-x", "?", "$a", "?é", "^^||<=", "{|x|}", "\u017fERVICE", "a\u00b7b:c\u0300d",
])
def test_the_scanner_on_the_grammars_edges(text: str) -> None:
    for end in ("\r\n", "\n"):
        assert _scanned(text, end) == _grammar_tokens(text, end)
