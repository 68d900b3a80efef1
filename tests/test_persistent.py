"""The on-disk store: built atomically, opened read-only, the same answers as
the in-memory graph, and never mistaken for complete after an interrupted build."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from pyoxigraph import Dataset, QuerySolutions

from ntx_graph import persistent
from ntx_graph.errors import DataError, NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.persistent import MANIFEST_NAME, build_store, is_store, open_graph, open_store, read_manifest
from support.generate import synthetic_drug, write_generated

QUERIES = [
    ("primary-uses", {}), ("side-effects-by-severity", {"min_severity": "severity:severe"}),
    ("uses-in-category", {"category": "cond:substance-dependence"}), ("is-narcotic", {}), ("drug-card", {}),
    ("claims-with-sources", {}), ("off-label-uses-lacking-evidence", {}), ("quote-lookup", {"text": "craving"}),
]


def _siblings(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.parent.iterdir() if p.name != directory.name and
                  p.name.startswith(f".{directory.name}."))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "twenty.ttl"
    write_generated(path, 20, seed=4)
    return path


def test_store_answers_like_the_in_memory_graph(tmp_path: Path, generated: Path) -> None:
    info = build_store([generated], tmp_path / "store")
    memory = KnowledgeGraph.open([generated], validate=False)
    assert info.triples == len(memory) > 2000
    store, prefixes, manifest = open_store(tmp_path / "store")
    assert len(store) == info.triples == manifest["triples"]
    assert prefixes["ntx"] == "https://w3id.org/ntx-graph/def/" and prefixes["sdrug"].endswith("/synthetic/drug/")
    disk = KnowledgeGraph(store, [], prefixes)
    for name, params in QUERIES:
        expected, got = memory.run(name, params), disk.run(name, params)
        assert (got.kind, got.variables, got.rows, got.boolean) == (expected.kind, expected.variables,
                                                                    expected.rows, expected.boolean), name
        assert sorted(map(str, got.triples)) == sorted(map(str, expected.triples)), name
    drug = synthetic_drug(0, seed=4).iri.value
    assert disk.run("indications-by-evidence", {"drug": drug}).rows == memory.run(
        "indications-by-evidence", {"drug": drug}).rows
    assert len(disk.run("indications-by-evidence", {"drug": drug})) == 2


def test_store_is_opened_read_only(tmp_path: Path) -> None:
    build_store([], tmp_path / "store")
    store, _, _ = open_store(tmp_path / "store")
    with pytest.raises((OSError, RuntimeError), match="read-write"):
        store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    kg = open_graph(tmp_path / "store")
    assert [p.name for p in kg.files] == ["ntx.ttl", "scales.ttl", "naltrexone.ttl"]
    assert kg.run("is-narcotic").boolean is False
    assert kg.run("primary-uses").to_python()[0]["condition"] == "alcohol dependence"


def test_manifest_records_files_prefixes_and_completion(tmp_path: Path, generated: Path) -> None:
    info = build_store([generated], tmp_path / "store")
    manifest = json.loads((tmp_path / "store" / MANIFEST_NAME).read_text())
    assert manifest == info.manifest == read_manifest(tmp_path / "store")
    assert manifest["format"] == "ntx-graph-store" and manifest["format_version"] == 1
    assert manifest["ntx_graph_version"] and manifest["completed"].endswith("+00:00")
    record = manifest["files"][-1]
    data = generated.read_bytes()
    assert record == {"path": str(generated.resolve()), "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                      "triples": record["triples"], "bundled": False}
    assert [f["bundled"] for f in manifest["files"]] == [True] * (len(manifest["files"]) - 1) + [False]
    assert manifest["prefixes"]["sq"].endswith("/synthetic/quote/")
    assert _siblings(tmp_path / "store") == []


def test_without_bundled_graph(tmp_path: Path, generated: Path) -> None:
    info = build_store([generated], tmp_path / "store", include_bundled=False)
    assert [Path(f["path"]) for f in info.files] == [generated.resolve()]
    assert info.triples == len(KnowledgeGraph.open([generated], include_bundled=False, validate=False)) > 2000


def test_progress_reports_triples_and_rate(tmp_path: Path, generated: Path) -> None:
    out = io.StringIO()
    build_store([generated], tmp_path / "store", progress=True, chunk_size=500, stream=out)
    lines = out.getvalue().splitlines()
    assert any(line.startswith("ntx-graph: loading ") and str(generated) in line for line in lines)
    assert sum("triples loaded" in line and "triples/s" in line for line in lines) >= 4
    assert lines[-1].startswith(f"ntx-graph: built {tmp_path / 'store'}: ")


def test_directory_without_manifest_is_refused(tmp_path: Path) -> None:
    build_store([], tmp_path / "store")
    (tmp_path / "store" / MANIFEST_NAME).unlink()
    message = (f"{tmp_path / 'store'} is not a complete ntx-graph store (interrupted build?); "
               "rebuild it with ntx-graph load")
    with pytest.raises(NtxError) as caught:
        open_store(tmp_path / "store")
    assert str(caught.value) == message
    assert not is_store(tmp_path / "store")
    with pytest.raises(NtxError, match="no such store directory"):
        open_store(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(NtxError, match="not a complete ntx-graph store"):
        open_store(tmp_path / "other")


def test_incompatible_format_version_is_refused(tmp_path: Path) -> None:
    build_store([], tmp_path / "store")
    path = tmp_path / "store" / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format_version": 99}))
    with pytest.raises(NtxError, match=r"format version 99.*rebuild it"):
        open_store(tmp_path / "store")


def test_keyboard_interrupt_leaves_no_complete_store(tmp_path: Path, generated: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(self: object, added: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(persistent._Progress, "chunk", interrupt)
    with pytest.raises(KeyboardInterrupt):
        build_store([generated], tmp_path / "store", progress=True, stream=io.StringIO())
    assert not (tmp_path / "store").exists()
    assert _siblings(tmp_path / "store") == []
    with pytest.raises(NtxError):
        open_store(tmp_path / "store")


def test_failed_rebuild_keeps_the_old_store(tmp_path: Path, generated: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    old = build_store([], tmp_path / "store")
    bad = tmp_path / "bad.ttl"
    bad.write_text("<urn:a> <urn:b> .\n")
    with pytest.raises(DataError, match=r"bad\.ttl: syntax error"):
        build_store([generated, bad], tmp_path / "store")
    assert open_store(tmp_path / "store")[2]["completed"] == old.manifest["completed"]
    assert len(open_store(tmp_path / "store")[0]) == old.triples

    def interrupt(self: object, added: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(persistent._Progress, "chunk", interrupt)
    with pytest.raises(KeyboardInterrupt):
        build_store([generated], tmp_path / "store", progress=True, stream=io.StringIO())
    assert len(open_store(tmp_path / "store")[0]) == old.triples
    assert _siblings(tmp_path / "store") == []
    monkeypatch.undo()
    new = build_store([generated], tmp_path / "store")
    assert len(open_store(tmp_path / "store")[0]) == new.triples > old.triples
    assert _siblings(tmp_path / "store") == []


def test_killed_build_leaves_no_complete_store(tmp_path: Path) -> None:
    data = tmp_path / "big.nt"
    write_generated(data, 400)
    target = tmp_path / "store"
    script = textwrap.dedent(f"""
        from ntx_graph.persistent import build_store
        build_store([{str(data)!r}], {str(target)!r}, progress=True, chunk_size=2000)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = child.stderr.readline()
        if "triples loaded" in line and "big.nt" not in line:
            break
        assert line, "the build ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stderr.close()
    assert not target.exists()
    leftovers = _siblings(target)
    assert leftovers, "the killed build should have left its temporary directory"
    for name in leftovers:
        with pytest.raises(NtxError, match="not a complete ntx-graph store"):
            open_store(tmp_path / name)
    build_store([], target)  # cleans up what the killed build left
    assert is_store(target)
    assert _siblings(target) == []


