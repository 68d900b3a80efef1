"""The W3C SPARQL 1.0 and 1.1 test suites, run through ntx-graph.

Every query-evaluation test that raw pyoxigraph passes (its answer equals
the W3C expected result) must pass through ntx-graph's API
(``KnowledgeGraph.query``) too, and through each of its result formats: the
answer is serialised by ntx-graph, read back, and compared with the expected
result, as a multiset of solutions (blank nodes matched up to renaming,
literals by the value pyoxigraph stores), in order where the query has
ORDER BY. A format that loses information (CSV, the terminal table) is
compared with the expected result written the same lossy way. For each
format, every test whose raw pyoxigraph answer passes written by pyoxigraph
in that format must pass written by ntx-graph. The test's data is opened
with ``KnowledgeGraph.open(data, include_bundled=False, validate=False)``
(relative IRIs resolve against each file's location), its named graphs
added to the store, and the query run with the query file's IRI as its
base; FROM and FROM NAMED name graphs loaded so, and are allowed.

Every positive syntax test must pass ntx-graph's analyser and policy
(:func:`ntx_graph.sparql_text.analyse`, :func:`check_policy`) unless it
uses SERVICE, FROM or FROM NAMED (which the policy counts as federation),
is an update, or is a text pyoxigraph cannot parse either.

The suites come from the source distribution of rdflib on PyPI, which ships
them; ``bash .ci/fetch-w3c-sparql-suite.sh`` (run by
``.ci/install-system-packages.sh``) puts them, pinned and hash-checked, in
the git-ignored ``.cache/w3c-sparql``. Without them the tests skip, or fail
under ``NTX_REQUIRE_SERVERS=1``. ``python tests/test_w3c_sparql.py`` prints
the counts.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlparse
from urllib.request import url2pathname

import pyoxigraph as ox
import pytest

from ntx_graph import formats
from ntx_graph.errors import NtxError, QueryRefused
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.results import QueryResult, table
from ntx_graph.sparql_text import analyse, check_policy

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / ".cache" / "w3c-sparql"
INSTALL = "bash .ci/fetch-w3c-sparql-suite.sh (run by .ci/install-system-packages.sh)"
MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
#: The manifests read, from the suites' roots.
MANIFESTS = ("sparql11/manifest-all.ttl", "dawg-data-r2/manifest-evaluation.ttl", "dawg-data-r2/manifest-syntax.ttl")
#: Suites that test something else than query evaluation over the data given.
NOT_QUERY_EVALUATION = ("/entailment/", "/service/")
EVALUATION = {MF + "QueryEvaluationTest", MF + "CSVResultFormatTest"}
POSITIVE_SYNTAX = {MF + "PositiveSyntaxTest", MF + "PositiveSyntaxTest11", MF + "PositiveUpdateSyntaxTest11"}
WITHDRAWN = {DAWGT + "Withdrawn", DAWGT + "NotApproved", DAWGT + "NotClassified"}
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.IGNORECASE)
_BLANK_LABEL = re.compile(r"_:\S+")


# -- the manifests ------------------------------------------------------------------


@dataclass(frozen=True)
class W3cTest:
    """One entry of a W3C manifest."""

    iri: str
    kind: str
    query: Path
    data: tuple[Path, ...] = ()
    graph_data: tuple[Path, ...] = ()
    result: Path | None = None

    @property
    def name(self) -> str:
        return self.iri.split("/w3c/", 1)[-1]


def _path(node: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Path:
    assert isinstance(node, ox.NamedNode)
    return Path(url2pathname(urlparse(node.value).path))


def _list(graph: ox.Store, node: object) -> list[object]:
    items = []
    while node != ox.NamedNode(RDF + "nil"):
        items.append(_one(graph, node, RDF + "first"))
        node = _one(graph, node, RDF + "rest")
    return items


def _one(graph: ox.Store, subject: object, predicate: str) -> object:
    return next((q.object for q in graph.quads_for_pattern(subject, ox.NamedNode(predicate), None)), None)  # type: ignore[arg-type]


def _all(graph: ox.Store, subject: object, predicate: str) -> list[object]:
    return [q.object for q in graph.quads_for_pattern(subject, ox.NamedNode(predicate), None)]  # type: ignore[arg-type]


def _read_manifest(path: Path, seen: set[Path]) -> Iterator[W3cTest]:
    if path in seen:
        return
    seen.add(path)
    graph = ox.Store()
    graph.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    for included in _all(graph, None, MF + "include"):
        for item in _list(graph, included):
            yield from _read_manifest(_path(item), seen)  # type: ignore[arg-type]
    for entries in _all(graph, None, MF + "entries"):
        for entry in _list(graph, entries):
            kind = _one(graph, entry, RDF + "type")
            if _one(graph, entry, DAWGT + "approval") in {ox.NamedNode(i) for i in WITHDRAWN} or kind is None:
                continue
            action = _one(graph, entry, MF + "action")
            result = _one(graph, entry, MF + "result")
            if isinstance(action, ox.NamedNode):  # a syntax test: the action is the query file
                yield W3cTest(entry.value, kind.value, _path(action))  # type: ignore[attr-defined]
                continue
            query = _one(graph, action, QT + "query")
            if query is None:  # an update test (ut:request)
                continue
            yield W3cTest(entry.value, kind.value, _path(query),  # type: ignore[attr-defined, arg-type]
                          tuple(_path(d) for d in _all(graph, action, QT + "data")),  # type: ignore[arg-type]
                          tuple(_path(d) for d in _all(graph, action, QT + "graphData")),  # type: ignore[arg-type]
                          _path(result) if isinstance(result, ox.NamedNode) else None)


@cache
def suite() -> tuple[W3cTest, ...]:
    """Every test of the manifests in :data:`MANIFESTS` but those withdrawn, not approved or not classified."""
    seen: set[Path] = set()
    return tuple(t for top in MANIFESTS for t in _read_manifest(SUITE / top, seen))


def evaluation_tests() -> list[W3cTest]:
    """The query-evaluation tests (not entailment, not SERVICE)."""
    return [t for t in suite() if t.kind in EVALUATION and t.result is not None
            and not any(part in t.query.as_posix() for part in NOT_QUERY_EVALUATION)]


def positive_syntax_tests() -> list[W3cTest]:
    return [t for t in suite() if t.kind in POSITIVE_SYNTAX]


def require_suite() -> None:
    """Skip naming the set-up command when the suites are absent, or fail under NTX_REQUIRE_SERVERS=1."""
    if all((SUITE / m).is_file() for m in MANIFESTS):
        return
    reason = f"the W3C SPARQL test suites are not in {SUITE.relative_to(ROOT)}; fetch them with: {INSTALL}"
    if os.environ.get("NTX_REQUIRE_SERVERS") == "1":
        pytest.fail(reason + " (NTX_REQUIRE_SERVERS=1)", pytrace=False)
    pytest.skip(reason)


# -- answers in one comparable shape --------------------------------------------------

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Cell = Term | str | None  # a str is a CSV cell or a table line: what a lossy format keeps


@dataclass(frozen=True)
class Answer:
    """A query's answer: a boolean, solutions (rows of terms, or of text for
    lossy formats) or triples."""

    kind: str  # "ask", "select", "graph"
    boolean: bool | None = None
    variables: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    triples: tuple[ox.Triple, ...] = ()


def _csv_cell(term: Cell) -> Cell:
    """A term as SPARQL 1.1 CSV writes it (blank nodes kept as blank nodes, to be matched up to renaming)."""
    if term is None or isinstance(term, (str, ox.BlankNode)):
        return term
    if isinstance(term, ox.Triple):
        return str(term)
    return _value(term).value or None  # an empty string and an unbound value are both an empty field


def as_csv(answer: Answer) -> Answer:
    """What SPARQL CSV keeps of ``answer``."""
    if answer.kind != "select":
        return answer
    return Answer("select", variables=answer.variables,
                  rows=tuple(tuple(_csv_cell(c) for c in row) for row in answer.rows))


def read_csv(data: bytes) -> Answer:
    """A SPARQL CSV document: a ``_:`` cell is a blank node, anything else text."""
    lines = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    head, body = (lines[0], lines[1:]) if lines else ([], [])
    def cell(text: str) -> Cell:
        return None if text == "" else ox.BlankNode(text[2:]) if text.startswith("_:") else text
    width = len(head)  # a row of one unbound value is an empty line, which csv reads as []
    rows = tuple(tuple(cell(c) for c in (row or [""] * width)) for row in body)
    return Answer("select", variables=tuple(head), rows=rows)


def from_solutions(answer: ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples) -> Answer:
    """A pyoxigraph answer (read once)."""
    if isinstance(answer, ox.QueryBoolean):
        return Answer("ask", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        variables = tuple(v.value for v in answer.variables)
        return Answer("select", variables=variables,
                      rows=tuple(tuple(s[i] for i in range(len(variables))) for s in answer))
    return Answer("graph", triples=tuple(ox.Triple(t.subject, t.predicate, t.object) for t in answer))


def from_result(result: QueryResult) -> Answer:
    """ntx-graph's QueryResult."""
    if result.kind == "ask":
        return Answer("ask", boolean=result.boolean)
    if result.kind == "graph":
        return Answer("graph", triples=tuple(result.triples))
    return Answer("select", variables=tuple(result.variables), rows=tuple(result.rows))


