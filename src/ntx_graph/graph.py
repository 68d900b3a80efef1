"""The knowledge graph: the bundled ontology and facts, plus the user's own
files, loaded into an in-process pyoxigraph store and queried there (or, on
request, with rdflib's SPARQL engine)."""

from __future__ import annotations

import _thread  # built in and loaded at start-up (threading costs a cold query ~1 ms)
import os

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, Store, Triple, Variable

from ntx_graph import resources
from ntx_graph.catalog import SavedQuery, get_saved_query, saved_queries
from ntx_graph.errors import (
    NtxError,
    ParameterError,
    QuerySyntaxError,
    QueryTimeout,
    TooManyResults,
)
from ntx_graph.logs import get_logger
from ntx_graph.params import Term, bind, bind_values
from ntx_graph.results import QueryResult
from ntx_graph.results import Term as AnyTerm
from ntx_graph.sparql_text import analyse, check_policy

TYPE_CHECKING = False  # not typing's: the query path imports only what it runs (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path
    from typing import Any, Literal, TypeVar

    import rdflib

    from ntx_graph.sparql_text import QueryInfo
    from ntx_graph.validate import ValidationReport

    Engine = Literal["oxigraph", "rdflib"]
    _T = TypeVar("_T")

ENGINES: tuple[Engine, ...] = ("oxigraph", "rdflib")
_log = get_logger(__name__)


