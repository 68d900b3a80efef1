"""Saved queries on a remote SPARQL 1.1 endpoint (Oxigraph, Virtuoso, Fuseki, ...).

The SPARQL protocol has no way to bind variables, so parameter values are
injected as a ``VALUES`` block placed first in the query's outermost WHERE
group. Each value is written as a strictly checked N-Triples term (the only
text ever added to the query), so no value can change the query's structure.

Answers are turned into the same :class:`~ntx_graph.results.QueryResult` the
embedded engine gives, smoothing over dialects: old-style ``typed-literal``
JSON, ASK answered as a one-cell table (Virtuoso's ``__ASK_RETVAL``/``bool``),
booleans written ``1``/``0`` (Virtuoso stores them as numbers), a bound
parameter written as another term of the same value (Virtuoso: ``true`` as
``1``), ``"x"^^xsd:string`` for ``"x"``, CONSTRUCT answered as an s/p/o
table, and Virtuoso's partial "anytime" answers, which are reported as
timeouts rather than returned incomplete. Graph answers are asked for as
N-Triples (Turtle, RDF/XML and JSON-LD are read too) and parsed by pyoxigraph.

Requests go to the given URL only: no proxy from the environment, no redirect
to another host, ``http``/``https`` only. SPARQLWrapper builds the request; it
is opened here so that digest authentication and timeouts stay local to the
call (SPARQLWrapper would install a process-wide opener).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import IO, Any
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

from ntx_graph import __version__
from ntx_graph.catalog import SavedQuery, get_saved_query
from ntx_graph.connection import connection_problem
from ntx_graph.errors import NtxError, ParameterError, QueryTimeout
from ntx_graph.params import bind, expand_iri, term_text
from ntx_graph.params import bind_values as inject_values
from ntx_graph.params import values_block as values_block
from ntx_graph.results import QueryResult, Term
from ntx_graph.sparql_text import analyse, check_policy

XSD = "http://www.w3.org/2001/XMLSchema#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS_SUBCLASSOF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"

#: What is asked for: results JSON (XML, TSV accepted) and, for graphs, N-Triples.
ACCEPT_RESULTS = "application/sparql-results+json,application/sparql-results+xml;q=0.8," \
                 "text/tab-separated-values;q=0.5"
ACCEPT_GRAPH = "application/n-triples,text/turtle;q=0.9,application/rdf+xml;q=0.5,application/ld+json;q=0.4," \
               "text/plain;q=0.2"

_CHUNK = 1 << 16


# -- parameter binding ---------------------------------------------------------


# The binding (term_text, values_block, inject_values) lives in ntx_graph.params,
# shared by every engine; the names stay importable from here.


# -- the endpoint ----------------------------------------------------------------


class RemoteEndpoint:
    """A SPARQL 1.1 query endpoint that runs saved queries.

    ``graph`` (an IRI) is sent as ``default-graph-uri``, so the query sees only
    that graph (Virtuoso's default graph is otherwise the union of all its
    graphs). ``auth`` is ``basic`` or ``digest``; ``timeout`` (seconds) bounds
    the whole exchange. ``prefixes`` expand prefixed names in parameter values
    (default: the bundled graph's prefixes). With ``check_classes``, an
    ``of CLASS`` parameter is checked on the endpoint, as the embedded engine
    does.
    """

    def __init__(self, url: str, *, graph: str | None = None, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0, prefixes: Mapping[str, str] | None = None,
                 auth: str = "basic", check_classes: bool = True) -> None:
        problem = connection_problem(url, graph, auth)
        if problem:
            raise NtxError(problem)
        if timeout <= 0:
            raise NtxError("the timeout must be positive")
        self.url = url
        self.graph = graph
        self.user = user
        self.password = password
        self.timeout = timeout
        self.auth = auth
        self.check_classes = check_classes
        self.prefixes: dict[str, str] = dict(prefixes) if prefixes is not None else bundled_prefixes()

    def run(self, saved: SavedQuery | str, params: Mapping[str, str] | None = None, *,
            allow_federation: bool = False) -> QueryResult:
        """Run a saved query (object or name) with parameter values given as text."""
        query = saved if isinstance(saved, SavedQuery) else get_saved_query(saved)
        bindings = bind(query, params or {}, self.prefixes)
        if self.check_classes:
            for param in query.parameters:
                term = bindings[param.name]
                if param.of_class and isinstance(term, NamedNode):
                    self._check_class(param.name, term, param.of_class)
        check_policy(analyse(query.text), allow_federation=allow_federation, engine="remote")
        result = self._execute(inject_values(query.text, bindings), query.form)
        return restore_parameters(result, bindings)

    def query(self, sparql: str, *, allow_federation: bool = False) -> QueryResult:
        """Run SPARQL query text as it is: updates are refused, and so are
        SERVICE, FROM and FROM NAMED unless ``allow_federation``."""
        info = analyse(sparql)
        check_policy(info, allow_federation=allow_federation, engine="remote")
        return self._execute(sparql, info.form)

    def _check_class(self, name: str, term: NamedNode, of_class: str) -> None:
        cls = expand_iri(of_class, self.prefixes)
        ask = (f"ASK {{ VALUES (?v ?c) {{ ({term_text(term)} {term_text(cls)}) }} "
               f"?v a ?t . ?t <{_RDFS_SUBCLASSOF}>* ?c }}")
        if not self._execute(ask, "ASK").boolean:
            raise ParameterError(f"parameter {name!r}: <{term.value}> is not a {of_class} in the graph")

    def _execute(self, text: str, form: str) -> QueryResult:
        request = self._request(text, form)
        deadline = time.monotonic() + self.timeout
        with self._open(request, deadline) as response:
            data = _read(response, deadline, self.timeout)
            headers = response.headers
        state = (headers.get("X-SQL-State") or "").strip()
        if state == "S1TAT":  # Virtuoso's "anytime" answer: partial results
            raise QueryTimeout("the endpoint stopped the query at its time limit and sent partial results "
                               f"({(headers.get('X-SQL-Message') or '').strip() or 'S1TAT'})")
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return parse_answer(data, ctype, form, self.prefixes)

    def _request(self, text: str, form: str) -> urllib.request.Request:
        import warnings

        from SPARQLWrapper import BASIC, JSON, POST, TURTLE, URLENCODED, SPARQLWrapper

        wrapper = SPARQLWrapper(self.url, agent=f"ntx-graph/{__version__}")
        wrapper.setMethod(POST)
        wrapper.setRequestMethod(URLENCODED)
        wrapper.setOnlyConneg(True)
        graph_form = form in ("CONSTRUCT", "DESCRIBE")
        wrapper.setReturnFormat(TURTLE if graph_form else JSON)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wrapper.setQuery(text)
        # SPARQLWrapper guesses the form with a regex that reads words in
        # comments ("add", "load", ...) and could take a query for an update:
        # the form found by ntx-graph's lexer is used instead.
        wrapper.queryType = form
        if self.graph:
            wrapper.addDefaultGraph(self.graph)
        if self.user is not None and self.password is not None and self.auth == "basic":
            wrapper.setCredentials(self.user, self.password)
            wrapper.setHTTPAuth(BASIC)
        wrapper.addCustomHttpHeader("Accept", ACCEPT_GRAPH if graph_form else ACCEPT_RESULTS)
        # SPARQLWrapper's own query() would use the process-wide urlopen (proxies,
        # any redirect) and install a global opener for digest: build only.
        request: urllib.request.Request = wrapper._createRequest()
        return request

    def _open(self, request: urllib.request.Request, deadline: float) -> Any:
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({}), SameOriginRedirects(self.url)]
        if self.user is not None and self.password is not None and self.auth == "digest":
            manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            manager.add_password(None, self.url, self.user, self.password)
            handlers.append(urllib.request.HTTPDigestAuthHandler(manager))
        opener = urllib.request.build_opener(*handlers)
        try:
            return opener.open(request, timeout=max(0.001, deadline - time.monotonic()))
        except urllib.error.HTTPError as error:
            raise NtxError(f"the endpoint answered {http_error_text(error)}") from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise _timeout(self.timeout) from None
            raise NtxError(f"cannot reach the endpoint {self.url}: {_reason(error.reason)}") from None
        except TimeoutError:
            raise _timeout(self.timeout) from None
        except (OSError, ValueError) as error:
            raise NtxError(f"cannot reach the endpoint {self.url}: {error}") from None


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


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only within the scheme, host and port of one URL."""

    def __init__(self, url: str) -> None:
        self.origin = _origin(url)

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: Any, newurl: str) -> urllib.request.Request | None:
        """Refuse (NtxError) a redirect that leaves the origin."""
        if _origin(urllib.parse.urljoin(req.full_url, newurl)) != self.origin:
            raise NtxError(f"the endpoint redirects to another server ({newurl}); refused")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.scheme, (parts.hostname or "").lower(), port)


