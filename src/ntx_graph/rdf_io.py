"""Reading RDF files into pyoxigraph (the one RDF reader of the package) and
writing triples deterministically.

Every path that reads a user's RDF file (``--data``, ``validate``, ``load``)
goes through :func:`read_rdf`: only regular files, at most
:func:`input_limit` bytes, RDF/XML without entity declarations, relative IRIs
resolved against the file's own location (or a given base IRI), and one
message for one problem whatever the command.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    QuadParser,
    RdfFormat,
    Store,
    Triple,
    parse,
    serialize,
)

from ntx_graph import formats
from ntx_graph.errors import DataError, NtxError
from ntx_graph.output import file_kind

#: RDF formats by name (from the formats registry).
RDF_FORMATS = {f.name: f.rdf for f in formats.FORMATS if f.rdf is not None}
#: The default cap on one input file's size: room for a 10-million-triple
#: N-Triples file. The environment variable NTX_MAX_INPUT_BYTES overrides it.
DEFAULT_MAX_INPUT_BYTES = 4 << 30
_XML_HEAD_BYTES = 1 << 16


def format_of(path: Path) -> str:
    """The RDF format name guessed from a file's extension (Turtle if unknown)."""
    found = formats.for_path(path, formats.READ)
    return found.name if found is not None else "turtle"


def input_limit() -> int:
    """The largest input file read, in bytes (NTX_MAX_INPUT_BYTES, else the default)."""
    value = os.environ.get("NTX_MAX_INPUT_BYTES", "").strip()
    if not value:
        return DEFAULT_MAX_INPUT_BYTES
    try:
        limit = int(value)
    except ValueError:
        raise DataError(f"NTX_MAX_INPUT_BYTES must be a whole number of bytes, not {value!r}") from None
    if limit <= 0:
        raise DataError(f"NTX_MAX_INPUT_BYTES must be positive, not {limit}")
    return limit


class _TooLarge(OSError):
    """Raised by _CappedReader when a file grows past the limit while read."""


class _CappedReader(io.RawIOBase):
    """A file read through a byte budget (the file may grow after its size was checked)."""

    def __init__(self, handle: io.FileIO, limit: int) -> None:
        super().__init__()
        self._handle, self._left, self.limit = handle, limit, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._handle.readinto(buffer) or 0
        self._left -= count
        if self._left < 0:
            raise self.too_large()
        return count

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all that is left with -1), read straight into one bytes object."""
        data = self._handle.read(size) or b""
        self._left -= len(data)
        if self._left < 0:
            raise self.too_large()
        return data

    def too_large(self) -> _TooLarge:
        """The error of a file past the limit."""
        return _TooLarge(f"is larger than the input limit of {self.limit} bytes (NTX_MAX_INPUT_BYTES raises it)")

    def rewind(self, offset: int = 0) -> None:
        """Read on from ``offset`` (the start by default), within the budget left there."""
        self._handle.seek(offset)
        self._left = self.limit - offset

    def fileno(self) -> int:
        return self._handle.fileno()

    def close(self) -> None:
        self._handle.close()
        super().close()


@dataclass
class RdfInput:
    """An RDF file being read: its quads (all in the default graph), and the
    prefixes it declares (complete once the quads are read)."""

    quads: Iterator[Quad]
    parser: QuadParser
    declared: dict[str, str] = field(default_factory=dict)
    #: The file being read (for a loader that reads it itself, from the start) and the base IRI.
    source: io.RawIOBase | None = None
    base_iri: str | None = None

    @property
    def prefixes(self) -> dict[str, str]:
        """The prefixes the file declares, as its parser reports them, whose names Turtle and
        SPARQL can write too (RDF/XML and JSON-LD allow others: ``_x``, ``9x``, ``my term``)."""
        found = {str(k): str(v) for k, v in (self.parser.prefixes or {}).items()}
        return {name: iri for name, iri in {**self.declared, **found}.items() if is_prefix_name(name)}


def is_prefix_name(name: str) -> bool:
    """Whether ``name`` is a SPARQL/Turtle prefix name (PN_PREFIX, or empty)."""
    return name == "" or (name[0].isalpha() and not name.endswith(".")
                          and all(c.isalnum() or c in "_-.\u00b7" for c in name))


def _open_regular(path: Path, limit: int) -> _CappedReader:
    """Open ``path`` for reading if it is a regular file within ``limit``.
    FIFOs are recognised from their status and never opened."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None

    def check(mode: int, size: int) -> None:
        if stat.S_ISDIR(mode):
            raise DataError(f"{path}: is a directory, not an RDF file")
        if not stat.S_ISREG(mode):
            raise DataError(f"{path}: is {file_kind(mode)}, not a regular file; only regular files are read")
        if size > limit:
            raise DataError(f"{path}: is {size} bytes, larger than the input limit of {limit} bytes "
                            "(NTX_MAX_INPUT_BYTES raises it)")

    check(info.st_mode, info.st_size)
    try:  # O_NONBLOCK: should a FIFO be swapped in after the check, opening it does not hang
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    handle = io.FileIO(fd, "rb")
    try:
        opened = os.fstat(fd)
        check(opened.st_mode, opened.st_size)
    except BaseException:
        handle.close()
        raise
    return _CappedReader(handle, limit)