class KnowledgeGraph:
    """An ntx-graph knowledge graph held in memory.

    >>> kg = KnowledgeGraph.open()
    >>> kg.run("is-narcotic").boolean
    False
    >>> [row["condition"] for row in kg.run("primary-uses").to_python()]
    ['alcohol dependence', 'opioid dependence']
    """

    def __init__(self, store: Store, files: Sequence[str | os.PathLike[str]], prefixes: Mapping[str, str]) -> None:
        self.store = store
        self._files = [os.fspath(f) for f in files]  # strings: pathlib costs the CLI's start-up ~3 ms
        self.prefixes = dict(prefixes)
        self.base: str | None = None  # the base IRI the data files were read with, if not their own
        self._rdflib_graph: rdflib.Graph | None = None

    @classmethod
    def open(cls, data: Sequence[str | Path] = (), *, include_bundled: bool = True,
             include_ontology: bool = True, validate: bool = True, base: str | None = None) -> KnowledgeGraph:
        """Load the bundled graph (ontology, scales and facts) and ``data``
        files (Turtle, N-Triples, RDF/XML, JSON-LD, TriG; guessed from the
        extension). Relative IRIs in ``data`` resolve against ``base``, by
        default each file's own location. Raises DataError naming the file
        on any problem.

        With ``validate`` (the default), ``data`` must conform to the SHACL
        shapes: ValidationFailed (its ``report`` holds the SHACL report)
        otherwise. The bundled graph alone is not checked again.
        """
        user = [os.fspath(p) for p in data]
        store = Store()
        prefixes: dict[str, str] = {}
        bundled = resources.load_bundled(store, prefixes, ontology=include_ontology) if include_bundled else []
        if user:
            from ntx_graph.rdf_io import load_file

            for path in user:
                load_file(store, path, prefixes, base=base)
        kg = cls(store, bundled + user, prefixes)
        kg.base = base
        if data and validate:
            kg.validate().raise_unless_conforms("the data does", "open it with validate=False to load it anyway")
        return kg

    @classmethod
    def open_store(cls, directory: str | Path) -> KnowledgeGraph:
        """The graph in a persistent store built by ``ntx-graph load``
        (read-only)."""
        from ntx_graph.persistent import open_graph

        return open_graph(directory)

    @property
    def files(self) -> list[Path]:
        """The files the graph was loaded from: the bundled Turtle files, then the user's."""
        from pathlib import Path

        return [Path(f) for f in self._files]

    def __len__(self) -> int:
        return len(self.store)

    # -- queries ---------------------------------------------------------

    def saved_queries(self) -> list[SavedQuery]:
        """Every saved query."""
        return saved_queries()

    def run(self, query: str | SavedQuery, params: Mapping[str, str] | None = None, *,
            engine: Engine = "oxigraph", timeout: float | None = None, allow_federation: bool = False,
            base: str | None = None, max_rows: int | None = None) -> QueryResult:
        """Run a saved query (by name, unique name prefix, or object) with
        parameter values given as text; they are typed, checked and bound as
        RDF terms. The options are :meth:`query`'s."""
        saved = query if isinstance(query, SavedQuery) else get_saved_query(query)
        bindings = self.bind(saved, params or {})
        return self.query(saved.text, bindings, engine=engine, timeout=timeout, allow_federation=allow_federation,
                          base=base, max_rows=max_rows)

    def bind(self, saved: SavedQuery, params: Mapping[str, str]) -> dict[str, Term]:
        """The RDF terms for ``saved``'s parameters; ParameterError if a value
        is missing, unknown, ill-typed or not an instance of its class."""
        bindings = bind(saved, params, self.prefixes)
        for param in saved.parameters:
            if param.of_class and isinstance(bindings[param.name], NamedNode):
                cls_iri = bind_class(param.of_class, self.prefixes)
                ask = self.store.query(
                    "ASK { ?v a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* ?c }",
                    substitutions={Variable("v"): bindings[param.name], Variable("c"): cls_iri},
                )
                if not bool(ask):
                    value = bindings[param.name].value
                    raise ParameterError(
                        f"parameter {param.name!r}: <{value}> is not a {param.of_class} in the graph"
                    )
        return bindings

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *, engine: Engine = "oxigraph",
              timeout: float | None = None, allow_federation: bool = False, base: str | None = None,
              max_rows: int | None = None, default_graphs: Sequence[str] = (),
              named_graphs: Sequence[str] = ()) -> QueryResult:
        """Run SPARQL text with variables bound to RDF terms: the one executor
        behind the CLI, the API and the endpoint's workers.

        The text is analysed (:func:`ntx_graph.sparql_text.analyse`) and
        refused if it is an update, or uses SERVICE, FROM or FROM NAMED
        without ``allow_federation``, so that no query reaches the network
        unless the caller asks for it. ``bindings`` become a VALUES block at
        the start of the outer WHERE group (:func:`ntx_graph.params.bind_values`),
        the same on every engine. ``base`` resolves relative IRIs.
        ``timeout`` (seconds) raises QueryTimeout: an Oxigraph evaluation
        finishes in the background; an rdflib one runs in a child process
        that is killed. ``max_rows`` raises TooManyResults beyond that many
        rows or triples. ``default_graphs`` and ``named_graphs`` set the
        dataset (IRIs of graphs in the store; Oxigraph only).
        """
        if engine not in ENGINES:
            raise NtxError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
        info = analyse(sparql)
        _log.debug("analysed: %s, where { at %d, federation %s, relative IRIs %s; engine %s, %d bound, timeout %s",
               info.form, info.where, info.federation, info.relative_iris, engine, len(bindings or {}), timeout)
        check_policy(info, allow_federation=allow_federation, engine=engine)
        # rdflib gets the terms as initBindings instead (see _rdflib_query)
        text = bind_values(sparql, bindings) if bindings and engine != "rdflib" else sparql
        if base is not None:
            text = f"BASE <{_base_iri(base)}>\n{text}"
        elif info.relative_iris and not info.has_base:
            raise QuerySyntaxError(f"the query uses the relative IRI <{info.relative_iris[0]}> and sets no base "
                                   "IRI: give one (--base IRI, or base= in Python) or write BASE <iri> in the query")
        if engine == "rdflib":
            if info.from_graphs or info.from_named or default_graphs or named_graphs:
                what = "FROM NAMED" if info.from_named or named_graphs else "FROM"
                raise NtxError(f"{what} is not supported by the rdflib engine (it would ignore it); "
                               "use the oxigraph engine")
            graph, bound = self.to_rdflib(), dict(bindings or {})
            return _limited(_in_child(lambda: _rdflib_query(graph, text, self.prefixes, bound), timeout), max_rows)
        dataset: dict[str, Any] = {}
        if default_graphs:
            dataset["default_graph"] = [NamedNode(g) for g in default_graphs]
        if named_graphs:
            dataset["named_graphs"] = [NamedNode(g) for g in named_graphs]
        prefixes = _used_prefixes(info, self.prefixes)
        return _in_thread(lambda: self._oxigraph_query(text, max_rows, dataset, prefixes), timeout,
                          stack=_stack_for(text))

    def _oxigraph_query(self, sparql: str, max_rows: int | None, dataset: Mapping[str, Any],
                        prefixes: dict[str, str]) -> QueryResult:
        try:
            answer = self.store.query(sparql, prefixes=prefixes, **dataset)
        except SyntaxError as error:
            raise QuerySyntaxError(f"SPARQL syntax error {syntax_message(str(error))}") from None
        except (OSError, RuntimeError, ValueError) as error:
            raise NtxError(f"the query cannot be evaluated: {error}") from None
        failure = ""
        try:
            if isinstance(answer, QueryBoolean):
                return QueryResult("ask", boolean=bool(answer), prefixes=self.prefixes)
            if isinstance(answer, QuerySolutions):
                variables = [v.value for v in answer.variables]
                rows: list[tuple[AnyTerm | None, ...]] = []
                for solution in answer:
                    if len(rows) == max_rows:
                        raise _too_many(max_rows, "rows")
                    rows.append(tuple(solution[i] for i in range(len(variables))))
                return QueryResult("select", variables=variables, rows=rows, prefixes=self.prefixes)
            triples: list[Triple] = []
            for t in answer:
                if len(triples) == max_rows:
                    raise _too_many(max_rows, "triples")
                triples.append(Triple(t.subject, t.predicate, t.object))
            return QueryResult("graph", triples=triples, prefixes=self.prefixes)
        except (OSError, RuntimeError, ValueError) as error:
            failure = str(error) or type(error).__name__
        finally:
            del answer  # pyoxigraph's iterator must be dropped on the thread that made it
        # raised outside the except block: no __context__ keeps the iterator alive
        raise NtxError(f"the query failed: {failure}")

    # -- views -----------------------------------------------------------

    def triples(self) -> list[Triple]:
        """Every triple of the graph."""
        return [Triple(q.subject, q.predicate, q.object) for q in self.store]

    def to_rdflib(self) -> rdflib.Graph:
        """The graph as an ``rdflib.Graph`` (built once, then reused)."""
        if self._rdflib_graph is None:
            from ntx_graph.rdflib_bridge import to_rdflib_graph

            self._rdflib_graph = to_rdflib_graph(self.triples(), self.prefixes)
        return self._rdflib_graph

    def export(self, fmt: str = "turtle", *, order: str = "canonical") -> bytes:
        """The whole graph in ``fmt`` (turtle, ntriples, jsonld, rdfxml,
        trig, nanopub): sorted, prefixes kept, byte-identical across runs. TriG puts the
        ontology and the facts in named graphs (see :mod:`ntx_graph.trig`);
        ``nanopub`` writes one nanopublication per claim, as TriG (see
        :mod:`ntx_graph.nanopub`).

        ``order="store"`` writes turtle, ntriples, rdfxml or jsonld in
        pyoxigraph's own order instead of sorting (the same bytes for the same
        inputs loaded in the same order; see
        :func:`ntx_graph.rdf_io.export_store`)."""
        from ntx_graph.rdf_io import check_order, export_store

        check_order(fmt, order)
        if fmt == "trig":
            from ntx_graph.trig import export_trig

            return export_trig(self)
        if fmt == "nanopub":
            from ntx_graph.nanopub import export_nanopublications

            return export_nanopublications(self)
        return export_store(self.store, fmt, self.prefixes, order=order)

    def validate(self) -> ValidationReport:
        """The SHACL report for this graph's files (runs pyshacl on rdflib)."""
        from ntx_graph.validate import validate

        bundled = set(resources.bundled_paths())
        extra = [p for p in self._files if p not in bundled]
        return validate(extra, include_bundled=any(p in bundled for p in self._files), base=self.base)