def _result_set(graph: ox.Store) -> Answer:
    """A result set written in the W3C result-set vocabulary (SPARQL 1.0 tests' .ttl results)."""
    node = next(q.subject for q in graph.quads_for_pattern(None, ox.NamedNode(RDF + "type"),
                                                         ox.NamedNode(RS + "ResultSet")))
    boolean = _one(graph, node, RS + "boolean")
    if isinstance(boolean, ox.Literal):
        return Answer("ask", boolean=boolean.value == "true")
    variables = tuple(v.value for v in _all(graph, node, RS + "resultVariable"))  # type: ignore[attr-defined]
    solutions = []
    for solution in _all(graph, node, RS + "solution"):
        index = _one(graph, solution, RS + "index")
        values: dict[str, Term] = {}
        for binding in _all(graph, solution, RS + "binding"):
            values[_one(graph, binding, RS + "variable").value] = _one(graph, binding, RS + "value")  # type: ignore[union-attr, assignment]
        solutions.append((int(index.value) if isinstance(index, ox.Literal) else 0,
                          tuple(values.get(v) for v in variables)))
    solutions.sort(key=lambda s: s[0])
    return Answer("select", variables=variables, rows=tuple(row for _, row in solutions))


def expected(test: W3cTest) -> Answer:
    """The W3C expected result."""
    assert test.result is not None
    suffix = test.result.suffix
    data = test.result.read_bytes()
    if suffix == ".csv":
        return read_csv(data)
    if suffix in (".srx", ".srj", ".tsv"):
        fmt = {".srx": ox.QueryResultsFormat.XML, ".srj": ox.QueryResultsFormat.JSON,
               ".tsv": ox.QueryResultsFormat.TSV}[suffix]
        return from_solutions(ox.parse_query_results(data, format=fmt))
    fmt = ox.RdfFormat.from_extension(suffix[1:]) or ox.RdfFormat.TURTLE
    graph = ox.Store()
    graph.load(data, format=fmt, base_iri=test.result.as_uri())
    if any(graph.quads_for_pattern(None, ox.NamedNode(RDF + "type"), ox.NamedNode(RS + "ResultSet"))):
        return _result_set(graph)
    return Answer("graph", triples=tuple(ox.Triple(q.subject, q.predicate, q.object) for q in graph))