def _xml_prolog(path: Path, reader: _CappedReader) -> dict[str, str]:
    """Check an RDF/XML file's prolog with expat, up to its root element:
    DataError if a DOCTYPE declares entities (internal or external, which
    could expand without bound or read other files). Returns the namespace
    prefixes declared up to and on the root element."""
    import xml.parsers.expat

    class _Done(Exception):
        pass

    found: dict[str, str] = {}
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def entity(name: str, *_: Any) -> None:
        raise DataError(f"{path}: the DOCTYPE declares the entity {name!r}; RDF/XML with entity declarations "
                        "is refused (entities can expand without bound or read other files)")

    def namespace(prefix: str | None, uri: str) -> None:
        found.setdefault(prefix or "", uri)

    def start(*_: Any) -> None:
        raise _Done

    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = entity
    parser.StartNamespaceDeclHandler = namespace
    parser.StartElementHandler = start
    try:
        while block := reader.read(_XML_HEAD_BYTES):
            parser.Parse(block, False)
        parser.Parse(b"", True)
    except _Done:
        pass
    except xml.parsers.expat.ExpatError as error:
        raise DataError(f"{path}: syntax error at line {error.lineno}, column {error.offset + 1}: "
                        f"{xml.parsers.expat.ErrorString(error.code)}") from None
    finally:
        reader.rewind()
    return {p: ns for p, ns in found.items() if p}


@contextlib.contextmanager
def read_rdf(path: str | os.PathLike[str], *, base: str | None = None, max_bytes: int | None = None,
             lenient: bool = False) -> Iterator[RdfInput]:
    """Open an RDF file for parsing (format from its extension, Turtle if
    unknown). Relative IRIs resolve against ``base``, by default the file's
    own ``file:`` IRI. Blank node labels are kept apart per file; TriG and
    N-Quads are flattened into the default graph. Nothing is fetched (no
    remote JSON-LD context, no external entity).

    Any problem, while opening or while the quads are read inside the
    ``with`` block, raises DataError with the file name, and the line and
    column where known.
    """
    file = Path(path)
    fmt = formats.BY_NAME[format_of(file)]
    assert fmt.rdf is not None
    if base is not None:
        check_base(base)
    reader = _open_regular(file, input_limit() if max_bytes is None else max_bytes)
    try:
        with reading(file):
            declared = _xml_prolog(file, reader) if fmt.rdf == RdfFormat.RDF_XML else {}
            base_iri = base or file.resolve().as_uri()
            parser = parse(cast(IO[bytes], reader), format=fmt.rdf, base_iri=base_iri, rename_blank_nodes=True,
                           lenient=lenient)
            quads: Iterator[Quad] = parser
            if fmt.rdf.supports_datasets:
                quads = (Quad(q.subject, q.predicate, q.object, DefaultGraph()) for q in parser)
            yield RdfInput(quads, parser, declared, reader, base_iri)
    except DataError as error:
        if fmt.rdf == RdfFormat.JSON_LD and "remote context" in str(error):
            raise DataError(f"{error} (remote JSON-LD contexts are never fetched: put the context in the file)"
                            ) from None
        raise
    finally:
        reader.close()


def check_base(base: str) -> None:
    """DataError unless ``base`` is an absolute IRI.

    >>> check_base("data/")
    Traceback (most recent call last):
    ...
    ntx_graph.errors.DataError: the base IRI 'data/' is not an absolute IRI (No scheme found in an absolute IRI)
    """
    try:
        NamedNode(base)
    except ValueError as error:
        raise DataError(f"the base IRI {base!r} is not an absolute IRI ({error})") from None


@contextlib.contextmanager
def reading(path: Path) -> Iterator[None]:
    """Turn the parser's errors inside the block into one-line DataErrors naming ``path``."""
    try:
        yield
    except SyntaxError as error:
        raise DataError(f"{path}: {syntax_message(error)}") from None
    except _TooLarge as error:
        raise DataError(f"{path}: {error}") from None
    except OSError as error:
        raise DataError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: {' '.join(str(error).split())}") from None


def load_file(store: Store, path: str | os.PathLike[str], prefixes: dict[str, str] | None = None, *,
              base: str | None = None, max_bytes: int | None = None) -> None:
    """Parse ``path`` into the default graph of ``store`` (see
    :func:`read_rdf`); the prefixes it declares are added to ``prefixes``
    (an earlier file's binding of a prefix wins).

    N-Triples and Turtle without blank node labels (none to keep apart
    from other files') go to pyoxigraph's own loader (see :func:`load_plain`);
    other files go through the parser.
    """
    with read_rdf(path, base=base, max_bytes=max_bytes) as rdf:
        loaded = load_plain(store, rdf, path, count=False)
        if loaded is None:
            store.extend(rdf.quads)
        declared = rdf.prefixes if loaded is None else loaded.prefixes
    if prefixes is not None:
        for name, iri in declared.items():
            prefixes.setdefault(name, iri)


#: Bytes handed to pyoxigraph's own loader at a time, in memory (``Store.load``): measured at 1.16M
#: triples, 2 MiB blocks peak at 415 MiB where one load of the whole file peaks at 453 MiB, in the same time.
LOAD_BLOCK_BYTES = 2 << 20
#: The same for the bulk loader of an on-disk store (``Store.bulk_load``), which writes a table file per
#: call: measured at 1.16M triples, 32 MiB blocks peak at 286 MiB where the whole file peaks near 1 GiB.
BULK_BLOCK_BYTES = 32 << 20
#: Turtle holds about four times as many triples per byte as N-Triples (measured on the generated graph:
#: 55 MB against 221 MB), and the loaders' memory follows the triples: its blocks are this much smaller.
TURTLE_DENSITY = 4