def _too_many(limit: int, what: str) -> TooManyResults:
    error = TooManyResults(f"the result has more than {limit} {what}, the limit; add a LIMIT (and OFFSET to page)")
    error.limit, error.what = limit, what
    return error


def _limited(result: QueryResult, max_rows: int | None) -> QueryResult:
    if max_rows is not None and len(result) > max_rows:
        raise _too_many(max_rows, "rows" if result.kind == "select" else "triples")
    return result


def _base_iri(base: str) -> str:
    from ntx_graph.params import expand_iri

    try:
        iri = expand_iri(base, {}).value
    except ParameterError:
        iri = ""
    if not iri or any(c in iri for c in '<>"{}|^`\\ '):
        raise NtxError(f"the base {base!r} is not an absolute IRI")
    return iri


def _rdflib_query(graph: rdflib.Graph, sparql: str, prefixes: Mapping[str, str],
                  bindings: Mapping[str, Term]) -> QueryResult:
    """rdflib's answer to ``sparql`` with the parameters bound as RDF terms
    through ``initBindings`` (never text). It is the one engine that does
    not take the VALUES block: rdflib evaluates a VALUES block at the start
    of a group so poorly that side-effects-needing-immediate-attention
    takes more than a minute on 20,000 triples, against 0.4 s with
    initBindings (drug-card: 15 s against 1 s); the answers are the same
    (tests/test_agreement.py, tests/test_executor.py)."""
    from ntx_graph.rdflib_bridge import run_query

    return run_query(graph, sparql, bindings, prefixes)


