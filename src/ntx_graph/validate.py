"""Validate the graph against its SHACL shapes with pySHACL.

rdflib and pySHACL are imported inside :func:`validate` only, so importing this
module costs nothing until a validation actually runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

from ntx_graph import resources
from ntx_graph.errors import DataError

if TYPE_CHECKING:
    from rdflib import Graph
    from rdflib.namespace import NamespaceManager
    from rdflib.term import Node

__all__ = ["ValidationReport", "ValidationResult", "validate"]

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
        parts = ", ".join(f"{n} {severity}{'' if n == 1 else 's'}" for severity, n in sorted(counts.items()))
        shapes = len({result.source_shape for result in self.results})
        nodes = len({result.focus_node for result in self.results})
        verdict = "conforms" if self.conforms else "does not conform"
        return (f"{verdict}: {parts} from {shapes} shape{'' if shapes == 1 else 's'}"
                f" on {nodes} node{'' if nodes == 1 else 's'}")


def validate(
    extra_files: Sequence[str | PathLike[str]] = (),
    *,
    include_bundled: bool = True,
    shapes: Path | None = None,
    base: str | None = None,
) -> ValidationReport:
    """Validate the bundled ontology and data (unless ``include_bundled`` is
    false) plus ``extra_files`` against ``shapes`` (default: the bundled
    shapes), with RDFS inference and SHACL-AF (SPARQL targets). Files are
    read by ntx-graph's one RDF reader (relative IRIs against ``base``, by
    default each file's own location).

    Raises DataError, naming the file, if a file cannot be read or parsed.
    """
    import pyshacl
    import rdflib
    from pyparsing import ParseBaseException
    from pyshacl.errors import ConstraintLoadError, ReportableRuntimeError, ShapeLoadError

    from ntx_graph.rdflib_bridge import read_graph

    files = [*(resources.bundled_files() if include_bundled else []), *(Path(f) for f in extra_files)]
    data = read_graph(files, rdflib.Graph(bind_namespaces="core"), base=base)
    shapes_path = Path(shapes) if shapes is not None else resources.shapes_file()
    shapes_graph = read_graph([shapes_path], rdflib.Graph(bind_namespaces="core"))
    try:
        conforms, report, _ = pyshacl.validate(
            data, shacl_graph=shapes_graph, ont_graph=None, inference="rdfs", advanced=True)
    except (ShapeLoadError, ConstraintLoadError) as error:
        raise DataError(f"{shapes_path}: invalid shapes: {_one_line(str(error.message))}") from None
    except ReportableRuntimeError as error:
        raise DataError(f"{shapes_path}: SHACL validation failed: {_one_line(str(error.message))}") from None
    except ParseBaseException as error:  # a SPARQL query of the shapes that rdflib cannot parse
        raise DataError(f"{shapes_path}: invalid SPARQL in the shapes: {_one_line(str(error))}") from None
    results = _results(report, data.namespace_manager)
    text = "\n".join(line for line, _ in results)
    return ValidationReport(conforms=bool(conforms), results=tuple(r for _, r in results), text=text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _results(report: Graph, names: NamespaceManager) -> list[tuple[str, ValidationResult]]:
    """The results of a pySHACL report graph, sorted, each with its line of text."""
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
    return out


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