@dataclass(frozen=True)
class Loaded:
    """What :func:`load_plain` read: the file's prefixes, and its triples where counted (N-Triples)."""

    prefixes: dict[str, str]
    triples: int | None


def load_plain(store: Store, rdf: RdfInput, path: str | os.PathLike[str], *, bulk: bool = False,
               lenient: bool = False, count: bool = True,
               on_block: Callable[[int], None] | None = None) -> Loaded | None:
    """Load an N-Triples or Turtle file without blank node labels (none to keep
    apart from other files') into ``store`` with pyoxigraph's own loader, which
    parses without a Python object per triple: ``Store.load``, or with ``bulk``
    ``Store.bulk_load`` (then only files larger than a block). The file is read
    through its reader's byte budget in blocks that end where a triple or a
    statement ends (see :func:`_statement_end`), so that memory stays bounded; a
    Turtle file's later blocks start with the prefixes of its head, which holds
    all its directives. None if the file is not such a file (then read
    ``rdf.quads``). ``on_block`` gets each N-Triples block's triples; without
    ``count``, they are not counted (``Loaded.triples`` is None). A syntax
    error is one full parse's, its line counted in the whole file. With
    ``bulk``, a Turtle file's triples are those it added to the store (the
    loader does not count them).
    """
    reader, fmt = rdf.source, format_of(Path(path))
    if not isinstance(reader, _CappedReader) or fmt not in ("ntriples", "turtle"):
        return None
    size = os.fstat(reader.fileno()).st_size
    block_bytes = BULK_BLOCK_BYTES if bulk else LOAD_BLOCK_BYTES
    if fmt == "turtle":
        block_bytes = max(1, block_bytes // TURTLE_DENSITY)
    if (bulk and size <= block_bytes) or _has_any(reader, (b"_:",)):
        return None
    header, base_iri, head_end, cut = b"", rdf.base_iri, 0, _line_end
    prefixes: dict[str, str] = {}
    rdf_format = formats.BY_NAME[fmt].rdf
    if fmt == "turtle":
        head = _turtle_head(reader, rdf.base_iri)
        if head is None:
            return None
        prefixes, base_iri, head_end = head
        header = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in prefixes.items()).encode()
        cut = _statement_end
        if _has_any(reader, (b'"""', b"'''")):  # a line break may stand inside a long string: no cut
            if bulk:
                return None
            buffered = io.BufferedReader(reader, buffer_size=1 << 20)  # pyoxigraph reads 8 KiB at a time
            store.load(buffered, format=rdf_format, base_iri=rdf.base_iri, lenient=lenient)
            return Loaded(prefixes, None)
    load = store.bulk_load if bulk else store.load
    before = len(store) if bulk and fmt == "turtle" else 0  # a store's size is a scan: only when needed
    counted = count or on_block is not None
    triples = offset = 0
    for block, first in _blocks(reader, block_bytes, cut, head_end):
        data = block if first else header + block
        block_base = rdf.base_iri if first else base_iri
        try:
            load(data, format=rdf_format, base_iri=block_base, lenient=lenient)
        except SyntaxError as error:
            if offset + len(block) < size:  # the parser may have read on to the block's end: its own words
                error = _first_error(reader, offset, b"" if first else header, rdf_format, block_base,
                                     lenient) or error
            shift = _lines_before(reader, offset) - (0 if first else header.count(b"\n"))
            raise _shifted(error, shift) from None
        offset += len(block)
        if fmt == "ntriples" and counted:
            found = _triple_lines(block)
            triples += found
            if on_block is not None:
                on_block(found)
    if fmt == "ntriples":
        return Loaded(prefixes, triples if counted else None)
    added = len(store) - before if bulk else None
    if added is not None and on_block is not None:
        on_block(added)
    return Loaded(prefixes, added)


def _blocks(reader: _CappedReader, size: int, cut: Callable[[bytes, int, bytes], int], head_end: int
            ) -> Iterator[tuple[bytes, bool]]:
    """The file in blocks of about ``size`` bytes, each ending where ``cut`` finds the end of a line
    that ends a triple or a statement, at a line break at or past its low mark (for the first block, the
    head's end), with whether it is the first. Where no such line is found, the next read (as large as
    the text so far) is added and only its lines are searched: each line is looked at once."""
    rest, first, low = b"", True, max(0, head_end - 1)
    while True:
        # a read as large as the text without an end so far: a long stretch without one costs linear time
        chunk = reader.read(max(size, head_end + 1 if first else 0, len(rest)))
        if not chunk:
            if rest:
                yield rest, first
            return
        end = cut(chunk, max(0, low - len(rest)), rest)  # the lines that end in this read
        if end <= 0:  # no end in it yet: read on
            rest, low = rest + chunk, max(low, len(rest) + len(chunk))
            continue
        block = rest + chunk[:end] if rest else chunk[:end]  # one copy of the block
        rest, low = chunk[end:], 0
        yield block, first
        first = False


def _first_error(reader: _CappedReader, offset: int, header: bytes, rdf_format: RdfFormat | None,
                 base_iri: str | None, lenient: bool) -> SyntaxError | None:
    """The parser's first error in the file read on from ``offset`` (after ``header``) to its end, as
    one full parse reports it: where a block's load fails on a token left open (an IRI, a string),
    the parser read on to the block's end, and its words and column are those of that end."""

    class Prefixed(io.RawIOBase):
        def __init__(self) -> None:
            super().__init__()
            self.head = header

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if self.head:
                count = min(len(buffer), len(self.head))
                buffer[:count], self.head = self.head[:count], self.head[count:]
                return count
            return reader.readinto(buffer)

    reader.rewind(offset)
    try:
        for _ in parse(io.BufferedReader(Prefixed(), 1 << 20), format=rdf_format, base_iri=base_iri,
                       lenient=lenient):
            pass
    except SyntaxError as error:
        return error
    return None


