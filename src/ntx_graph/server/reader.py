"""The source reader: a source document's text with every quoted span marked,
the claims that rest on each span, and the sentences that no claim cites.

A source is found by the last path segment of its IRI; its text is the file
named by its ``ntx:repositoryPath``, resolved as the provenance check
resolves it (against the folder of the data file that declares it), so users'
own sources work too. Sentences are split as the provenance check splits them.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

from pyoxigraph import NamedNode, QuerySolutions

from ntx_graph import provenance
from ntx_graph.errors import ParameterError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.server.entity import PREFIXES, Quote, labels_of, select_about, span
from ntx_graph.server.messages import HTML, HttpError, Response

_SOURCES = PREFIXES + """SELECT DISTINCT ?doc ?path ?sha WHERE {
  { ?doc a ntx:SourceDocument } UNION { [] oa:hasSource ?doc }
  FILTER(isIRI(?doc))
  OPTIONAL { ?doc ntx:repositoryPath ?path }
  OPTIONAL { ?doc ntx:sha256 ?sha }
}"""
_QUOTES = PREFIXES + """SELECT ?quote ?exact ?start ?end ?claim WHERE {
  ?quote oa:hasSource ?this ; oa:hasSelector ?textSelector .
  ?textSelector oa:exact ?exact .
  OPTIONAL { ?quote oa:hasSelector ?positionSelector . ?positionSelector oa:start ?start ; oa:end ?end }
  OPTIONAL { ?claim ntx:evidenceQuote ?quote }
} ORDER BY ?start ?quote ?claim"""
UNCITED_DEFAULT = "no claim cites this sentence"


@dataclass(frozen=True)
class Uncited:
    """A sentence that no quote touches, and why."""

    sentence: provenance.Sentence
    reason: str


def name_of(iri: str) -> str:
    """The last path segment of an IRI: the NAME in ``/source/NAME``."""
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def source_url(iri: str, start: int | None = None, end: int | None = None) -> str:
    """The reader's URL for a source, at a span (RFC 5147 ``#chars=``) if given."""
    url = "/source/" + name_of(iri)
    return url + (f"#chars={start},{end}" if start is not None and end is not None else "")


def uncited_reasons(folder: Path) -> dict[str, str]:
    """The reasons recorded in ``uncited-sentences.tsv`` next to a source."""
    listing = folder / provenance.UNCITED_FILE
    if not listing.is_file():
        return {}
    reasons = {}
    for line in listing.read_text(encoding="utf-8").splitlines()[1:]:
        sentence, _, reason = line.partition("\t")
        if sentence.strip():
            reasons[sentence] = reason.strip() or UNCITED_DEFAULT
    return reasons


def uncited(text: str, quotes: Sequence[Quote], reasons: dict[str, str]) -> list[Uncited]:
    """The sentences of ``text`` that no placed quote overlaps, each with its reason."""
    spans = [(q.start, q.end) for q in quotes if q.start is not None and q.end is not None and q.placed]
    return [Uncited(s, reasons.get(s.text, UNCITED_DEFAULT)) for s in provenance.uncited(text, spans)]


def marked_text(text: str, quotes: Sequence[Quote], gaps: Sequence[Uncited]) -> str:
    """``text`` as HTML with a ``<mark>`` per quote (nested where quotes nest,
    split where they cross: every piece carries the quote's own offsets) and
    a ``<span class="uncited">`` per uncited sentence."""
    placed = [q for q in quotes if q.placed and q.end is not None and q.end <= len(text)]
    cuts = {0, len(text)}
    for q in placed:
        cuts.update((q.start or 0, q.end or 0))
    for g in gaps:
        cuts.update((g.sentence.start, g.sentence.end))
    points = sorted(cuts)
    out: list[str] = []
    open_quotes: list[Quote] = []
    for a, b in itertools.pairwise(points):
        here = [q for q in placed if (q.start or 0) <= a and b <= (q.end or 0)]
        # close down to the longest prefix of the open stack still covering [a, b)
        keep = 0
        while keep < len(open_quotes) and open_quotes[keep] in here:
            keep += 1
        out += ["</mark>"] * (len(open_quotes) - keep)
        del open_quotes[keep:]
        # open the others, outermost (ending last) first
        for q in sorted((q for q in here if q not in open_quotes), key=lambda q: (-(q.end or 0), q.start or 0)):
            out.append(f"<mark data-start=\"{q.start}\" data-end=\"{q.end}\" data-quote=\"{q.anchor}\" "
                       f"tabindex=\"0\" aria-describedby=\"{q.anchor}\">")
            open_quotes.append(q)
        piece = escape(text[a:b], quote=False)
        gap = next((g for g in gaps if g.sentence.start <= a and b <= g.sentence.end), None)
        if gap is not None and not here:
            piece = f"<span class=\"uncited\" title=\"not cited: {escape(gap.reason)}\">{piece}</span>"
        out.append(piece)
    out += ["</mark>"] * len(open_quotes)
    return "".join(out)


