"""Saved-query headers: every file has one, and every query is listed by the
CLI and in the README's table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ntx_graph.catalog import PARAM_TYPES, HeaderError, get_saved_query, parse_saved_query, saved_queries
from ntx_graph.cli import main
from ntx_graph.errors import QueryNotFound
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.resources import queries_dir

ROOT = Path(__file__).resolve().parents[1]


QUERY_FILES = sorted(queries_dir().glob("*.rq"))
BROKEN = sorted((Path(__file__).parent / "fixtures" / "queries").glob("broken-*.rq"))


def test_there_are_saved_queries() -> None:
    assert len(QUERY_FILES) >= 16


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_header_is_complete(path: Path, kg: KnowledgeGraph) -> None:
    query = parse_saved_query(path)
    assert query.title and query.title[0].isupper(), "a title in sentence case"
    assert len(query.description) >= 20, "a description that says what the query answers"
    assert query.form in ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
    for param in query.parameters:
        assert param.type in PARAM_TYPES
        assert param.description, f"parameter {param.name} needs a description"
        assert re.search(rf"[?$]{param.name}\b", query.text), f"?{param.name} is not used in the query"
    # every default binds to a well-typed term (and to an instance of its class)
    if not any(p.required for p in query.parameters):
        assert set(kg.bind(query, {})) == {p.name for p in query.parameters}


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: p.stem)
def test_listed_by_cli_and_readme(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    listed = {line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert path.stem in listed
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"| `{path.stem}` |" in readme, f"README's query table lacks {path.stem}"


def test_readme_lists_no_missing_query() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    in_table = set(re.findall(r"^\| `([a-z0-9-]+)` \|", readme, flags=re.MULTILINE))
    assert in_table == {p.stem for p in QUERY_FILES}


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_malformed_headers_are_rejected(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").strip()
    with pytest.raises(HeaderError, match=re.escape(expected)):
        parse_saved_query(path)


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(QueryNotFound, match="did you mean 'off-label-uses-lacking-evidence'"):
        get_saved_query("off-label-uses-lacking-evidenc3")


def test_unique_prefix_selects_and_ambiguous_prefix_fails() -> None:
    assert get_saved_query("off-label").name == "off-label-uses-lacking-evidence"
    with pytest.raises(QueryNotFound, match="ambiguous"):
        get_saved_query("side-effects")


def test_catalogue_is_sorted_and_unique() -> None:
    names = [q.name for q in saved_queries()]
    assert names == sorted(set(names))


def test_regression_form_of_a_one_line_prologue_is_read_by_the_analyser(tmp_path: Path) -> None:
    path = tmp_path / "one-line.rq"
    path.write_text("#+ title: One line\n#+ description: A prologue and a CONSTRUCT on one line.\n"
                    "PREFIX ex: <http://example.org/> CONSTRUCT { ?s ex:p ?o } WHERE { ?s ex:p ?o }\n",
                    encoding="utf-8")
    assert parse_saved_query(path).form == "CONSTRUCT"


def test_regression_form_ignores_keywords_in_comments_and_strings(tmp_path: Path) -> None:
    path = tmp_path / "tricky.rq"
    path.write_text('#+ title: Tricky\n#+ description: Words that look like forms but are not.\n'
                    '# SELECT in a comment\rASK { ?s ?p "CONSTRUCT" }\n', encoding="utf-8")
    assert parse_saved_query(path).form == "ASK"


def test_a_select_need_not_project_its_parameters(kg: KnowledgeGraph, tmp_path: Path) -> None:
    path = tmp_path / "unprojected.rq"
    path.write_text("#+ title: Labels of a drug\n#+ description: The labels of one drug, the drug not projected.\n"
                    "#+ param: drug iri = <https://w3id.org/ntx-graph/id/drug/naltrexone> | The drug.\n"
                    "SELECT ?label WHERE { ?drug rdfs:label ?label }\n", encoding="utf-8")
    result = kg.run(parse_saved_query(path, header_required=False))
    assert result.variables == ["label"]
    assert [row["label"] for row in result.to_python()] == ["naltrexone"]


def test_plain_query_file_needs_no_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.rq"
    path.write_text("ASK { ?s ?p ?o }\n", encoding="utf-8")
    query = parse_saved_query(path, header_required=False)
    assert (query.name, query.title, query.form, query.parameters) == ("plain", "plain", "ASK", ())
    with pytest.raises(HeaderError, match="no '#\\+ title:' line"):
        parse_saved_query(path)