def _lines_before(reader: _CappedReader, offset: int) -> int:
    """The line breaks in the file's first ``offset`` bytes, as the parsers count them (counted only
    for an error's line: a load does not pay for it)."""
    reader.rewind(0)
    lines, left, last = 0, offset, b""
    while left > 0:
        chunk = reader.read(min(left, 8 << 20))
        if not chunk:
            break
        lines += _line_breaks(chunk) - (last == b"\r" and chunk[:1] == b"\n")  # a CR LF across two reads
        left, last = left - len(chunk), chunk[-1:]
    return lines


def _line_end(data: bytes, low: int, before: bytes = b"") -> int:
    """Where the last whole line of N-Triples ``data`` ends, its line break at or past ``low``
    (0 if none): a triple never spans lines. (``before``, the text read before ``data``, does not
    matter here.)"""
    return data.rfind(b"\n", low) + 1


def _statement_end(data: bytes, low: int, before: bytes = b"") -> int:
    """Where the last line of Turtle ``data`` (with no long string) that ends a statement ends, its
    line break at or past ``low``; 0 if none. ``before`` is the text read before ``data``, where its
    first line starts. Such a line's last token, a comment aside, is ``.`` (see
    :func:`_ends_statement`). The grammar has no other ``.`` token than the end of a statement, so a
    block cut there parses on its own as it would in the file.

    >>> _statement_end(b'ex:a ex:b ex:c .\\nex:a ex:b ex:d ;\\n', 0)
    17
    >>> _statement_end(b'ex:a ex:b ex:c ; # no end.\\n', 0), _statement_end(b'ex:a ex:b ex:c\\\\.\\n', 0)
    (0, 0)
    >>> _statement_end(b'<http://a.example/s#x> ex:b "a # b." . # the end ;\\r\\n', 0)
    52
    """
    end = len(data)
    while True:
        newline = data.rfind(b"\n", low, end)
        if newline < 0:
            return 0
        start = data.rfind(b"\n", 0, newline) + 1
        line = data[start:newline]
        if start == 0 and before:  # the line began in the text read before
            line = before[before.rfind(b"\n") + 1:] + line
        if (line.rstrip().endswith(b".") or b"#" in line) and _ends_statement(line):
            return newline + 1
        end = newline


def _ends_statement(line: bytes) -> bool:
    """Whether the last token of a line of Turtle (with no long string), a comment aside, is ``.``
    standing alone: read from the line's start, where no token is open (a line break stands only
    between tokens or at a comment's end), outside IRIs, strings and comments (which end at a CR
    too, as Oxigraph reads them), and not escaped (``ex:a\\.``). A name or a number never ends with
    ``.``, so a last ``.`` is a token of its own.

    >>> [_ends_statement(line) for line in (b'ex:a ex:b 1. # x', b'ex:a ex:b 1 ; # x .', b'ex:a ex:b "." ;',
    ...                                      b'ex:a ex:b ex:c . # x\\r ex:d', b'<< ex:a ex:b ex:c >> ex:d ex:e .')]
    [True, False, False, False, True]
    """
    index, size, last, plain = 0, len(line), -1, False
    while index < size:
        char = line[index]
        if char in (0x20, 0x09, 0x0D):
            index += 1
        elif char == 0x23:  # '#': a comment, to a CR or the end of the line
            stop = line.find(b"\r", index)
            index = size if stop < 0 else stop + 1
        elif char == 0x5C:  # a backslash escapes the next character (in a name)
            last, plain, index = index + 1, False, index + 2
        elif char == 0x3C and line[index + 1:index + 2] == b"<":  # '<<' opens a triple term
            last, plain, index = index + 1, True, index + 2
        elif char == 0x3C:  # '<' opens an IRI
            close = line.find(b">", index + 1)
            if close < 0:
                return False
            last, plain, index = close, False, close + 1
        elif char in (0x22, 0x27):  # a string, to the same unescaped quote
            index += 1
            while index < size and line[index] != char:
                index += 2 if line[index] == 0x5C else 1
            if index >= size:
                return False
            last, plain, index = index, False, index + 1
        else:
            last, plain, index = index, True, index + 1
    return plain and line[last] == 0x2E


def _turtle_head(reader: _CappedReader, base_iri: str | None) -> tuple[dict[str, str], str | None, int] | None:
    """The prefixes and base IRI a Turtle file declares, from pyoxigraph's
    parser run over the file's head, and where the head ends: after the first
    line that ends a statement (see :func:`_ends_statement`) past the last
    ``prefix`` or ``base`` (any case) in the file. Every directive spells one
    of those words and holds no ``.`` token but its own end, so all of them
    stand in the head, however they are spread over lines. None when the head
    would be over half the file (then parsing it all once, keeping the quads,
    is cheaper). The reader stays at its start."""
    import mmap

    try:
        mapped = mmap.mmap(reader.fileno(), 0, access=mmap.ACCESS_READ)
    except ValueError:  # an empty file cannot be mapped
        return {}, base_iri, 0
    with mapped:
        size, end, last = len(mapped), len(mapped), -1
        while end > 0 and last < 0:  # from the end, a MiB at a time (with an overlap for a word across two)
            start = max(0, end - (1 << 20))
            window = mapped[start:end + 5].lower()
            found = max(window.rfind(b"prefix"), window.rfind(b"base"))
            last, end = (start + found if found >= 0 else -1), start
        if last < 0:
            return {}, base_iri, 0
        half = size // 2 if size > (1 << 20) else size
        start, cut = mapped.rfind(b"\n", 0, last) + 1, size
        while start < size:
            newline = mapped.find(b"\n", start)
            if newline < 0:
                break
            if newline > half:
                return None
            if _ends_statement(mapped[start:newline]):
                cut = newline + 1
                break
            start = newline + 1
        if cut > half and size > (1 << 20):
            return None
        head = mapped[:cut]
    parser = parse(head, format=RdfFormat.TURTLE, base_iri=base_iri, lenient=True)
    try:
        for _ in parser:
            pass
    except SyntaxError:  # an error the full parse reports with its place
        pass
    found_prefixes = {str(k): str(v) for k, v in (parser.prefixes or {}).items()}
    return found_prefixes, parser.base_iri or base_iri, cut


