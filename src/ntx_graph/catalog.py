"""Saved queries: ``queries/*.rq`` files with a ``#+`` comment header.

The header (grlc's ``#+ key: value`` convention) gives a title, a description
and typed parameters::

    #+ title: Side effects by severity
    #+ description: Side effects at or above a minimum severity,
    #+   most severe first.
    #+ param: min_severity iri of ntx:Severity = severity:mild | The lowest severity listed.

A parameter line reads ``NAME TYPE [of CLASS] [= DEFAULT] [| DESCRIPTION]``.
``TYPE`` is one of :data:`PARAM_TYPES`; ``of CLASS`` (iri parameters only)
requires the value to be an instance of that class in the graph. A parameter
without a default is required. In the query the parameter is the variable
``?NAME``; the engine binds it as an RDF term, never by editing the text.
"""

from __future__ import annotations

import os

from ntx_graph.errors import NtxError, QueryNotFound, reason
from ntx_graph.record import Record
from ntx_graph.resources import queries_folder

TYPE_CHECKING = False  # not typing's: the query path imports only what it runs (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    PathLike = str | os.PathLike[str]

#: The types a parameter may have.
PARAM_TYPES = ("iri", "string", "integer", "decimal", "boolean")


class Parameter(Record):
    """A typed parameter of a saved query."""

    __slots__ = ("name", "type", "default", "description", "of_class")  # noqa: RUF023 (the fields' order)
    name: str
    type: str
    default: str | None
    description: str
    of_class: str | None

    def __init__(self, name: str, type: str, default: str | None = None, description: str = "",
                 of_class: str | None = None) -> None:
        self._init(name=name, type=type, default=default, description=description, of_class=of_class)

    @property
    def required(self) -> bool:
        """Whether the caller must give a value."""
        return self.default is None


class SavedQuery(Record):
    """A saved SPARQL query and the metadata from its header."""

    __slots__ = ("name", "title", "description", "text", "file", "parameters")  # noqa: RUF023 (the fields' order)
    name: str
    title: str
    description: str
    text: str
    #: The ``.rq`` file, as a string (see :attr:`path`).
    file: str
    parameters: tuple[Parameter, ...]

    def __init__(self, name: str, title: str, description: str, text: str, path: PathLike,
                 parameters: tuple[Parameter, ...] = ()) -> None:
        self._init(name=name, title=title, description=description, text=text, file=os.fspath(path),
                   parameters=tuple(parameters))

    @property
    def path(self) -> Path:
        """The ``.rq`` file (pathlib is imported on first use: it costs the CLI's start-up ~3 ms)."""
        from pathlib import Path

        return Path(self.file)

    @property
    def form(self) -> str:
        """``SELECT``, ``CONSTRUCT``, ``ASK`` or ``DESCRIBE``, as the one
        analyser (:func:`ntx_graph.sparql_text.analyse`) reads the text;
        QuerySyntaxError if it cannot be read.

        >>> SavedQuery("q", "", "", "PREFIX ex: <http://e/> CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        ...            "q.rq").form
        'CONSTRUCT'
        """
        from ntx_graph.sparql_text import analyse

        return analyse(self.text).form

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if the query has one."""
        return next((p for p in self.parameters if p.name == name), None)


class HeaderError(NtxError):
    """A saved query's header is malformed."""


