"""Hostile input files on every path that reads a user's RDF file (``--data``,
``validate``, ``load``): external entities (XXE) and entity expansion, remote
JSON-LD contexts, FIFOs and devices, oversized files; and one reader's
behaviour everywhere (messages, prefixes, base IRIs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pyoxigraph import Store

from conftest import Listener
from ntx_graph import rdf_io
from ntx_graph.cli import main
from ntx_graph.errors import DataError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.persistent import build_store
from ntx_graph.rdflib_bridge import read_graph
from ntx_graph.resources import bundled_files, shapes_file
from ntx_graph.validate import validate

SECRET = "SECRET-CONTENT-7f3a"


@pytest.fixture
def evil(tmp_path: Path, listener: Listener) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    port = listener.port
    path = tmp_path / "evil.rdf"
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY file SYSTEM "{secret.as_uri()}">
  <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/entity">
  <!ENTITY % param SYSTEM "http://127.0.0.1:{port}/dtd"> %param;
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&file;</ex:p><ex:q>&remote;</ex:q></rdf:Description>
</rdf:RDF>
""")
    return path


def _assert_safe(text: str, hits: list[bytes]) -> None:
    """``hits`` is the listener's, taken once the parser has returned (complete by then, see conftest.Listener)."""
    assert SECRET not in text
    assert hits == [], "the parser connected to the entity's URL"


def test_embedded_engine(evil: Path, listener: Listener) -> None:
    try:
        kg = KnowledgeGraph.open([evil])
        text = kg.export("ntriples").decode()
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener.hits)


def test_validation_path(evil: Path, listener: Listener) -> None:
    try:
        report = validate([evil])
        text = report.text
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener.hits)


def test_cli(evil: Path, listener: Listener) -> None:
    for args in (["export", "--data", str(evil), "--no-validate"], ["validate", str(evil)],
                 ["query", "--sparql", "SELECT * WHERE { ?s ?p ?o }", "--data", str(evil), "-f", "csv"]):
        result = subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True,
                                timeout=120)
        _assert_safe(result.stdout + result.stderr, listener.hits)
        assert "Traceback" not in result.stderr


# -- one reader for every path: entities, remote contexts, non-regular files, size, messages, base IRIs ------------

def _paths(path: Path, tmp_path: Path) -> dict[str, Callable[[], object]]:
    """Every way a user's RDF file is read: --data, validate, load --store."""
    return {"data": lambda: KnowledgeGraph.open([path]),
            "validate": lambda: validate([path]),
            "load": lambda: build_store([path], tmp_path / "store", include_bundled=False)}