def _shifted(error: SyntaxError, lines: int) -> SyntaxError:
    """``error``, raised in a block that starts after ``lines`` lines, with its lines counted in the whole file."""
    message = str(error.args[0] if error.args else error)
    if error.lineno is None:
        return error
    end = error.end_lineno + lines if error.end_lineno is not None else None
    return SyntaxError(message, (None, error.lineno + lines, error.offset, None, end, error.end_offset))


def _line_breaks(block: bytes) -> int:
    """The line breaks in ``block`` as the parsers count them: LF, CR LF, and a CR alone.

    >>> _line_breaks(b"a\\nb\\r\\nc\\rd")
    3
    """
    newlines = block.count(b"\n")
    return newlines + block.count(b"\r") - block.count(b"\r\n") if b"\r" in block else newlines


def _triple_lines(block: bytes) -> int:
    """The lines of an N-Triples block that hold a triple: not blank, not only a comment (a CR alone
    ends a line too). Such lines are looked for only where a line starts with a space, a tab, ``#``
    or a line break (one scan, at memchr speed; the block is copied only if it holds a CR alone).

    >>> block = b'<a:s> <a:p> <a:o> .\\n\\n# note\\n  <a:s> <a:p> "#" .\\r<a:s> <a:p> <a:q> .'
    >>> _triple_lines(block)
    3
    """
    import re

    if b"\r" in block and block.count(b"\r") != block.count(b"\r\n"):
        block = block.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    newlines = block.count(b"\n")
    end = len(block) - 1 if block.endswith(b"\n") else len(block)
    lines = newlines + (end == len(block) and bool(block))
    if block[:1] in (b"#", b" ", b"\t", b"\r", b"\n") or re.search(rb"\n[ \t#\r\n]", block):
        other = re.compile(rb"^[ \t]*(?:#[^\n]*)?\r?$", re.M)
        lines -= sum(1 for _ in other.finditer(block, 0, end))
    return lines


def _has_any(reader: _CappedReader, needles: Iterable[bytes]) -> bool:
    """Whether the file holds any of ``needles`` (such as ``_:``, a blank node label or text that looks
    like one), searched in a read-only memory map of it (no copy); the reader stays at its start.
    Each is searched alone by the regular expression engine, which looks for a literal text at about
    2.5 times the speed of ``bytes.find`` for two bytes (measured: 221 MB in 0.08 s against 0.2 s)."""
    import mmap
    import re

    try:
        with mmap.mmap(reader.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            return any(re.search(re.escape(needle), mapped) for needle in needles)
    except ValueError:  # an empty file cannot be mapped
        return False


def declared_prefixes(path: str | os.PathLike[str]) -> dict[str, str]:
    """The prefixes a file declares, as its parser reports them (the file is
    read through :func:`read_rdf`; no triple is kept)."""
    with read_rdf(path, lenient=True) as rdf:
        for _ in rdf.quads:
            pass
        return rdf.prefixes


def syntax_message(error: SyntaxError) -> str:
    """The parser's message as 'syntax error at line L, column C: what'
    (line and column from the error's own fields).

    >>> syntax_message(SyntaxError("Parser error at line 2 between columns 3 and 4: bad", (None, 2, 3, None, 2, 4)))
    'syntax error at line 2, column 3: bad'
    >>> syntax_message(SyntaxError("syntax error: tag not closed"))  # RDF/XML says it itself
    'syntax error: tag not closed'
    """
    message = " ".join(str(error.args[0] if error.args else error).split())
    if message.startswith("Parser error ") and ": " in message:
        message = message.partition(": ")[2]
    message = message.removeprefix("syntax error: ")
    if error.lineno is not None and error.offset is not None:
        return f"syntax error at line {error.lineno}, column {error.offset}: {message}"
    return f"syntax error: {message}"


def sorted_triples(triples: Iterable[Triple]) -> list[Triple]:
    """Triples in a deterministic order (that of their sorted N-Triples
    lines), with blank nodes relabelled canonically (RDFC-1.0), so equal
    graphs give identical bytes."""
    items = list(triples)
    if any(isinstance(t.subject, BlankNode) or _holds_blank_node(t.object) for t in items):
        dataset = Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in items)
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        items = [Triple(q.subject, q.predicate, q.object) for q in dataset]
    return sorted(set(items), key=lambda t: str(t).encode())


