"""The knowledge graph: the bundled ontology and facts, plus the user's own
files, loaded into an in-process pyoxigraph store and queried there (or, on
request, with rdflib's SPARQL engine)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from typing import Literal as Kind

from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, Store, Triple, Variable

from ntx_graph import resources
from ntx_graph.catalog import SavedQuery, get_saved_query, saved_queries
from ntx_graph.errors import NtxError, ParameterError, QuerySyntaxError, QueryTimeout
from ntx_graph.params import Term, bind
from ntx_graph.rdf_io import export_store, load_file
from ntx_graph.results import QueryResult
from ntx_graph.sparql_text import federation_keywords, is_update

if TYPE_CHECKING:
    import rdflib

    from ntx_graph.validate import ValidationReport

Engine = Kind["oxigraph", "rdflib"]
ENGINES: tuple[Engine, ...] = ("oxigraph", "rdflib")
_T = TypeVar("_T")
_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class KnowledgeGraph:
    """An ntx-graph knowledge graph held in memory.

    >>> kg = KnowledgeGraph.open()
    >>> kg.run("is-narcotic").boolean
    False
    >>> [row["conditionLabel"] for row in kg.run("approved-indications").to_python()]
    ['alcohol dependence', 'opioid dependence']
    """

    def __init__(self, store: Store, files: Sequence[Path], prefixes: Mapping[str, str]) -> None:
        self.store = store
        self.files = list(files)
        self.prefixes = dict(prefixes)
        self.base: str | None = None  # the base IRI the data files were read with, if not their own
        self._rdflib_graph: rdflib.Graph | None = None

    @classmethod
    def open(cls, data: Sequence[str | Path] = (), *, include_bundled: bool = True,
             include_ontology: bool = True, base: str | None = None) -> KnowledgeGraph:
        """Load the bundled graph (ontology, scales and facts) and ``data``
        files (Turtle, N-Triples, RDF/XML, JSON-LD, TriG; guessed from the
        extension). Relative IRIs in ``data`` resolve against ``base``, by
        default each file's own location. Raises DataError naming the file
        on any problem."""
        bundled = resources.bundled_files(ontology=include_ontology) if include_bundled else []
        user = [Path(p) for p in data]
        store = Store()
        prefixes: dict[str, str] = {}
        for path in bundled:
            load_file(store, path, prefixes)
        for path in user:
            load_file(store, path, prefixes, base=base)
        graph = cls(store, bundled + user, prefixes)
        graph.base = base
        return graph

    def __len__(self) -> int:
        return len(self.store)

    # -- queries ---------------------------------------------------------

    def saved_queries(self) -> list[SavedQuery]:
        """Every saved query."""
        return saved_queries()

    def run(self, query: str | SavedQuery, params: Mapping[str, str] | None = None, *,
            engine: Engine = "oxigraph", timeout: float | None = None) -> QueryResult:
        """Run a saved query (by name, unique name prefix, or object) with
        parameter values given as text; they are typed, checked and bound as
        RDF terms."""
        saved = query if isinstance(query, SavedQuery) else get_saved_query(query)
        bindings = self.bind(saved, params or {})
        return self.query(saved.text, bindings, engine=engine, timeout=timeout)

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
              timeout: float | None = None, allow_federation: bool = False) -> QueryResult:
        """Run SPARQL text with variables pre-bound to RDF terms.

        Updates are refused (the graph is read-only). SERVICE, FROM and FROM
        NAMED are refused unless ``allow_federation`` is true, so that no query
        reaches the network unless the caller asks for it. ``timeout`` (in
        seconds) raises QueryTimeout; the evaluation itself cannot be
        interrupted and finishes in the background.
        """
        if is_update(sparql):
            raise QuerySyntaxError("SPARQL Update is not accepted: ntx-graph queries are read-only")
        found = federation_keywords(sparql)
        if found and not allow_federation:
            raise NtxError(f"{found[0]} is refused: it could fetch remote data; allow federation explicitly "
                           "to use it (--allow-federation)")
        if engine == "rdflib" and any(k.startswith("FROM") for k in found):
            raise NtxError(f"{next(k for k in found if k.startswith('FROM'))} is not supported by the rdflib "
                           "engine (it would ignore it); use the oxigraph engine")
        bound = dict(bindings or {})
        if engine == "rdflib":
            return self._with_timeout(lambda: self._rdflib_query(sparql, bound), timeout)
        if engine != "oxigraph":
            raise NtxError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")
        return self._with_timeout(lambda: self._oxigraph_query(sparql, bound), timeout)

    def _oxigraph_query(self, sparql: str, bindings: Mapping[str, Term]) -> QueryResult:
        try:
            answer = self.store.query(sparql, prefixes=self.prefixes,
                                      substitutions={Variable(k): v for k, v in bindings.items()})
        except SyntaxError as error:
            raise QuerySyntaxError(f"SPARQL syntax error {syntax_message(str(error))}") from None
        except RuntimeError as error:
            match = re.search(r"variable \?(\w+) in its SELECT projection", str(error))
            if match:
                raise NtxError(f"parameter ?{match.group(1)} must also appear in the SELECT clause: "
                               "the engine binds only selected variables") from None
            raise NtxError(f"the query cannot be evaluated: {error}") from None
        failure = ""
        try:
            if isinstance(answer, QueryBoolean):
                return QueryResult("ask", boolean=bool(answer), prefixes=self.prefixes)
            if isinstance(answer, QuerySolutions):
                variables = [v.value for v in answer.variables]
                rows = [tuple(solution[i] for i in range(len(variables))) for solution in answer]
                return QueryResult("select", variables=variables, rows=rows, prefixes=self.prefixes)
            triples = [Triple(t.subject, t.predicate, t.object) for t in answer]
            return QueryResult("graph", triples=triples, prefixes=self.prefixes)
        except (OSError, RuntimeError, ValueError) as error:
            failure = str(error) or type(error).__name__
        finally:
            del answer  # pyoxigraph's iterator must be dropped on the thread that made it
        # raised outside the except block: no __context__ keeps the iterator alive
        raise NtxError(f"the query failed: {failure}")

    def _rdflib_query(self, sparql: str, bindings: Mapping[str, Term]) -> QueryResult:
        from ntx_graph.rdflib_bridge import run_query

        return run_query(self.to_rdflib(), sparql, bindings, self.prefixes)

    @staticmethod
    def _with_timeout(work: Callable[[], _T], timeout: float | None) -> _T:
        if timeout is None:
            return work()
        box: dict[str, _T | BaseException] = {}

        def target() -> None:
            try:
                box["value"] = work()
            except BaseException as error:  # handed to the caller
                box["error"] = error

        thread = threading.Thread(target=target, daemon=True, name="ntx-query")
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            raise QueryTimeout(f"the query ran longer than the time limit of {timeout:g} s and was stopped")
        if "error" in box:
            error = box["error"]
            assert isinstance(error, BaseException)
            raise error
        value = box["value"]
        return value  # type: ignore[return-value]

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

    def export(self, fmt: str = "turtle") -> bytes:
        """The whole graph in ``fmt`` (turtle, ntriples, jsonld, rdfxml,
        trig): sorted, prefixes kept, byte-identical across runs."""
        return export_store(self.store, fmt, self.prefixes)

    def validate(self) -> ValidationReport:
        """The SHACL report for this graph's files (runs pyshacl on rdflib)."""
        from ntx_graph.validate import validate

        bundled = set(resources.bundled_files())
        extra = [p for p in self.files if p not in bundled]
        return validate(extra, include_bundled=any(p in bundled for p in self.files), base=self.base)


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