@cache
def _canonical_literal(literal: ox.Literal) -> ox.Literal:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), literal))
    value = next(iter(store)).object
    assert isinstance(value, ox.Literal)
    return value


def _value(term: Term) -> Term:
    """A literal in the canonical form pyoxigraph stores it in (``+1.0``
    and ``1.0`` as the decimal ``1``); any other term as it is. The W3C
    results write literals as the data does, pyoxigraph answers with the
    values it stored."""
    return _canonical_literal(term) if isinstance(term, ox.Literal) else term


def canonical(answer: Answer, *, ordered: bool) -> tuple[object, ...]:
    """A key equal for two answers exactly when they are the same up to
    blank node renaming (solutions as a multiset, or a sequence if
    ``ordered``): each solution becomes a blank node of an RDF dataset that
    pyoxigraph canonicalises (RDFC-1.0)."""
    if answer.kind == "ask":
        return ("ask", answer.boolean)
    quads = []
    if answer.kind == "graph":
        quads = [ox.Quad(t.subject, t.predicate, _value(t.object)) for t in answer.triples]
    for index, row in enumerate(answer.rows):
        node = ox.BlankNode()
        quads.append(ox.Quad(node, ox.NamedNode(RDF + "type"), ox.NamedNode(RS + "Solution")))
        if ordered:
            quads.append(ox.Quad(node, ox.NamedNode(RS + "index"), ox.Literal(str(index))))
        for variable, cell in zip(answer.variables, row, strict=True):
            if cell is not None:
                value = ox.Literal(cell) if isinstance(cell, str) else _value(cell)
                quads.append(ox.Quad(node, ox.NamedNode("urn:x-variable:" + variable), value))  # type: ignore[arg-type]
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return (answer.kind, frozenset(answer.variables), frozenset(str(q) for q in dataset), len(quads))