def serialize_triples(triples: Iterable[Triple], fmt: str, prefixes: Mapping[str, str]) -> bytes:
    """Triples in ``fmt`` (turtle, ntriples, jsonld, rdfxml, trig), sorted and
    with the given prefixes, byte-identical for equal graphs."""
    ordered = sorted_triples(triples)
    used = _used_prefixes(ordered, prefixes)
    if fmt == "jsonld":
        return _jsonld(ordered, used)
    if fmt == "trig":
        quads = [Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in ordered]
        return _sort_prefix_lines(serialize(quads, format=RdfFormat.TRIG, prefixes=used))
    if fmt == "turtle":
        return _sort_prefix_lines(serialize(ordered, format=RdfFormat.TURTLE, prefixes=used))
    if fmt == "rdfxml":
        check_rdfxml_predicates({p for t in ordered for p in _predicates_in(t)})
    return _bytes(serialize(ordered, format=RDF_FORMATS[fmt], prefixes=_xml_prefixes(used) if fmt != "ntriples"
                            else None))


def _bytes(data: bytes | None) -> bytes:
    return data or b""


def _sort_prefix_lines(data: bytes | None) -> bytes:
    """Put the leading ``@prefix`` lines of Turtle or TriG in name order (the rest is not copied line by line)."""
    text = _bytes(data)
    end = 0
    while text.startswith(b"@prefix ", end):
        newline = text.find(b"\n", end)
        if newline < 0:
            return b"\n".join(sorted(text.split(b"\n")))
        end = newline + 1
    if not end:
        return text
    head = text[:end - 1].split(b"\n")
    ordered = sorted(head)
    if ordered == head:  # pyoxigraph wrote them in order: the text is not copied again
        return text
    return b"\n".join(ordered) + text[end - 1:]


#: The orders :func:`export_store` writes triples in: ``canonical`` (the
#: default) and ``store`` (pyoxigraph's own).
EXPORT_ORDERS = ("canonical", "store")
#: The formats the ``store`` order applies to (TriG and nanopublications are always canonical).
STORE_ORDER_FORMATS = ("ntriples", "turtle", "rdfxml", "jsonld")


def check_order(fmt: str, order: str) -> None:
    """Raise NtxError unless ``fmt`` is a format and ``order`` one of EXPORT_ORDERS that applies to it.

    >>> check_order("turtle", "store")
    >>> check_order("trig", "store")
    Traceback (most recent call last):
    ntx_graph.errors.NtxError: the store order applies to ntriples, ... trig is always written in the canonical order
    """
    if fmt != "nanopub" and fmt not in RDF_FORMATS:
        raise formats.FormatError(f"unknown format {fmt!r}; use one of "
                                  f"{', '.join((*formats.names(formats.EXPORT), 'nanopub'))}")
    if order not in EXPORT_ORDERS:
        raise NtxError(f"unknown export order {order!r}: one of {', '.join(EXPORT_ORDERS)}")
    if order == "store" and fmt not in STORE_ORDER_FORMATS:
        raise NtxError(f"the store order applies to {', '.join(STORE_ORDER_FORMATS[:-1])} and "
                       f"{STORE_ORDER_FORMATS[-1]}; {fmt} is always written in the canonical order")


def export_store(store: Store, fmt: str, prefixes: Mapping[str, str], *, order: str = "canonical") -> bytes:
    """The default graph of ``store`` in ``fmt``, deterministically.

    In the ``canonical`` order, the triples are ordered as their sorted
    N-Triples lines, except that the ontology header (the triples whose
    subject is an ``owl:Ontology``) comes first, as OWL tools expect; blank
    nodes are relabelled canonically (RDFC-1.0) first. Equal graphs give
    identical bytes, in every process, whatever store holds them and in
    whatever order their files were loaded. The whole graph stays in
    pyoxigraph's bytes: it is dumped as N-Triples, its lines are sorted as
    bytes (one ``memcmp`` per comparison, no Python term objects) and, for
    other formats, parsed back in that order by pyoxigraph's serializer.

    In the ``store`` order (``ntriples``, ``turtle``, ``rdfxml``, ``jsonld``),
    the triples come as pyoxigraph's ``Store.dump`` writes them (for JSON-LD,
    its serializer over the store's triples in that order), with every prefix
    given (JSON-LD: those used; RDF/XML: those XML allows): in memory, the
    reverse of the order the triples were first added; in a persistent store,
    the order of its index. The same inputs loaded in the same order give the
    same bytes in every process, at the cost of the dump and a scan of its
    bytes for blank nodes. A graph with blank nodes (also inside a triple
    term) is written in the canonical order all the same, since only that
    order makes their labels canonical.
    """
    check_order(fmt, order)
    if fmt == "rdfxml":
        # a list: see _check_triple_term_predicates
        check_rdfxml_predicates([solution[0].value for solution in store.query(_PREDICATES)])  # type: ignore[union-attr]
    if order == "store":
        dumped = _in_store_order(store, fmt, prefixes)
        if dumped is not None:
            if fmt == "rdfxml" and b'rdf:parseType="Triple"' in dumped:
                _check_triple_term_predicates(store)
            return dumped
    ordered = _ordered_ntriples(store)
    if fmt == "rdfxml" and b"<<(" in ordered:
        _check_triple_term_predicates(store)
    if fmt == "ntriples":
        return ordered
    used = {p: ns for p, ns in sorted(prefixes.items()) if p and (b"<" + ns.encode()) in ordered}
    triples = parse(ordered, format=RdfFormat.N_TRIPLES, lenient=True)  # our own dump: already valid
    if fmt == "jsonld":
        return _jsonld([Triple(q.subject, q.predicate, q.object) for q in triples], used)
    if fmt in ("turtle", "trig"):
        return _sort_prefix_lines(serialize(triples, format=RDF_FORMATS[fmt], prefixes=used))
    return _bytes(serialize(triples, format=RDF_FORMATS[fmt], prefixes=_xml_prefixes(used)))


