"""The one registry of formats: every format ntx-graph reads or writes, its
names, media types and file suffixes, the pyoxigraph and rdflib names, and
which answers it serves.

Adding a format means adding one entry to :data:`FORMATS`; the CLI's ``-f``
choices, export, content negotiation, the OpenAPI document, the saved-query
links and the service description all read this table.

>>> find("ttl", GRAPH).name
'turtle'
>>> find("json", GRAPH).name, find("json", RESULTS).name
('jsonld', 'json')
>>> is_graph_form("construct"), is_graph_form("ASK")
(True, False)
"""

from __future__ import annotations

import os

from pyoxigraph import QueryResultsFormat, RdfFormat

from ntx_graph.errors import NtxError
from ntx_graph.record import Record

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Literal

    #: What a format can carry: SELECT and ASK results, CONSTRUCT and DESCRIBE
    #: results, the whole graph (``export``), and input files (``read``).
    Use = Literal["results", "graph", "export", "read"]

W3C_FORMATS = "http://www.w3.org/ns/formats/"
RESULTS: Use = "results"
GRAPH: Use = "graph"
EXPORT: Use = "export"
READ: Use = "read"


class Format(Record):
    """One format. The first media type is the one answered with (its
    Content-Type); the first suffix names it in saved-query URLs; the others
    are accepted. ``http``: offered by the HTTP endpoint (the terminal table
    is not); ``charset``: text whose Content-Type names the charset; ``w3c``:
    the name in the W3C formats namespace, where pyoxigraph's IRI is another.
    (A :class:`~ntx_graph.record.Record`, not a dataclass: importing
    ``dataclasses`` costs the CLI's start-up ~4 ms.)"""

    __slots__ = ("name", "label", "uses", "media_types", "suffixes", "aliases",  # noqa: RUF023 (the fields' order)
                 "results", "rdf", "rdflib", "http", "charset", "w3c")
    name: str
    label: str
    uses: frozenset[Use]
    media_types: tuple[str, ...]
    suffixes: tuple[str, ...]
    aliases: tuple[str, ...]
    results: QueryResultsFormat | None
    rdf: RdfFormat | None
    rdflib: str | None
    http: bool
    charset: bool
    w3c: str | None

    def __init__(self, name: str, label: str, uses: frozenset[Use], media_types: tuple[str, ...] = (),
                 suffixes: tuple[str, ...] = (), aliases: tuple[str, ...] = (), *,
                 results: QueryResultsFormat | None = None, rdf: RdfFormat | None = None, rdflib: str | None = None,
                 http: bool = True, charset: bool = False, w3c: str | None = None) -> None:
        self._init(name=name, label=label, uses=uses, media_types=media_types, suffixes=suffixes, aliases=aliases,
                   results=results, rdf=rdf, rdflib=rdflib, http=http, charset=charset, w3c=w3c)

    @property
    def media_type(self) -> str:
        """The Content-Type to answer with."""
        return self.media_types[0] + ("; charset=utf-8" if self.charset else "")

    @property
    def suffix(self) -> str:
        """The file suffix written (without the dot)."""
        return self.suffixes[0]

    @property
    def iri(self) -> str | None:
        """The W3C ``http://www.w3.org/ns/formats/`` IRI, where there is one."""
        if self.w3c:
            return W3C_FORMATS + self.w3c
        known = self.results or self.rdf
        return known.iri if known is not None else None


def _uses(*names: Use) -> frozenset[Use]:
    return frozenset(names)


FORMATS: tuple[Format, ...] = (
    Format("table", "aligned text table", _uses(RESULTS), ("text/plain",), ("txt",), http=False, charset=True),
    Format("json", "SPARQL 1.1 Query Results JSON", _uses(RESULTS),
           ("application/sparql-results+json", "application/json"), ("json", "srj"), results=QueryResultsFormat.JSON),
    Format("xml", "SPARQL Query Results XML", _uses(RESULTS),
           ("application/sparql-results+xml", "application/xml", "text/xml"), ("xml", "srx"),
           results=QueryResultsFormat.XML),
    Format("csv", "SPARQL 1.1 Query Results CSV", _uses(RESULTS), ("text/csv",), ("csv",),
           results=QueryResultsFormat.CSV, charset=True),
    Format("tsv", "SPARQL 1.1 Query Results TSV", _uses(RESULTS), ("text/tab-separated-values",), ("tsv",),
           results=QueryResultsFormat.TSV, charset=True),
    Format("turtle", "Turtle", _uses(GRAPH, EXPORT, READ), ("text/turtle", "application/x-turtle"),
           ("ttl", "turtle"), ("ttl",), rdf=RdfFormat.TURTLE, rdflib="turtle", charset=True),
    Format("ntriples", "N-Triples", _uses(GRAPH, EXPORT, READ), ("application/n-triples",), ("nt",),
           ("nt", "n-triples"), rdf=RdfFormat.N_TRIPLES, rdflib="nt"),
    Format("jsonld", "JSON-LD", _uses(GRAPH, EXPORT, READ), ("application/ld+json", "application/json"),
           ("jsonld", "json"), ("json-ld", "json"), rdf=RdfFormat.JSON_LD, rdflib="json-ld", w3c="JSON-LD"),
    Format("rdfxml", "RDF/XML", _uses(GRAPH, EXPORT, READ), ("application/rdf+xml",), ("rdf", "owl", "xml"),
           ("rdf+xml", "rdf", "xml", "owl"), rdf=RdfFormat.RDF_XML, rdflib="xml"),
    Format("trig", "TriG", _uses(GRAPH, EXPORT, READ), ("application/trig",), ("trig",),
           rdf=RdfFormat.TRIG, rdflib="trig"),
    Format("nquads", "N-Quads", _uses(READ), ("application/n-quads",), ("nq",), ("n-quads",),
           rdf=RdfFormat.N_QUADS, rdflib="nquads"),
    Format("n3", "Notation3", _uses(READ), ("text/n3", "text/rdf+n3"), ("n3",), rdf=RdfFormat.N3, rdflib="n3"),
)