def table_cells(text: str, *, ordered: bool) -> tuple[object, ...]:
    """ntx-graph's terminal table read back into cells (columns cut where
    the dashes of its second line start), blank node labels taken out: the
    head, then the rows in order or as a multiset, then the count line."""
    lines = text.splitlines()
    if len(lines) < 3:  # an ASK answer: true or false
        return tuple(lines)
    starts = [m.start() for m in re.finditer(r"-+", lines[1])]
    def cells(line: str) -> tuple[str, ...]:
        cut = [line[a:b].strip() for a, b in zip(starts, [*starts[1:], None][:len(starts)], strict=True)]
        return tuple(_BLANK_LABEL.sub("_:", c) for c in cut)
    body = [cells(line) for line in lines[2:-1]]
    return (cells(lines[0]), tuple(body) if ordered else Counter(body), lines[-1])


# -- running a test ------------------------------------------------------------------


@dataclass
class Outcome:
    """What one evaluation test gave: passes by raw pyoxigraph and through
    ntx-graph, natively and per format; ``refused`` if ntx-graph refused or
    failed the query (with why)."""

    test: W3cTest
    raw: bool = False
    ntx: bool = False
    raw_formats: frozenset[str] = frozenset()
    ntx_formats: frozenset[str] = frozenset()
    formats_tried: frozenset[str] = frozenset()
    error: str = ""


def _from_iris(test: W3cTest, text: str) -> list[str]:
    """The IRIs of the query's FROM and FROM NAMED graphs (the test data to load in those graphs)."""
    info = analyse(text)
    iris = []
    for written in (*info.from_graphs, *info.from_named):
        if written.startswith("<"):
            iris.append(urljoin(test.query.as_uri(), written[1:-1]))
        else:
            prefix, _, local = written.partition(":")
            iris.append(info.prefixes[prefix] + local)
    return iris


def _load_named(store: ox.Store, paths: Sequence[Path], iris: Sequence[str]) -> None:
    for path in paths:
        store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri(),
                   to_graph=ox.NamedNode(path.as_uri()))
    for iri in iris:
        path = Path(url2pathname(urlparse(iri).path))
        if iri.startswith("file:") and path.is_file() and ox.NamedNode(iri) not in set(store.named_graphs()):
            store.load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]) or ox.RdfFormat.TURTLE,
                       base_iri=iri, to_graph=ox.NamedNode(iri))


def _raw_store(test: W3cTest, from_iris: Sequence[str]) -> ox.Store:
    store = ox.Store()
    for path in test.data:
        store.load(path=str(path), format=ox.RdfFormat.from_extension(path.suffix[1:]) or ox.RdfFormat.TURTLE,
                   base_iri=path.as_uri())
    _load_named(store, test.graph_data, from_iris)
    return store