def _timeout(seconds: float) -> QueryTimeout:
    return QueryTimeout(f"the endpoint did not answer within the time limit of {seconds:g} s")


def _reason(reason: object) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason)


def _read(response: Any, deadline: float, timeout: float) -> bytes:
    parts: list[bytes] = []
    while True:
        if time.monotonic() > deadline:
            raise _timeout(timeout)
        try:
            chunk = response.read(_CHUNK)
        except TimeoutError:
            raise _timeout(timeout) from None
        except OSError as error:
            raise NtxError(f"the connection to the endpoint broke: {error}") from None
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def http_error_text(error: urllib.error.HTTPError, limit: int = 300) -> str:
    """``HTTP 400 Bad Request: <the server's message, first line, trimmed>``."""
    try:
        body = error.read() or b""
    except OSError:
        body = b""
    message = server_message(body, limit)
    head = f"HTTP {error.code} {error.reason or ''}".rstrip()
    return f"{head}: {message}" if message else head


def server_message(body: bytes, limit: int = 300) -> str:
    """The server's message in an error body, on one line and trimmed: the
    first line of plain text, or the text of an HTML page without its title
    and without a repeat of the status line.

    >>> server_message(b"<html><head><title>T</title></head><body><h1>HTTP/1.1 500 Failed</h1>"
    ...                b"<h3>Error 37000</h3><xmp>SP029: TURTLE loader, line 6</xmp></body></html>")
    'Error 37000 SP029: TURTLE loader, line 6'
    """
    text = body.decode("utf-8", "replace")
    if re.search(r"(?i)<(html|body|h1|p|pre|xmp)\b", text):
        text = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", " ", text)
        blocks = (" ".join(b.split()) for b in re.sub(r"(?s)<[^>]*>", "\n", text).splitlines())
        text = " ".join(b for b in blocks if b and not re.match(r"HTTP/\d", b))
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


