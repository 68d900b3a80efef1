"""Content negotiation: which result format to answer with, from the Accept
header, a ``format`` parameter or a file-name suffix."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from ntx_graph import formats

#: (media type, format name) offered for SELECT and ASK results, best first.
RESULT_OFFERS: tuple[tuple[str, str], ...] = formats.media_types(formats.RESULTS)
#: (media type, format name) offered for CONSTRUCT and DESCRIBE results, best first.
GRAPH_OFFERS: tuple[tuple[str, str], ...] = formats.media_types(formats.GRAPH)
#: File-name suffixes of saved-query URLs.
SUFFIXES = formats.url_suffixes()


class NotAcceptable(formats.FormatError):
    """No offered format matches (answered 406); ``str(error)`` says which ones exist."""


@dataclass(frozen=True)
class MediaRange:
    """One entry of an Accept header."""

    type: str
    subtype: str
    q: float

    def matches(self, media_type: str) -> int:
        """How specifically this range matches ``media_type``: 2 exactly, 1
        for ``type/*``, 0 for ``*/*``; -1 if it does not."""
        kind, _, sub = media_type.partition("/")
        if self.type == kind and self.subtype == sub:
            return 2
        if self.type == kind and self.subtype == "*":
            return 1
        if self.type == "*" and self.subtype == "*":
            return 0
        return -1


def parse_accept(header: str) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed entries are skipped.

    >>> parse_accept("text/csv;q=0.5, application/*")
    [MediaRange(type='text', subtype='csv', q=0.5), MediaRange(type='application', subtype='*', q=1.0)]
    """
    ranges: list[MediaRange] = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        kind, slash, sub = parts[0].lower().partition("/")
        if not slash or not kind or not sub:
            continue
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(kind, sub, q))
    return ranges


@functools.lru_cache(maxsize=512)  # the same few Accept headers recur: parse each once
def choose(accept: str, offers: tuple[tuple[str, str], ...]) -> str | None:
    """The format name of the offer the Accept header likes best (the
    server's order breaks ties); the first offer when Accept is absent;
    None when nothing offered is acceptable.

    >>> choose("text/csv, */*;q=0.1", RESULT_OFFERS)
    'csv'
    >>> choose("", GRAPH_OFFERS)
    'turtle'
    >>> choose("image/png", RESULT_OFFERS) is None
    True
    """
    ranges = parse_accept(accept)
    if not accept.strip() or not ranges:
        return offers[0][1]
    best: tuple[float, int] = (0.0, 0)
    chosen: str | None = None
    for index, (media_type, name) in enumerate(offers):
        specificity, q = max(((r.matches(media_type), r.q) for r in ranges), default=(-1, 0.0))
        if specificity < 0 or q <= 0:
            continue
        if (q, -index) > best:
            best, chosen = (q, -index), name
    return chosen


def offers_for(kind: str) -> tuple[tuple[str, str], ...]:
    """The offers for a query form (SELECT, ASK, CONSTRUCT, DESCRIBE)."""
    return GRAPH_OFFERS if formats.is_graph_form(kind) else RESULT_OFFERS


def negotiate(kind: str, accept: str, requested: str | Sequence[str] | None = None) -> str:
    """The format name to answer a ``kind`` query with. ``requested`` (the
    ``format`` parameter or a URL suffix: names, aliases, suffixes or media
    types; the first usable one wins, as clients such as SPARQLWrapper send
    several) overrides Accept. Raises NotAcceptable, naming the formats there are."""
    wanted = (requested,) if isinstance(requested, str) else tuple(requested or ())
    return _negotiate(kind, accept, wanted)


@functools.lru_cache(maxsize=512)
def _negotiate(kind: str, accept: str, wanted: tuple[str, ...]) -> str:
    use = formats.use_of(kind)
    offers = offers_for(kind)
    available = ", ".join(dict.fromkeys(m for m, _ in offers))
    if wanted:
        for value in wanted:
            for item in value.split(","):
                found = formats.find(item, use, http=True)
                if found is not None:
                    return found.name
        raise NotAcceptable(f"format {', '.join(wanted)!r} is not available for a {kind.upper()} query; "
                            f"use one of {', '.join(formats.names(use, http=True))} or {available}")
    chosen = choose(accept, offers)
    if chosen is None:
        raise NotAcceptable(f"cannot answer a {kind.upper()} query in any type the Accept header "
                            f"({accept.strip()}) allows; available: {available}")
    return chosen


def content_type(fmt: str) -> str:
    """The Content-Type of a format name."""
    return formats.BY_NAME[fmt].media_type
