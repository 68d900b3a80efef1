"""Validate the graph against its SHACL shapes, with either of two engines that
give the same report (``tests/test_shapes.py`` proves it on every fixture):

- ``pyshacl-turbo`` (default): the data is read by the one RDF reader into a
  pyoxigraph store, the RDFS entailments the shapes need are added by SPARQL
  updates (:func:`infer_rdfs`), and the Rust engine checks the shapes; 1.16
  million generated triples take about 35 s and under 1.4 GB (reading 4 s,
  inference 5 s, then about 12 s for the engine to parse and index the data
  and 12 s for the shapes);
- ``pyshacl``: the reference, pySHACL with full RDFS inference over rdflib;
  exact, but minutes and gigabytes for a million triples.

rdflib and the engines are imported only when a validation runs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from typing import Literal as Kind

from ntx_graph import resources
from ntx_graph.errors import DataError, ValidationFailed, one_line, plural

if TYPE_CHECKING:
    from pyoxigraph import Store
    from rdflib import Graph
    from rdflib.namespace import NamespaceManager
    from rdflib.term import Node

__all__ = ["ENGINES", "Engine", "ValidationReport", "ValidationResult", "infer_rdfs", "validate"]

Engine = Kind["pyshacl-turbo", "pyshacl"]
#: The SHACL engines, the default first.
ENGINES: tuple[Engine, ...] = ("pyshacl-turbo", "pyshacl")

_SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result: the node that broke a shape, along which path, and why."""

    focus_node: str
    path: str | None
    message: str
    severity: str
    source_shape: str


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of a validation; ``text`` has one line per result."""

    conforms: bool
    results: tuple[ValidationResult, ...]
    text: str

    def summary(self) -> str:
        """One line: whether the graph conforms, and how many results of each severity."""
        if not self.results:
            return "conforms: the graph satisfies every shape" if self.conforms else "does not conform"
        counts = Counter(result.severity.lower() for result in self.results)
        parts = ", ".join(plural(n, severity) for severity, n in sorted(counts.items()))
        shapes = len({result.source_shape for result in self.results})
        nodes = len({result.focus_node for result in self.results})
        verdict = "conforms" if self.conforms else "does not conform"
        return f"{verdict}: {parts} from {plural(shapes, 'shape')} on {plural(nodes, 'node')}"

    def raise_unless_conforms(self, what: str, advice: str) -> None:
        """ValidationFailed (``WHAT not conform to the shapes (SUMMARY); ADVICE``) unless the graph conforms."""
        if not self.conforms:
            raise ValidationFailed(f"{what} not conform to the shapes ({self.summary()}); {advice}",
                                   report=self.text, summary=self.summary())


def validate(
    extra_files: Sequence[str | PathLike[str]] = (),
    *,
    include_bundled: bool = True,
    shapes: Path | None = None,
    engine: Engine = "pyshacl-turbo",
    progress: IO[str] | None = None,
    base: str | None = None,
) -> ValidationReport:
    """Validate the bundled graph (unless ``include_bundled`` is false) and
    ``extra_files`` against ``shapes`` (default: the bundled shapes), with RDFS
    inference and SHACL-AF. Relative IRIs resolve against ``base``, by default
    each file's location. ``progress`` gets one line per step with its time.
    Raises DataError, naming the file, for an unreadable or invalid file or shapes.
    """
    files = [*(resources.bundled_files() if include_bundled else []), *(Path(f) for f in extra_files)]
    shapes_path = Path(shapes) if shapes is not None else resources.shapes_file()
    if engine == "pyshacl":
        return _validate_pyshacl(files, shapes_path, base)
    if engine != "pyshacl-turbo":
        raise ValueError(f"unknown SHACL engine {engine!r}; use one of {', '.join(ENGINES)}")
    steps = _Steps(progress)
    try:
        return _validate_turbo(files, shapes_path, steps, base)
    finally:
        steps.stop()  # an error in a step must not leave its display running


def _validate_pyshacl(files: Sequence[Path], shapes_path: Path, base: str | None) -> ValidationReport:
    """The reference: pySHACL over rdflib graphs, with pySHACL's own RDFS inference."""
    import pyshacl
    import rdflib
    from pyparsing import ParseBaseException
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    from ntx_graph.rdflib_bridge import read_graph

    data = read_graph(files, rdflib.Graph(bind_namespaces="core"), base=base)
    shapes_graph = read_graph([shapes_path], rdflib.Graph(bind_namespaces="core"))
    try:
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes_graph, ont_graph=None, inference="rdfs", advanced=True)
    except (ShapeLoadError, ConstraintLoadError) as error:
        raise DataError(f"{shapes_path}: invalid shapes: {one_line(error.message)}") from None
    except ReportableRuntimeError as error:
        raise DataError(f"{shapes_path}: SHACL validation failed: {one_line(error.message)}") from None
    except ParseBaseException as error:  # a SPARQL query of the shapes that rdflib cannot parse
        raise DataError(f"{shapes_path}: invalid SPARQL in the shapes: {one_line(error)}") from None
    return _report(bool(conforms), report, data.namespace_manager)