@cache
def _bundled_prefixes() -> tuple[tuple[str, str], ...]:
    from pyoxigraph import Store

    from ntx_graph.rdf_io import load_file
    from ntx_graph.resources import bundled_files

    found: dict[str, str] = {}
    for path in bundled_files():
        load_file(Store(), path, found)
    return tuple(found.items())


def bundled_prefixes() -> dict[str, str]:
    """The prefixes the bundled graph declares (drug:, severity:, ...)."""
    return dict(_bundled_prefixes())


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
    except (ValueError, SyntaxError, KeyError, TypeError, ElementTree.ParseError) as error:
        detail = " ".join(str(error).split())[:200]
        raise NtxError(f"the endpoint's answer ({ctype or 'no media type'}) cannot be read: {detail}") from None
    if form == "ASK":
        if isinstance(answer, bool):
            return QueryResult("ask", boolean=answer, prefixes=prefixes)
        if isinstance(answer, _Table) and len(answer.variables) == 1 and len(answer.rows) <= 1:
            cell = answer.rows[0][0] if answer.rows else None
            return QueryResult("ask", boolean=_truthy(cell), prefixes=prefixes)
        raise NtxError("the endpoint did not answer the ASK query with a boolean")
    if form in ("CONSTRUCT", "DESCRIBE"):
        if isinstance(answer, list):
            return QueryResult("graph", triples=answer, prefixes=prefixes)
        if isinstance(answer, _Table):
            return QueryResult("graph", triples=_table_triples(answer), prefixes=prefixes)
        raise NtxError(f"the endpoint did not answer the {form} query with a graph")
    if isinstance(answer, _Table):
        return QueryResult("select", variables=answer.variables, rows=answer.rows, prefixes=prefixes)
    raise NtxError("the endpoint did not answer the SELECT query with a table of solutions")


