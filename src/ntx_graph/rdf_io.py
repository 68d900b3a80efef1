"""Reading RDF files into pyoxigraph and writing triples deterministically."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Triple,
    parse,
    serialize,
)

from ntx_graph.errors import DataError

#: RDF formats by name, and the file extensions they are guessed from.
RDF_FORMATS = {
    "turtle": RdfFormat.TURTLE,
    "ntriples": RdfFormat.N_TRIPLES,
    "nquads": RdfFormat.N_QUADS,
    "trig": RdfFormat.TRIG,
    "rdfxml": RdfFormat.RDF_XML,
    "jsonld": RdfFormat.JSON_LD,
    "n3": RdfFormat.N3,
}
_EXTENSIONS = {
    ".ttl": "turtle", ".turtle": "turtle", ".nt": "ntriples", ".nq": "nquads", ".trig": "trig",
    ".rdf": "rdfxml", ".owl": "rdfxml", ".xml": "rdfxml", ".jsonld": "jsonld", ".json": "jsonld", ".n3": "n3",
}


def format_of(path: Path) -> str:
    """The RDF format name guessed from a file's extension (Turtle if unknown)."""
    return _EXTENSIONS.get(path.suffix.lower(), "turtle")


def load_file(store: Store, path: Path, prefixes: dict[str, str] | None = None) -> None:
    """Parse ``path`` into the default graph of ``store``, natively and fast.
    Prefixes the file declares are added to ``prefixes``.

    Raises DataError with the file name (and line and column) on any problem.
    Blank node labels are kept apart per file; relative IRIs are refused.
    """
    fmt = RDF_FORMATS[format_of(path)]
    try:
        path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not an RDF file")
    try:
        if fmt in (RdfFormat.TRIG, RdfFormat.N_QUADS):  # datasets: flatten into the default graph
            parser = parse(path=path, format=fmt, rename_blank_nodes=True)
            store.extend(Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in parser)
        else:
            store.load(path=path, format=fmt)
    except SyntaxError as error:
        raise DataError(f"{path}: {_syntax_message(error)}") from None
    except OSError as error:
        reason = re.sub(r" \(os error \d+\)$", "", error.strerror or str(error))
        raise DataError(f"{path}: cannot be read ({reason})") from None
    except ValueError as error:
        raise DataError(f"{path}: {error}") from None
    if prefixes is not None:
        for name, iri in declared_prefixes(path, fmt).items():
            prefixes.setdefault(name, iri)


_TURTLE_PREFIX = re.compile(rb"^[ \t]*(?:@prefix|PREFIX)[ \t]+([A-Za-z][\w.\-]*)?:[ \t]*<([^>\s]*)>",
                            re.MULTILINE | re.IGNORECASE)
_XMLNS = re.compile(rb"xmlns:([A-Za-z_][\w.\-]*)=[\"']([^\"']+)[\"']")
_PREFIX_SCAN_BYTES = 1 << 20


def declared_prefixes(path: Path, fmt: RdfFormat) -> dict[str, str]:
    """The prefixes declared in the first megabyte of a Turtle, TriG, N3 or
    RDF/XML file (where declarations normally stand), in order."""
    with path.open("rb") as handle:
        head = handle.read(_PREFIX_SCAN_BYTES)
    pattern = _XMLNS if fmt == RdfFormat.RDF_XML else _TURTLE_PREFIX
    if fmt not in (RdfFormat.TURTLE, RdfFormat.TRIG, RdfFormat.N3, RdfFormat.RDF_XML):
        return {}
    found: dict[str, str] = {}
    for match in pattern.finditer(head):
        name = (match.group(1) or b"").decode("utf-8", "replace")
        found.setdefault(name, match.group(2).decode("utf-8", "replace"))
    return found


def _syntax_message(error: SyntaxError) -> str:
    """The parser's message as 'syntax error at line L, column C: what'."""
    message = " ".join(str(error.args[0] if error.args else error).split())
    match = re.match(r"Parser error (?:at|between) line (\d+) (?:between )?columns? (\d+)[^:]*: (.*)", message)
    if match:
        return f"syntax error at line {match.group(1)}, column {match.group(2)}: {match.group(3)}"
    return f"syntax error: {message}"


