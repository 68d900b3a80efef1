"""Verify that every quote of a graph is its source's text, for any graph.

:func:`check` reads every quote (``ntx:evidenceQuote``, ``ntx:principalQuote``,
``ntx:modalityQuote``, any ``oa:SpecificResource``) and each source once, and
reports a source file missing, unreadable or not matching its ``ntx:sha256``,
and a quote without exactly one ``oa:exact`` and one ``oa:start``/``oa:end``,
with offsets outside the text, or whose ``oa:exact`` is not the text there.

Offsets count code points of the file decoded as UTF-8, no newline
translation. ``ntx:repositoryPath`` resolves against the folder of the data
file that declares it (the bundled graph's against the package data root).

With ``coverage``, the sentences no quote overlaps are listed (:func:`uncited`),
except those in ``uncited-sentences.tsv`` beside the source (header
``sentence<TAB>reason``); listing a sentence that is none of the source's, or
that a quote cites, is a failure, so the list stays honest.

>>> [s.text for s in sentences("Title\\n\\nOne. Two? Three!  Four\\nA heading: with. dots:\\n")]
['Title', 'One.', 'Two?', 'Three!', 'Four', 'A heading: with. dots:']
>>> [s.text for s in uncited("One. Two. Three.", [(0, 4), (10, 12)])]
['Two.']
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import os
import re
import stat
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyoxigraph import QuerySolutions

from ntx_graph import resources
from ntx_graph.errors import DataError, NtxError, plural, reason

if TYPE_CHECKING:
    from pyoxigraph import Store

    from ntx_graph.graph import KnowledgeGraph

__all__ = ["Problem", "ProvenanceReport", "Sentence", "SourceCheck", "check", "read_uncited_list", "sentences",
           "solutions", "source_files", "uncited"]

NTX = "https://w3id.org/ntx-graph/def/"
OA = "http://www.w3.org/ns/oa#"
#: The file beside a source listing its sentences that state no fact.
UNCITED_FILE = "uncited-sentences.tsv"
#: The properties linking a claim to its quotes.
QUOTE_LINKS = tuple(NTX + name for name in ("evidenceQuote", "principalQuote", "modalityQuote"))
#: The same as a SPARQL property path.
QUOTE_PATH = "(" + "|".join(f"<{iri}>" for iri in QUOTE_LINKS) + ")"
_QUOTES = f"""
PREFIX ntx: <{NTX}>
PREFIX oa: <{OA}>
SELECT ?quote ?source ?exact ?start ?end WHERE {{
  {{ SELECT DISTINCT ?quote WHERE {{
    {{ [] {QUOTE_PATH} ?quote }} UNION {{ ?quote a oa:SpecificResource }}
  }} }}
  OPTIONAL {{ ?quote oa:hasSource ?source }}
  OPTIONAL {{ ?quote oa:hasSelector ?text . ?text a oa:TextQuoteSelector ; oa:exact ?exact }}
  OPTIONAL {{ ?quote oa:hasSelector ?position . ?position a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end }}
}}"""
_SOURCES = f"""
PREFIX ntx: <{NTX}>
SELECT ?source ?path ?sha WHERE {{
  {{ ?source a ntx:SourceDocument }} UNION {{ ?source ntx:repositoryPath [] }} UNION {{ ?source ntx:sha256 [] }}
  OPTIONAL {{ ?source ntx:repositoryPath ?path }}
  OPTIONAL {{ ?source ntx:sha256 ?sha }}
}}"""
_SHORT = 60
_SEARCHES = 100
#: The largest source document read (a leaflet is a few kB; a million generated triples cite 4 MB).
MAX_SOURCE_BYTES = 256 << 20
_Namer = Callable[[str], str]


@dataclass(frozen=True)
class Sentence:
    """A sentence of a source text and its ``[start, end)`` character span."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Problem:
    """One failure: ``kind`` names it, ``message`` says it in one line."""

    kind: str
    message: str
    source: str | None = None
    quote: str | None = None
    claims: tuple[str, ...] = ()
    expected: str | None = None
    found: str | None = None
    offset: int | None = None


@dataclass(frozen=True)
class SourceCheck:
    """A source document: where its file is, and whether it is there and matches."""

    iri: str
    path: str | None
    file: Path | None
    recorded_sha256: str | None
    actual_sha256: str | None
    quotes: int = 0
    uncited: tuple[Sentence, ...] = ()

    @property
    def present(self) -> bool:
        """Whether the file was found and read."""
        return self.actual_sha256 is not None

    @property
    def matches(self) -> bool:
        """Whether the file's SHA-256 equals the recorded one."""
        return self.present and self.recorded_sha256 == self.actual_sha256


