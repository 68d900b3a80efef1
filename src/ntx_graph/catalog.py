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

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from ntx_graph.errors import NtxError, QueryNotFound
from ntx_graph.record import Record
from ntx_graph.resources import queries_dir

#: The types a parameter may have.
PARAM_TYPES = ("iri", "string", "integer", "decimal", "boolean")

_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>[a-z]+)"
    r"(?:\s+of\s+(?P<cls>\S+))?"
    r"(?:\s*=\s*(?P<default>[^|]*?))?"
    r"\s*(?:\|\s*(?P<description>.*))?$"
)


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

    __slots__ = ("name", "title", "description", "text", "path", "parameters")  # noqa: RUF023 (the fields' order)
    name: str
    title: str
    description: str
    text: str
    path: Path
    parameters: tuple[Parameter, ...]

    def __init__(self, name: str, title: str, description: str, text: str, path: Path,
                 parameters: tuple[Parameter, ...] = ()) -> None:
        self._init(name=name, title=title, description=description, text=text, path=path,
                   parameters=tuple(parameters))

    @property
    def form(self) -> str:
        """``SELECT``, ``CONSTRUCT``, ``ASK`` or ``DESCRIBE``, as the one
        analyser (:func:`ntx_graph.sparql_text.analyse`) reads the text;
        QuerySyntaxError if it cannot be read.

        >>> SavedQuery("q", "", "", "PREFIX ex: <http://e/> CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
        ...            Path("q.rq")).form
        'CONSTRUCT'
        """
        from ntx_graph.sparql_text import analyse

        return analyse(self.text).form

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if the query has one."""
        return next((p for p in self.parameters if p.name == name), None)


class HeaderError(NtxError):
    """A saved query's header is malformed."""


def parse_query_file(path: Path) -> SavedQuery:
    """Read a user's ``.rq`` file: its ``#+`` header is optional (the title
    is then the file's name)."""
    return parse_saved_query(path, header_required=False)


def parse_saved_query(path: Path, *, header_required: bool = True) -> SavedQuery:
    """Read one ``.rq`` file and its header.

    >>> from ntx_graph.resources import queries_dir
    >>> q = parse_saved_query(queries_dir() / "primary-uses.rq")
    >>> q.name, q.form
    ('primary-uses', 'SELECT')
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise HeaderError(f"{path.name}: not UTF-8 text (byte 0x{error.object[error.start]:02x} at offset "
                          f"{error.start})") from None
    except OSError as error:
        raise HeaderError(f"{path.name}: cannot be read ({error.strerror or error})") from None
    fields: dict[str, list[str]] = {}
    params: list[Parameter] = []
    last: str | None = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("#+"):
            continue
        content = line[2:]
        if content.startswith("   ") and last is not None:  # continuation
            if last == "param":
                raise HeaderError(f"{path.name}:{lineno}: a param line cannot be continued")
            fields[last][-1] += " " + content.strip()
            continue
        key, sep, value = content.strip().partition(":")
        if not sep:
            raise HeaderError(f"{path.name}:{lineno}: expected '#+ key: value'")
        key, value = key.strip(), value.strip()
        last = key
        if key == "param":
            params.append(_parse_param(value, f"{path.name}:{lineno}"))
        elif key in ("title", "description"):
            fields.setdefault(key, []).append(value)
        else:
            raise HeaderError(f"{path.name}:{lineno}: unknown header key {key!r}")
    for key in ("title", "description"):
        if key not in fields:
            if header_required:
                raise HeaderError(f"{path.name}: the header has no '#+ {key}:' line")
            fields[key] = [path.stem if key == "title" else ""]
    names = [p.name for p in params]
    if len(set(names)) != len(names):
        raise HeaderError(f"{path.name}: a parameter is declared twice")
    return SavedQuery(
        name=path.stem,
        title=" ".join(fields["title"]),
        description=" ".join(fields["description"]),
        text=text,
        path=path,
        parameters=tuple(params),
    )


def _parse_param(value: str, where: str) -> Parameter:
    match = _PARAM.match(value)
    if not match:
        raise HeaderError(f"{where}: expected 'NAME TYPE [of CLASS] [= DEFAULT] [| DESCRIPTION]'")
    ptype = match.group("type")
    if ptype not in PARAM_TYPES:
        raise HeaderError(f"{where}: unknown parameter type {ptype!r} (use one of {', '.join(PARAM_TYPES)})")
    if match.group("cls") and ptype != "iri":
        raise HeaderError(f"{where}: 'of CLASS' is only for iri parameters")
    default = match.group("default")
    return Parameter(
        name=match.group("name"),
        type=ptype,
        default=default.strip() if default is not None and default.strip() else None,
        description=(match.group("description") or "").strip(),
        of_class=match.group("cls"),
    )


@cache
def _catalog(folder: Path) -> dict[str, SavedQuery]:
    return {p.stem: parse_saved_query(p) for p in sorted(folder.glob("*.rq"))}


def saved_queries(folder: Path | None = None) -> list[SavedQuery]:
    """Every saved query, sorted by name."""
    return list(_catalog(folder or queries_dir()).values())


def get_saved_query(name: str, folder: Path | None = None) -> SavedQuery:
    """The saved query called ``name``; a unique prefix of a name also works.

    Raises :class:`QueryNotFound` naming the closest names.
    """
    folder = folder or queries_dir()
    exact = folder / f"{name}.rq"
    if "/" not in name and name != ".." and exact.is_file():  # the common case: no need to read them all
        return _one_file(exact)
    catalog = _catalog(folder)
    if name in catalog:
        return catalog[name]
    starting = [n for n in catalog if n.startswith(name)]
    if len(starting) == 1:
        return catalog[starting[0]]
    if len(starting) > 1:
        raise QueryNotFound(f"query name {name!r} is ambiguous: it could be {_names(starting)}")
    import difflib

    close = difflib.get_close_matches(name, list(catalog), n=3, cutoff=0.5)
    hint = f"; did you mean {_names(close)}?" if close else "; 'ntx-graph list' shows them all"
    raise QueryNotFound(f"no saved query named {name!r}{hint}")


@cache
def _one_file(path: Path) -> SavedQuery:
    return parse_saved_query(path)


def has_saved_query(name: str, folder: Path | None = None) -> bool:
    """Whether ``name`` names a saved query (or is a unique prefix of one)."""
    catalog = _catalog(folder or queries_dir())
    return name in catalog or len([n for n in catalog if n.startswith(name)]) == 1


def _names(names: Iterable[str]) -> str:
    return ", ".join(repr(n) for n in names)