def _validate_turbo(files: Sequence[Path], shapes_path: Path, steps: _Steps, base: str | None) -> ValidationReport:
    """pyshacl-turbo over a pyoxigraph store that holds the data and its RDFS entailments."""
    import gc

    import pyshacl_turbo
    import rdflib
    from pyoxigraph import RdfFormat, Store

    from ntx_graph.rdf_io import load_file

    steps.start(f"reading {plural(len(files), 'file')}")
    store = Store()
    prefixes: dict[str, str] = {}
    for path in files:
        load_file(store, path, prefixes, base=base)
    shapes_store = Store()
    load_file(shapes_store, shapes_path)
    steps.done(f"read {plural(len(files), 'file')}")
    steps.start("inferring the RDFS triples the shapes read")
    added = infer_rdfs(store)
    steps.done(f"inferred {added:,} RDFS triples")
    data: object = store
    # Hand the engine the store's text (its own snapshot format) and free the store first: 40% less
    # memory. Given the Store, pyshacl-turbo dumps this same text itself, with the store still alive;
    # either way its fixed cost (about 12 s of CPU at a million triples, profiled) is parsing that
    # text and indexing the quads in its own dataset, so it follows the number of quads.
    try:
        from pyshacl_turbo.rdf import Input

        text = (store.dump(format=RdfFormat.N_QUADS) or b"").decode()
        data = Input(text, "oxigraph-nquads", None, {}, preserve_ids=True)
        del store
        gc.collect()
        _release_memory()
    except (ImportError, TypeError):  # another pyshacl-turbo version: the public Store input
        pass
    steps.start("checking the shapes")
    try:
        conforms, report, _ = pyshacl_turbo.validate(data, shacl_graph=shapes_store, ont_graph=None,
                                                     inference=None, advanced=True)
    except ValueError as error:  # pyshacl-turbo reports invalid shapes and SPARQL as ValueError
        text = one_line(error)
        kind = "invalid SPARQL in the shapes" if text.startswith("SPARQL") else "invalid shapes"
        raise DataError(f"{shapes_path}: {kind}: {text[:300]}") from None
    except pyshacl_turbo.ReportableRuntimeError as error:
        raise DataError(f"{shapes_path}: SHACL validation failed: {one_line(error)[:300]}") from None
    del data
    names = rdflib.Graph(bind_namespaces="core").namespace_manager
    for prefix, namespace in prefixes.items():
        names.bind(prefix, namespace, override=False)
    result = _report(bool(conforms), report, names)
    steps.done(f"checked the shapes: {result.summary()}")
    return result


_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
#: (name, pairs query, update): each rule adds the entailments of one kind of ontology axiom.
_RULES = (
    ("subPropertyOf", f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{_RDFS}subPropertyOf>+ ?b FILTER (?a != ?b) }}",
     "INSERT {{ ?x ?b ?y }} WHERE {{ VALUES (?a ?b) {{ {} }} ?x ?a ?y }}"),
    ("domain", f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{_RDFS}domain> ?b }}",
     "INSERT {{ ?x a ?b }} WHERE {{ VALUES (?a ?b) {{ {} }} ?x ?a [] }}"),
    ("range", f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{_RDFS}range> ?b }}",
     "INSERT {{ ?y a ?b }} WHERE {{ VALUES (?a ?b) {{ {} }} [] ?a ?y FILTER (!isLiteral(?y)) }}"),
    ("subClassOf", f"SELECT DISTINCT ?a ?b WHERE {{ ?a <{_RDFS}subClassOf>+ ?b FILTER (?a != ?b) }}",
     "INSERT {{ ?x a ?b }} WHERE {{ VALUES (?a ?b) {{ {} }} ?x a ?a }}"),
)


def infer_rdfs(store: Store) -> int:
    """Add to ``store`` the RDFS entailments the shapes rely on; return how many triples were added.

    In order: ``rdfs:subPropertyOf``, ``rdfs:domain``, ``rdfs:range`` (IRI and
    blank node values only), then ``rdfs:subClassOf``, each one SPARQL update whose
    ``VALUES`` block holds the axioms read from the store, so the work follows the
    instances concerned. What no shape reads (``rdfs:Resource`` types, axiomatic
    triples) is left out; ``tests/test_shapes.py`` checks that the reports stay
    those of pySHACL's full RDFS inference.
    """
    from pyoxigraph import NamedNode

    before = len(store)
    for _, pairs_query, update in _RULES:
        pairs = sorted({f"({row[0]} {row[1]})" for row in store.query(pairs_query)  # type: ignore[union-attr]
                        if isinstance(row[0], NamedNode) and isinstance(row[1], NamedNode)})
        if pairs:
            store.update(update.format(" ".join(pairs)))
    return len(store) - before