def _quotes(kg: KnowledgeGraph, doc: NamedNode) -> list[Quote]:
    found: dict[str, Quote] = {}
    for row in select_about(kg, _QUOTES, doc):
        iri = str(row["quote"].value)
        claim = row["claim"]
        quote = found.setdefault(iri, Quote(iri, str(row["exact"].value), *span(row)))
        if isinstance(claim, NamedNode) and claim.value not in quote.claims:
            quote.claims.append(claim.value)
    return list(found.values())


def _documents(kg: KnowledgeGraph) -> dict[str, tuple[NamedNode, str | None, str | None]]:
    """Every source document: its IRI, recorded path and checksum, by IRI."""
    answer = kg.store.query(_SOURCES)
    assert isinstance(answer, QuerySolutions)
    docs = {}
    for row in answer:
        doc, path, sha = row["doc"], row["path"], row["sha"]
        if isinstance(doc, NamedNode):
            docs[doc.value] = (doc, path.value if path is not None else None, sha.value if sha is not None else None)
    return docs


def _document(kg: KnowledgeGraph, name: str) -> tuple[NamedNode, str | None, str | None]:
    docs = {iri: found for iri, found in _documents(kg).items() if name_of(iri) == name}
    if not docs:
        raise HttpError(404, f"no source document named {name!r} in the graph; "
                             "its IRI's last path segment names it")
    return docs[min(docs)]


def source_page(kg: KnowledgeGraph, name: str) -> Response:
    """The reader's page for the source whose IRI ends in ``name``."""
    from ntx_graph.server.pages import source_html

    if not name or "/" in name:
        raise ParameterError("give the source's name: /source/NAME")
    doc, recorded, sha = _document(kg, name)
    quotes = _quotes(kg, doc)
    file = provenance.source_files(kg).get(doc.value) if recorded else None
    text = file.read_text(encoding="utf-8") if file is not None else None
    warnings = []
    if file is None:
        warnings.append(f"The text of this source is not available here (ntx:repositoryPath {recorded!r})."
                        if recorded else "The graph records no file (ntx:repositoryPath) for this source.")
    elif sha and hashlib.sha256(file.read_bytes()).hexdigest() != sha:
        warnings.append("The file differs from the checksum recorded in the graph: the marks may be misplaced.")
    gaps: list[Uncited] = []
    if text is not None:
        for q in quotes:
            if q.placed and text[q.start:q.end] != q.exact:
                warnings.append(f"The quote {q.iri} is not verbatim at characters {q.start}\u2013{q.end}.")
        gaps = uncited(text, quotes, uncited_reasons(file.parent) if file is not None else {})
    claims = {c for q in quotes for c in q.claims}
    labels = labels_of(kg, {doc.value, *claims})
    body = source_html(doc.value, labels, text, quotes, gaps, warnings, kg.prefixes)
    return Response(200, body.encode(), HTML)


def sources_page(kg: KnowledgeGraph) -> Response:
    """The list of the graph's source documents, each linked to its reader."""
    from ntx_graph.server.pages import layout

    docs = sorted(_documents(kg))
    labels = labels_of(kg, docs)
    items = "".join(f"<li><a href=\"{escape(source_url(iri))}\">{escape(labels.get(iri) or name_of(iri))}</a> "
                    f"<code class=\"short\">{escape(iri)}</code></li>" for iri in docs)
    body = ("<h1>Sources</h1><p class=\"hint\">The documents the graph quotes; each opens in the reader, "
            f"with every quoted passage marked.</p><ul class=\"sources\">{items}</ul>")
    return Response(200, layout("Sources", body).encode(), HTML)
