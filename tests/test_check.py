"""``ntx-graph check``: every quote of any graph against its source document.

Runs in-process through ``main()``; the graphs are the bundled one, copies of
it with one thing broken, and the README's worked example."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest

from ntx_graph import resources
from ntx_graph.cli import main
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.persistent import build_store
from ntx_graph.provenance import UNCITED_FILE, check
from ntx_graph.results import compact

README = Path(__file__).resolve().parents[1] / "README.md"
NTX = "https://w3id.org/ntx-graph/def/"
OA = "http://www.w3.org/ns/oa#"
PREFIXES = f"PREFIX ntx: <{NTX}> PREFIX oa: <{OA}>\n"
SUMMARY = re.compile(r"^(\d+) quotes? checked, (\d+) sources? checked, (\d+) failures?(, (\d+) uncited sentences?)?$")


@dataclass(frozen=True)
class Quote:
    iri: str
    position: str
    start: int
    end: int
    exact: str


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    """Exit code, stdout lines and stderr of ``ntx-graph ARGS``."""
    try:
        code = main(list(args))
    except SystemExit as stop:
        code = int(stop.code or 0)
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


@cache
def bundled() -> KnowledgeGraph:
    return KnowledgeGraph.open()


@cache
def bundled_quotes() -> tuple[Quote, ...]:
    rows = bundled().store.query(PREFIXES + """
        SELECT DISTINCT ?quote ?position ?start ?end ?exact WHERE {
            { [] ntx:evidenceQuote|ntx:principalQuote|ntx:modalityQuote ?quote } UNION { ?quote a oa:SpecificResource }
            ?quote oa:hasSelector ?position , ?text .
            ?position oa:start ?start ; oa:end ?end . ?text oa:exact ?exact
        } ORDER BY ?quote""")
    return tuple(Quote(r["quote"].value, r["position"].value, int(r["start"].value), int(r["end"].value),  # type: ignore[index, union-attr]
                       r["exact"].value) for r in rows)  # type: ignore[index, union-attr]


def name(iri: str) -> str:
    return compact(iri, bundled().prefixes)


def summary(lines: list[str]) -> tuple[int, int, int]:
    match = SUMMARY.match(lines[-1])
    assert match, lines[-1]
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def copy_of_bundled(folder: Path, *, text: str | None = None, start_of: Quote | None = None, shift: int = 0) -> Path:
    """The bundled facts in ``folder``, their source beside them in ``sources/``
    (its path recorded relative to the data file), with the source's text
    replaced by ``text`` or ``start_of``'s ``oa:start`` moved by ``shift``."""
    triples = []
    for t in ox.parse(path=resources.data_files()[0]):
        if t.predicate.value == NTX + "repositoryPath":
            t = ox.Triple(t.subject, t.predicate, ox.Literal("sources/" + resources.source_file().name))
        if start_of is not None and t.subject.value == start_of.position and t.predicate.value == OA + "start":  # type: ignore[union-attr]
            t = ox.Triple(t.subject, t.predicate, ox.Literal(str(start_of.start + shift),
                                                             datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
        triples.append(t)
    data = folder / "facts.ttl"
    data.write_bytes(ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=bundled().prefixes) or b"")
    (folder / "sources").mkdir()
    source = folder / "sources" / resources.source_file().name
    if text is None:
        shutil.copyfile(resources.source_file(), source)
    else:
        source.write_bytes(text.encode("utf-8"))
    return data


# --- the bundled graph ---------------------------------------------------------


def test_bundled_graph_checks(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, err = run(capsys, "check")
    assert (code, err) == (0, "")
    sources = {row["s"] for row in bundled().store.query(PREFIXES + "SELECT ?s WHERE { [] oa:hasSource ?s }")}  # type: ignore[index]
    quotes = {q.iri for q in bundled_quotes()}
    assert summary(lines) == (len(quotes), len(sources), 0)
    assert lines == [lines[-1]]


def test_bundled_graph_has_full_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, "check", "--coverage")
    assert code == 0 and lines[-1].endswith(", 0 failures, 0 uncited sentences")


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, lines, _ = run(capsys, "check", "-f", "json")
    report = json.loads("\n".join(lines))
    assert code == 0 and report["ok"] is True and report["failures"] == []
    assert report["quotes"] == len({q.iri for q in bundled_quotes()})
    [source] = report["sources"]
    assert source["present"] and source["matches"]
    assert Path(source["file"]).resolve() == resources.source_file().resolve()


# --- broken copies -------------------------------------------------------------------


def test_a_changed_character_fails_its_quotes_and_the_checksum(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    quote = bundled_quotes()[0]
    text = resources.source_file().read_text(encoding="utf-8")
    at = quote.start + (quote.end - quote.start) // 2
    changed = text[:at] + ("#" if text[at] != "#" else "%") + text[at + 1:]
    data = copy_of_bundled(tmp_path, text=changed)
    code, lines, err = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert code == 1 and err == ""
    failing = sorted({q.iri for q in bundled_quotes() if q.start <= at < q.end})
    assert quote.iri in failing
    mismatches = [line for line in lines if " differs from oa:exact " in line]
    assert len(mismatches) == len(failing)
    for iri in failing:
        [line] = [m for m in mismatches if m.startswith(f"FAIL quote {name(iri)} of ")]
        assert f"at offset {at}:" in line
    assert [line for line in lines if "SHA-256 mismatch" in line] == [
        f"FAIL source {name(next(iter(_source_iris())))}: SHA-256 mismatch: the graph records "
        f"{_recorded_sha()}, the file {(tmp_path / 'sources' / resources.source_file().name).resolve()} has "
        f"{__import__('hashlib').sha256(changed.encode()).hexdigest()}"]
    assert summary(lines)[2] == len(failing) + 1


def _source_iris() -> set[str]:
    return {r["s"].value for r in bundled().store.query(PREFIXES + "SELECT ?s WHERE { ?s a ntx:SourceDocument }")}  # type: ignore[index, union-attr]


def _recorded_sha() -> str:
    [row] = list(bundled().store.query(PREFIXES + "SELECT ?h WHERE { ?s ntx:sha256 ?h }"))
    return str(row["h"].value)  # type: ignore[index, union-attr]


def test_a_shifted_start_fails_that_quote_and_shows_both_texts(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    quote = bundled_quotes()[-1]
    data = copy_of_bundled(tmp_path, start_of=quote, shift=1)
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert line.startswith(f"FAIL quote {name(quote.iri)} of ")
    assert f"[{quote.start + 1}, {quote.end}) differs from oa:exact" in line
    assert f"the quote occurs at offset {quote.start}" in line
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "-f", "json")
    [failure] = json.loads("\n".join(lines))["failures"]
    text = resources.source_file().read_text(encoding="utf-8")
    assert failure["quote"] == quote.iri and failure["kind"] == "mismatch"
    assert failure["expected"] == quote.exact and failure["found"] == text[quote.start + 1:quote.end]
    first = next(i for i, (a, b) in enumerate(zip(quote.exact, failure["found"], strict=False)) if a != b)
    assert failure["offset"] == quote.start + 1 + first


def test_offsets_outside_the_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quote = bundled_quotes()[0]
    data = copy_of_bundled(tmp_path, start_of=quote, shift=-quote.start - 1)  # oa:start -1
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert code == 1
    [line] = [line for line in lines if line.startswith("FAIL")]
    assert f"quote {name(quote.iri)} " in line and f"[-1, {quote.end}) falls outside the text" in line


# --- the README's worked example --------------------------------------------------------


def readme_example(folder: Path) -> tuple[Path, list[str], list[str]]:
    """The section's source text and Turtle, written to ``folder``; its two console blocks."""
    section = README.read_text(encoding="utf-8").split("## Checking your own graph", 1)[1].split("\n## ", 1)[0]
    text = re.search(r"```text\n(.*?)```", section, re.S)
    turtle = re.search(r"```turtle\n(.*?)```", section, re.S)
    consoles = re.findall(r"```console\n(.*?)```", section, re.S)
    assert text and turtle and len(consoles) == 2
    (folder / "sources").mkdir(parents=True)
    (folder / "sources" / "leaflet.txt").write_text(text.group(1), encoding="utf-8")
    (folder / "mine.ttl").write_text(turtle.group(1), encoding="utf-8")
    return folder / "mine.ttl", consoles[0].splitlines(), consoles[1].splitlines()


def test_the_readme_example_checks_from_any_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data, session, _ = readme_example(tmp_path / "project")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    expected: dict[str, list[str]] = {}
    command = ""
    for line in session:
        if line.startswith("$ "):
            command = line[2:]
            expected[command] = []
        else:
            expected[command].append(line)
    assert len(expected) == 2
    for command, output in expected.items():
        args = command.split()[1:]
        args[args.index("mine.ttl")] = str(data)
        code, lines, _ = run(capsys, *args)
        assert lines == output
        assert code == (1 if "--coverage" in args else 0)
    monkeypatch.chdir(tmp_path)  # a relative --data path resolves too
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", "project/mine.ttl")
    assert code == 0 and lines == expected["ntx-graph check --no-bundled --data mine.ttl"]


def test_the_readme_failure_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, failure = readme_example(tmp_path)
    data.write_text(data.read_text().replace("oa:start 70", "oa:start 69"))
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert (code, lines) == (1, failure)


def test_info_finds_the_source_beside_the_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = readme_example(tmp_path)
    code, lines, _ = run(capsys, "info", "--no-validate", "--data", str(data))
    assert code == 0
    at = lines.index("  Facts about Examplamine (sources/leaflet.txt)")
    assert lines[at + 1] == f"    file {(tmp_path / 'sources' / 'leaflet.txt').resolve()} (present)"
    assert lines[at + 2].endswith("(matches)")
    (tmp_path / "sources" / "leaflet.txt").write_text("changed\n")
    _, lines, _ = run(capsys, "info", "--no-validate", "--data", str(data))
    assert lines[at + 2].endswith("(MISMATCH)")
    (tmp_path / "sources" / "leaflet.txt").unlink()
    _, lines, _ = run(capsys, "info", "--no-validate", "--data", str(data))
    assert lines[at + 1] == "    file missing" and lines[at + 2].endswith("(file missing)")


def test_a_store_resolves_sources_beside_its_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, session, _ = readme_example(tmp_path / "project")
    build_store([data], tmp_path / "store", include_bundled=False)
    code, lines, _ = run(capsys, "check", "--store", str(tmp_path / "store"))
    assert code == 0 and lines == [session[1]]


# --- sources: missing, overridden, unreadable ------------------------------------------------


def test_missing_source_and_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, session, _ = readme_example(tmp_path)
    moved = tmp_path / "leaflet-copy.txt"
    (tmp_path / "sources" / "leaflet.txt").rename(moved)
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert code == 1
    assert lines[0] == (f"FAIL source ex:leaflet: its file {(tmp_path / 'sources' / 'leaflet.txt').resolve()} "
                        f"(relative to {data}) is missing; 1 quote not checked")
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "--source", f"ex:leaflet={moved}")
    assert (code, lines) == (0, [session[1]])
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "--source",
                         f"<https://example.org/examplamine/leaflet>={moved}")
    assert code == 0


