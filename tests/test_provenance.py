"""Every claim is grounded in its source document.

* each quote's ``oa:exact`` is the source text at its ``oa:start``/``oa:end``;
* the source node's ``ntx:sha256`` and ``ntx:repositoryPath`` match the file;
* every instance of a subclass of ``ntx:Claim`` has at least one quote;
* every sentence of the source is cited by some quote, unless it is listed in
  ``ontology/sources/uncited-sentences.tsv`` - and every sentence listed there
  exists and is cited by no quote, so the list stays honest.

Sentences: the source split into lines; within a line, split after ``.``, ``?``
or ``!`` followed by whitespace; a line ending with ``:`` is one sentence;
blank lines are dropped; each sentence is stripped of surrounding whitespace.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache

import pytest
from pyoxigraph import RdfFormat, Store

from ntx_graph import resources

NTX = "https://w3id.org/ntx-graph/def/"
PREFIXES = """
PREFIX ntx:  <https://w3id.org/ntx-graph/def/>
PREFIX oa:   <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
UNCITED = resources.ontology_dir() / "sources" / "uncited-sentences.tsv"


@dataclass(frozen=True)
class Quote:
    iri: str
    exact: str
    start: int
    end: int

    @property
    def name(self) -> str:
        return self.iri.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Sentence:
    text: str
    start: int
    end: int


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
    return resources.source_file().read_text(encoding="utf-8")


@cache
def quotes() -> tuple[Quote, ...]:
    """Every quote used as evidence, with its one exact text and one position."""
    rows = select("""
        SELECT ?quote (COUNT(DISTINCT ?exact) AS ?exacts) (COUNT(DISTINCT ?position) AS ?positions)
               (SAMPLE(?exact) AS ?text) (SAMPLE(?start) AS ?from) (SAMPLE(?end) AS ?to)
        WHERE {
            { ?claim ntx:evidenceQuote ?quote } UNION { ?quote a oa:SpecificResource }
            OPTIONAL { ?quote oa:hasSelector ?q . ?q a oa:TextQuoteSelector ; oa:exact ?exact }
            OPTIONAL { ?quote oa:hasSelector ?position . ?position a oa:TextPositionSelector ;
                                 oa:start ?start ; oa:end ?end }
        }
        GROUP BY ?quote ORDER BY ?quote
    """)
    out = []
    for row in rows:
        assert row["exacts"] == "1" and row["positions"] == "1", (
            f"{row['quote']} needs exactly one oa:exact and one oa:start/oa:end position, "
            f"has {row['exacts']} and {row['positions']}")
        out.append(Quote(row["quote"], row["text"], int(row["from"]), int(row["to"])))
    return tuple(out)


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their character spans (see the module docstring)."""
    out = []
    offset = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body.strip().endswith(":"):
            pieces = [(0, len(body))]
        else:
            pieces, start = [], 0
            for gap in re.finditer(r"(?<=[.?!])\s+", body):
                pieces.append((start, gap.start()))
                start = gap.end()
            pieces.append((start, len(body)))
        for start, end in pieces:
            piece = body[start:end]
            lead = len(piece) - len(piece.lstrip())
            stripped = piece.strip()
            if stripped:
                out.append(Sentence(stripped, offset + start + lead, offset + start + lead + len(stripped)))
        offset += len(line)
    return out


def cited(sentence: Sentence) -> list[Quote]:
    """The quotes whose [start, end) span overlaps the sentence's."""
    return [q for q in quotes() if q.start < sentence.end and sentence.start < q.end]


def uncited_list() -> list[str]:
    lines = UNCITED.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].split("\t")[0] == "sentence", f"{UNCITED.name} must start with its header line"
    return [line.split("\t")[0] for line in lines[1:] if line.strip()]


# --- quotes ---------------------------------------------------------------


def test_the_graph_has_quotes() -> None:
    assert len(quotes()) >= 50


@pytest.mark.parametrize("quote", quotes(), ids=lambda q: q.name)
def test_quote_is_verbatim_at_its_offsets(quote: Quote) -> None:
    text = source_text()
    span = f"source[{quote.start}:{quote.end}]"
    assert 0 <= quote.start < quote.end <= len(text), f"{quote.name}: {span} is outside the source"
    found = text[quote.start:quote.end]
    where = text.find(quote.exact)
    hint = f" (the quote occurs at offset {where})" if where >= 0 else " (the quote is nowhere in the source)"
    assert found == quote.exact, f"{quote.name}: {span} is {found!r}, not {quote.exact!r}{hint}"


def test_every_quote_quotes_the_bundled_source() -> None:
    rows = select("""
        SELECT DISTINCT ?quote ?source ?path WHERE {
            ?claim ntx:evidenceQuote ?quote .
            OPTIONAL { ?quote oa:hasSource ?source OPTIONAL { ?source ntx:repositoryPath ?path } }
        }""")
    wrong = [row["quote"] for row in rows if row.get("path") != "ontology/sources/facts-about-naltrexone.txt"]
    assert not wrong, f"quotes whose oa:hasSource is not the bundled source document: {wrong}"


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
    assert len(claims) >= 50
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


# --- coverage of the source -------------------------------------------------


def test_sentence_splitting() -> None:
    text = "Title\n\nOne. Two? Three!  Four\nA heading: with. dots:\n"
    assert [s.text for s in sentences(text)] == ["Title", "One.", "Two?", "Three!", "Four", "A heading: with. dots:"]
    for s in sentences(text):
        assert text[s.start:s.end] == s.text


def test_every_sentence_is_cited_or_listed() -> None:
    listed = set(uncited_list())
    missing = [s for s in sentences(source_text()) if s.text not in listed and not cited(s)]
    assert not missing, "sentences cited by no quote and not in uncited-sentences.tsv:\n" + "\n".join(
        f"  [{s.start}, {s.end}) {s.text!r}" for s in missing)


def test_uncited_list_is_honest() -> None:
    listed = uncited_list()
    assert len(listed) == len(set(listed)), f"duplicate lines in {UNCITED.name}"
    by_text: dict[str, list[Sentence]] = {}
    for s in sentences(source_text()):
        by_text.setdefault(s.text, []).append(s)
    unknown = [text for text in listed if text not in by_text]
    assert not unknown, f"{UNCITED.name} lists text that is not a sentence of the source: {unknown}"
    quoted = [f"{s.text!r} (quoted by {', '.join(q.name for q in cited(s))})"
              for text in listed for s in by_text[text] if cited(s)]
    assert not quoted, f"{UNCITED.name} lists sentences that a quote cites:\n  " + "\n  ".join(quoted)


def test_source_file_is_unchanged_ascii() -> None:
    data = resources.source_file().read_bytes()
    assert data.isascii(), "the source must stay byte for byte as received (ASCII)"
    assert len(data) == len(source_text()), "offsets are character offsets; for ASCII they equal byte offsets"