@dataclass(frozen=True)
class ProvenanceReport:
    """The outcome of :func:`check`."""

    quotes: int
    sources: tuple[SourceCheck, ...]
    failures: tuple[Problem, ...]
    coverage: bool = False
    prefixes: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def uncited(self) -> int:
        """How many sentences no quote cites (counted only with coverage)."""
        return sum(len(s.uncited) for s in self.sources)

    @property
    def ok(self) -> bool:
        """True when every quote and checksum checks (and, with coverage, every sentence is cited or listed)."""
        return not self.failures and not self.uncited

    def summary(self) -> str:
        """The last line: quotes checked, sources checked, failures."""
        line = (f"{plural(self.quotes, 'quote')} checked, {plural(len(self.sources), 'source')} checked, "
                f"{plural(len(self.failures), 'failure')}")
        if self.coverage:
            line += f", {plural(self.uncited, 'uncited sentence')}"
        return line

    def text(self) -> str:
        """The report as lines of text, the summary last."""
        out = [f"FAIL {p.message}" for p in self.failures]
        name = _namer(self.prefixes)
        for source in self.sources:
            for sentence in source.uncited:
                out.append(f"UNCITED {name(source.iri)} [{sentence.start}, {sentence.end}) "
                           f"{_clip(sentence.text)!r}")
        return "\n".join([*out, self.summary()]) + "\n"

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "ok": self.ok, "quotes": self.quotes, "failures": [vars(p) | {"claims": list(p.claims)}
                                                               for p in self.failures],
            "sources": [{"iri": s.iri, "path": s.path, "file": str(s.file) if s.file else None,
                         "recordedSha256": s.recorded_sha256, "actualSha256": s.actual_sha256,
                         "present": s.present, "matches": s.matches, "quotes": s.quotes,
                         **({"uncited": [vars(u) for u in s.uncited]} if self.coverage else {})}
                        for s in self.sources],
            "summary": self.summary(),
        }


# -- sentences and coverage ----------------------------------------------------


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their character spans: the text split
    into lines; within a line, split after ``.``, ``?`` or ``!`` followed by
    whitespace; a line ending with ``:`` is one sentence; blank pieces are
    dropped and each sentence is stripped of surrounding whitespace."""
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
                begin = offset + start + lead
                out.append(Sentence(stripped, begin, begin + len(stripped)))
        offset += len(line)
    return out


class _Spans:
    """Quote spans, answering "does any span overlap [start, end)?" by bisection."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.max_end: list[int] = []
        for _, end in ordered:
            self.max_end.append(max(end, self.max_end[-1]) if self.max_end else end)

    def overlaps(self, start: int, end: int) -> bool:
        before = bisect.bisect_left(self.starts, end)  # spans starting before ``end``
        return before > 0 and self.max_end[before - 1] > start


def uncited(text: str, spans: Iterable[tuple[int, int]], listed: Collection[str] = ()) -> list[Sentence]:
    """The sentences of ``text`` that no ``[start, end)`` span overlaps, leaving
    out those whose text is in ``listed``."""
    index = _Spans(spans)
    return [s for s in sentences(text) if s.text not in listed and not index.overlaps(s.start, s.end)]