BY_NAME = {f.name: f for f in FORMATS}
#: File suffixes of compressed files: nothing is written compressed.
COMPRESSED = ("gz", "tgz", "bz2", "xz", "lzma", "zst", "zip", "br", "lz4", "7z", "z")


class FormatError(NtxError):
    """A result cannot be written in the requested format, or no such format exists."""


def is_graph_form(form: str) -> bool:
    """Whether a query form (SELECT, ASK, CONSTRUCT, DESCRIBE) answers with triples."""
    return form.strip().upper() in ("CONSTRUCT", "DESCRIBE")


def use_of(form: str) -> Use:
    """What a query form's answer is: ``graph`` or ``results``."""
    return GRAPH if is_graph_form(form) else RESULTS


def serving(use: Use, *, http: bool | None = None) -> tuple[Format, ...]:
    """The formats that can carry ``use``, in the registry's order (best
    first); ``http=True`` keeps only those the endpoint offers."""
    return tuple(f for f in FORMATS if use in f.uses and (http is None or f.http == http))


def names(use: Use, *, http: bool | None = None) -> tuple[str, ...]:
    """The names of :func:`serving`."""
    return tuple(f.name for f in serving(use, http=http))


def query_names() -> tuple[str, ...]:
    """Every name a query answer may be written in (``query -f``)."""
    return tuple(f.name for f in FORMATS if f.uses & {RESULTS, GRAPH})


def find(token: str, use: Use, *, http: bool | None = None) -> Format | None:
    """The format named ``token`` (a name, alias, file suffix or media type,
    any case) among those serving ``use``; a name wins over an alias, so
    ``json`` is SPARQL JSON for results and JSON-LD for graphs."""
    key = (token, use, http)
    if key in _found:  # the registry is fixed: a lookup is made once (every query answer makes one)
        return _found[key]
    token = token.split(";")[0].strip().lower().removeprefix(".")
    candidates = serving(use, http=http)
    found = next((f for f in candidates if f.name == token), None)
    found = found or next((f for f in candidates if token in f.aliases or token in f.suffixes), None)
    found = found or next((f for f in candidates if token in f.media_types), None)
    if len(_found) >= 256:  # tokens come from users: keep the memo small
        _found.clear()
    _found[key] = found
    return found


_found: dict[tuple[str, Use, bool | None], Format | None] = {}


def get(name: str, use: Use, *, kind: str | None = None) -> Format:
    """The format ``name`` for ``use``, or FormatError naming the formats
    there are (``kind``, e.g. ``"ASK"`` or ``"graph"``, words the message)."""
    found = find(name, use)
    if found is not None:
        return found
    choices = ", ".join(names(use))
    if kind is None:
        raise FormatError(f"unknown format {name!r}; use one of {choices}")
    article = "an" if kind[:1].upper() in "AEIOU" else "a"
    raise FormatError(f"{article} {kind} result cannot be written as {name!r}; use one of {choices}")


def for_path(path: str | os.PathLike[str], use: Use) -> Format | None:
    """The format a file name's suffix means for ``use`` (None if unknown)."""
    name = os.path.basename(os.fspath(path))
    suffix = os.path.splitext(name)[1].lower().removeprefix(".")
    if not suffix:
        return None
    return next((f for f in serving(use) if suffix in f.suffixes), None)


def media_types(use: Use) -> tuple[tuple[str, str], ...]:
    """(media type, format name) offered by the endpoint for ``use``, best
    first: each format's own type in registry order, then the other types
    it is also known by."""
    offered = serving(use, http=True)
    first = [(f.media_types[0], f.name) for f in offered]
    rest = [(m, f.name) for f in offered for m in f.media_types[1:]]
    return tuple(dict.fromkeys(first + rest))


def url_suffixes(use: Use | None = None) -> tuple[str, ...]:
    """The suffixes of saved-query URLs (``/queries/NAME.ttl``) for ``use``,
    or for every answer."""
    uses: Iterable[Use] = (use,) if use else (RESULTS, GRAPH)
    return tuple(dict.fromkeys(f.suffix for u in uses for f in serving(u, http=True)))


def short_label(f: Format) -> str:
    """A format's name for people in a list of links: ``Turtle``, ``JSON``."""
    return f.name.upper() if f.results is not None else f.label


def downloads(use: Use) -> dict[str, str]:
    """URL suffix -> name for people, of each format the endpoint answers
    ``use`` in (the download links of the pages)."""
    return {f.suffix: short_label(f) for f in serving(use, http=True)}


def catalogue() -> list[dict[str, object]]:
    """The registry as JSON-ready objects (served at ``/formats``)."""
    return [{"name": f.name, "label": f.label, "short": short_label(f), "uses": sorted(f.uses),
             "media_types": list(f.media_types), "suffixes": list(f.suffixes), "aliases": list(f.aliases),
             "http": f.http} for f in FORMATS]
