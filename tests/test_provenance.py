"""Every claim of the bundled graph is grounded in its source document.

The quote and checksum checks themselves are :func:`ntx_graph.provenance.check`
(tested on made-up graphs in ``test_check.py``); here they run on the bundled
graph, whose every quote must check and every sentence be cited or listed in
``ontology/sources/uncited-sentences.tsv`` (and every sentence listed there
must exist and be cited by no quote, so the list stays honest). Besides:

* every instance of a subclass of ``ntx:Claim`` has at least one quote and is
  derived from exactly one source document;
* the source node's ``ntx:sha256`` and ``ntx:repositoryPath`` match the file.
"""

from __future__ import annotations

import hashlib
from functools import cache

import pytest
from pyoxigraph import RdfFormat, Store

from ntx_graph import provenance, resources
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.provenance import Sentence, read_uncited_list, sentences

NTX = "https://w3id.org/ntx-graph/def/"
PREFIXES = """
PREFIX ntx:  <https://w3id.org/ntx-graph/def/>
PREFIX oa:   <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
UNCITED = resources.ontology_dir() / "sources" / provenance.UNCITED_FILE


@cache
def store() -> Store:
    """The bundled ontology and data, loaded once."""
    graph = Store()
    for path in resources.bundled_files():
        graph.load(path=path, format=RdfFormat.TURTLE)
    return graph


def select(query: str) -> list[dict[str, str]]:
    solutions = store().query(PREFIXES + query)
    variables = [v.value for v in solutions.variables]
    return [{name: row[name].value for name in variables if row[name] is not None}
            for row in solutions]


@cache
def source_text() -> str:
    return resources.source_file().read_bytes().decode("utf-8")


@cache
def report() -> provenance.ProvenanceReport:
    return provenance.check(KnowledgeGraph.open(), coverage=True)


# --- quotes and coverage ------------------------------------------------------


def test_every_quote_checks_and_every_sentence_is_cited_or_listed() -> None:
    result = report()
    assert not result.failures, "\n".join(p.message for p in result.failures)
    assert not result.uncited, result.text()
    assert result.ok


def test_every_quote_is_counted() -> None:
    """The check saw every quote the graph has (counted here with a query of its own)."""
    rows = select("""SELECT (COUNT(DISTINCT ?quote) AS ?n) WHERE {
        { ?claim ntx:evidenceQuote|ntx:principalQuote|ntx:modalityQuote ?quote }
        UNION { ?quote a oa:SpecificResource } }""")
    assert report().quotes == int(rows[0]["n"]) > 0
    assert [s.quotes for s in report().sources] == [report().quotes]


def test_every_quote_quotes_the_bundled_source() -> None:
    rows = select("""
        SELECT DISTINCT ?quote ?source ?path WHERE {
            ?claim ntx:evidenceQuote ?quote .
            OPTIONAL { ?quote oa:hasSource ?source OPTIONAL { ?source ntx:repositoryPath ?path } }
        }""")
    wrong = [row["quote"] for row in rows if row.get("path") != "ontology/sources/facts-about-naltrexone.txt"]
    assert not wrong, f"quotes whose oa:hasSource is not the bundled source document: {wrong}"


def test_the_listed_sentences_are_sentences_of_the_source() -> None:
    """The list holds no duplicate and names only real sentences (check() also fails on both)."""
    listed = read_uncited_list(UNCITED)
    assert len(listed) == len(set(listed)), f"duplicate lines in {UNCITED.name}"
    known = {s.text for s in sentences(source_text())}
    assert set(listed) <= known


# --- the source document ----------------------------------------------------


def source_documents() -> list[dict[str, str]]:
    return select("""
        SELECT ?document ?sha256 ?path WHERE {
            ?document a ntx:SourceDocument .
            OPTIONAL { ?document ntx:sha256 ?sha256 }
            OPTIONAL { ?document ntx:repositoryPath ?path }
        } ORDER BY ?document""")


def test_there_is_one_source_document() -> None:
    assert [row["document"] for row in source_documents()] == [
        "https://w3id.org/ntx-graph/id/source/facts-about-naltrexone"]


def test_source_path_points_at_the_file() -> None:
    for row in source_documents():
        # repositoryPath is relative to the repository root; the ontology/ folder sits right under it
        # (in a wheel, ntx_graph/data/ plays the root).
        path = resources.ontology_dir().parent / row.get("path", "<missing>")
        assert path.is_file(), f"{row['document']}: ntx:repositoryPath {row.get('path')!r} is not a file"
        assert path.resolve() == resources.source_file().resolve()


def test_source_sha256_matches_the_file() -> None:
    for row in source_documents():
        path = resources.ontology_dir().parent / row["path"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert row.get("sha256") == digest, (
            f"{row['document']}: ntx:sha256 is {row.get('sha256')}, the file's SHA-256 is {digest}")


# --- claims -----------------------------------------------------------------


def claim_classes() -> list[str]:
    return [row["class"] for row in select(
        "SELECT DISTINCT ?class WHERE { ?class rdfs:subClassOf* ntx:Claim } ORDER BY ?class")]


def test_claim_classes_come_from_the_ontology() -> None:
    classes = claim_classes()
    for name in ("Claim", "Indication", "MechanismOfAction", "SideEffect", "Precaution", "Contraindication",
                 "Statement"):
        assert NTX + name in classes


def test_every_claim_has_an_evidence_quote_and_the_source() -> None:
    claims = {
        row["claim"]: row for row in select("""
            SELECT ?claim (COUNT(DISTINCT ?quote) AS ?quotes) (COUNT(DISTINCT ?source) AS ?sources) WHERE {
                ?class rdfs:subClassOf* ntx:Claim .
                ?claim a ?class .
                OPTIONAL { ?claim ntx:evidenceQuote ?quote }
                OPTIONAL { ?claim prov:wasDerivedFrom ?source . ?source a ntx:SourceDocument }
            } GROUP BY ?claim""")
    }
    assert claims
    unquoted = sorted(claim for claim, row in claims.items() if row["quotes"] == "0")
    assert not unquoted, f"claims without an ntx:evidenceQuote: {unquoted}"
    unsourced = sorted(claim for claim, row in claims.items() if row["sources"] != "1")
    assert not unsourced, f"claims not derived from exactly one ntx:SourceDocument: {unsourced}"


def test_every_quoting_node_is_a_claim() -> None:
    # no node with evidence slips past the claim checks above by lacking a claim class
    rows = select("""
        SELECT DISTINCT ?node WHERE {
            ?node ntx:evidenceQuote ?quote .
            FILTER NOT EXISTS { ?node a ?class . ?class rdfs:subClassOf* ntx:Claim }
        }""")
    assert not rows, f"nodes with evidence quotes that are not claims: {[r['node'] for r in rows]}"


# --- sentence splitting --------------------------------------------------------


def test_sentence_splitting() -> None:
    text = "Title\n\nOne. Two? Three!  Four\nA heading: with. dots:\n"
    assert [s.text for s in sentences(text)] == ["Title", "One.", "Two?", "Three!", "Four", "A heading: with. dots:"]
    for s in sentences(text):
        assert text[s.start:s.end] == s.text


def test_sentences_cover_the_source() -> None:
    """Every non-blank character of the source belongs to some sentence."""
    text = source_text()
    found: list[Sentence] = sentences(text)
    covered = set()
    for s in found:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, c in enumerate(text) if not c.isspace())


@pytest.mark.parametrize("text, spans, listed, expected", [
    ("One. Two. Three.", [], (), ["One.", "Two.", "Three."]),
    ("One. Two. Three.", [(0, 4), (10, 16)], (), ["Two."]),
    ("One. Two. Three.", [(3, 6)], (), ["Three."]),  # a span across a boundary cites both sentences
    ("One. Two. Three.", [(0, 4)], ("Three.",), ["Two."]),
])
def test_uncited(text: str, spans: list[tuple[int, int]], listed: tuple[str, ...], expected: list[str]) -> None:
    assert [s.text for s in provenance.uncited(text, spans, listed)] == expected


def test_source_file_is_unchanged_ascii() -> None:
    data = resources.source_file().read_bytes()
    assert data.isascii(), "the source must stay byte for byte as received (ASCII)"
    assert len(data) == len(source_text()), "offsets are character offsets; for ASCII they equal byte offsets"