def _decode(data: bytes, fmt: formats.Format, kind: str) -> Answer:
    """An answer of ``kind`` read back from ``data`` in ``fmt``."""
    if fmt.rdf is not None:
        return Answer("graph", triples=tuple(ox.Triple(q.subject, q.predicate, q.object)
                                             for q in ox.parse(data, format=fmt.rdf)))
    if fmt.results == ox.QueryResultsFormat.CSV:  # pyoxigraph does not read CSV: it is lossy
        return Answer("ask", boolean=data.strip() == b"true") if kind == "ask" else read_csv(data)
    assert fmt.results is not None
    return from_solutions(ox.parse_query_results(data, format=fmt.results))


def _key(answer: Answer, fmt: formats.Format | None, *, csv_expected: bool, ordered: bool) -> tuple[object, ...]:
    """:func:`canonical` of what both ``fmt`` and the expected result can carry."""
    lossy = csv_expected or (fmt is not None and fmt.results == ox.QueryResultsFormat.CSV)
    return canonical(as_csv(answer) if lossy else answer, ordered=ordered)


def _reference(wanted: Answer, result: QueryResult) -> QueryResult:
    """The expected answer as a QueryResult with ``result``'s columns (the
    order of ``SELECT *`` is the engine's) and prefixes, for the table."""
    if set(wanted.variables) != set(result.variables):
        return QueryResult(result.kind, variables=list(wanted.variables), boolean=wanted.boolean)
    columns = [wanted.variables.index(v) for v in result.variables]
    rows = [tuple(None if row[i] is None else _value(row[i]) for i in columns) for row in wanted.rows]  # type: ignore[arg-type]
    return QueryResult(result.kind, variables=list(result.variables), rows=rows,  # type: ignore[arg-type]
                       boolean=wanted.boolean, prefixes=result.prefixes)


def run(test: W3cTest) -> Outcome:
    """Run ``test`` with raw pyoxigraph and through ntx-graph."""
    text = test.query.read_text(encoding="utf-8")
    base = test.query.as_uri()
    ordered = bool(_ORDER_BY.search(text))
    wanted = expected(test)
    csv_expected = test.result is not None and test.result.suffix == ".csv"
    how = {"csv_expected": csv_expected, "ordered": ordered}
    key = _key(wanted, None, **how)
    outcome = Outcome(test)
    from_iris = _from_iris(test, text)

    def raw_answer() -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        return _raw_store(test, from_iris).query(text, base_iri=base)

    try:
        native = from_solutions(raw_answer())
        outcome.raw = _key(native, None, **how) == key
    except (SyntaxError, OSError, ValueError, RuntimeError) as error:
        outcome.error = f"raw pyoxigraph: {error}"
        return outcome
    use = formats.GRAPH if native.kind == "graph" else formats.RESULTS
    served = [f for f in formats.serving(use) if f.results is not None or f.rdf is not None]
    # the table is for people: it is compared with the expected terms, which a CSV result has lost
    outcome.formats_tried = frozenset(f.name for f in formats.serving(use) if f in served or not csv_expected)
    raw_passes = set()
    for fmt in served:
        with suppress(SyntaxError, OSError, ValueError):  # pyoxigraph cannot write this answer in fmt
            data = raw_answer().serialize(format=fmt.results or fmt.rdf)  # type: ignore[arg-type]
            if _key(_decode(data, fmt, native.kind), fmt, **how) == _key(wanted, fmt, **how):
                raw_passes.add(fmt.name)
    outcome.raw_formats = frozenset(raw_passes)

    try:  # FROM and FROM NAMED name graphs loaded here: allowed, as nothing is fetched
        graph = KnowledgeGraph.open(test.data, include_bundled=False, validate=False)
        _load_named(graph.store, test.graph_data, from_iris)
        result = graph.query(text, base=base, allow_federation=bool(from_iris))
    except NtxError as error:
        outcome.error = f"ntx-graph: {error}"
        return outcome
    mine = from_result(result)
    outcome.ntx = _key(mine, None, **how) == key
    ntx_passes = set()
    for fmt in formats.serving(use):
        try:
            data = result.serialize(fmt.name)
        except NtxError:
            continue
        if fmt.name == "table":
            if not csv_expected and table_cells(data.decode(), ordered=ordered) == table_cells(
                    table(_reference(wanted, result)), ordered=ordered):
                ntx_passes.add(fmt.name)
            continue
        if _key(_decode(data, fmt, native.kind), fmt, **how) == _key(wanted, fmt, **how):
            ntx_passes.add(fmt.name)
    outcome.ntx_formats = frozenset(ntx_passes)
    return outcome


