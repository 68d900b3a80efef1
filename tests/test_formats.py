"""The one formats registry: every table of formats is read from it (CLI,
export, negotiation, OpenAPI, saved-query links, service description), and
output files are chosen and written by its rules."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import cast

import pytest
import rdflib
from pyoxigraph import QueryResultsFormat, QuerySolutions, RdfFormat, parse, parse_query_results

from ntx_graph import formats
from ntx_graph.catalog import saved_queries
from ntx_graph.cli import EXPORT_FORMATS, QUERY_FORMATS, main
from ntx_graph.errors import NtxError
from ntx_graph.formats import FORMATS, GRAPH, RESULTS
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.output import atomic_write
from ntx_graph.server.catalog_view import links
from ntx_graph.server.messages import Request
from ntx_graph.server.negotiation import GRAPH_OFFERS, RESULT_OFFERS, SUFFIXES, negotiate
from ntx_graph.server.openapi import openapi
from ntx_graph.server.router import Router
from ntx_graph.server.service import RESULT_FORMATS
from ntx_graph.server.snapshot import Snapshot

README = Path(__file__).resolve().parents[1] / "README.md"


# -- the registry itself -------------------------------------------------------------------------------------------

def test_names_are_unique_and_every_token_finds_its_own_format() -> None:
    assert len({f.name for f in FORMATS}) == len(FORMATS)
    for f in FORMATS:
        for use in f.uses:
            assert formats.find(f.name, use) is f
            assert formats.find(f.media_types[0], use) is f
            assert formats.for_path(f"x.{f.suffix}", use) is f


def test_pyoxigraph_agrees_on_media_types_and_suffixes() -> None:
    for f in FORMATS:
        known: RdfFormat | QueryResultsFormat | None = f.rdf or f.results
        if known is not None:
            assert known.media_type.split(";")[0] in f.media_types, f.name
            assert known.file_extension in f.suffixes, f.name


@pytest.mark.parametrize("fmt", formats.serving(formats.EXPORT), ids=lambda f: f.name)
def test_rdflib_names_read_what_is_written(kg: KnowledgeGraph, fmt: formats.Format) -> None:
    data = kg.export(fmt.name)
    if fmt.name == "trig":
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=fmt.rdflib)
        assert len(list(dataset.quads((None, None, None, None)))) == len(kg)
    else:
        assert len(rdflib.Graph().parse(data=data, format=fmt.rdflib)) == len(kg)


def test_graph_form_is_one_function() -> None:
    assert [formats.is_graph_form(f) for f in ("SELECT", "ask", "CONSTRUCT", " describe ")] == [
        False, False, True, True]


# -- every table reads the registry ----------------------------------------------------------------------------------

def test_cli_choices_are_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert tuple(f.name for f in FORMATS if f.uses & {RESULTS, GRAPH}) == QUERY_FORMATS
    assert formats.names(formats.EXPORT) == EXPORT_FORMATS
    with pytest.raises(SystemExit):
        main(["query", "--help"])
    query_help = capsys.readouterr().out
    for name in QUERY_FORMATS:
        assert name in query_help


def test_negotiation_offers_every_http_format() -> None:
    for use, offers in ((RESULTS, RESULT_OFFERS), (GRAPH, GRAPH_OFFERS)):
        offered = {name for _, name in offers}
        assert offered == set(formats.names(use, http=True))
        for f in formats.serving(use, http=True):
            kind = "CONSTRUCT" if use == GRAPH else "SELECT"
            assert negotiate(kind, f.media_types[0]) == f.name
            assert negotiate(kind, "", f.suffix) == f.name
    assert set(SUFFIXES) == {f.suffix for f in FORMATS if f.http and f.uses & {RESULTS, GRAPH}}


def test_openapi_links_and_service_description_list_the_registry(router: Router, kg: KnowledgeGraph) -> None:
    doc = openapi(Snapshot.of(kg))
    for saved in saved_queries():
        use = formats.use_of(saved.form)
        operation = doc["paths"][f"/queries/{saved.name}"]["get"]
        enum = next(p for p in operation["parameters"] if p["name"] == "format")["schema"]["enum"]
        assert enum == list(formats.names(use, http=True))
        assert set(operation["responses"]["200"]["content"]) - {"text/html"} == {  # HTML: the query's page
            m for f in formats.serving(use, http=True) for m in f.media_types}
        suffixes = set(links(saved)) - {"self", "rq", "page"}
        assert suffixes == set(formats.url_suffixes(use))
    assert set(RESULT_FORMATS) == {f.iri for f in FORMATS if f.http and f.uses & {RESULTS, GRAPH}}
    assert all(iri.startswith("http://www.w3.org/ns/formats/") for iri in RESULT_FORMATS)


def test_the_registry_is_served_as_json(router: Router) -> None:
    response = router(Request("GET", "/formats", "", {}, b""))
    assert response.status == 200
    served = json.loads(response.body)
    assert [f["name"] for f in served] == [f.name for f in FORMATS]
    assert {"name", "media_types", "suffixes", "uses", "http"} <= set(served[0])


@pytest.mark.parametrize("suffix", formats.url_suffixes(GRAPH))
def test_every_graph_suffix_answers_on_a_saved_construct(router: Router, suffix: str) -> None:
    response = router(Request("GET", f"/queries/drug-card.{suffix}", "", {}, b""))
    assert response.status == 200, response.body[:200]
    fmt = formats.find(suffix, GRAPH)
    assert fmt is not None and fmt.rdf is not None
    assert response.content_type == fmt.media_type
    assert len(list(parse(response.body, format=fmt.rdf))) > 100


# -- defect 5: what the CLI suggests, -f accepts -----------------------------------------------------------------

@pytest.mark.parametrize(("query", "wrong"), [("drug-card", "csv"), ("primary-uses", "turtle"),
                                              ("is-narcotic", "rdfxml")])
def test_regression_suggested_formats_are_accepted(query: str, wrong: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15 defect 5: `query drug-card -f csv` suggested rdfxml, which -f then rejected."""
    with pytest.raises(SystemExit) as exit_info:
        main(["query", query, "-f", wrong])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip()
    suggested = re.search(r"use one of (.*)$", message)
    assert suggested, message
    for name in suggested.group(1).split(", "):
        assert name in QUERY_FORMATS
        assert main(["query", query, "-f", name, "-o", str(tmp_path / f"out.{name}")]) == 0, name


