"""Query results in one engine-neutral shape, and their serialisations.

SELECT and ASK results are written by pyoxigraph's own SPARQL 1.1 Query
Results writers (JSON, XML, CSV, TSV); graph results by pyoxigraph's RDF
writers (see :func:`ntx_graph.rdf_io.serialize_triples`). Only the aligned
text table for terminals is written here. Formats come from
:mod:`ntx_graph.formats`.
"""

from __future__ import annotations

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    Triple,
    parse_query_results,
)

from ntx_graph import formats
from ntx_graph.errors import NtxError
from ntx_graph.formats import FormatError

TYPE_CHECKING = False  # not typing's: importing typing (and dataclasses) costs the CLI's start-up ~6 ms
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import IO, Any
    from typing import Literal as Kind

    import rdflib

__all__ = ["XSD", "FormatError", "OutputTooLarge", "QueryResult", "Term", "compact", "display", "python_value"]

#: The XML Schema datatypes namespace (the one definition in the package).
XSD = "http://www.w3.org/2001/XMLSchema#"
Term = NamedNode | BlankNode | Literal | Triple
_INTEGERS = frozenset(XSD + t for t in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger",
                                        "nonPositiveInteger", "negativeInteger", "short", "byte",
                                        "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"))


class OutputTooLarge(NtxError):
    """A serialisation grew past its byte budget (``limit``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes, the limit; add a LIMIT or select less")
        self.limit = limit


class _Budget:
    """A binary writer that passes bytes on and raises OutputTooLarge as
    soon as more than ``limit`` bytes have been written."""

    def __init__(self, out: IO[bytes], limit: int | None) -> None:
        self.out, self.limit, self.written = out, limit, 0

    def write(self, data: bytes) -> int:
        self.written += len(data)
        if self.limit is not None and self.written > self.limit:
            raise OutputTooLarge(self.limit)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


#: pyoxigraph's two booleans (it has no constructor for them), parsed on first use.
_BOOLEANS: list[QueryBoolean] = []


class QueryResult:
    """The answer to a query: solutions (SELECT), a boolean (ASK) or triples
    (CONSTRUCT, DESCRIBE). (A plain class with the equality and repr of a
    dataclass: importing ``dataclasses`` costs the CLI's start-up ~4 ms.)"""

    __slots__ = ("kind", "variables", "rows", "boolean", "triples", "prefixes")  # noqa: RUF023 (the fields' order)
    kind: Kind["select", "ask", "graph"]
    variables: list[str]
    rows: list[tuple[Term | None, ...]]
    boolean: bool | None
    triples: list[Triple]
    prefixes: Mapping[str, str]

    def __init__(self, kind: Kind["select", "ask", "graph"], variables: list[str] | None = None,
                 rows: list[tuple[Term | None, ...]] | None = None, boolean: bool | None = None,
                 triples: list[Triple] | None = None, prefixes: Mapping[str, str] | None = None) -> None:
        self.kind = kind
        self.variables = [] if variables is None else variables
        self.rows = [] if rows is None else rows
        self.boolean = boolean
        self.triples = [] if triples is None else triples
        self.prefixes = {} if prefixes is None else prefixes

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QueryResult) and other._fields() == self._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass is

    def __repr__(self) -> str:
        return "QueryResult(" + ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__) + ")"

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "select" else len(self.triples)

    @property
    def use(self) -> formats.Use:
        """What the answer is, for :mod:`ntx_graph.formats`."""
        return formats.GRAPH if self.kind == "graph" else formats.RESULTS

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

    def default_format(self, *, terminal: bool = True) -> str:
        """The format used when none is named: on a terminal ``table`` for
        solutions and booleans and ``turtle`` for graphs; otherwise (a pipe,
        a file) ``tsv`` for solutions and booleans, ``turtle`` for graphs."""
        if self.kind == "graph":
            return "turtle"
        return "table" if terminal else "tsv"

    def format(self, name: str | None = None) -> formats.Format:
        """The registry entry for ``name`` (default: :meth:`default_format`);
        FormatError if this kind of result cannot be written in it."""
        kind = {"select": "SELECT", "ask": "ASK", "graph": "graph"}[self.kind]
        return formats.get(name or self.default_format(), self.use, kind=kind)

    def serialize(self, fmt: str | None = None, *, max_width: int | None = None,
                  max_bytes: int | None = None) -> bytes:
        """The result in ``fmt`` (a name, alias or media type from
        :mod:`ntx_graph.formats`; ``json`` means JSON-LD for a graph).
        ``max_width`` truncates table cells; ``max_bytes`` raises
        OutputTooLarge past that many bytes."""
        import io

        buffer = io.BytesIO()
        self.write(buffer, fmt, max_width=max_width, max_bytes=max_bytes)
        return buffer.getvalue()

    def write(self, out: IO[bytes], fmt: str | None = None, *, max_width: int | None = None,
              max_bytes: int | None = None) -> None:
        """Write the result to a binary stream, checking ``max_bytes`` as it
        goes (nothing past the budget reaches ``out``). The output is
        deterministic: the same result gives the same bytes."""
        chosen = self.format(fmt)
        sink = _Budget(out, max_bytes)
        if chosen.rdf is not None:
            from ntx_graph.rdf_io import serialize_triples

            try:  # no I/O here: an error is the writer refusing this graph
                data = serialize_triples(self.triples, chosen.name, self.prefixes)
            except (OSError, ValueError, TypeError) as error:
                raise FormatError(f"the graph cannot be written as {chosen.label}: "
                                  f"{' '.join(str(error).split())}") from None
            sink.write(data)
        elif chosen.results is not None:
            self._write_results(sink, chosen.results)
        else:  # the terminal table
            sink.write(table(self, max_width).encode())
        sink.flush()

    def _write_results(self, sink: _Budget, fmt: QueryResultsFormat) -> None:
        if sink.limit is not None and self.kind == "select":
            # every results format writes each value at least once: a cheap lower bound of the
            # size, checked before the solutions are rebuilt (which holds the whole text once more)
            least = sum(len(t.value) if isinstance(t, (NamedNode, BlankNode, Literal)) else len(str(t))
                        for row in self.rows for t in row if t is not None)
            if least > sink.limit:
                raise OutputTooLarge(sink.limit)
        try:
            if self.kind == "ask" or len(self.rows) < 64:  # small: one bytes object beats pyoxigraph's many writes
                sink.write(self.solutions().serialize(format=fmt) or b"")
            else:
                self.solutions().serialize(sink, format=fmt)  # type: ignore[arg-type]
        except MemoryError as error:  # pyoxigraph's results reader (the rebuilt solutions): 16 MiB a row
            if "buffer maximal size" not in str(error):
                raise  # memory really ran out
            raise FormatError("a row of the answer is larger than the 16 MiB that pyoxigraph's results "
                              "writer accepts; select less (e.g. SUBSTR of long values)") from None
        if self.kind == "ask" or fmt in (QueryResultsFormat.JSON, QueryResultsFormat.XML):
            sink.write(b"\n")  # end with a newline, as text files do (pyoxigraph writes none here)

    def solutions(self) -> QuerySolutions | QueryBoolean:
        """The result as pyoxigraph's own QuerySolutions or QueryBoolean,
        ready to serialise; rebuilt from the rows each time (pyoxigraph's
        answers can be read only once)."""
        if self.kind == "graph":
            raise FormatError("a graph result has triples, not solutions")
        if self.kind == "ask":  # a QueryBoolean serialises again and again: the two are made once
            if not _BOOLEANS:
                for value in (False, True):
                    doc = b'{"head":{},"boolean":%s}' % (b"true" if value else b"false")
                    _BOOLEANS.append(parse_query_results(doc, format=QueryResultsFormat.JSON))  # type: ignore[arg-type]
            return _BOOLEANS[bool(self.boolean)]
        # SPARQL TSV is each term in its N-Triples form: pyoxigraph reads it back exactly.
        lines = ["\t".join("?" + v for v in self.variables)]
        lines += ["\t".join("" if t is None else ntriples(t) for t in row) for row in self.rows]
        return parse_query_results(("\n".join(lines) + "\n").encode(), format=QueryResultsFormat.TSV)

    def to_rdflib(self) -> rdflib.Graph:
        """A graph result as an ``rdflib.Graph`` (imports rdflib)."""
        from ntx_graph.rdflib_bridge import to_rdflib_graph

        if self.kind != "graph":
            raise FormatError("only CONSTRUCT and DESCRIBE results are graphs")
        return to_rdflib_graph(self.triples, self.prefixes)