@cache
def outcomes() -> tuple[Outcome, ...]:
    return tuple(run(t) for t in evaluation_tests())


def refusal(test: W3cTest) -> tuple[str, str]:
    """Whether ntx-graph's analyser or policy refuses the text of a syntax
    test, as (why it may: ``update``, ``federation`` or ``pyoxigraph rejects
    it`` too; ``wrong`` if nothing allows it, ``""`` if not refused), and the
    message."""
    text = test.query.read_bytes().decode("utf-8", errors="replace")
    try:
        check_policy(analyse(text))
    except QueryRefused as error:  # the analyser read the text: its policy refused it
        if "update" in test.kind.lower() or info_update(text):
            return "update", str(error)
        keyword = str(error).partition(" is refused")[0]
        return ("federation" if keyword in ("SERVICE", "FROM", "FROM NAMED") else "wrong"), str(error)
    except NtxError as error:  # the analyser could not read it
        if "update" in test.kind.lower():
            return "update", str(error)
        try:
            ox.Store().query(text, base_iri=test.query.as_uri())
        except SyntaxError:
            return "pyoxigraph rejects it", str(error)
        except (OSError, ValueError, RuntimeError):
            pass  # it parses; evaluating it is another matter
        return "wrong", str(error)
    return "", ""


def info_update(text: str) -> bool:
    """Whether the analyser reads ``text`` as an update."""
    try:
        return analyse(text).update
    except NtxError:
        return False


# -- the tests -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def w3c() -> None:
    require_suite()


def test_answers_compare_up_to_blank_node_renaming_and_no_further() -> None:
    """The comparison the suite relies on: blank nodes renamed consistently
    compare equal, anything else does not; order counts only when asked."""
    a, b, p = ox.BlankNode("a"), ox.BlankNode("b"), ox.Literal("1", datatype=ox.NamedNode(XSD_INTEGER))
    one = Answer("select", variables=("x", "y"), rows=((a, p), (b, None), (a, None)))
    c, d = ox.BlankNode("c"), ox.BlankNode("d")
    renamed = Answer("select", variables=("y", "x"), rows=((p, c), (None, d), (None, c)))
    swapped_columns = Answer("select", variables=("x", "y"), rows=((p, a), (b, None), (a, None)))
    split = Answer("select", variables=("x", "y"), rows=((a, p), (b, None), (b, None)))
    assert canonical(one, ordered=False) == canonical(renamed, ordered=False)
    assert canonical(one, ordered=False) != canonical(swapped_columns, ordered=False)
    assert canonical(one, ordered=False) != canonical(split, ordered=False)  # one blank node is not two
    assert canonical(one, ordered=False) != canonical(Answer("select", variables=("x", "y"), rows=one.rows[:2]),
                                                      ordered=False)  # a multiset, not a set
    reordered = Answer("select", variables=("x", "y"), rows=(one.rows[1], one.rows[0], one.rows[2]))
    assert canonical(one, ordered=False) == canonical(reordered, ordered=False)
    assert canonical(one, ordered=True) != canonical(reordered, ordered=True)
    decimal = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
    def single(value: Term) -> tuple[object, ...]:
        return canonical(Answer("select", variables=("x",), rows=((value,),)), ordered=False)
    assert single(ox.Literal("+1.0", datatype=decimal)) == single(ox.Literal("1", datatype=decimal))  # one value
    assert single(ox.Literal("1", datatype=decimal)) != single(p)  # the decimal 1 is not the integer 1
    assert single(ox.Literal("1")) != single(p)
    assert canonical(as_csv(one), ordered=False) == canonical(read_csv(b"x,y\r\n_:q,1\r\n_:r,\r\n_:q,\r\n"),
                                                              ordered=False)