@pytest.mark.parametrize("value, message", [
    ("ex:nothing=x.txt", "is not a source document of the graph"),
    ("no-equals-sign", "give IRI=PATH"),
])
def test_bad_source_overrides_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str,
                                               message: str) -> None:
    data, _, _ = readme_example(tmp_path)
    code, lines, err = run(capsys, "check", "--no-bundled", "--data", str(data), "--source", value)
    assert code == 2 and lines == [] and message in err and len(err.splitlines()) == 1


def test_unreadable_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = readme_example(tmp_path)
    (tmp_path / "sources" / "leaflet.txt").write_bytes(b"\xff\xfe not UTF-8")
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data))
    assert code == 1
    assert lines[0].startswith("FAIL source ex:leaflet: ") and "cannot be read as UTF-8 text" in lines[0]


def test_a_source_that_is_no_regular_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = readme_example(tmp_path)
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "--source", "ex:leaflet=/dev/zero")
    assert code == 1
    assert lines[0] == ("FAIL source ex:leaflet: /dev/zero cannot be read as UTF-8 text (not a regular file); "
                        "1 quote not checked")


def test_a_broken_data_file_is_a_file_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<a> <b> .")
    code, lines, err = run(capsys, "check", "--data", str(bad))
    assert code == 2 and lines == [] and err.startswith("ntx-graph: error: ") and len(err.splitlines()) == 1