def test_refuses_to_replace_a_directory_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "notes.txt").write_text("mine")
    with pytest.raises(NtxError, match="exists and is not an ntx-graph store"):
        build_store([], tmp_path / "home")
    assert (tmp_path / "home" / "notes.txt").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert build_store([], tmp_path / "empty").triples > 1000


def test_bad_input_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.ttl: no such file"):
        build_store([tmp_path / "nope.ttl"], tmp_path / "store")
    with pytest.raises(DataError, match="is a directory"):
        build_store([tmp_path], tmp_path / "store")
    with pytest.raises(NtxError, match="nothing to load"):
        build_store([], tmp_path / "store", include_bundled=False)
    assert not (tmp_path / "store").exists()


def test_named_graphs_and_blank_nodes_load_into_the_default_graph(tmp_path: Path) -> None:
    a = tmp_path / "a.trig"
    a.write_text('<urn:g> { _:x <urn:p> "1" . }\n')
    b = tmp_path / "b.ttl"
    b.write_text('_:x <urn:p> "2" .\n')
    build_store([a, b], tmp_path / "store", include_bundled=False)
    store, _, _ = open_store(tmp_path / "store")
    answer = store.query('SELECT ?s ?o WHERE { ?s <urn:p> ?o }')
    assert isinstance(answer, QuerySolutions)
    rows = list(answer)
    assert len(rows) == 2 and rows[0]["s"] != rows[1]["s"]  # blank nodes of two files are kept apart


