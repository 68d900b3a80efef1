"""The source reader's marks without a browser: nested and crossing quotes,
uncited sentences, the text kept exactly, and where a source's file is found."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from ntx_graph.server.reader import SourceQuote, find_file, marked_text, sentences, uncited

TEXT = "Alpha beta gamma. Delta <epsilon> & zeta!\nEta: theta.\n"


def quote(name: str, start: int, end: int) -> SourceQuote:
    return SourceQuote(f"https://example.org/q/{name}", TEXT[start:end], start, end)


def marks(html: str) -> list[tuple[str, int, int]]:
    found = re.finditer(r'<mark data-start="(\d+)" data-end="(\d+)" data-quote="([^"]+)"', html)
    return [(m[3], int(m[1]), int(m[2])) for m in found]


@pytest.mark.parametrize("spans", [
    [(0, 17)],
    [(0, 17), (6, 10)],  # nested
    [(0, 10), (6, 17)],  # crossing: the second is split
    [(0, 17), (0, 17)],  # the same span twice
    [(18, 41), (24, 33), (18, 24), (30, 41)],
])
def test_every_quote_has_its_mark_and_the_text_is_kept(spans: list[tuple[int, int]]) -> None:
    quotes = [quote(f"q{i}", a, b) for i, (a, b) in enumerate(spans)]
    html = marked_text(TEXT, quotes, uncited(TEXT, quotes, {}))
    assert unescape(re.sub(r"<[^>]+>", "", html)) == TEXT
    found = marks(html)
    for q in quotes:
        pieces = [(a, b) for name, a, b in found if name == q.anchor]
        assert pieces and all((a, b) == (q.start, q.end) for a, b in pieces)
    assert html.count("<mark") == html.count("</mark>")
    depth = 0
    for tag in re.findall(r"</?mark", html):
        depth += 1 if tag == "<mark" else -1
        assert depth >= 0


def test_crossing_quotes_split_and_cover_their_own_text() -> None:
    first, second = quote("a", 0, 10), quote("b", 6, 17)
    html = marked_text(TEXT, [first, second], [])
    covered = "".join(re.findall(r'data-quote="quote-b"[^>]*>([^<]*)', html))
    assert covered == TEXT[6:17]


def test_uncited_sentences_carry_their_reason() -> None:
    cited = [quote("a", 0, 17)]
    gaps = uncited(TEXT, cited, {"Eta: theta.": "a heading"})
    assert [(g.sentence.text, g.reason) for g in gaps] == [
        ("Delta <epsilon> & zeta!", "no claim cites this sentence"), ("Eta: theta.", "a heading")]
    html = marked_text(TEXT, cited, gaps)
    assert '<span class="uncited" title="not cited: a heading">Eta: theta.</span>' in html
    assert "&lt;epsilon&gt; &amp; zeta!" in html


def test_sentences_split_as_the_coverage_check_does() -> None:
    assert [(s.text, s.start, s.end) for s in sentences("Title\nOne. Two?\n  Three!  \nA: b. c:\n")] == [
        ("Title", 0, 5), ("One.", 6, 10), ("Two?", 11, 15), ("Three!", 18, 24), ("A: b. c:", 27, 35)]


def test_a_source_file_is_found_only_under_its_folders(tmp_path: Path) -> None:
    data = tmp_path / "data" / "mine.ttl"
    data.parent.mkdir()
    data.write_text("", encoding="utf-8")
    (tmp_path / "data" / "doc.txt").write_text("x", encoding="utf-8")
    (tmp_path / "up.txt").write_text("x", encoding="utf-8")
    assert find_file("doc.txt", [data]) == tmp_path / "data" / "doc.txt"
    assert find_file("up.txt", [data]) == tmp_path / "up.txt"  # a parent of the data file's folder
    assert find_file("../up.txt", [data]) is None
    assert find_file(str(tmp_path / "up.txt"), [data]) is None
    assert find_file("ontology/sources/facts-about-naltrexone.txt", []) is not None