# -- defect 6: the format follows -o's suffix; the table only on a terminal --------------------------------------

@pytest.mark.parametrize(("query", "name", "check"), [
    ("primary-uses", "answer.json", lambda d: len(json.loads(d)["results"]["bindings"]) == 2),
    ("primary-uses", "answer.xml",
     lambda d: len(list(cast(QuerySolutions, parse_query_results(d, format=QueryResultsFormat.XML)))) == 2),
    ("primary-uses", "answer.csv", lambda d: d.count(b"\r\n") == 3),
    ("is-narcotic", "answer.srj", lambda d: json.loads(d) == {"head": {}, "boolean": False}),
    ("drug-card", "card.nt", lambda d: len(list(parse(d, format=RdfFormat.N_TRIPLES))) > 100),
    ("drug-card", "card.json", lambda d: "@context" in json.loads(d)),
    ("drug-card", "card.rdf", lambda d: d.startswith(b"<?xml")),
])
def test_regression_output_format_follows_the_suffix(tmp_path: Path, query: str, name: str, check: object) -> None:
    """Issue 15 defect 6: `-o answer.json` without -f wrote an ASCII table into the file."""
    target = tmp_path / name
    assert main(["query", query, "-o", str(target)]) == 0
    assert callable(check) and check(target.read_bytes()), target.read_bytes()[:200]


def test_regression_the_table_only_on_a_terminal(capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Piped (or to a file whose suffix names no format) a SELECT is TSV; on a terminal it is the table."""
    assert main(["query", "primary-uses"]) == 0
    piped = capsys.readouterr().out
    assert len(list(cast(QuerySolutions, parse_query_results(piped.encode(), format=QueryResultsFormat.TSV)))) == 2
    assert main(["query", "primary-uses", "-o", str(tmp_path / "answer.out")]) == 0
    assert (tmp_path / "answer.out").read_text() == piped
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main(["query", "primary-uses"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(2 rows)"


def test_readme_states_the_defaults_the_code_has() -> None:
    text = README.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| `ntx-graph query "))
    assert "`table` (default on a terminal)" in row
    assert "`tsv` (default when piped" in row
    assert "suffix" in row


def test_export_format_follows_the_suffix(tmp_path: Path) -> None:
    target = tmp_path / "graph.nt"
    assert main(["export", "-o", str(target)]) == 0
    assert target.read_bytes() == KnowledgeGraph.open().export("ntriples")


@pytest.mark.parametrize("name", ["graph.nq", "graph.n3", "graph.csv", "graph.TSV", "graph.srj"])
def test_an_output_suffix_naming_a_format_the_export_cannot_write_is_refused(
        name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: ``-o graph.nq`` wrote Turtle into it."""
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "-o", str(tmp_path / name)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ntx-graph: error: {name}: the export cannot write ") and "give --format" in err
    assert err.count("\n") == 1 and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["graph.ttl.gz", "graph.nt.BZ2", "graph.xz", "graph.rdf.zst", "graph.zip"])