def read_uncited_list(path: Path) -> list[str]:
    """The sentences listed in an ``uncited-sentences.tsv`` file (its first
    column, after the ``sentence<TAB>reason`` header); NtxError if malformed."""
    try:
        lines = path.read_bytes().decode("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise NtxError(f"{path}: cannot be read ({reason(error)})") from None
    if not lines or lines[0].split("\t")[0] != "sentence":
        raise NtxError(f"{path}: the first line must be the header 'sentence<TAB>reason'")
    return [line.split("\t")[0] for line in lines[1:] if line.strip()]


# -- the check -------------------------------------------------------------------


@dataclass
class _Quote:
    iri: str
    sources: set[str] = field(default_factory=set)
    exacts: set[str] = field(default_factory=set)
    positions: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class _Source:
    iri: str
    paths: set[str] = field(default_factory=set)
    digests: set[str] = field(default_factory=set)
    quotes: list[_Quote] = field(default_factory=list)


def check(kg: KnowledgeGraph, *, sources: Mapping[str, str | Path] | None = None,
          coverage: bool = False) -> ProvenanceReport:
    """Check every quote of ``kg`` against its source document (see the module
    docstring). ``sources`` maps a source IRI (or prefixed name) to the file to
    use instead of its recorded path. Raises NtxError if an override names no
    source of the graph."""
    quotes, documents = _collect(kg.store)
    overrides = _overrides(sources or {}, kg.prefixes, documents)
    problems: list[Problem] = []
    checked: list[SourceCheck] = []
    name = _namer(kg.prefixes)
    orphans = [q for q in quotes.values() if len(q.sources) != 1]
    for quote in sorted(orphans, key=lambda q: q.iri):
        what = "no oa:hasSource" if not quote.sources else f"{len(quote.sources)} oa:hasSource values"
        problems.append(Problem("source", f"has {what}", None, quote.iri))
    for quote in quotes.values():
        if len(quote.sources) == 1:
            documents.setdefault(next(iter(quote.sources)), _Source(next(iter(quote.sources)))).quotes.append(quote)
    locate = _Locator(kg.files)
    for iri in sorted(documents):
        doc = documents[iri]
        checked.append(_check_source(doc, overrides.get(iri), locate, coverage, name, problems))
    # a quote's problem is named with its claims, looked up once for all failing quotes
    claims = _claims_of(kg.store, {p.quote for p in problems if p.quote is not None})
    failures = tuple(p if p.quote is None else _of_quote(p, claims.get(p.quote, ()), name) for p in problems)
    return ProvenanceReport(quotes=len(quotes), sources=tuple(checked), failures=failures,
                            coverage=coverage, prefixes=dict(kg.prefixes))


def _claims_of(store: Store, quotes: Collection[str]) -> dict[str, tuple[str, ...]]:
    """The claims citing each of ``quotes``, from one query (asked only when some quote fails)."""
    if not quotes:
        return {}
    values = " ".join(f"<{iri}>" for iri in sorted(quotes))
    found: dict[str, set[str]] = {}
    for row in solutions(store, f"PREFIX ntx: <{NTX}>\nSELECT ?quote ?claim WHERE {{ VALUES ?quote {{ {values} }} "
                              f"?claim {QUOTE_PATH} ?quote }}"):
        found.setdefault(str(row[0].value), set()).add(str(row[1].value))
    return {iri: tuple(sorted(claims)) for iri, claims in found.items()}


def source_files(kg: KnowledgeGraph) -> dict[str, Path | None]:
    """The file of each source document that records an ``ntx:repositoryPath``,
    resolved as :func:`check` does (None when no such regular file exists)."""
    locate = _Locator(kg.files)
    _, documents = _collect(kg.store)
    out: dict[str, Path | None] = {}
    for iri, doc in sorted(documents.items()):
        if doc.paths:
            file = locate.resolve(iri, sorted(doc.paths)[0])[0]
            out[iri] = file if file is not None and file.is_file() else None
    return out


def _collect(store: Store) -> tuple[dict[str, _Quote], dict[str, _Source]]:
    """Every quote and every described source, from two queries."""
    quotes: dict[str, _Quote] = {}
    for row in solutions(store, _QUOTES):
        iri = str(row[0].value)
        quote = quotes.get(iri)
        if quote is None:
            quote = quotes[iri] = _Quote(iri)
        source, exact, start, end = row[1], row[2], row[3], row[4]
        if source is not None:
            quote.sources.add(str(source.value))
        if exact is not None:
            quote.exacts.add(str(exact.value))
        if start is not None and end is not None:
            quote.positions.add((str(start.value), str(end.value)))
    documents: dict[str, _Source] = {}
    for row in solutions(store, _SOURCES):
        iri = str(row["source"].value)
        doc = documents.setdefault(iri, _Source(iri))
        if row["path"] is not None:
            doc.paths.add(str(row["path"].value))
        if row["sha"] is not None:
            doc.digests.add(str(row["sha"].value).lower())
    return quotes, documents


def solutions(store: Store, query: str) -> QuerySolutions:
    """The solutions of a SELECT query on ``store``."""
    answer = store.query(query)
    assert isinstance(answer, QuerySolutions)
    return answer


def _overrides(given: Mapping[str, str | Path], prefixes: Mapping[str, str],
               documents: Mapping[str, _Source]) -> dict[str, Path]:
    from ntx_graph.params import expand_iri

    out = {}
    for key, path in given.items():
        try:
            iri = expand_iri(key, prefixes).value
        except NtxError as error:
            raise NtxError(f"--source {key}: {error}") from None
        if iri not in documents:
            raise NtxError(f"--source {key}: <{iri}> is not a source document of the graph")
        out[iri] = Path(path)
    return out


class _Locator:
    """Resolves a recorded path against the folder of the file that declares it."""

    def __init__(self, files: Sequence[Path]) -> None:
        bundled = {p.resolve() for p in resources.bundled_files()}
        self.files = [Path(f) for f in files]
        self.bases: dict[Path, Path] = {}
        for file in self.files:
            absolute = file.resolve()
            self.bases[file] = resources.ontology_dir().parent if absolute in bundled else absolute.parent

    def resolve(self, iri: str, recorded: str) -> tuple[Path | None, str]:
        """The file for ``recorded`` (None if none exists) and where it was looked for."""
        path = Path(recorded)
        if path.is_absolute():
            return (path if path.exists() else None), str(path)
        found = list(dict.fromkeys(base / path for base in self.bases.values() if (base / path).exists()))
        if len(found) == 1:
            return found[0], str(found[0])
        declaring = self._declaring(iri, recorded)
        if declaring is not None:
            candidate = self.bases[declaring] / path
            return (candidate if candidate.exists() else None), f"{candidate} (relative to {declaring})"
        if found:
            return found[0], str(found[0])
        return None, " or ".join(str(base / path) for base in dict.fromkeys(self.bases.values())) or recorded

    def _declaring(self, iri: str, recorded: str) -> Path | None:
        """The data file stating the source's path (read again by the one RDF reader; only when several
        folders could hold it)."""
        from pyoxigraph import Literal, NamedNode

        from ntx_graph.rdf_io import read_rdf

        subject, predicate = NamedNode(iri), NamedNode(NTX + "repositoryPath")
        for file in self.files:
            try:
                with read_rdf(file, lenient=True) as rdf:
                    if any(q.predicate == predicate and q.subject == subject and q.object == Literal(recorded)
                           for q in rdf.quads):
                        return file
            except DataError:
                continue
        return None


def _check_source(doc: _Source, override: Path | None, locate: _Locator, coverage: bool,
                  name: _Namer, problems: list[Problem]) -> SourceCheck:
    label = name(doc.iri)
    recorded = next(iter(doc.digests)) if len(doc.digests) == 1 else None
    path = next(iter(sorted(doc.paths))) if doc.paths else None
    if len(doc.paths) > 1 or len(doc.digests) > 1:
        problems.append(Problem("source", f"source {label} records {len(doc.paths)} paths and "
                                          f"{len(doc.digests)} SHA-256 values; give one of each", doc.iri))
    file: Path | None
    if override is not None:
        file, where = (override if override.exists() else None), str(override)
    elif path is not None:
        file, where = locate.resolve(doc.iri, path)
    else:
        file, where = None, ""
    quoted = sorted(doc.quotes, key=lambda q: q.iri)
    if file is None:
        why = f"its file {where} is missing" if where else "no ntx:repositoryPath and no --source for it"
        problems.append(Problem("missing-source", f"source {label}: {why}; {plural(len(quoted), 'quote')} not checked",
                                doc.iri))
        return SourceCheck(doc.iri, path, None, recorded, None, len(quoted))
    try:
        data = _read_source(file)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem("unreadable-source", f"source {label}: {file} cannot be read as UTF-8 text "
                                                     f"({reason(error)}); {plural(len(quoted), 'quote')} not checked",
                                doc.iri))
        return SourceCheck(doc.iri, path, file, recorded, None, len(quoted))
    actual = hashlib.sha256(data).hexdigest()
    if recorded is None and not doc.digests:
        problems.append(Problem("checksum", f"source {label}: records no ntx:sha256 (the file {file} has "
                                            f"{actual})", doc.iri))
    elif recorded is not None and recorded != actual:
        problems.append(Problem("checksum", f"source {label}: SHA-256 mismatch: the graph records {recorded}, "
                                            f"the file {file} has {actual}", doc.iri))
    spans = []
    searches = [_SEARCHES]
    for quote in quoted:
        span = _check_quote(quote, text, doc.iri, problems, searches)
        if span is not None:
            spans.append(span)
    missing: tuple[Sentence, ...] = ()
    if coverage:
        missing = tuple(_coverage(doc.iri, file, text, spans, quoted, name, problems))
    return SourceCheck(doc.iri, path, file, recorded, actual, len(quoted), missing)


