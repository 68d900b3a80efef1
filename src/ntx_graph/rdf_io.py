"""Reading RDF files into pyoxigraph and writing triples deterministically."""

from __future__ import annotations

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
    """Put the leading ``@prefix`` lines of Turtle or TriG in name order."""
    lines = _bytes(data).split(b"\n")
    count = 0
    while count < len(lines) and lines[count].startswith(b"@prefix "):
        count += 1
    return b"\n".join(sorted(lines[:count]) + lines[count:])


def export_store(store: Store, fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """The default graph of ``store`` in ``fmt``, deterministically: the same
    bytes as :func:`serialize_triples` would give for the same graph ordering
    rules, but without turning every triple into a Python object. Graphs with
    blank nodes take the canonicalising path."""
    data = _bytes(store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()))
    if b"_:" in data:  # maybe blank nodes: relabel canonically first
        return serialize_triples((Triple(q.subject, q.predicate, q.object) for q in store), fmt, prefixes)
    lines = data.split(b"\n")
    lines.sort()
    ordered = b"\n".join(line for line in lines if line) + b"\n" if data else b""
    if fmt == "ntriples":
        return ordered
    used = {p: ns for p, ns in sorted(prefixes.items()) if p and (b"<" + ns.encode()) in ordered}
    triples = parse(ordered, format=RdfFormat.N_TRIPLES, lenient=True)  # our own dump: already valid
    if fmt == "jsonld":
        return _jsonld([Triple(q.subject, q.predicate, q.object) for q in triples], used)
    if fmt in ("turtle", "trig"):
        return _sort_prefix_lines(serialize(triples, format=RDF_FORMATS[fmt], prefixes=used))
    return _bytes(serialize(triples, format=RDF_FORMATS[fmt], prefixes=used))


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
