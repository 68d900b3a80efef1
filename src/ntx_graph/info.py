"""Facts about a loaded graph: size, classes, version and source checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ntx_graph import __version__

if TYPE_CHECKING:
    from ntx_graph.graph import KnowledgeGraph

_CLASSES = """
SELECT ?class (COUNT(DISTINCT ?s) AS ?instances) WHERE {
  ?s a ?class .
  FILTER(STRSTARTS(STR(?class), "https://w3id.org/ntx-graph/def/"))
} GROUP BY ?class ORDER BY DESC(?instances) ?class
"""
_SOURCES = """
SELECT ?doc ?title ?path ?sha WHERE {
  ?doc a ntx:SourceDocument ; ntx:repositoryPath ?path ; ntx:sha256 ?sha .
  OPTIONAL { ?doc dcterms:title ?title }
} ORDER BY ?doc
"""


@dataclass(frozen=True)
class SourceInfo:
    """A source document: its recorded checksum and whether the file matches."""

    iri: str
    title: str
    path: str
    recorded_sha256: str
    actual_sha256: str | None
    file: Path | None = None

    @property
    def matches(self) -> bool:
        """Whether the file's SHA-256 equals the recorded one."""
        return self.recorded_sha256 == self.actual_sha256


@dataclass(frozen=True)
class GraphInfo:
    """Summary of a loaded graph."""

    version: str
    triples: int
    files: tuple[str, ...]
    classes: tuple[tuple[str, int], ...]
    sources: tuple[SourceInfo, ...]


def graph_info(kg: KnowledgeGraph) -> GraphInfo:
    """Collect the summary of ``kg``."""
    classes = tuple((str(r["class"]), int(r["instances"])) for r in kg.query(_CLASSES).to_python())
    from ntx_graph.provenance import source_files

    located = source_files(kg)  # resolved against the data file that declares each source
    sources = []
    for row in kg.query(_SOURCES).to_python():
        file = located.get(str(row["doc"]))
        actual = hashlib.sha256(file.read_bytes()).hexdigest() if file is not None else None
        sources.append(SourceInfo(row["doc"], row["title"] or "", row["path"], row["sha"], actual, file))
    return GraphInfo(__version__, len(kg), tuple(str(f) for f in kg.files), classes, tuple(sources))


def summary_text(kg: KnowledgeGraph) -> str:
    """The summary as readable text."""
    info = graph_info(kg)
    out = [f"ntx-graph {info.version}", f"triples: {info.triples}", "files:"]
    out += [f"  {f}" for f in info.files]
    out.append("classes (instances):")
    out += [f"  {_short(c, kg.prefixes)}: {n}" for c, n in info.classes]
    out.append("sources:")
    for s in info.sources:
        state = "matches" if s.matches else ("file missing" if s.actual_sha256 is None else "MISMATCH")
        out.append(f"  {s.title} ({s.path})")
        out.append(f"    file {s.file} (present)" if s.file is not None else "    file missing")
        out.append(f"    sha256 {s.recorded_sha256} ({state})")
        if s.actual_sha256 is not None and not s.matches:
            out.append(f"    the file's sha256 is {s.actual_sha256}")
    return "\n".join(out) + "\n"


def _short(iri: str, prefixes: dict[str, str]) -> str:
    from ntx_graph.results import compact

    return compact(iri, prefixes)