def sorted_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Triples in a deterministic order (that of their sorted N-Triples
    lines), with blank nodes relabelled canonically (RDFC-1.0), so equal
    graphs give identical bytes."""
    items = list(triples)
    if any(isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode) for t in items):
        dataset = Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in items)
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        items = [Triple(q.subject, q.predicate, q.object) for q in dataset]
    return sorted(set(items), key=lambda t: str(t).encode())


def serialize_triples(triples: Iterable[Triple], fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """Triples in ``fmt`` (turtle, ntriples, jsonld, rdfxml, trig), sorted and
    with the given prefixes, byte-identical for equal graphs."""
    ordered = sorted_triples(triples)
    used = _used_prefixes(ordered, prefixes)
    if fmt == "jsonld":
        return _jsonld(ordered, used)
    if fmt == "trig":
        quads = [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in ordered]
        return _sort_prefix_lines(serialize(quads, format=RdfFormat.TRIG, prefixes=used))
    if fmt == "turtle":
        return _sort_prefix_lines(serialize(ordered, format=RdfFormat.TURTLE, prefixes=used))
    return _bytes(serialize(ordered, format=RDF_FORMATS[fmt], prefixes=used if fmt != "ntriples" else None))


def _bytes(data: bytes | None) -> bytes:
    return data or b""


def _sort_prefix_lines(data: bytes | None) -> bytes:
    """Put the leading ``@prefix`` lines of Turtle or TriG in name order (the rest is not copied line by line)."""
    text = _bytes(data)
    end = 0
    while text.startswith(b"@prefix ", end):
        newline = text.find(b"\n", end)
        if newline < 0:
            return b"\n".join(sorted(text.split(b"\n")))
        end = newline + 1
    if not end:
        return text
    return b"\n".join(sorted(text[:end - 1].split(b"\n"))) + text[end - 1:]


def export_store(store: Store, fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """The default graph of ``store`` in ``fmt``, deterministically.

    The triples are ordered as their sorted N-Triples lines, except that the
    ontology header (the triples whose subject is an ``owl:Ontology``) comes
    first, as OWL tools expect; blank nodes are relabelled canonically
    (RDFC-1.0) first. Equal graphs give identical bytes, in every process.
    The whole graph stays in pyoxigraph's bytes: it is dumped as N-Triples,
    its lines are sorted as bytes (one ``memcmp`` per comparison, no Python
    term objects) and, for other formats, parsed back in that order by
    pyoxigraph's serializer.
    """
    ordered = _ordered_ntriples(store)
    if fmt == "ntriples":
        return ordered
    used = {p: ns for p, ns in sorted(prefixes.items()) if p and (b"<" + ns.encode()) in ordered}
    triples = parse(ordered, format=RdfFormat.N_TRIPLES, lenient=True)  # our own dump: already valid
    if fmt == "jsonld":
        return _jsonld([Triple(q.subject, q.predicate, q.object) for q in triples], used)
    if fmt in ("turtle", "trig"):
        return _sort_prefix_lines(serialize(triples, format=RDF_FORMATS[fmt], prefixes=used))
    return _bytes(serialize(triples, format=RDF_FORMATS[fmt], prefixes=used))


_RDF_TYPE = b"> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Ontology> ."
_HAS_BLANK_NODES = "ASK { { ?s ?p ?o FILTER isBlank(?s) } UNION { ?s ?p ?o FILTER isBlank(?o) } }"
_ONTOLOGIES = ("SELECT DISTINCT ?ontology WHERE { ?ontology a <http://www.w3.org/2002/07/owl#Ontology> "
               "FILTER isIRI(?ontology) }")


def _ordered_ntriples(store: Store, *, canonicalize: bool | None = None) -> bytes:
    """The default graph as N-Triples lines: the ontology header, then the rest, each part sorted as bytes.

    ``canonicalize`` forces (or skips) the RDFC-1.0 relabelling of blank
    nodes; by default it runs only when the graph has blank nodes.
    """
    data = _bytes(store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()))
    if canonicalize if canonicalize is not None else (b"_:" in data and bool(store.query(_HAS_BLANK_NODES))):
        dataset = Dataset(store.quads_for_pattern(None, None, None, DefaultGraph()))
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        data = _bytes(serialize((Triple(q.subject, q.predicate, q.object) for q in dataset),
                                format=RdfFormat.N_TRIPLES))
    lines = data.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    lines.sort()
    header: list[bytes] = []
    for solution in store.query(_ONTOLOGIES):  # type: ignore[union-attr]
        start = b"<" + solution[0].value.encode() + b"> "  # its lines stand together in the sorted list
        first = bisect.bisect_left(lines, start)
        last = bisect.bisect_left(lines, start[:-1] + b"!", first)  # "!" is the byte after " "
        header += lines[first:last]
        del lines[first:last]
    if header:  # each ontology's "a owl:Ontology" first, then its annotations
        header.sort(key=lambda line: (line.partition(b" ")[0], _RDF_TYPE not in line, line))
        lines[:0] = header
    return b"\n".join(lines) + b"\n" if lines else b""


def _used_prefixes(triples: list[Triple], prefixes: Mapping[str, str]) -> dict[str, str]:
    iris = {t.predicate.value for t in triples}
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, NamedNode):
                iris.add(term.value)
            elif isinstance(term, Literal):
                iris.add(term.datatype.value)
    return {p: ns for p, ns in sorted(prefixes.items()) if p and any(i.startswith(ns) for i in iris)}


def _jsonld(triples: list[Triple], prefixes: Mapping[str, str]) -> bytes:
    """Expanded JSON-LD from pyoxigraph, compacted with the prefixes as @context."""
    from ntx_graph.results import compact

    def short(iri: str) -> str:
        name = compact(iri, prefixes)
        return iri if name.startswith("<") else name

    def value(obj: Any) -> Any:
        if isinstance(obj, dict):
            out: dict[str, Any] = {}
            for key, val in obj.items():
                new_key = short(key) if not key.startswith("@") else key
                if key in ("@id", "@type") and isinstance(val, str) and not val.startswith("_:"):
                    val = short(val)
                elif key == "@type" and isinstance(val, list):
                    val = [short(v) for v in val]
                out[new_key] = value(val)
            return out
        if isinstance(obj, list):
            return [value(v) for v in obj]
        return obj

    expanded = json.loads(_bytes(serialize(triples, format=RdfFormat.JSON_LD)))
    doc = {"@context": dict(prefixes), "@graph": value(expanded)}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()