def ntriples(term: Term) -> str:
    """A term in N-Triples (RDF 1.2) form; a triple term as ``<<( s p o )>>``.

    >>> ntriples(Triple(NamedNode("http://e/s"), NamedNode("http://e/p"), Literal("o")))
    '<<( <http://e/s> <http://e/p> "o" )>>'
    """
    if isinstance(term, Triple):
        return f"<<( {ntriples(term.subject)} {ntriples(term.predicate)} {ntriples(term.object)} )>>"
    return str(term)


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
            if dt in _INTEGERS:
                return int(term.value)
            if dt == XSD + "decimal":
                from decimal import Decimal

                return Decimal(term.value)
            if dt in (XSD + "double", XSD + "float"):
                return float(term.value)
            if dt == XSD + "boolean":
                return term.value in ("true", "1")
        except (ValueError, ArithmeticError):
            return term.value
        return term.value
    return ntriples(term)


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
    return f"<< {display(term.subject, prefixes)} {display(term.predicate, prefixes)} " \
           f"{display(term.object, prefixes)} >>"


def table(result: QueryResult, max_width: int | None = None) -> str:
    """The aligned text table of a SELECT result (``true``/``false`` for ASK).
    Written by hand: it is for people, and no standard defines it."""
    if result.kind == "ask":
        return ("true" if result.boolean else "false") + "\n"
    variables: Sequence[str] = result.variables
    cells = [[display(t, result.prefixes) for t in row] for row in result.rows]
    if max_width:
        cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in cells]
    widths = [max([len(v)] + [len(row[i]) for row in cells]) for i, v in enumerate(variables)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line(variables), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    count = len(result.rows)
    out.append(f"({count} row{'s' if count != 1 else ''})")
    return "\n".join(out) + "\n"