def test_the_suites_are_there_whole(w3c: None) -> None:
    """The manifests were read: a broken set-up cannot pass by finding no test."""
    assert len(evaluation_tests()) > 400
    assert len(positive_syntax_tests()) > 250


def test_ntx_graph_passes_every_evaluation_test_raw_pyoxigraph_passes(w3c: None) -> None:
    failed = [f"{o.test.name}: {o.error or 'different answer'}" for o in outcomes() if o.raw and not o.ntx]
    assert not failed, "\n".join(failed)
    passes = sum(o.raw for o in outcomes())
    assert passes > 0.85 * len(outcomes()), f"raw pyoxigraph passes only {passes} of {len(outcomes())}"


@pytest.mark.parametrize("name", formats.query_names())
def test_every_result_format_carries_what_pyoxigraph_does(w3c: None, name: str) -> None:
    """Through each result format, every test that raw pyoxigraph passes
    written in that format (or natively, for the terminal table) passes
    written by ntx-graph."""
    failed = [f"{o.test.name}: {o.error or 'different answer'}" for o in outcomes()
              if name in o.formats_tried and o.raw and (o.raw if name == "table" else name in o.raw_formats)
              and name not in o.ntx_formats]
    assert not failed, f"{len(failed)} tests fail through {name}:\n" + "\n".join(failed)
    assert sum(name in o.ntx_formats for o in outcomes()) >= 10, f"too few tests ran through {name}"


def test_no_positive_syntax_test_is_refused_but_for_federation_or_update(w3c: None) -> None:
    """ntx-graph's analyser and policy refuse a valid query only for
    SERVICE, FROM or FROM NAMED (which could fetch remote data), an update,
    or when pyoxigraph itself cannot parse it."""
    wrongly = [f"{t.name}: {why}" for t in positive_syntax_tests() for allowed, why in [refusal(t)]
               if allowed == "wrong"]
    assert not wrongly, "\n".join(wrongly)


def main() -> None:
    """Print the counts."""
    results = outcomes()
    print(f"evaluation tests: {len(results)}; raw pyoxigraph passes {sum(o.raw for o in results)}; "
          f"ntx-graph API passes {sum(o.ntx for o in results)} "
          f"(of those raw passes: {sum(o.raw and o.ntx for o in results)})")
    for top in dict.fromkeys(m.split("/")[0] for m in MANIFESTS):
        part = [o for o in results if (SUITE / top) in o.test.query.parents]
        print(f"  {top}: {len(part)} tests, raw pyoxigraph passes {sum(o.raw for o in part)}, "
              f"ntx-graph {sum(o.ntx for o in part)}")
    for name in formats.query_names():
        tried = [o for o in results if name in o.formats_tried]
        base = [o for o in tried if (o.raw if name == "table" else name in o.raw_formats)]
        print(f"  {name}: {len(tried)} tests, raw pyoxigraph passes {len(base)}, "
              f"ntx-graph passes {sum(name in o.ntx_formats for o in tried)} "
              f"(of the raw passes: {sum(name in o.ntx_formats for o in base)})")
    for o in results:
        if not o.raw or not o.ntx:
            print(f"  {'raw fails' if not o.raw else 'NTX FAILS'}: {o.test.name} {o.error}")
    syntax = positive_syntax_tests()
    refused = [(t, *refusal(t)) for t in syntax]
    refused = [r for r in refused if r[1]]
    print(f"positive syntax tests: {len(syntax)}; refused {len(refused)}")
    for (allowed, reason), count in Counter((a, why.split(":")[0]) for _, a, why in refused).most_common():
        print(f"  {count}: {allowed}: {reason}")


if __name__ == "__main__":
    main()
