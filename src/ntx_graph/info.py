"""Facts about a loaded graph: size, classes, version and source checksum."""

from __future__ import annotations

import hashlib
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


def summary_text(kg: KnowledgeGraph) -> str:
    """The summary of ``kg`` as readable text: version, size, files, classes,
    and each source document with whether its file matches the recorded SHA-256."""
    from ntx_graph.provenance import source_files
    from ntx_graph.results import compact

    out = [f"ntx-graph {__version__}", f"triples: {len(kg)}", "files:", *(f"  {f}" for f in kg.files),
           "classes (instances):"]
    out += [f"  {compact(str(r['class']), kg.prefixes)}: {int(r['instances'])}"
            for r in kg.query(_CLASSES).to_python()]
    out.append("sources:")
    located = source_files(kg)  # resolved against the data file that declares each source
    for row in kg.query(_SOURCES).to_python():
        file = located.get(str(row["doc"]))
        actual = hashlib.sha256(file.read_bytes()).hexdigest() if file is not None else None
        state = "matches" if actual == row["sha"] else ("file missing" if actual is None else "MISMATCH")
        out.append(f"  {row['title'] or ''} ({row['path']})")
        out.append(f"    file {file} (present)" if file is not None else "    file missing")
        out.append(f"    sha256 {row['sha']} ({state})")
        if actual is not None and actual != row["sha"]:
            out.append(f"    the file's sha256 is {actual}")
    return "\n".join(out) + "\n"