def _used_prefixes(info: QueryInfo, prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes among ``prefixes`` that the analysed query uses: pyoxigraph
    parses every namespace it is given on each query (42 for the bundled
    graph: about a third of a small query's time); those the query declares
    itself are left out (its own PREFIX wins). Codepoint escapes may spell a
    prefixed name the analysis does not see: then all are given."""
    if "\\u" in info.text or "\\U" in info.text:
        return prefixes
    return {prefix: prefixes[prefix] for prefix in info.names_used
            if prefix in prefixes and prefix not in info.prefixes}


#: Queries up to this many characters run on the caller's thread.
SMALL_QUERY = 4096


def _stack_for(text: str) -> int:
    """The stack a query needs, 0 for the default: pyoxigraph parses and
    evaluates recursively, at up to about 1.5 KB of stack per level, and a
    level can be one character (``!!!…true``) or two (``1+1+…``, FILTER
    after FILTER nests too), so a long query can overflow the 8 MiB a thread
    has and kill the process with SIGSEGV, with no message. A longer query
    gets 8 MiB plus 1 KiB per byte of its text (measured: 100,000 nested
    ``!`` run in 105 MiB); it is address space only, used as the recursion
    reaches it."""
    return 0 if len(text) <= SMALL_QUERY else (8 << 20) + 1024 * len(text.encode())


#: Held while a thread with its own stack size starts (the size is process-wide).
_STACK_LOCK = _thread.allocate_lock()


def _in_thread(work: Callable[[], _T], timeout: float | None, *, stack: int = 0) -> _T:
    """``work()`` with a time limit, on a thread with ``stack`` bytes of
    stack (0: the default; see :func:`_stack_for`); the thread is left to
    finish at the limit (Oxigraph releases the GIL while it evaluates, and a
    thread cannot be killed). Without either, ``work()`` runs here. Where
    the stack cannot be had (a worker's address-space limit), ``work()``
    runs on the default stack (a worker that dies is replaced).
    Written on ``_thread``, which the interpreter has loaded at start-up:
    ``threading`` costs every cold query about 1 ms to import. The thread is
    a daemon: the process does not wait for it at exit."""
    if timeout is None and not stack:
        return work()

    box: dict[str, _T | BaseException] = {}
    done = _thread.allocate_lock()
    done.acquire()

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as error:  # handed to the caller
            box["error"] = error
        finally:
            done.release()

    try:
        with _STACK_LOCK:  # the size applies to the threads started after it is set, in the whole process
            default = _thread.stack_size(stack)
            try:
                _thread.start_new_thread(target, ())
            finally:
                _thread.stack_size(default)
    except (RuntimeError, ValueError, MemoryError):  # no such stack here: the default one
        if timeout is None:
            return work()
        _thread.start_new_thread(target, ())
    if not done.acquire(timeout=-1 if timeout is None else min(timeout, _thread.TIMEOUT_MAX)):
        raise QueryTimeout(f"the query ran longer than the time limit of {timeout:g} s and was stopped")
    if "error" in box:
        error = box["error"]
        assert isinstance(error, BaseException)
        raise error
    return box["value"]  # type: ignore[return-value]


def _in_child(work: Callable[[], _T], timeout: float | None) -> _T:
    """``work()`` in a forked child process that is killed at ``timeout``:
    rdflib's engine is pure Python and holds the GIL (a catastrophic regex
    never yields), so a thread could not be stopped."""
    if timeout is None:
        return work()
    import multiprocessing
    import warnings

    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)

    def child() -> None:
        try:
            outcome: tuple[str, object] = ("value", work())
        except NtxError as error:
            outcome = ("error", error)
        except BaseException as error:
            outcome = ("error", NtxError(f"the query failed: {type(error).__name__}: {error}"))
        writer.send(outcome)

    with warnings.catch_warnings():  # fork with threads: the child only runs ``work``
        warnings.simplefilter("ignore", DeprecationWarning)
        process = context.Process(target=child, daemon=True, name="ntx-rdflib-query")
        process.start()
    writer.close()
    try:
        if not reader.poll(timeout):
            _log.debug("rdflib child %s ran past %s s: killed", process.pid, timeout)
            raise QueryTimeout(f"the query ran longer than the time limit of {timeout:g} s and was stopped")
        try:
            kind, value = reader.recv()
        except EOFError:
            raise NtxError(f"the rdflib engine stopped without an answer (exit code {process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join()
        reader.close()
    if kind == "error":
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[no-any-return]


def syntax_message(raw: str) -> str:
    """Oxigraph's parser message, shortened to one readable line.

    >>> syntax_message("error at 1:26: expected one of LATERAL, SERVICE, [_]")
    'at line 1, column 26: expected one of LATERAL, SERVICE'
    """
    text = " ".join(raw.split())
    where, _, rest = text.removeprefix("error ").partition(": ")
    if where.startswith("at ") and ":" in where:
        line, _, column = where[3:].partition(":")
        where = f"at line {line}, column {column}"
    if rest.startswith("expected one of "):
        items = [i.strip() for i in rest[len("expected one of "):].split(", ")]
        words = [i for i in items if i and "[" not in i and "]" not in i and "'" not in i]
        if "Prefix not found" in words:
            return f"{where}: unknown prefix"
        rest = "expected one of " + ", ".join(words) if words else "unexpected input"
    return f"{where}: {rest}"


def bind_class(name: str, prefixes: Mapping[str, str]) -> NamedNode:
    """The class IRI named in an ``of CLASS`` clause."""
    from ntx_graph.params import expand_iri

    return expand_iri(name, prefixes)
