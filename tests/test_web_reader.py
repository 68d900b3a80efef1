"""The source reader's marks without a browser: nested and crossing quotes,
uncited sentences with their reasons, the text kept exactly."""

from __future__ import annotations

import re
from html import unescape

import pytest

from ntx_graph.server.entity import Quote
from ntx_graph.server.reader import marked_text, uncited

TEXT = "Alpha beta gamma. Delta <epsilon> & zeta!\nEta: theta.\n"


def quote(name: str, start: int, end: int) -> Quote:
    return Quote(f"https://example.org/q/{name}", TEXT[start:end], start, end)


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
