"""Saved queries on a remote SPARQL 1.1 endpoint (Oxigraph, Virtuoso, Fuseki, ...).

Parameters are bound by :func:`ntx_graph.params.bind_values`; nothing is sent
unless the one analyser reads the text as a query its policy allows (no
update; SERVICE, FROM, FROM NAMED only with federation allowed). Requests go
through :mod:`ntx_graph.http_client`.

Answers become the :class:`~ntx_graph.results.QueryResult` the embedded engine
gives, whatever the dialect: ``typed-literal`` JSON, ASK as a one-cell table
(Virtuoso's ``__ASK_RETVAL``) or ``1``/``0``, a bound parameter written as
another term of the same value (``true`` as ``1``), ``"x"^^xsd:string``,
CONSTRUCT as an s/p/o table, triple terms (pyoxigraph's or RDF4J's keys);
Virtuoso's partial "anytime" answers are timeouts.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree

from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
    parse_query_results,
)

from ntx_graph.catalog import SavedQuery, get_saved_query
from ntx_graph.errors import NtxError, ParameterError, QueryTimeout, one_line
from ntx_graph.formats import is_graph_form
from ntx_graph.http_client import DEFAULT_MAX_BYTES, Client, Credentials, HttpTimeout, connection_problem
from ntx_graph.params import bind, bind_values, expand_iri, values_block
from ntx_graph.results import XSD, QueryResult, Term
from ntx_graph.sparql_text import analyse, check_policy

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS_SUBCLASSOF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"

#: What is asked for: results JSON (XML, TSV accepted) and, for graphs, N-Triples.
ACCEPT_RESULTS = "application/sparql-results+json,application/sparql-results+xml;q=0.8," \
                 "text/tab-separated-values;q=0.5"
ACCEPT_GRAPH = "application/n-triples,text/turtle;q=0.9,application/rdf+xml;q=0.5,application/ld+json;q=0.4," \
               "text/plain;q=0.2"


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint that runs saved queries.

    ``graph`` is sent as ``default-graph-uri``, so the query sees only that graph
    (Virtuoso's default graph is otherwise the union of all). ``auth`` is
    ``basic`` or ``digest``; ``timeout`` (seconds) bounds the whole exchange and
    ``max_bytes`` the answer. ``prefixes`` expand prefixed parameter values
    (default: the bundled graph's). With ``check_classes``, an ``of CLASS``
    parameter is checked on the endpoint, as the embedded engine does.
    """

    def __init__(self, url: str, *, graph: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0, prefixes: Mapping[str, str] | None = None,
                 auth: str = "basic", check_classes: bool = True, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        problem = connection_problem(url, graph, auth)
        if problem:
            raise NtxError(problem)
        self.url = url
        self.graph = graph
        self.credentials = Credentials(user, password, auth) if user is not None and password is not None else None
        Client(url, self.credentials, timeout, max_bytes)  # refuses a bad timeout or cap now
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.check_classes = check_classes
        self.prefixes: dict[str, str] = dict(prefixes if prefixes is not None else bundled_prefixes())

    def run(self, saved: SavedQuery | str, params: Mapping[str, str] | None = None, *,
            allow_federation: bool = False) -> QueryResult:
        """Run a saved query (object or name) with parameter values given as text."""
        query = saved if isinstance(saved, SavedQuery) else get_saved_query(saved)
        check_policy(analyse(query.text), allow_federation=allow_federation, engine="remote")  # before any request
        bindings = bind(query, params or {}, self.prefixes)
        if self.check_classes:
            for param in query.parameters:
                term = bindings[param.name]
                if param.of_class and isinstance(term, NamedNode):
                    self._check_class(param.name, term, param.of_class)
        text = query.text
        for name, term in bindings.items():  # one block per parameter: Virtuoso 7 fails on a block of
            text = bind_values(text, {name: term})  # unprojected variables ("no SPART_VARR_FIXED")
        return restore_parameters(self.query(text, allow_federation=allow_federation), bindings)

    def _check_class(self, name: str, term: NamedNode, of_class: str) -> None:
        cls = expand_iri(of_class, self.prefixes)
        ask = f"ASK {{ {values_block({'v': term, 'c': cls})} ?v a ?t . ?t <{_RDFS_SUBCLASSOF}>* ?c }}"
        if not self.query(ask).boolean:
            hint = "" if self.graph else ("; the endpoint was queried without --graph: if it holds the data in a "
                                          "named graph, name that graph with --graph")
            raise ParameterError(f"parameter {name!r}: <{term.value}> is not a {of_class} in the graph{hint}")

    def query(self, text: str, *, allow_federation: bool = False) -> QueryResult:
        """Run SPARQL query text as it is: updates are refused, and so are
        SERVICE, FROM and FROM NAMED unless ``allow_federation``."""
        info = analyse(text)  # every text sent, bound or not, passes the policy
        check_policy(info, allow_federation=allow_federation, engine="remote")
        form = info.form
        fields = [("query", text)] + ([("default-graph-uri", self.graph)] if self.graph else [])
        graph_form = is_graph_form(form)
        try:
            client = Client(self.url, self.credentials, self.timeout, self.max_bytes)
            answer = client.check(client.request("POST", body=urllib.parse.urlencode(fields).encode("ascii"), headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": ACCEPT_GRAPH if graph_form else ACCEPT_RESULTS}))
        except HttpTimeout as error:
            raise QueryTimeout(str(error)) from None
        state = (answer.headers.get("X-SQL-State") or "").strip()
        if state == "S1TAT":  # Virtuoso's "anytime" answer: partial results
            raise QueryTimeout("the endpoint stopped the query at its time limit and sent partial results "
                               f"({(answer.headers.get('X-SQL-Message') or '').strip() or 'S1TAT'})")
        return parse_answer(answer.body, answer.media_type, form, self.prefixes)


def restore_parameters(result: QueryResult, bindings: Mapping[str, Term]) -> QueryResult:
    """Put the bound term back in a parameter's column where the server wrote
    another term of the same value: in SPARQL a VALUES-bound variable can only
    take that term, but Virtuoso writes a bound ``true`` as ``1`` (integer)
    and ``1.50`` as ``1.5``."""
    columns = [(i, bindings[v]) for i, v in enumerate(result.variables) if v in bindings]
    if result.kind != "select" or not columns:
        return result
    rows = []
    for row in result.rows:
        cells = list(row)
        for i, term in columns:
            cell = cells[i]
            if cell is not None and cell != term and same_value(cell, term):
                cells[i] = term
        rows.append(tuple(cells))
    result.rows = rows
    return result


def same_value(a: Term, b: Term) -> bool:
    """Whether two terms have the same value once numbers and booleans are
    read as numbers (true = 1) and ``xsd:string`` as plain text."""
    if isinstance(a, Literal) and isinstance(b, Literal):
        x, y = _number(a), _number(b)
        if x is not None and y is not None:
            return x == y
        return a.value == b.value and a.language == b.language and (
            a.language is not None or a.datatype == b.datatype)
    return a == b


def _number(term: Literal) -> Decimal | None:
    datatype = term.datatype.value
    if datatype == XSD + "boolean":
        text = term.value.strip()
        return Decimal(1) if text in ("true", "1") else Decimal(0) if text in ("false", "0") else None
    if datatype.startswith(XSD) and datatype[len(XSD):] in _NUMERIC:
        try:
            return Decimal(term.value.strip())
        except InvalidOperation:
            return None
    return None


_NUMERIC = frozenset((
    "integer", "decimal", "int", "long", "short", "byte", "nonNegativeInteger", "nonPositiveInteger",
    "positiveInteger", "negativeInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"))


@cache
def bundled_prefixes() -> Mapping[str, str]:
    """The prefixes the bundled graph declares (drug:, severity:, ...), read once."""
    from ntx_graph.rdf_io import declared_prefixes
    from ntx_graph.resources import bundled_files

    found: dict[str, str] = {}
    for path in bundled_files():  # the declarations only: the graph is not loaded
        for name, iri in declared_prefixes(path).items():
            found.setdefault(name, iri)
    return MappingProxyType(found)


# -- answers ------------------------------------------------------------------


@dataclass
class _Table:
    variables: list[str]
    rows: list[tuple[Term | None, ...]]


def parse_answer(data: bytes, ctype: str, form: str, prefixes: Mapping[str, str] | None = None) -> QueryResult:
    """A QueryResult from an endpoint's answer (body and media type) to a
    query of ``form`` (SELECT, ASK, CONSTRUCT or DESCRIBE)."""
    prefixes = dict(prefixes or {})
    form = form.upper()
    try:
        answer = _decode(data, ctype, form)
    except NtxError:
        raise
    except RecursionError:
        raise NtxError(f"the endpoint's answer ({ctype or 'no media type'}) cannot be read: it is nested too "
                       "deeply") from None
    except (ValueError, SyntaxError, KeyError, TypeError, ElementTree.ParseError) as error:
        raise NtxError(f"the endpoint's answer ({ctype or 'no media type'}) cannot be read: "
                       f"{one_line(error)[:200]}") from None
    if form == "ASK":
        if isinstance(answer, bool):
            return QueryResult("ask", boolean=answer, prefixes=prefixes)
        if isinstance(answer, _Table) and len(answer.variables) == 1 and len(answer.rows) <= 1:
            cell = answer.rows[0][0] if answer.rows else None
            return QueryResult("ask", boolean=_truthy(cell), prefixes=prefixes)
        raise NtxError("the endpoint did not answer the ASK query with a boolean")
    if is_graph_form(form):
        if isinstance(answer, list):
            return QueryResult("graph", triples=answer, prefixes=prefixes)
        if isinstance(answer, _Table):
            return QueryResult("graph", triples=_table_triples(answer), prefixes=prefixes)
        raise NtxError(f"the endpoint did not answer the {form} query with a graph")
    if isinstance(answer, _Table):
        return QueryResult("select", variables=answer.variables, rows=answer.rows, prefixes=prefixes)
    raise NtxError("the endpoint did not answer the SELECT query with a table of solutions")


_Answer = bool | _Table | list[Triple]


def _decode(data: bytes, ctype: str, form: str) -> _Answer:
    graph_form = is_graph_form(form)
    if ctype in ("application/sparql-results+json", "application/json") or (
            ctype == "application/ld+json" and not graph_form):
        doc = json.loads(data.decode("utf-8"))
        if graph_form and not (isinstance(doc, dict) and "head" in doc):
            return _graph(data, RdfFormat.JSON_LD)
        return _from_json(doc)
    if ctype in ("application/sparql-results+xml", "application/xml", "text/xml"):
        if graph_form and b"<sparql" not in data[:2000]:
            return _graph(data, RdfFormat.RDF_XML)
        return _from_pyoxigraph(data, QueryResultsFormat.XML)
    if ctype == "text/tab-separated-values" and not graph_form:
        return _from_pyoxigraph(data, QueryResultsFormat.TSV)
    if ctype == "text/csv" and not graph_form:
        return _from_csv(data)
    graph_format = RdfFormat.from_media_type(ctype) if graph_form else None
    if graph_format is not None:
        return _graph(data, graph_format)
    if form == "ASK" and ctype in ("text/plain", "text/html", "text/boolean"):
        word = data.decode("utf-8", "replace").strip().lower()
        if word in ("true", "false", "1", "0"):
            return word in ("true", "1")
    raise NtxError(f"the endpoint answered with an unexpected media type {ctype or '(none)'!r}")


def _from_json(doc: Any) -> _Answer:
    if not isinstance(doc, dict):
        raise NtxError("the endpoint's JSON answer is not a SPARQL results document (not an object)")
    if "boolean" in doc:
        return _truthy(doc["boolean"])
    head, results = doc.get("head") or {}, doc.get("results") or {}
    if not isinstance(head, dict) or not isinstance(results, dict):
        raise NtxError("the endpoint's JSON answer has a head or results that is not an object")
    variables = head.get("vars") or []
    bindings = results.get("bindings")
    if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
        raise NtxError("the endpoint's JSON answer has variables that are not a list of names")
    if not isinstance(bindings, list):
        raise NtxError("the endpoint's JSON answer has neither results nor a boolean")
    bnodes: dict[str, BlankNode] = {}
    rows: list[tuple[Term | None, ...]] = []
    for binding in bindings:
        if not isinstance(binding, dict):
            raise NtxError(f"the endpoint's JSON answer has a solution that is not an object ({_json_kind(binding)})")
        variables.extend(extra for extra in binding if extra not in variables)
        rows.append(tuple(_json_term(binding[v], bnodes) if v in binding else None for v in variables))
    width = len(variables)
    return _Table(variables, [row + (None,) * (width - len(row)) for row in rows])


def _json_kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, (int, float)) else "null")


#: The keys of a triple term: SPARQL 1.2 (pyoxigraph, Jena) and RDF4J's.
_TRIPLE_KEYS = (("subject", "predicate", "object"), ("s", "p", "o"))


def _json_term(obj: Any, bnodes: dict[str, BlankNode]) -> Term:
    if not isinstance(obj, dict):
        raise NtxError(f"the endpoint's JSON answer has a term that is not an object ({_json_kind(obj)})")
    kind, value = obj.get("type"), obj.get("value")
    if kind == "triple":
        parts = value if isinstance(value, dict) else {}
        keys = next((keys for keys in _TRIPLE_KEYS if all(k in parts for k in keys)), None)
        if keys is None:
            raise NtxError("the endpoint's JSON answer has a triple term without subject, predicate and object")
        s, p, o = (_json_term(parts[k], bnodes) for k in keys)
        if isinstance(s, Literal) or not isinstance(p, NamedNode):
            raise NtxError("the endpoint's JSON answer has an ill-formed triple term")
        return Triple(s, p, o)
    if not isinstance(value, str):
        raise NtxError(f"the endpoint's JSON answer has a {kind!r} term whose value is {_json_kind(value)}")
    if kind == "uri":
        return NamedNode(value)
    if kind == "bnode":
        return bnodes.setdefault(value, BlankNode())
    if kind in ("literal", "typed-literal"):
        lang = obj.get("xml:lang") or obj.get("lang")
        if lang:
            return Literal(value, language=str(lang))
        datatype = obj.get("datatype")
        return literal(value, datatype if isinstance(datatype, str) else None)
    raise NtxError(f"the endpoint's JSON answer has a term of unknown type {kind!r}")


def literal(value: str, datatype: str | None) -> Literal:
    """A literal, normalised where RDF 1.1 or Virtuoso allow two spellings:
    ``xsd:string`` is the plain literal, and a boolean stored as ``1``/``0`` is
    written ``true``/``false``.

    >>> str(literal("1", XSD + "boolean"))
    '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    """
    if not datatype or datatype in (XSD + "string", _RDF + "langString"):
        return Literal(value)
    if datatype == XSD + "boolean" and value.strip() in ("1", "0", "true", "false"):
        value = "true" if value.strip() in ("1", "true") else "false"
    return Literal(value, datatype=NamedNode(datatype))


def _normalise(term: Any) -> Any:
    if isinstance(term, Literal) and not term.language:
        return literal(term.value, term.datatype.value)
    if isinstance(term, Triple):
        return Triple(_normalise(term.subject), term.predicate, _normalise(term.object))
    return term


def _from_pyoxigraph(data: bytes, fmt: QueryResultsFormat) -> _Answer:
    answer = parse_query_results(data, format=fmt)
    if isinstance(answer, QueryBoolean):
        return bool(answer)
    assert isinstance(answer, QuerySolutions)
    variables = [v.value for v in answer.variables]
    rows = [tuple(_normalise(s[i]) for i in range(len(variables))) for s in answer]
    return _Table(variables, rows)


def _from_csv(data: bytes) -> _Table:
    import csv
    import io

    reader = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    if not reader:
        raise NtxError("the endpoint's CSV answer is empty")
    variables = reader[0]
    rows: list[tuple[Term | None, ...]] = [tuple(Literal(cell) if cell else None for cell in row)
                                           for row in reader[1:]]
    return _Table(variables, rows)


def _graph(data: bytes, fmt: RdfFormat) -> list[Triple]:
    return [Triple(_normalise(q.subject), q.predicate, _normalise(q.object)) for q in parse(input=data, format=fmt)]


def _table_triples(table: _Table) -> list[Triple]:
    names = [v.lower() for v in table.variables]
    for trio in _TRIPLE_KEYS:
        if all(n in names for n in trio):
            index = [names.index(n) for n in trio]
            break
    else:
        raise NtxError("the endpoint answered a graph query with a table that is not s/p/o")
    triples: list[Triple] = []
    for row in table.rows:
        s, p, o = (row[i] for i in index)
        if s is None or o is None or not isinstance(p, NamedNode) or isinstance(s, Literal):
            continue
        triples.append(Triple(s, p, o))
    return triples


def _truthy(value: Any) -> bool:
    text = str(value.value if isinstance(value, Literal) else "" if value is None else value).strip().lower()
    if text in ("true", "1", "false", "0", ""):
        return text in ("true", "1")
    try:
        return float(text) != 0
    except ValueError:
        raise NtxError(f"the endpoint's ASK answer {value!r} is not a boolean") from None