def test_quotes_need_one_text_and_one_position(tmp_path: Path) -> None:
    data, _, _ = readme_example(tmp_path)
    data.write_text(data.read_text().replace('oa:exact "It may cause drowsiness." ]',
                                             'oa:exact "It may cause drowsiness." ] , [ a oa:TextQuoteSelector ; '
                                             'oa:exact "other" ]'))
    report = check(KnowledgeGraph.open([data], include_bundled=False, validate=False))
    [failure] = report.failures
    assert failure.kind == "selector" and "has 2 and 1" in failure.message
    assert failure.claims == ("https://example.org/examplamine/drowsiness",)


# --- coverage ---------------------------------------------------------------------------------


def test_coverage_honours_the_list_beside_the_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data, _, _ = readme_example(tmp_path)
    listed = tmp_path / "sources" / UNCITED_FILE
    listed.write_text("sentence\treason\nFacts about Examplamine\ttitle\n"
                      "Examplamine is used to treat mild headaches.\tnot modelled yet\n")
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "--coverage")
    assert (code, lines) == (0, ["1 quote checked, 1 source checked, 0 failures, 0 uncited sentences"])
    listed.write_text("sentence\treason\nIt may cause drowsiness.\twrong\nNo such sentence.\twrong\n")
    code, lines, _ = run(capsys, "check", "--no-bundled", "--data", str(data), "--coverage")
    assert code == 1
    fails = [line for line in lines if line.startswith("FAIL")]
    assert any("'No such sentence.' is no sentence of ex:leaflet" in line for line in fails)
    assert any("'It may cause drowsiness.' is listed as stating no fact, but ex:quote-drowsiness quotes it" in line
               for line in fails)
    assert summary(lines)[2] == 2
    listed.write_text("no header\n")
    code, _, err = run(capsys, "check", "--no-bundled", "--data", str(data), "--coverage")
    assert code == 2 and "the first line must be the header" in err


def test_validate_points_to_check(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    assert "use 'ntx-graph check'" in " ".join(capsys.readouterr().out.split())