def parse_saved_query(path: PathLike, *, header_required: bool = True) -> SavedQuery:
    """Read one ``.rq`` file and its header (optional for a user's file, ``header_required=False``:
    the title is then the file's name).

    >>> from ntx_graph.resources import queries_dir
    >>> q = parse_saved_query(queries_dir() / "primary-uses.rq")
    >>> q.name, q.form
    ('primary-uses', 'SELECT')
    """
    file = os.fspath(path)
    shown = os.path.basename(file)
    try:
        with open(file, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise HeaderError(f"{shown}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
                          f"{error.start})") from None
    except OSError as error:
        raise HeaderError(f"{shown}: cannot be read ({reason(error)})") from None
    fields: dict[str, list[str]] = {}
    params: list[Parameter] = []
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            continue
        content = line[2:]
        if content.startswith("   ") and last is not None:  # continuation
            if last == "param":
                raise HeaderError(f"{shown}:{lineno}: a param line cannot be continued")
            fields[last][-1] += " " + content.strip()
            continue
        key, sep, value = content.strip().partition(":")
        if not sep:
            raise HeaderError(f"{shown}:{lineno}: expected '#+ key: value'")
        key, value = key.strip(), value.strip()
        last = key
        if key == "param":
            params.append(_parse_param(value, f"{shown}:{lineno}"))
        elif key in ("title", "description"):
            fields.setdefault(key, []).append(value)
        else:
            raise HeaderError(f"{shown}:{lineno}: unknown header key {key!r}")
    for key in ("title", "description"):
        if key not in fields:
            if header_required:
                raise HeaderError(f"{shown}: the header has no '#+ {key}:' line")
            fields[key] = [os.path.splitext(shown)[0] if key == "title" else ""]
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise HeaderError(f"{shown}: a parameter is declared twice")
    return SavedQuery(
        name=os.path.splitext(shown)[0],
        title=" ".join(fields["title"]),
        description=" ".join(fields["description"]),
        text=text,
        path=file,
        parameters=tuple(params),
    )


def _parse_param(value: str, where: str) -> Parameter:
    """``NAME TYPE [of CLASS] [= DEFAULT] [| DESCRIPTION]``, read with
    ``str`` methods: no regular expression to compile for ``list``."""
    head, _, description = value.partition("|")
    head, equals, default = head.partition("=")
    words = head.split()
    name, ptype = (words[0], words[1]) if len(words) in (2, 4) else ("", "")
    if (not (name.isidentifier() and name.isascii()) or not (ptype.isascii() and ptype.isalpha() and ptype.islower())
            or (len(words) == 4 and words[2] != "of")):
        raise HeaderError(f"{where}: expected 'NAME TYPE [of CLASS] [= DEFAULT] [| DESCRIPTION]'")
    if ptype not in PARAM_TYPES:
        raise HeaderError(f"{where}: unknown parameter type {ptype!r} (use one of {', '.join(PARAM_TYPES)})")
    of_class = words[3] if len(words) == 4 else None
    if of_class and ptype != "iri":
        raise HeaderError(f"{where}: 'of CLASS' is only for iri parameters")
    return Parameter(
        name=name,
        type=ptype,
        default=default.strip() if equals and default.strip() else None,
        description=description.strip(),
        of_class=of_class,
    )


_catalogs: dict[str, dict[str, SavedQuery]] = {}
_files: dict[str, SavedQuery] = {}


def _catalog(folder: str) -> dict[str, SavedQuery]:
    found = _catalogs.get(folder)
    if found is None:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".rq"))
        found = _catalogs[folder] = {n[:-3]: parse_saved_query(os.path.join(folder, n)) for n in names}
    return found


def saved_queries(folder: PathLike | None = None) -> list[SavedQuery]:
    """Every saved query, sorted by name."""
    return list(_catalog(os.fspath(folder or queries_folder())).values())


def get_saved_query(name: str, folder: PathLike | None = None) -> SavedQuery:
    """The saved query called ``name``, or that a unique prefix names; QueryNotFound naming the closest."""
    where = os.fspath(folder or queries_folder())
    exact = os.path.join(where, f"{name}.rq")
    if "/" not in name and name != ".." and os.path.isfile(exact):  # the common case: no need to read them all
        if exact not in _files:
            _files[exact] = parse_saved_query(exact)
        return _files[exact]
    catalog = _catalog(where)
    matches = _matches(catalog, name)
    if len(matches) == 1:
        return catalog[matches[0]]
    if matches:
        raise QueryNotFound(f"query name {name!r} is ambiguous: it could be {_names(matches)}")
    import difflib

    close = difflib.get_close_matches(name, list(catalog), n=3, cutoff=0.5)
    hint = f"; did you mean {_names(close)}?" if close else "; 'ntx-graph list' shows them all"
    raise QueryNotFound(f"no saved query named {name!r}{hint}")


def has_saved_query(name: str, folder: PathLike | None = None) -> bool:
    """Whether ``name`` names a saved query (or is a unique prefix of one)."""
    return len(_matches(_catalog(os.fspath(folder or queries_folder())), name)) == 1


def _matches(catalog: dict[str, SavedQuery], name: str) -> list[str]:
    """The names ``name`` selects: itself, else those it begins."""
    return [name] if name in catalog else [n for n in catalog if n.startswith(name)]


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)