def test_an_output_suffix_naming_a_compression_is_refused(name: str, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: ``-o graph.ttl.gz`` wrote uncompressed Turtle into it."""
    for argv in (["export"], ["query", "--sparql", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"]):
        with pytest.raises(SystemExit) as exit_info:
            main([*argv, "-o", str(tmp_path / name)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ntx-graph: error: {name}: ") and "compress" in err and err.count("\n") == 1
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("sparql", "name"), [("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "answer.ttl"),
                                              ("ASK { ?s ?p ?o }", "answer.nt"),
                                              ("SELECT * WHERE { ?s ?p ?o } LIMIT 1", "answer.nq"),
                                              ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "card.csv"),
                                              ("DESCRIBE <urn:x>", "card.srx")])
def test_a_query_output_suffix_naming_a_format_the_answer_cannot_take_is_refused(
        sparql: str, name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: ``query SELECT … -o answer.ttl`` wrote TSV into it, and a CONSTRUCT's ``-o card.csv`` Turtle."""
    with pytest.raises(SystemExit) as exit_info:
        main(["query", "--sparql", sparql, "-o", str(tmp_path / name)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ntx-graph: error: {name}: ") and "give --format" in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["graph.txt", "graph", "graph.data"])
def test_an_output_suffix_naming_no_rdf_format_gets_turtle(name: str, tmp_path: Path) -> None:
    target = tmp_path / name
    assert main(["export", "-o", str(target)]) == 0
    assert target.read_bytes() == KnowledgeGraph.open().export("turtle")


# -- issue 11 finding 7: -o never replaces what is not a regular file --------------------------------------------

def _refused(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err.strip()


def test_regression_a_device_node_is_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """`export -o ./null` (a device node) replaced the node with a regular file."""
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as error:
        pytest.skip(f"cannot make a device node here ({error})")
    monkeypatch.chdir(tmp_path)
    for args in (["export", "-o", "./null"], ["query", "is-narcotic", "-o", "./null"]):
        assert _refused(args, capsys) == ("ntx-graph: error: cannot write null: it is a character device; only "
                                          "regular files are written (leave out -o to write to standard output)")
        assert stat.S_ISCHR(node.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_regression_a_fifo_is_refused_without_blocking(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    done = threading.Event()
    box: dict[str, str] = {}

    def run() -> None:
        try:
            atomic_write(fifo, b"x")
        except NtxError as error:
            box["error"] = str(error)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(5), "writing to a FIFO blocked"
    assert box["error"] == (f"cannot write {fifo}: it is a FIFO (named pipe); only regular files are written "
                            "(leave out -o to write to standard output)")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "out.ttl"
    folder.mkdir()
    assert _refused(["export", "-o", str(folder)], capsys) == f"ntx-graph: error: cannot write {folder}: it is a folder"


def test_regression_a_symlink_is_written_through(tmp_path: Path) -> None:
    """`export -o link` replaced the link with a regular file: the link stays, its target gets the new content,
    replaced atomically in the target's own folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "graph.ttl"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.ttl"
    link.symlink_to(target)
    chain = tmp_path / "chain.ttl"
    chain.symlink_to(link)
    assert main(["export", "-o", str(chain)]) == 0
    assert chain.is_symlink() and link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == KnowledgeGraph.open().export("turtle")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chain.ttl", "elsewhere", "link.ttl"]
    assert [p.name for p in elsewhere.iterdir()] == ["graph.ttl"], "no temporary file left behind"


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    assert main(["query", "is-narcotic", "-o", str(link)]) == 0
    assert link.is_symlink() and json.loads((tmp_path / "new.json").read_text())["boolean"] is False


def test_a_symlink_to_a_device_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null")
    link = tmp_path / "out.ttl"
    link.symlink_to("/dev/null")
    assert "it is a character device" in _refused(["export", "-o", str(link)], capsys)
    assert link.is_symlink() and stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_dev_stdout_on_a_pipe_is_refused_not_replaced() -> None:
    """As root, `-o /dev/stdout` must never replace the system's node: on a pipe it is a FIFO, refused."""
    if not Path("/dev/stdout").exists():
        pytest.skip("no /dev/stdout")
    result = subprocess.run([sys.executable, "-m", "ntx_graph", "query", "is-narcotic", "-o", "/dev/stdout"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr == ("ntx-graph: error: cannot write /dev/stdout: it is a FIFO (named pipe); only regular "
                             "files are written (leave out -o to write to standard output)\n")
    assert Path("/dev/stdout").is_symlink()