def _refusal(read: Callable[[], object], seconds: float = 5.0) -> str:
    """The DataError message ``read`` raises, within ``seconds`` (a hang fails the test)."""
    box: dict[str, BaseException | object] = {}

    def target() -> None:
        try:
            box["value"] = read()
        except BaseException as error:  # handed to the test
            box["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still reading after {seconds} s"
    error = box.get("error")
    assert isinstance(error, DataError), f"not refused: {box}"
    return str(error)


def _laughs(tmp_path: Path) -> Path:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    path = tmp_path / "lol.rdf"
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ {" ".join(entities)} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
""")
    return path


@pytest.mark.parametrize("way", ["data", "validate", "load"])
def test_regression_billion_laughs_is_refused_in_under_a_second(tmp_path: Path, way: str) -> None:
    """Issue 11 finding 5: an 803-byte RDF/XML file grew to 17.5 GB on --data; validate burned CPU for 45 s."""
    import pyshacl  # noqa: F401  (imported before the clock starts: the time measured is the refusal's)
    import rdflib  # noqa: F401

    started = time.monotonic()
    message = _refusal(_paths(_laughs(tmp_path), tmp_path)[way])
    assert time.monotonic() - started < 1.0
    assert message.endswith("lol.rdf: the DOCTYPE declares the entity 'lol0'; RDF/XML with entity declarations "
                            "is refused (entities can expand without bound or read other files)")


def test_a_doctype_without_entities_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plain.rdf"
    path.write_text("""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ELEMENT rdf:RDF ANY> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>x</ex:p></rdf:Description>
</rdf:RDF>
""")
    kg = KnowledgeGraph.open([path], include_bundled=False)
    assert len(kg) == 1 and kg.prefixes["ex"] == "http://example.org/"


@pytest.mark.parametrize("way", ["data", "validate", "load"])
@pytest.mark.parametrize("context", ["plain", "import"])
def test_regression_remote_json_ld_contexts_are_never_fetched(tmp_path: Path, listener: Listener, way: str,
                                                               context: str) -> None:
    """Issue 11 finding 4: validate and load fetched remote JSON-LD contexts (also through @import)."""
    remote = f"{listener.url}/context.jsonld"
    doc = {"@context": remote if context == "plain" else {"@import": remote, "ex": "http://example.org/"},
           "@id": "http://example.org/a", "http://example.org/p": "x"}
    path = tmp_path / "c.jsonld"
    path.write_text(json.dumps(doc))
    message = _refusal(_paths(path, tmp_path)[way])
    assert message.startswith(f"{path}: ")
    assert message.endswith("(remote JSON-LD contexts are never fetched: put the context in the file)")
    _assert_safe(message, listener.hits)


@pytest.mark.parametrize("way", ["data", "validate", "load"])
def test_regression_a_fifo_is_refused_without_opening_it(tmp_path: Path, way: str) -> None:
    """Issue 11 finding 6: --data on a FIFO hung (opening a FIFO for reading waits for a writer)."""
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    message = _refusal(_paths(fifo, tmp_path)[way])
    assert message == f"{fifo}: is a FIFO (named pipe), not a regular file; only regular files are read"


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
@pytest.mark.parametrize("way", ["data", "validate", "load"])
def test_regression_a_device_is_refused(tmp_path: Path, way: str) -> None:
    """Issue 11 finding 5: validate /dev/zero read without limit."""
    message = _refusal(_paths(Path("/dev/zero"), tmp_path)[way])
    assert message == "/dev/zero: is a character device, not a regular file; only regular files are read"


@pytest.mark.parametrize("way", ["data", "validate", "load"])
def test_input_size_cap_is_configurable(tmp_path: Path, way: str, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = max(p.stat().st_size for p in [*bundled_files(), shapes_file()])
    path = tmp_path / "big.nt"
    line = "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n"
    path.write_text(line * (shipped // len(line) + 2))
    monkeypatch.setenv("NTX_MAX_INPUT_BYTES", str(shipped + len(line)))
    assert _refusal(_paths(path, tmp_path)[way]) == (
        f"{path}: is {path.stat().st_size} bytes, larger than the input limit of {shipped + len(line)} bytes "
        "(NTX_MAX_INPUT_BYTES raises it)")
    monkeypatch.setenv("NTX_MAX_INPUT_BYTES", str(path.stat().st_size))
    KnowledgeGraph.open([path], include_bundled=False)
    monkeypatch.setenv("NTX_MAX_INPUT_BYTES", "lots")
    with pytest.raises(DataError, match="NTX_MAX_INPUT_BYTES must be a whole number of bytes, not 'lots'"):
        KnowledgeGraph.open([path], include_bundled=False)


def test_default_input_cap_fits_ten_million_triples() -> None:
    assert rdf_io.DEFAULT_MAX_INPUT_BYTES >= 10_000_000 * 150  # a long N-Triples line is about 150 bytes


def test_a_file_growing_past_the_cap_while_read_is_stopped(tmp_path: Path) -> None:
    line = "<http://example.org/a> <http://example.org/p> \"%d\" .\n"
    path = tmp_path / "growing.nt"
    path.write_text(line % 0)
    with pytest.raises(DataError, match="larger than the input limit of 1000 bytes"), \
            rdf_io.read_rdf(path, max_bytes=1000) as rdf:
        with path.open("a") as more:  # after the size check, before the read
            more.write("".join(line % i for i in range(1, 100)))
        list(rdf.quads)


BROKEN_TURTLE = '@prefix ex: <http://example.org/> .\nex:a ex:b "no end\n'


def test_regression_one_message_for_one_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15 defect 7: --data said "line 2, column 9: Unexpected end of file", validate "column 24: newline
    found in string literal"."""
    path = tmp_path / "broken.ttl"
    path.write_text(BROKEN_TURTLE)
    messages = {way: _refusal(read) for way, read in _paths(path, tmp_path).items()}
    assert set(messages.values()) == {f"{path}: syntax error at line 2, column 11: Unexpected end of file"}
    lines = []
    for args in (["query", "is-narcotic", "--data", str(path)], ["validate", str(path)],
                 ["load", str(path), "--store", str(tmp_path / "s")]):
        with pytest.raises(SystemExit):
            main(args)
        lines.append(capsys.readouterr().err)
    assert set(lines) == {f"ntx-graph: error: {messages['data']}\n"}


RELATIVE = {
    "rel.ttl": "<x> <http://example.org/p> <> .\n",
    "rel.rdf": ('<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
                'xmlns:ex="http://example.org/"><rdf:Description rdf:about="x"><ex:p rdf:resource=""/>'
                "</rdf:Description></rdf:RDF>\n"),
    "rel.jsonld": json.dumps({"@id": "x", "http://example.org/p": {"@id": ""}}),
}


@pytest.mark.parametrize("name", sorted(RELATIVE))
def test_regression_relative_iris_resolve_against_the_file_or_the_base(tmp_path: Path, name: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15 defect 11: `rdf:resource=""` and Turtle `<x>` failed with "No scheme found in an absolute IRI"."""
    path = tmp_path / name
    path.write_text(RELATIVE[name])
    here = path.resolve().as_uri()

    def triple(kg: KnowledgeGraph) -> tuple[str, str]:
        (quad,) = list(kg.store)
        return quad.subject.value, quad.object.value

    assert triple(KnowledgeGraph.open([path], include_bundled=False)) == (here.rsplit("/", 1)[0] + "/x", here)
    base = "https://example.org/data/doc"
    assert triple(KnowledgeGraph.open([path], include_bundled=False, base=base)) == (
        "https://example.org/data/x", base)
    graph = read_graph([path], base=base)
    assert {(str(s), str(o)) for s, _, o in graph} == {("https://example.org/data/x", base)}
    assert main(["export", "-f", "ntriples", "--no-ontology", "--data", str(path), "--base", base,
                 "--no-validate"]) == 0
    assert f"<https://example.org/data/x> <http://example.org/p> <{base}> ." in capsys.readouterr().out


def test_a_bad_base_iri_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "rel.ttl"
    path.write_text(RELATIVE["rel.ttl"])
    with pytest.raises(DataError) as caught:
        KnowledgeGraph.open([path], include_bundled=False, base="data/")
    assert str(caught.value) == "the base IRI 'data/' is not an absolute IRI (No scheme found in an absolute IRI)"


def test_prefixes_come_from_the_parser_wherever_they_are_declared(tmp_path: Path) -> None:
    """Prefixes were scanned with a regex in the first MiB only; the parser sees every declaration."""
    path = tmp_path / "late.ttl"
    filler = "".join(f"<http://example.org/s{i}> <http://example.org/p> {i} .\n" for i in range(30_000))
    path.write_text("@prefix a: <http://a.example/> .\n" + filler + "PREFIX late: <http://late.example/>\n"
                    "late:x late:y late:z .\n")
    assert path.stat().st_size > 1 << 20
    prefixes: dict[str, str] = {}
    rdf_io.load_file(Store(), path, prefixes)
    assert prefixes == {"a": "http://a.example/", "late": "http://late.example/"}
    assert rdf_io.declared_prefixes(path) == prefixes


def test_base_with_a_store_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store keeps the IRIs it was built with: --base there would be silently ignored."""
    with pytest.raises(SystemExit) as exit_info:
        main(["info", "--store", str(tmp_path / "s"), "--base", "https://example.org/"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == ("ntx-graph: error: --store and --base cannot be combined: load the files into "
                                       "the store instead (load --base IRI)\n")