#: How each format's serializer in pyoxigraph writes a blank node (the test
#: suite checks each one): output without it has none, and output with it
#: is confirmed by a query, since a literal may hold the same text. A regular
#: expression, because ``re`` finds a literal by its first byte with memchr,
#: three times as fast as ``bytes.__contains__`` on N-Triples, whose ``:`` is
#: everywhere.
_BLANK_NODE_MARKS = {"ntriples": b"_:", "turtle": b"_:", "rdfxml": b"rdf:nodeID="}


def _may_have_blank_nodes(data: bytes, fmt: str) -> bool:
    import re  # not at import: the cold query path does not need it

    return re.search(_BLANK_NODE_MARKS[fmt], data) is not None


def _in_store_order(store: Store, fmt: str, prefixes: Mapping[str, str]) -> bytes | None:
    """The default graph as ``Store.dump`` writes it, or None if it has blank nodes."""
    declared = {p: ns for p, ns in sorted(prefixes.items()) if p}
    if fmt == "rdfxml":
        declared = _xml_prefixes(declared)
    if fmt == "jsonld":
        triples = [Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None,
                                                                                             DefaultGraph())]
        if any(isinstance(t.subject, BlankNode) or _holds_blank_node(t.object) for t in triples):
            return None
        return _jsonld(triples, _used_prefixes(triples, declared))
    data = _bytes(store.dump(format=RDF_FORMATS[fmt], from_graph=DefaultGraph(),
                             prefixes=declared if fmt != "ntriples" else None))
    if _may_have_blank_nodes(data, fmt) and _has_blank_nodes(store):
        return None
    return _sort_prefix_lines(data) if fmt == "turtle" else data


_RDF_TYPE = b"> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://www.w3.org/2002/07/owl#Ontology> ."
_HAS_BLANK_NODES = "ASK { { ?s ?p ?o FILTER isBlank(?s) } UNION { ?s ?p ?o FILTER isBlank(?o) } }"
#: RDF 1.2 triple terms, which hold blank nodes that isBlank does not see
_TRIPLE_TERMS = "SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER isTRIPLE(?o) }"
_ONTOLOGIES = ("SELECT DISTINCT ?ontology WHERE { ?ontology a <http://www.w3.org/2002/07/owl#Ontology> "
               "FILTER isIRI(?ontology) }")


_XML_NAMESPACE, _XMLNS_NAMESPACE = "http://www.w3.org/XML/1998/namespace", "http://www.w3.org/2000/xmlns/"