_Answer = bool | _Table | list[Triple]

_GRAPH_TYPES = {
    "application/n-triples": RdfFormat.N_TRIPLES, "text/plain": RdfFormat.N_TRIPLES,
    "text/turtle": RdfFormat.TURTLE, "application/x-turtle": RdfFormat.TURTLE,
    "text/n3": RdfFormat.N3, "text/rdf+n3": RdfFormat.N3,
    "application/rdf+xml": RdfFormat.RDF_XML, "application/ld+json": RdfFormat.JSON_LD,
    "application/n-quads": RdfFormat.N_QUADS, "application/trig": RdfFormat.TRIG,
}


def _decode(data: bytes, ctype: str, form: str) -> _Answer:
    graph_form = form in ("CONSTRUCT", "DESCRIBE")
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
    if graph_form and ctype in _GRAPH_TYPES:
        return _graph(data, _GRAPH_TYPES[ctype])
    if form == "ASK" and ctype in ("text/plain", "text/html", "text/boolean"):
        word = data.decode("utf-8", "replace").strip().lower()
        if word in ("true", "false", "1", "0"):
            return word in ("true", "1")
    raise NtxError(f"the endpoint answered with an unexpected media type {ctype or '(none)'!r}")


def _from_json(doc: Any) -> _Answer:
    if not isinstance(doc, dict):
        raise NtxError("the endpoint's JSON answer is not a SPARQL results document")
    if "boolean" in doc:
        return _truthy(doc["boolean"])
    variables = [str(v) for v in (doc.get("head") or {}).get("vars") or []]
    bindings = (doc.get("results") or {}).get("bindings")
    if not isinstance(bindings, list):
        raise NtxError("the endpoint's JSON answer has neither results nor a boolean")
    bnodes: dict[str, BlankNode] = {}
    rows: list[tuple[Term | None, ...]] = []
    for binding in bindings:
        for extra in binding:
            if extra not in variables:
                variables.append(extra)
        rows.append(tuple(_json_term(binding[v], bnodes) if v in binding else None for v in variables))
    width = len(variables)
    return _Table(variables, [row + (None,) * (width - len(row)) for row in rows])


def _json_term(obj: Any, bnodes: dict[str, BlankNode]) -> Term:
    kind = obj.get("type")
    value = obj.get("value")
    if kind == "uri":
        return NamedNode(value)
    if kind == "bnode":
        return bnodes.setdefault(value, BlankNode())
    if kind in ("literal", "typed-literal"):
        lang = obj.get("xml:lang") or obj.get("lang")
        if lang:
            return Literal(value, language=lang)
        return literal(value, obj.get("datatype"))
    if kind == "triple" and isinstance(value, dict):
        s, p, o = (_json_term(value[k], bnodes) for k in ("subject", "predicate", "object"))
        if isinstance(s, Literal) or not isinstance(p, NamedNode):
            raise NtxError("the endpoint's JSON answer has an ill-formed quoted triple")
        return Triple(s, p, o)
    raise NtxError(f"the endpoint's JSON answer has a term of unknown type {kind!r}")


def literal(value: str, datatype: str | None) -> Literal:
    """A literal, normalised where RDF 1.1 or Virtuoso allow two spellings:
    ``xsd:string`` is the plain literal, and a boolean stored by value (``1``,
    ``0``) is written ``true``/``false``.

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
    for trio in (("s", "p", "o"), ("subject", "predicate", "object")):
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
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, Literal):
        value = value.value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        try:
            return float(text) != 0
        except ValueError:
            pass
    if value is None:
        return False
    raise NtxError(f"the endpoint's ASK answer {value!r} is not a boolean")