def _read_source(file: Path) -> bytes:
    """The bytes of a regular file of at most :data:`MAX_SOURCE_BYTES`."""
    with file.open("rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise OSError(0, "not a regular file")
        if info.st_size > MAX_SOURCE_BYTES:
            raise OSError(0, f"larger than {MAX_SOURCE_BYTES >> 20} MiB")
        return handle.read(MAX_SOURCE_BYTES + 1)


def _check_quote(quote: _Quote, text: str, source: str, problems: list[Problem],
                 searches: list[int]) -> tuple[int, int] | None:
    """Check one quote; return its span if its offsets are usable. ``searches``
    holds how many more differing quotes may be looked for in the whole text."""
    if len(quote.exacts) != 1 or len(quote.positions) != 1:
        problems.append(Problem(
            "selector", f"needs one oa:TextQuoteSelector with oa:exact and one oa:TextPositionSelector with "
                        f"oa:start and oa:end, has {len(quote.exacts)} and {len(quote.positions)}", source, quote.iri))
        return None
    exact = next(iter(quote.exacts))
    raw_start, raw_end = next(iter(quote.positions))
    try:
        start, end = int(raw_start), int(raw_end)
    except ValueError:
        problems.append(Problem("selector", f"oa:start {raw_start!r} and oa:end {raw_end!r} must be integers",
                                source, quote.iri))
        return None
    if not 0 <= start < end <= len(text):
        problems.append(Problem("out-of-range", f"[{start}, {end}) falls outside the text, which has "
                                                f"{len(text)} characters", source, quote.iri, expected=exact))
        return None
    found = text[start:end]
    if found != exact:
        pairs = enumerate(zip(exact, found, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), min(len(exact), len(found)))
        # where the quote does occur, for the first few mismatches (each search reads the whole text)
        elsewhere = text.find(exact) if searches[0] > 0 else -1
        searches[0] -= 1
        hint = f"; the quote occurs at offset {elsewhere}" if elsewhere >= 0 else ""
        problems.append(Problem(
            "mismatch", f"[{start}, {end}) differs from oa:exact at offset {start + at}: expected "
                        f"{_clip(exact, at)!r}, found {_clip(found, at)!r}{hint}", source, quote.iri,
            expected=exact, found=found, offset=start + at))
    return start, end


def _coverage(iri: str, file: Path, text: str, spans: list[tuple[int, int]], quotes: list[_Quote],
              name: _Namer, problems: list[Problem]) -> list[Sentence]:
    sidecar = file.parent / UNCITED_FILE
    listed = read_uncited_list(sidecar) if sidecar.is_file() else []
    index = _Spans(spans)
    all_sentences = sentences(text)
    known = {s.text for s in all_sentences}
    seen: set[str] = set()
    for entry in listed:
        if entry in seen:
            problems.append(Problem("uncited-list", f"{sidecar}: {entry!r} is listed twice", iri))
        seen.add(entry)
        if entry not in known:
            problems.append(Problem("uncited-list", f"{sidecar}: {entry!r} is no sentence of {name(iri)}", iri))
    for sentence in all_sentences:
        if sentence.text in seen and index.overlaps(sentence.start, sentence.end):
            citing = sorted(name(q.iri) for q in quotes if _overlapping(q, sentence))
            verb = "quotes" if len(citing) == 1 else "quote"
            problems.append(Problem("uncited-list", f"{sidecar}: {_clip(sentence.text)!r} is listed as stating no "
                                                    f"fact, but {', '.join(citing)} {verb} it", iri))
    return [s for s in all_sentences if s.text not in seen and not index.overlaps(s.start, s.end)]


def _overlapping(quote: _Quote, sentence: Sentence) -> bool:
    for raw_start, raw_end in quote.positions:
        try:
            if int(raw_start) < sentence.end and sentence.start < int(raw_end):
                return True
        except ValueError:
            continue
    return False


def _namer(prefixes: Mapping[str, str]) -> _Namer:
    """An IRI's prefixed name (or ``<IRI>``), each worked out once."""
    from ntx_graph.results import compact

    @functools.cache
    def name(iri: str) -> str:
        return compact(iri, prefixes)

    return name


def _of_quote(problem: Problem, claims: tuple[str, ...], name: _Namer) -> Problem:
    """A quote's problem, its message headed by the quote, its claims and its source."""
    assert problem.quote is not None
    of = f" of {', '.join(name(c) for c in claims)}" if claims else ""
    in_source = f" in {name(problem.source)}" if problem.source else ""
    return replace(problem, message=f"quote {name(problem.quote)}{of}{in_source}: {problem.message}", claims=claims)


def _clip(text: str, at: int = 0) -> str:
    """``text`` shortened to about 60 characters around position ``at``."""
    if len(text) <= _SHORT:
        return text
    start = max(0, min(at - _SHORT // 3, len(text) - _SHORT))
    return ("..." if start else "") + text[start:start + _SHORT] + ("..." if start + _SHORT < len(text) else "")