#: An XML name's characters (XML 1.0, fifth edition: NameChar, without the colon), and those it may start with
#: (NameStartChar, without the colon).
_NAME_START_CHARS = ("A-Z_a-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C\u200D"
                     "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_NAME_CHARS = _NAME_START_CHARS + "\\-.0-9\u00B7\u0300-\u036F\u203F\u2040"


#: The RDF names that RDF/XML forbids as property elements (its grammar's coreSyntaxTerms, rdf:Description,
#: rdf:li, which a reader turns into rdf:_n, and oldTerms): pyoxigraph refuses the first, and writes the
#: last, which no reader takes.
_RDFXML_RESERVED = frozenset("http://www.w3.org/1999/02/22-rdf-syntax-ns#" + name for name in (
    "RDF", "ID", "about", "parseType", "resource", "nodeID", "datatype", "Description", "li",
    "aboutEach", "aboutEachPrefix", "bagID"))


def check_rdfxml_predicates(predicates: Iterable[str]) -> None:
    """FormatError unless every predicate IRI can be an RDF/XML element: a
    namespace and an XML name (pyoxigraph's writer would write ill-formed
    XML for one that does not end in such a name), and not a name of
    RDF/XML's syntax (:data:`_RDFXML_RESERVED`).

    >>> check_rdfxml_predicates(["http://example.org/name", "http://example.org/1a"])
    >>> check_rdfxml_predicates(["http://example.org/1"])
    Traceback (most recent call last):
    ntx_graph.formats.FormatError: RDF/XML cannot write the predicate <http://example.org/1>: ... turtle or ntriples
    """
    import re  # not at import: the cold query path does not need it

    name_chars, name_start = re.compile(f"[{_NAME_CHARS}]*"), re.compile(f"[{_NAME_START_CHARS}]")
    for iri in predicates:
        # the longest run of name characters at the end holds an XML name if it holds a character one may start
        # with; matched from the end (a search for a name before the end would be quadratic in the IRI's length)
        tail = cast("re.Match[str]", name_chars.match(iri[::-1])).group()
        if iri in _RDFXML_RESERVED:
            raise formats.FormatError(f"RDF/XML cannot write the predicate <{iri}>: RDF/XML reserves that name for "
                                      "its syntax; use another format, such as turtle or ntriples")
        if name_start.search(tail) is None:
            raise formats.FormatError(f"RDF/XML cannot write the predicate <{iri}>: its IRI does not end in an XML "
                                      "name (a letter or _, then letters, digits, -, . or _); use another format, "
                                      "such as turtle or ntriples")


_PREDICATES = "SELECT DISTINCT ?p WHERE { ?s ?p ?o }"


def _check_triple_term_predicates(store: Store) -> None:
    """:func:`check_rdfxml_predicates` on the predicates inside the default graph's triple terms (a scan of
    the graph, so run only when its output shows a triple term: at 100,000 triples it costs as much as the
    check of the other predicates)."""
    # a list, not a generator: the error's traceback must not keep pyoxigraph's iterator, which may only be
    # dropped on the thread that made it (the garbage collector may run on any)
    check_rdfxml_predicates([p for solution in store.query(_TRIPLE_TERMS)  # type: ignore[union-attr]
                             for p in _predicates_in(solution[0])])


def _predicates_in(term: object) -> list[str]:
    """The predicate IRIs of the triple ``term`` and of the triple terms it holds, at any depth
    (only an object may be a triple term); none for another term."""
    found = []
    while isinstance(term, Triple):
        found.append(term.predicate.value)
        term = term.object
    return found


def _xml_prefixes(prefixes: Mapping[str, str]) -> dict[str, str]:
    """The prefixes that XML lets an RDF/XML document declare: not ``xmlns``, nor its namespace,
    and ``xml`` only for its own namespace, which no other prefix may take (Turtle allows them all).

    >>> _xml_prefixes({"xml": "http://example.org/", "xmlns": "http://example.org/", "ex": "http://example.org/"})
    {'ex': 'http://example.org/'}
    """
    return {p: ns for p, ns in prefixes.items()
            if p != "xmlns" and ns != _XMLNS_NAMESPACE and (p == "xml") == (ns == _XML_NAMESPACE)}


def _holds_blank_node(term: object) -> bool:
    """Whether ``term`` is a blank node or a triple term with one inside, at any depth
    (only an object may be a triple term)."""
    while isinstance(term, Triple):
        if isinstance(term.subject, BlankNode):
            return True
        term = term.object
    return isinstance(term, BlankNode)


def _has_blank_nodes(store: Store) -> bool:
    """Whether the default graph of ``store`` has a blank node, also inside a triple term."""
    if store.query(_HAS_BLANK_NODES):
        return True
    return any(_holds_blank_node(solution[0]) for solution in store.query(_TRIPLE_TERMS))  # type: ignore[union-attr]


def _ordered_ntriples(store: Store, *, canonicalize: bool | None = None) -> bytes:
    """The default graph as N-Triples lines: the ontology header, then the rest, each part sorted as bytes.

    ``canonicalize`` forces (or skips) the RDFC-1.0 relabelling of blank
    nodes; by default it runs only when the graph has blank nodes.
    """
    data = _bytes(store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph()))
    if canonicalize is None:
        canonicalize = _may_have_blank_nodes(data, "ntriples") and _has_blank_nodes(store)
    if canonicalize:
        dataset = Dataset(store.quads_for_pattern(None, None, None, DefaultGraph()))
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
        data = _bytes(serialize((Triple(q.subject, q.predicate, q.object) for q in dataset),
                                format=RdfFormat.N_TRIPLES))
    lines = data.split(b"\n")
    del data  # freed before the lines are joined again: a third less memory at the peak
    if lines and not lines[-1]:
        lines.pop()
    lines.sort()
    header: list[bytes] = []
    for solution in store.query(_ONTOLOGIES):  # type: ignore[union-attr]
        start = b"<" + solution[0].value.encode() + b"> "  # its lines stand together in the sorted list
        first = bisect.bisect_left(lines, start)
        last = bisect.bisect_left(lines, start[:-1] + b"!", first)  # "!" is the byte after " "
        header += lines[first:last]
        del lines[first:last]
    if header:  # each ontology's "a owl:Ontology" first, then its annotations
        header.sort(key=lambda line: (line.partition(b" ")[0], _RDF_TYPE not in line, line))
        lines[:0] = header
    if lines:
        lines.append(b"")  # the last line's line break, without copying the whole text once more
    return b"\n".join(lines)


def _used_prefixes(triples: list[Triple], prefixes: Mapping[str, str]) -> dict[str, str]:
    iris = {t.predicate.value for t in triples}
    for t in triples:
        for term in (t.subject, t.object):
            if isinstance(term, NamedNode):
                iris.add(term.value)
            elif isinstance(term, Literal):
                iris.add(term.datatype.value)
    return {p: ns for p, ns in sorted(prefixes.items()) if p and any(i.startswith(ns) for i in iris)}


def _jsonld(triples: list[Triple], prefixes: Mapping[str, str]) -> bytes:
    """Expanded JSON-LD from pyoxigraph, compacted with the prefixes as @context."""
    from ntx_graph.results import compact

    def short(iri: str) -> str:
        name = compact(iri, prefixes)
        return iri if name.startswith("<") else name

    def value(obj: Any) -> Any:
        if isinstance(obj, dict):
            out: dict[str, Any] = {}
            for key, val in obj.items():
                new_key = short(key) if not key.startswith("@") else key
                if key in ("@id", "@type") and isinstance(val, str) and not val.startswith("_:"):
                    val = short(val)
                elif key == "@type" and isinstance(val, list):
                    val = [short(v) for v in val]
                out[new_key] = value(val)
            return out
        if isinstance(obj, list):
            return [value(v) for v in obj]
        return obj

    try:  # no I/O here: an error is the writer refusing this graph (RDF 1.2 triple terms, say)
        expanded = json.loads(_bytes(serialize(triples, format=RdfFormat.JSON_LD)))
    except OSError as error:
        raise formats.FormatError(f"the graph cannot be written as JSON-LD: {' '.join(str(error).split())}") from None
    doc = {"@context": dict(prefixes), "@graph": value(expanded)}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()