def test_a_file_named_like_the_manifest_does_not_make_a_store(tmp_path: Path) -> None:
    """Only a directory whose content is a store's may be replaced (issue 11, finding 7)."""
    real = build_store([], tmp_path / "real")
    for name, manifest in (("fake", "{}"), ("copied", (real.directory / MANIFEST_NAME).read_text())):
        victim = tmp_path / name
        victim.mkdir()
        (victim / MANIFEST_NAME).write_text(manifest)
        (victim / "CURRENT").write_text("MANIFEST-000005\n")
        (victim / "thesis.tex").write_text("years of work")
        with pytest.raises(NtxError, match="exists and is not an ntx-graph store"):
            build_store([], victim)
        assert sorted(p.name for p in victim.iterdir()) == sorted(["CURRENT", MANIFEST_NAME, "thesis.tex"])
        assert (victim / "thesis.tex").read_text() == "years of work"
    assert build_store([], tmp_path / "real").triples == real.triples  # a real store is still rebuilt in place


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from ntx_graph.cli import main

    with pytest.raises(SystemExit) as leaving:
        main(args)
    return int(leaving.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("damage", ["CURRENT", "tables", "manifest"])
def test_a_store_of_random_bytes_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 damage: str) -> None:
    """Exit 2 and one line, never an internal error (issue 11, finding 8)."""
    build_store([], tmp_path / "store")
    noise = hashlib.sha512(damage.encode()).digest() * 64
    files = {"CURRENT": ["CURRENT"], "manifest": [MANIFEST_NAME],
             "tables": [p.name for p in (tmp_path / "store").iterdir() if p.suffix == ".sst"]}[damage]
    assert files
    for name in files:
        (tmp_path / "store" / name).write_bytes(noise)
    code, err = _cli(["query", "is-narcotic", "--store", str(tmp_path / "store")], capsys)
    assert code == 2
    assert err.count("\n") == 1 and "internal error" not in err and "rebuild" in err


def test_a_bad_prefix_in_the_manifest_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_store([], tmp_path / "store")
    path = tmp_path / "store" / MANIFEST_NAME
    manifest = json.loads(path.read_text())
    for name, iri in (("bad prefix", "https://example.org/"), ("ex", "not an iri")):
        path.write_text(json.dumps({**manifest, "prefixes": {**manifest["prefixes"], name: iri}}))
        with pytest.raises(NtxError, match="bad prefix in the manifest"):
            open_store(tmp_path / "store")
        code, err = _cli(["query", "is-narcotic", "--store", str(tmp_path / "store")], capsys)
        assert code == 2 and err.count("\n") == 1 and "bad prefix in the manifest" in err


def test_load_validates_first_and_builds_nothing_that_breaks_the_shapes(tmp_path: Path) -> None:
    from ntx_graph.errors import ValidationFailed

    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ntx: <https://w3id.org/ntx-graph/def/> .\n<https://example.org/i> a ntx:Indication .\n")
    with pytest.raises(ValidationFailed, match="do not conform to the shapes") as failed:
        build_store([bad], tmp_path / "store", validate=True)
    assert "https://example.org/i" in failed.value.report and failed.value.summary.startswith("does not conform")
    assert not (tmp_path / "store").exists() and _siblings(tmp_path / "store") == []
    assert build_store([bad], tmp_path / "store", validate=False).manifest["validated"] is False


