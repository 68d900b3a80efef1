"""Locate the bundled ontology, data, shapes, sources and saved queries.

In a wheel they live in ``ntx_graph/data/``; in a source checkout they are the
repository's top-level ``ontology/`` and ``queries/`` folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

#: Files of the OWL ontology and the SKOS value scales, in load order.
ONTOLOGY_FILES = ("ntx.ttl", "scales.ttl")
#: Files of the facts (the instance data), in load order.
DATA_FILES = ("naltrexone.ttl",)
SHAPES_FILE = "shapes.ttl"
SOURCE_FILE = "sources/facts-about-naltrexone.txt"


@cache
def _folder(name: str) -> Path:
    for candidate in (_PACKAGE / "data" / name, _PACKAGE.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled {name}/ folder is missing from the ntx-graph installation")


def ontology_dir() -> Path:
    """The folder holding ``ntx.ttl``, ``scales.ttl``, the data, shapes and sources."""
    return _folder("ontology")


def queries_dir() -> Path:
    """The folder holding the saved ``*.rq`` queries."""
    return _folder("queries")


def ontology_files() -> list[Path]:
    """The ontology and value-scale Turtle files."""
    return [ontology_dir() / name for name in ONTOLOGY_FILES]


def data_files() -> list[Path]:
    """The Turtle files with the facts."""
    return [ontology_dir() / name for name in DATA_FILES]


def bundled_files(*, ontology: bool = True) -> list[Path]:
    """Every Turtle file of the bundled graph (without the shapes)."""
    return (ontology_files() if ontology else []) + data_files()


def shapes_file() -> Path:
    """The SHACL shapes."""
    return ontology_dir() / SHAPES_FILE


def source_file() -> Path:
    """The cited source document, byte for byte."""
    return ontology_dir() / SOURCE_FILE