def _release_memory() -> None:
    """Hand freed heap pages back to the operating system (glibc), so the peak stays low."""
    import contextlib
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


#: Seconds between two updates of a step's elapsed time on a terminal.
TICK_SECONDS = 0.5


class _Steps:
    """One line per step of a validation on a stream, each with its time. On a terminal, a step
    announced by :meth:`start` shows its elapsed time while it runs (pyoxigraph and pyshacl-turbo
    release the GIL, so a thread can redraw the line), and :meth:`done` replaces it by the step's line."""

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.last = time.perf_counter()
        isatty = getattr(out, "isatty", None)
        self.live = bool(out is not None and callable(isatty) and isatty())
        self._ticker: tuple[Any, Any] | None = None

    def start(self, text: str) -> None:
        """Announce a step that may take a while (on a terminal only)."""
        import threading

        if not self.live or self.out is None:
            return
        out, began, stop = self.out, self.last, threading.Event()

        def tick() -> None:
            while not stop.wait(TICK_SECONDS):
                out.write(f"\r\x1b[Kntx-graph: validation: {text}... {time.perf_counter() - began:.0f} s")
                out.flush()

        thread = threading.Thread(target=tick, name="validation-progress", daemon=True)
        thread.start()
        self._ticker = (stop, thread)

    def stop(self) -> None:
        """Stop the running step's display (if any) and clear its line."""
        if self._ticker is not None:
            stop, thread = self._ticker
            stop.set()
            thread.join()
            self._ticker = None
            if self.out is not None:
                self.out.write("\r\x1b[K")

    def done(self, text: str) -> None:
        self.stop()
        now = time.perf_counter()
        if self.out is not None:
            self.out.write(f"ntx-graph: validation: {text} ({now - self.last:.1f} s)\n")
            self.out.flush()
        self.last = now


def _report(conforms: bool, report: Graph, names: NamespaceManager) -> ValidationReport:
    """The report of a SHACL report graph: its results sorted, one line of text each."""
    from rdflib import RDF, Literal, URIRef

    sh = _SH
    out = []
    for node in set(report.subjects(RDF.type, URIRef(sh + "ValidationResult"))):
        focus = report.value(node, URIRef(sh + "focusNode"))
        path = report.value(node, URIRef(sh + "resultPath"))
        severity = report.value(node, URIRef(sh + "resultSeverity"))
        shape = report.value(node, URIRef(sh + "sourceShape"))
        component = report.value(node, URIRef(sh + "sourceConstraintComponent"))
        messages = sorted(
            (m for m in report.objects(node, URIRef(sh + "resultMessage")) if isinstance(m, Literal)),
            key=lambda m: (m.language not in (None, "en"), str(m)))
        message = str(messages[0]) if messages else _local_name(component) or "constraint violated"
        result = ValidationResult(
            focus_node=_plain(focus),
            path=None if path is None else _path(report, path, None),
            message=message,
            severity=_local_name(severity) or "Violation",
            source_shape=_plain(shape),
        )
        where = _short(focus, names)
        if path is not None:
            where += f" -> {_path(report, path, names)}"
        out.append((f"{where}: {message}", result))
    out.sort(key=lambda item: (item[1].focus_node, item[1].path or "", item[1].source_shape, item[1].message))
    return ValidationReport(conforms, tuple(r for _, r in out), "\n".join(line for line, _ in out))


def _plain(term: Node | None) -> str:
    """A term as a plain string: an IRI, ``_:id`` for a blank node, a literal's lexical form."""
    from rdflib import BNode

    if term is None:
        return ""
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _short(term: Node | None, names: NamespaceManager | None) -> str:
    """A term as a prefixed name where a prefix fits (``ind:hiv``), else as N-Triples."""
    if term is None:
        return ""
    if names is None:
        return _plain(term)
    return str(term.n3(names))


def _path(graph: Graph, path: Node, names: NamespaceManager | None) -> str:
    """A SHACL property path in SPARQL property path syntax (``^p``, ``p/q``, ``p|q``, ``p*``)."""
    from rdflib import RDF, BNode, URIRef
    from rdflib.collection import Collection

    if not isinstance(path, BNode):
        return _short(path, names)
    if graph.value(path, RDF.first) is not None:
        items = [_path(graph, item, names) for item in Collection(graph, path)]
        return "/".join(items) if items else _short(path, names)
    for name, template in (("inversePath", "^{}"), ("zeroOrMorePath", "({})*"),
                           ("oneOrMorePath", "({})+"), ("zeroOrOnePath", "({})?")):
        inner = graph.value(path, URIRef(_SH + name))
        if inner is not None:
            return template.format(_path(graph, inner, names))
    alternatives = graph.value(path, URIRef(_SH + "alternativePath"))
    if alternatives is not None:
        return "(" + "|".join(_path(graph, item, names) for item in Collection(graph, alternatives)) + ")"
    return _short(path, names)


def _local_name(term: Node | None) -> str:
    if term is None:
        return ""
    text = str(term)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