def test_progress_says_each_step_once_and_the_true_total(tmp_path: Path, generated: Path) -> None:
    out = io.StringIO()
    started = time.perf_counter()
    info = build_store([generated], tmp_path / "store", validate=True, progress=True, stream=out)
    elapsed = time.perf_counter() - started
    lines = out.getvalue().splitlines()
    assert lines[0] == "ntx-graph: validating 1 file against the SHACL shapes"
    assert sum("checked the shapes: conforms" in line for line in lines) == 1
    assert sum("optimizing the store" in line for line in lines) == 1
    assert sum(line.startswith("ntx-graph: built ") for line in lines) == 1 and lines[-1].startswith(
        f"ntx-graph: built {tmp_path / 'store'}: {info.triples:,} triples from 4 files in ")
    assert info.manifest["validated"] is True
    assert 0 < info.validation_seconds < info.seconds <= elapsed  # the total includes the validation


def test_cli_load_prints_one_summary(tmp_path: Path, generated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ntx_graph.cli import main

    assert main(["load", str(generated), "--store", str(tmp_path / "store")]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ntx-graph: built {tmp_path / 'store'}: ")
    assert "validated in" in err and re.search(r"\d,\d{3} triples", err)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_long_step_shows_its_elapsed_time(tmp_path: Path, generated: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from ntx_graph import validate

    monkeypatch.setattr(validate, "TICK_SECONDS", 0.001)
    out = _Terminal()
    build_store([generated], tmp_path / "store", validate=True, progress=True, stream=out)
    text = out.getvalue()
    assert re.search(r"\r\x1b\[Kntx-graph: validation: checking the shapes\.\.\. \d+ s", text)
    finished = [line.rpartition("\r\x1b[K")[2] for line in text.split("\n")]  # what the terminal keeps
    assert sum(line.startswith("ntx-graph: validation: checked the shapes: conforms") for line in finished) == 1
    assert sum(line.startswith("ntx-graph: built ") for line in finished) == 1
    assert not any("..." in line for line in finished)  # every running display was replaced by its step's line


def test_without_a_terminal_no_display_runs(tmp_path: Path, generated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ntx_graph import validate

    monkeypatch.setattr(validate, "TICK_SECONDS", 0.001)
    out = io.StringIO()
    build_store([generated], tmp_path / "store", validate=True, progress=True, stream=out)
    assert "\r" not in out.getvalue() and "..." not in out.getvalue()


def test_ntriples_loaded_in_memory_by_pyoxigraph_keep_the_parsers_triples_and_messages(tmp_path: Path) -> None:
    """N-Triples without blank node labels go to pyoxigraph's own loader: the same triples as the
    parser gives, the same one-line error for a broken file, the input limit still applied."""
    from pyoxigraph import RdfFormat, Store, parse

    from ntx_graph.rdf_io import load_file

    plain = tmp_path / "plain.nt"
    write_generated(plain, 3, seed=2)
    store = Store()
    load_file(store, plain)
    assert {str(q) for q in store} == {str(q) for q in parse(path=plain, format=RdfFormat.N_TRIPLES)}
    broken = tmp_path / "broken.nt"
    broken.write_text('<http://example.org/s> <http://example.org/p> "x" .\n<http://example.org/s> <p> "y" .\n')
    with pytest.raises(DataError, match=r"^\S*broken\.nt: syntax error at line 2, column \d+: "):
        load_file(Store(), broken)
    with pytest.raises(DataError, match="larger than the input limit of 100 bytes"):
        load_file(Store(), plain, max_bytes=100)


def test_large_ntriples_go_to_the_bulk_loader_in_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """N-Triples without blank node labels, larger than a block, are bulk-loaded by pyoxigraph in
    line-aligned blocks: the same triples and count as the parser gives, comments and blank lines not
    counted, and a syntax error names its line in the whole file."""
    from pyoxigraph import RdfFormat, parse

    from ntx_graph import rdf_io

    monkeypatch.setattr(rdf_io, "BULK_BLOCK_BYTES", 1000)
    path = tmp_path / "plain.nt"
    write_generated(path, 3, seed=5)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[10:10] = ["# a comment", "", "   # an indented comment"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 20 * rdf_io.BULK_BLOCK_BYTES
    blocks: list[int] = []
    original = rdf_io.load_plain
    monkeypatch.setattr(persistent, "load_plain",
                        lambda *args, **kwargs: original(*args, **{**kwargs, "on_block": blocks.append}))
    info = build_store([path], tmp_path / "store", include_bundled=False)
    expected = {str(q) for q in parse(path=path, format=RdfFormat.N_TRIPLES)}
    assert len(blocks) > 20 and sum(blocks) == info.files[0]["triples"] == len(expected) == info.triples
    store = open_store(tmp_path / "store")[0]
    assert {str(q) for q in store} == expected
    del store
    lines[-5] = "<http://example.org/s> <p> <http://example.org/o> ."
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"plain\.nt: syntax error at line {len(lines) - 4}, column \d+: "):
        build_store([path], tmp_path / "store2", include_bundled=False)


_FILLER = "".join(f'<http://example.org/s{i}> <http://example.org/p> "a line of filler text {i}" .\n'
                  for i in range(30000))  # about 2 MiB
_TURTLE_CASES = {
    "top": "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n",
    "middle": "@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\n"
              "PREFIX m: <http://m.example/>\nm:a ex:b 1 .\n",
    "mixed case, over lines": "<http://example.org/x> <http://example.org/p> 1 .\n"
                              "PrEfIx\n  z:\n  <http://z.example/>\nz:a z:b 2 .\n",
    "redefined": "@prefix ex: <http://one.example/> .\nex:a ex:b 1 .\n"
                 "@prefix ex: <http://two.example/> .\nex:a ex:b 2 .\n",
    "the word in a literal at the end": '@prefix ex: <http://example.org/> .\nex:a ex:b "no prefix here" .\n',
    "late in a large file": "@prefix ex: <http://example.org/> .\n" + _FILLER
                            + "@prefix late: <http://late.example/> .\nlate:a ex:b 3 .\n",
    "early in a large file": "@prefix ex: <http://example.org/> .\nPREFIX e2: <http://e2.example/>\n" + _FILLER,
    "none": _FILLER,
}


@pytest.mark.parametrize("case", _TURTLE_CASES)
def test_turtle_loaded_in_memory_by_pyoxigraph_keeps_the_parsers_triples_and_prefixes(tmp_path: Path,
                                                                                       case: str) -> None:
    """Turtle without blank node labels goes to pyoxigraph's own loader, its prefixes read from the
    file's head: the same triples and the same prefixes as one full parse gives."""
    from pyoxigraph import RdfFormat, Store, parse

    from ntx_graph.rdf_io import declared_prefixes, load_file

    path = tmp_path / "data.ttl"
    path.write_text(_TURTLE_CASES[case], encoding="utf-8")
    store, prefixes = Store(), {}
    load_file(store, path, prefixes)
    expected = parse(path=path, format=RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    assert {str(q) for q in store} == {str(q) for q in expected}
    assert prefixes == declared_prefixes(path) == {str(k): str(v) for k, v in (expected.prefixes or {}).items()}
    if case == "late in a large file":
        assert prefixes["late"] == "http://late.example/"


_STATEMENTS = "".join(f'ex:s{i} ex:p "text {i}: a . and a # here" , <http://example.org/o#{i}> ;\n'
                      f'    ex:q {i}. \n' if i % 7 == 0 else
                      f'ex:s{i} ex:p ex:name{i}\\.\n    ; ex:q 1 .\n' if i % 11 == 0 else
                      f'ex:s{i} ex:p "x\\"" ; # "y .\n    ex:q 2 .\n' if i % 13 == 0 else
                      f'ex:s{i} ex:p ex:o{i} ; # a comment that ends with a dot.\n    ex:q ex:name\\.{i} .\n'
                      if i % 5 == 0 else f'ex:s{i} ex:p [ ex:q "{i}" ] , ( {i} {i}.5 ) .\n' for i in range(300))
_TURTLE_BLOCK_CASES = {
    "statements": "@prefix ex: <http://example.org/> .\n" + _STATEMENTS,
    "CRLF": ("@prefix ex: <http://example.org/> .\n" + _STATEMENTS).replace("\n", "\r\n"),
    "base and prefixes redefined in the head": "@base <http://base.example/dir/> .\n@prefix ex: <one/> .\n"
        "ex:a ex:b <rel> .\n@prefix ex: <http://example.org/> .\nBASE <http://other.example/>\n"
        + _STATEMENTS + "<s> <p> <o> .\n",
    "a redefinition after a statement on its line, then a statement of 6 KB":
        "@prefix ex: <http://one.example/> .\n" + _STATEMENTS[:_STATEMENTS.index("\nex:s", 3000) + 1]
        + "ex:s ex:p ex:o . PREFIX ex: <http://two.example/>\nex:long ex:p\n"
        + "".join(f"    ex:o{i} ,\n" for i in range(500)) + "    ex:last .\n"
        + _STATEMENTS[_STATEMENTS.index("\nex:s", 3000) + 1:],
    "a long string": "@prefix ex: <http://example.org/> .\n" + _STATEMENTS
                     + 'ex:a ex:b """a long\nstring .\nex:x ex:y ex:z .\n""" .\n' + _STATEMENTS,
}


def _canonical(dataset: Dataset) -> set[str]:
    from pyoxigraph import CanonicalizationAlgorithm

    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return {str(quad) for quad in dataset}


@pytest.mark.parametrize("block", [64, 300, 4096])
@pytest.mark.parametrize("case", _TURTLE_BLOCK_CASES)
@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_turtle_is_loaded_in_blocks_cut_where_a_statement_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              case: str, block: int, bulk: bool) -> None:
    """Turtle handed to pyoxigraph's own loader in blocks (in memory and on disk) keeps the triples and
    prefixes of one full parse, whatever the block size: a block ends only at a line whose last token
    is a statement's ``.`` (not a dot in a comment, a string, an IRI or an escaped name), and the later
    blocks get the head's prefixes and base IRI. A file with a long string (where a line break may stand
    inside a token) is loaded whole in memory, and left to the parser on disk."""
    from pyoxigraph import RdfFormat, Store, parse

    from ntx_graph import rdf_io
    from ntx_graph.rdf_io import load_plain, read_rdf

    monkeypatch.setattr(rdf_io, "LOAD_BLOCK_BYTES", block)
    monkeypatch.setattr(rdf_io, "BULK_BLOCK_BYTES", block)
    blocks: list[int] = []
    original = rdf_io._blocks
    monkeypatch.setattr(rdf_io, "_blocks", lambda *args: (blocks.append(len(b)) or (b, f) for b, f in original(*args)))
    path = tmp_path / "data.ttl"
    path.write_bytes(_TURTLE_BLOCK_CASES[case].encode())
    store = Store(str(tmp_path / "store")) if bulk else Store()
    with read_rdf(path) as rdf:
        loaded = load_plain(store, rdf, path, bulk=bulk)
    if case == "a long string" and bulk:
        assert loaded is None and not blocks  # the parser's chunks then (one block could be the whole file)
        return
    assert loaded is not None
    expected = parse(path=path, format=RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    triples = Dataset(expected)
    assert _canonical(Dataset(store)) == _canonical(triples)  # the same graph, its blank nodes [] apart
    assert loaded.prefixes == {str(k): str(v) for k, v in (expected.prefixes or {}).items()}
    assert loaded.triples == (len(triples) if bulk else None)
    if case == "a long string":
        assert not blocks  # one load of the whole file, read as a stream
    else:
        assert len(blocks) > (3 if block < 4096 else 1)


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_an_error_in_a_later_turtle_block_names_its_line_in_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     bulk: bool) -> None:
    from pyoxigraph import Store

    from ntx_graph import rdf_io
    from ntx_graph.rdf_io import load_plain, read_rdf

    monkeypatch.setattr(rdf_io, "LOAD_BLOCK_BYTES", 200)
    monkeypatch.setattr(rdf_io, "BULK_BLOCK_BYTES", 200)
    text = "@prefix ex: <http://example.org/> .\n@prefix ex2: <http://example.org/2/> .\n" + _STATEMENTS
    lines = text.splitlines()
    lines[-40] = 'ex:a ex:b "unterminated .'
    path = tmp_path / "broken.ttl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store(str(tmp_path / "store")) if bulk else Store()
    where = rf"broken\.ttl: syntax error at line {len(lines) - 39}, column \d+"
    with pytest.raises(DataError, match=where), read_rdf(path) as rdf:
        load_plain(store, rdf, path, bulk=bulk)


def test_broken_turtle_loaded_in_memory_names_the_place(tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b "x" .\nex:a ex:b "y\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"^\S*broken\.ttl: syntax error at line 3, column \d+: "):
        KnowledgeGraph.open([broken], include_bundled=False, validate=False)


def test_blank_nodes_of_two_ntriples_files_stay_apart_in_memory(tmp_path: Path) -> None:
    first, second = tmp_path / "first.nt", tmp_path / "second.nt"
    for path, value in ((first, "one"), (second, "two")):
        path.write_text(f'_:b <https://example.org/p> "{value}" .\n')
    graph = KnowledgeGraph.open([first, second], include_bundled=False, validate=False)
    subjects = {row[0] for row in graph.store.query("SELECT ?s WHERE { ?s <https://example.org/p> ?o }")}
    assert len(subjects) == 2
