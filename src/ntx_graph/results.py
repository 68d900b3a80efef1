"""Query results in one engine-neutral shape, and their serialisations:
SPARQL 1.1 Query Results JSON, XML, CSV and TSV, an aligned text table, and
RDF formats for graph results."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from typing import Literal as Kind

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ntx_graph.errors import NtxError

if TYPE_CHECKING:
    import rdflib

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
Term = NamedNode | BlankNode | Literal | Triple

SELECT_FORMATS = ("table", "csv", "tsv", "json", "xml")
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml", "trig")

#: Media types of every output format.
MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "table": "text/plain; charset=utf-8",
    "turtle": "text/turtle; charset=utf-8",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "trig": "application/trig",
}


class FormatError(NtxError):
    """A result cannot be written in the requested format."""


@dataclass
class QueryResult:
    """The answer to a query: solutions (SELECT), a boolean (ASK) or triples
    (CONSTRUCT, DESCRIBE)."""

    kind: Kind["select", "ask", "graph"]
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Term | None, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[Triple] = field(default_factory=list)
    prefixes: Mapping[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.triples)

    def to_python(self) -> list[dict[str, Any]]:
        """Rows as dicts of Python values: IRIs as ``str``, literals as
        ``int``, ``Decimal``, ``float``, ``bool`` or ``str``; unbound as None.
        For graph results, one dict per triple (keys s, p, o)."""
        if self.kind == "ask":
            return [{"boolean": self.boolean}]
        if self.kind == "graph":
            return [{"s": python_value(t.subject), "p": python_value(t.predicate), "o": python_value(t.object)}
                    for t in self.triples]
        return [{v: python_value(term) for v, term in zip(self.variables, row, strict=True)} for row in self.rows]

    def default_format(self) -> str:
        """``table`` for solutions and booleans, ``turtle`` for graphs."""
        return "turtle" if self.kind == "graph" else "table"

    def serialize(self, fmt: str | None = None, *, max_width: int | None = None) -> bytes:
        """The result in ``fmt`` (see SELECT_FORMATS and GRAPH_FORMATS).

        For graph results ``json`` means JSON-LD and ``table`` means Turtle.
        """
        fmt = fmt or self.default_format()
        if self.kind == "graph":
            from ntx_graph.rdf_io import serialize_triples

            fmt = {"json": "jsonld", "table": "turtle"}.get(fmt, fmt)
            if fmt not in GRAPH_FORMATS:
                raise FormatError(f"a graph result cannot be written as {fmt!r}; use one of {', '.join(GRAPH_FORMATS)}")
            return serialize_triples(self.triples, fmt, self.prefixes)
        if fmt in GRAPH_FORMATS:
            article = "an" if self.kind == "ask" else "a"
            raise FormatError(f"{article} {self.kind.upper()} result cannot be written as {fmt!r}; "
                              f"use one of {', '.join(SELECT_FORMATS)}")
        if self.kind == "ask":
            return _ask(bool(self.boolean), fmt)
        writer = {"json": _json, "xml": _xml, "csv": _csv, "tsv": _tsv}.get(fmt)
        if writer is not None:
            return writer(self.variables, self.rows)
        if fmt == "table":
            return _table(self.variables, self.rows, self.prefixes, max_width).encode()
        raise FormatError(f"unknown format {fmt!r}; use one of {', '.join(SELECT_FORMATS)}")

    def to_rdflib(self) -> rdflib.Graph:
        """A graph result as an ``rdflib.Graph`` (imports rdflib)."""
        from ntx_graph.rdflib_bridge import to_rdflib_graph

        if self.kind != "graph":
            raise FormatError("only CONSTRUCT and DESCRIBE results are graphs")
        return to_rdflib_graph(self.triples, self.prefixes)

    def to_turtle(self) -> str:
        """A graph result as Turtle text."""
        return self.serialize("turtle").decode()


def python_value(term: Term | None) -> Any:
    """A Python value for an RDF term (see :meth:`QueryResult.to_python`)."""
    if term is None:
        return None
    if isinstance(term, NamedNode):
        return term.value
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, Literal):
        dt = term.datatype.value
        try:
            if dt in (XSD + "integer", XSD + "int", XSD + "long", XSD + "nonNegativeInteger",
                      XSD + "positiveInteger", XSD + "short", XSD + "byte"):
                return int(term.value)
            if dt == XSD + "decimal":
                return Decimal(term.value)
            if dt in (XSD + "double", XSD + "float"):
                return float(term.value)
            if dt == XSD + "boolean":
                return term.value in ("true", "1")
        except ValueError:
            return term.value
        return term.value
    return str(term)


def escape(text: str) -> str:
    """XML character data with ``&``, ``<`` and ``>`` escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """An XML attribute value in double quotes."""
    return '"' + escape(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;") + '"'


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD + "string":
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def _json(variables: Sequence[str], rows: Sequence[tuple[Term | None, ...]]) -> bytes:
    bindings = [{v: _json_term(t) for v, t in zip(variables, row, strict=True) if t is not None} for row in rows]
    doc = {"head": {"vars": list(variables)}, "results": {"bindings": bindings}}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


def _xml_term(term: Term) -> str:
    if isinstance(term, NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD + "string":
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


_XML_HEAD = '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'


def _xml(variables: Sequence[str], rows: Sequence[tuple[Term | None, ...]]) -> bytes:
    out = [_XML_HEAD, "<head>\n"]
    out += [f"<variable name={quoteattr(v)}/>\n" for v in variables]
    out.append("</head>\n<results>\n")
    for row in rows:
        out.append("<result>\n")
        out += [f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>\n"
                for v, t in zip(variables, row, strict=True) if t is not None]
        out.append("</result>\n")
    out.append("</results>\n</sparql>\n")
    return "".join(out).encode()


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, (NamedNode, Literal)):
        return term.value
    return str(term)


def _csv(variables: Sequence[str], rows: Sequence[tuple[Term | None, ...]]) -> bytes:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(variables)
    writer.writerows([_csv_value(t) for t in row] for row in rows)
    return buffer.getvalue().encode()


def _tsv(variables: Sequence[str], rows: Sequence[tuple[Term | None, ...]]) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def _ask(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps({"head": {}, "boolean": value}) + "\n").encode()
    if fmt == "xml":
        return (_XML_HEAD + f"<head/>\n<boolean>{str(value).lower()}</boolean>\n</sparql>\n").encode()
    if fmt in ("table", "csv", "tsv"):
        return (str(value).lower() + "\n").encode()
    raise FormatError(f"an ASK result cannot be written as {fmt!r}; use table, json or xml")


def compact(iri: str, prefixes: Mapping[str, str]) -> str:
    """``iri`` as a prefixed name when a prefix covers it (longest namespace wins)."""
    best = ""
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(namespace) > len(prefixes.get(best, "")):
            local = iri[len(namespace):]
            if local and all(c.isalnum() or c in "-_." for c in local) and not local.endswith("."):
                best = prefix
    return f"{best}:{iri[len(prefixes[best]):]}" if best in prefixes else f"<{iri}>"


def display(term: Term | None, prefixes: Mapping[str, str]) -> str:
    """A short, human-readable form of a term for tables."""
    if term is None:
        return ""
    if isinstance(term, NamedNode):
        return compact(term.value, prefixes)
    if isinstance(term, BlankNode):
        return "_:" + term.value
    if isinstance(term, Literal):
        return term.value.replace("\n", " ")
    return str(term)


def _table(variables: Sequence[str], rows: Sequence[tuple[Term | None, ...]],
           prefixes: Mapping[str, str], max_width: int | None) -> str:
    cells = [[display(t, prefixes) for t in row] for row in rows]
    if max_width:
        cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(v)] + [len(row[i]) for row in cells]) for i, v in enumerate(variables)]
    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()
    out = [line(variables), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    count = len(rows)
    out.append(f"({count} row{'s' if count != 1 else ''})")
    return "\n".join(out) + "\n"
