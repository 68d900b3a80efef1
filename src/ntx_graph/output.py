"""Writing output files whole or not at all, and never over what is not a
regular file: the one atomic writer of the package.

A file is written to a temporary file in the folder of its final target,
flushed to disk and renamed into place, so the target is either the old file
or the complete new one. Devices, FIFOs and folders are refused (so ``-o
./null`` keeps a device node); a symbolic link is written through: its
target is replaced, the link itself stays.
"""

from __future__ import annotations

import os
import stat
import sys

from ntx_graph import formats
from ntx_graph.errors import NtxError
from ntx_graph.logs import get_logger

TYPE_CHECKING = False  # not typing's: the query path imports only what it runs (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager
    from pathlib import Path
    from typing import IO

    from ntx_graph.results import QueryResult

log = get_logger(__name__)

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words ("a FIFO (named pipe)", ...)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def target_of(path: Path) -> Path:
    """The regular file that writing ``path`` replaces: ``path`` itself, or
    the file its symbolic links lead to. NtxError if that is not a regular
    file (a folder, a device, a FIFO, a socket) or its folder is missing."""
    from pathlib import Path

    real = Path(os.path.realpath(path))
    try:  # os.stat follows links as the kernel does (also /dev/stdout's /proc/self/fd/1)
        mode: int | None = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        mode = None
    except OSError as error:
        raise NtxError(f"cannot write {path}: {error.strerror or error}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise NtxError(f"cannot write {path}: it is a folder")
    if mode is not None and not stat.S_ISREG(mode):
        raise NtxError(f"cannot write {path}: it is {file_kind(mode)}; only regular files are written "
                       "(leave out -o to write to standard output)")
    folder = real.parent
    if not folder.is_dir():
        shown = folder if path.is_symlink() else path.parent
        if folder.exists():
            raise NtxError(f"cannot write {path}: {shown} is not a folder")
        raise NtxError(f"cannot write {path}: folder {shown} does not exist")
    return real


def atomic_output(path: str | os.PathLike[str]) -> AbstractContextManager[IO[bytes]]:
    """A binary file to write ``path``'s new content to; on leaving the
    block without an error it is synced and renamed over ``path``'s target
    (see :func:`target_of`); on an error it is removed and ``path`` is
    untouched. An existing file's permissions are kept. (``contextlib`` is
    imported here, not at start-up.)"""
    import contextlib

    return contextlib.contextmanager(_atomic_output)(path)


def _atomic_output(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    import contextlib
    import tempfile  # here: it costs milliseconds at start-up
    from pathlib import Path

    shown = Path(path)
    real = target_of(shown)
    try:
        mode = real.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    except OSError as error:
        raise NtxError(f"cannot write {shown}: {error.strerror or error}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, real)
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise NtxError(f"cannot write {shown}: {error.strerror or error}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    sync_folder(real.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        log.debug("cannot sync folder %s", folder)
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_output`)."""
    with atomic_output(path) as handle:
        handle.write(data)


def emit(data: bytes, output: str | os.PathLike[str] | None) -> None:
    """Write to ``output`` atomically, or to standard output."""
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        atomic_write(output, data)


def result_format(result: QueryResult, fmt: str | None, output: str | os.PathLike[str] | None, *,
                  terminal: bool) -> str:
    """The format to write ``result`` in: ``fmt`` if given, else the one the
    ``output`` file's suffix names (``answer.json``), else the result's
    default for a terminal or not (see QueryResult.default_format)."""
    if fmt:
        return result.format(fmt).name
    if output is None:
        return result.default_format(terminal=terminal)
    kind = {"select": "a SELECT result", "ask": "an ASK result", "graph": "a graph result"}[result.kind]
    by_suffix = _by_suffix(output, result.use, f"{kind} cannot be written as", formats.names(result.use))
    return by_suffix.name if by_suffix is not None else result.default_format(terminal=terminal)


def _by_suffix(output: str | os.PathLike[str], use: formats.Use, cannot: str,
               choices: tuple[str, ...]) -> formats.Format | None:
    """The format that ``output``'s suffix names for ``use``, or None if it names
    none. FormatError if it names a compression, or a format that ``use``
    cannot take (``cannot`` says so: "the export cannot write"), save the
    table's ``.txt``: a text file may hold any text."""
    by_suffix = formats.for_path(output, use)
    if by_suffix is not None:
        return by_suffix
    name = os.path.basename(os.fspath(output))
    suffix = os.path.splitext(name)[1].lower().removeprefix(".")
    if suffix in formats.COMPRESSED:
        raise formats.FormatError(f"{name}: the output is not compressed; leave out .{suffix} and compress the "
                                  "file afterwards (or pipe standard output to a compressor)")
    other = next((f for f in formats.FORMATS if suffix in f.suffixes and f.name != "table"), None)
    if other is not None:
        raise formats.FormatError(f"{name}: {cannot} {other.label}; give --format (one of {', '.join(choices)})")
    return None


def emit_result(result: QueryResult, fmt: str | None, output: str | os.PathLike[str] | None) -> None:
    """Write a query's answer to ``output`` (atomically) or standard output,
    in ``fmt`` or the format :func:`result_format` picks; tables on a
    terminal have their cells cut to 60 characters."""
    terminal = output is None and sys.stdout.isatty()
    name = result_format(result, fmt, output, terminal=terminal)
    width = 60 if terminal and name == "table" else None
    if output is None:
        result.write(sys.stdout.buffer, name, max_width=width)
        sys.stdout.buffer.flush()
        return
    with atomic_output(output) as handle:
        result.write(handle, name, max_width=width)


def export_format(fmt: str | None, output: str | os.PathLike[str] | None) -> str:
    """The export format: ``fmt``, else the one ``output``'s suffix names, else Turtle.
    FormatError if the suffix names a format the export cannot write (``.nq``, ``.csv``) or a compression."""
    if fmt:
        return formats.get(fmt, formats.EXPORT).name
    if output is None:
        return "turtle"
    choices = (*formats.names(formats.EXPORT), "nanopub")
    by_suffix = _by_suffix(output, formats.EXPORT, "the export cannot write", choices)
    return by_suffix.name if by_suffix is not None else "turtle"
