"""Locate the bundled ontology, data, shapes, sources and saved queries, and load the bundled graph.

They are in ``ntx_graph/data/`` in a wheel, the repository's ``ontology/`` and
``queries/`` in a checkout. A wheel also carries the graph prebuilt
(:func:`write_prebuilt`, run by ``hatch_build.py``): one N-Triples file per
Turtle file, headed by its prefixes, which loads in half the time of parsing
the Turtle (a tenth of a cold query). Paths on the query path are strings:
importing ``pathlib`` costs the CLI's start-up about 3 ms.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    from pathlib import Path

    from pyoxigraph import Store

_PACKAGE = os.path.dirname(os.path.realpath(__file__))

#: Files of the OWL ontology and the SKOS value scales, in load order.
ONTOLOGY_FILES = ("ntx.ttl", "scales.ttl")
#: Files of the facts (the instance data), in load order.
DATA_FILES = ("naltrexone.ttl",)
SHAPES_FILE = "shapes.ttl"
SOURCE_FILE = "sources/facts-about-naltrexone.txt"
#: The folder of the prebuilt graph, inside the package's ``data/``.
PREBUILT = "prebuilt"
#: A prebuilt file's header line: ``#@prefix NAME: <IRI>`` (an N-Triples comment).
_PREFIX_LINE = "#@prefix "

_folders: dict[str, str] = {}


def _folder(name: str) -> str:
    found = _folders.get(name)
    if found is None:
        for candidate in (os.path.join(_PACKAGE, "data", name), os.path.join(os.path.dirname(os.path.dirname(
                _PACKAGE)), name)):
            if os.path.isdir(candidate):
                found = _folders[name] = candidate
                break
        else:
            raise FileNotFoundError(f"the bundled {name}/ folder is missing from the ntx-graph installation")
    return found


def ontology_folder() -> str:
    """:func:`ontology_dir` as a string."""
    return _folder("ontology")


def queries_folder() -> str:
    """:func:`queries_dir` as a string."""
    return _folder("queries")


def bundled_paths(*, ontology: bool = True) -> list[str]:
    """:func:`bundled_files` as strings."""
    names = (*ONTOLOGY_FILES, *DATA_FILES) if ontology else DATA_FILES
    return [os.path.join(ontology_folder(), name) for name in names]


def ontology_dir() -> Path:
    """The folder holding ``ntx.ttl``, ``scales.ttl``, the data, shapes and sources."""
    from pathlib import Path

    return Path(ontology_folder())


def queries_dir() -> Path:
    """The folder holding the saved ``*.rq`` queries."""
    from pathlib import Path

    return Path(queries_folder())


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


# -- the bundled graph, prebuilt or parsed ----------------------------------------


def prebuilt_folder() -> str | None:
    """The folder of the prebuilt graph in an installed wheel; None in a
    source checkout (or a wheel built without it)."""
    folder = os.path.join(_PACKAGE, "data", PREBUILT)
    return folder if os.path.isdir(folder) else None


def prebuilt_name(turtle: str) -> str:
    """The prebuilt file's name for a bundled Turtle file's (``ntx.ttl`` -> ``ntx.nt``)."""
    return os.path.splitext(os.path.basename(turtle))[0] + ".nt"


def load_bundled(store: Store, prefixes: dict[str, str], *, ontology: bool = True,
                 prebuilt: str | None = "") -> list[str]:
    """Load the bundled graph into ``store`` (not validated: the tests and the build check it)
    and its files' prefixes into ``prefixes`` (an earlier file's binding wins); returns its
    Turtle files. ``prebuilt``: the prebuilt files' folder (default the installed one; None: parse the Turtle).
    """
    from pyoxigraph import RdfFormat, parse

    folder = prebuilt_folder() if prebuilt == "" else prebuilt
    files = bundled_paths(ontology=ontology)
    for turtle in files:
        if folder is not None:
            path = os.path.join(folder, prebuilt_name(turtle))
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    if not line.startswith(_PREFIX_LINE):
                        break
                    name, _, iri = line[len(_PREFIX_LINE):].rstrip("\n").partition(": <")
                    prefixes.setdefault(name, iri[:-1])
            # our own dump, checked when it was built: the lenient parser skips re-checking every IRI
            store.load(path=path, format=RdfFormat.N_TRIPLES, lenient=True)
            continue
        parser = parse(path=turtle, format=RdfFormat.TURTLE, rename_blank_nodes=True)
        store.extend(parser)
        for name, iri in parser.prefixes.items():
            prefixes.setdefault(str(name), str(iri))
    return files


def write_prebuilt(folder: str) -> list[str]:
    """Write the prebuilt graph into ``folder`` (made if missing), one
    N-Triples file per bundled Turtle file, each headed by its prefixes;
    returns the files written. Each file is read back and must hold the
    same triples as its Turtle source (ValueError otherwise)."""
    from pyoxigraph import DefaultGraph, RdfFormat, Store, parse

    os.makedirs(folder, exist_ok=True)
    written = []
    for turtle in bundled_paths():
        source = Store()
        parser = parse(path=turtle, format=RdfFormat.TURTLE, rename_blank_nodes=True)
        source.extend(parser)
        head = "".join(f"{_PREFIX_LINE}{name}: <{iri}>\n" for name, iri in parser.prefixes.items())
        body = source.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()) or b""
        lines = sorted(body.splitlines())  # a stable file: the same Turtle gives the same bytes
        target = os.path.join(folder, prebuilt_name(turtle))
        with open(target, "wb") as handle:
            handle.write(head.encode("utf-8") + b"".join(line + b"\n" for line in lines))
        check = Store()
        check.load(path=target, format=RdfFormat.N_TRIPLES)
        if set(check) != set(source):
            raise ValueError(f"{target} does not hold the triples of {turtle}")
        written.append(target)
    return written
