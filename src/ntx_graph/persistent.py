"""An on-disk Oxigraph store for graphs too large to parse at every start.

:func:`build_store` loads the bundled graph and RDF files into a new
RocksDB-backed store, built in a hidden sibling directory and renamed into
place once complete; :func:`open_store` opens one read-only. A store is
complete exactly when its manifest (``ntx-graph-store.json``: versions, files
with sizes and SHA-256, triple count, prefixes) is present and valid; it is
written last, so an interrupted build never opens as complete, and an existing
store is replaced only by a finished one.
"""

from __future__ import annotations

# The build's own modules (hashlib, shutil, secrets, ...) are imported in the functions that use them:
# opening a store for a query needs none of them.
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pyoxigraph import Store

from ntx_graph import __version__, resources
from ntx_graph.errors import DataError, NtxError, one_line, plural, reason
from ntx_graph.output import atomic_write, sync_folder
from ntx_graph.rdf_io import is_prefix_name, load_plain, read_rdf

if TYPE_CHECKING:
    from ntx_graph.graph import KnowledgeGraph

__all__ = ["MANIFEST_NAME", "STORE_FORMAT", "STORE_FORMAT_VERSION", "StoreInfo", "build_store", "is_store",
           "open_graph", "open_store", "read_manifest", "summary"]

#: The manifest's file name inside a store directory.
MANIFEST_NAME = "ntx-graph-store.json"
#: The ``format`` field of every manifest.
STORE_FORMAT = "ntx-graph-store"
#: The layout version this module writes and reads.
STORE_FORMAT_VERSION = 1
#: Quads handed to the store at a time (and the progress reporting interval). Measured at 1M
#: triples: 200,000 loads as fast as pyoxigraph's own bulk_load at a third of its peak memory
#: (about 280 MiB against 900 MiB); 50,000 is 25% slower, 500,000 needs 690 MiB.
CHUNK_SIZE = 200_000
#: A file with fewer quads than this is inserted in one transaction instead of a bulk load.
_SMALL_CHUNK = 10_000


@dataclass(frozen=True)
class StoreInfo:
    """What :func:`build_store` built."""

    directory: Path
    triples: int
    files: tuple[dict[str, Any], ...]
    prefixes: dict[str, str]
    seconds: float
    manifest: dict[str, Any]

    @property
    def validation_seconds(self) -> float:
        """The part of ``seconds`` spent validating the files (0 if they were not validated)."""
        return float(self.manifest.get("validation_seconds", 0.0))

    @property
    def triples_per_second(self) -> float:
        """The loading rate (validation excluded)."""
        loading = self.seconds - self.validation_seconds
        return self.triples / loading if loading > 0 else 0.0


def build_store(files: Sequence[str | os.PathLike[str]], directory: str | os.PathLike[str], *,
                include_bundled: bool = True, progress: bool = False, chunk_size: int = CHUNK_SIZE,
                lenient: bool = False, stream: IO[str] | None = None, validate: bool = False,
                base: str | None = None) -> StoreInfo:
    """Load the bundled graph (unless ``include_bundled`` is false) and
    ``files`` into a new store at ``directory``; on any error or interrupt an
    existing store is left as it was.

    ``validate`` checks ``files`` against the SHACL shapes first
    (ValidationFailed before anything is built). ``progress`` reports triples and
    rate on ``stream`` (stderr). ``lenient`` skips IRI validation (for trusted
    files). Relative IRIs resolve against ``base``, by default each file's location.
    Raises DataError naming a bad file, NtxError if ``directory`` is something
    other than an ntx-graph store.
    """
    import datetime
    import gc
    import secrets
    import shutil

    import pyoxigraph

    started = time.perf_counter()
    target = Path(directory)
    sources = [*(resources.bundled_files() if include_bundled else []), *(Path(f) for f in files)]
    if not sources:
        raise NtxError("nothing to load: give at least one RDF file or include the bundled graph")
    for path in sources:
        _check_readable(path)
    _check_replaceable(target)
    out = stream if stream is not None else sys.stderr
    report = _Progress(out) if progress else None
    validated, validation_seconds = False, 0.0
    if validate and files:
        _validate(files, include_bundled, out, report, base)
        validated, validation_seconds = True, time.perf_counter() - started
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NtxError(f"{parent}: cannot create the directory ({reason(error)})") from None
    _clean_stale(target)
    temporary = parent / f".{target.name}.building-{os.getpid()}-{secrets.token_hex(4)}"
    if report:
        report.loading = time.perf_counter()
    try:
        prefixes: dict[str, str] = {}
        records: list[dict[str, Any]] = []
        try:
            store = Store(str(temporary))
        except OSError as error:
            raise NtxError(f"{temporary}: cannot create the store ({one_line(error)})") from None
        for number, path in enumerate(sources, start=1):
            if report:
                report.line(f"loading {path} ({number}/{len(sources)})")
            user = number > len(sources) - len(files)
            parsed = _load(store, path, prefixes, chunk_size, lenient, report, base if user else None)
            size, digest = _digest(path)
            records.append({"path": str(path.resolve()), "size": size, "sha256": digest, "triples": parsed,
                            "bundled": include_bundled and number <= len(sources) - len(files)})
        if report:
            report.line("optimizing the store for queries")
        store.optimize()  # compacts the bulk-loaded tables: about 1 s per million triples, queries ~25% faster
        store.flush()
        triples = len(store)
        del store
        gc.collect()  # closes the RocksDB instance before the directory is renamed
        seconds = time.perf_counter() - started
        manifest = {
            "format": STORE_FORMAT,
            "format_version": STORE_FORMAT_VERSION,
            "ntx_graph_version": __version__,
            "pyoxigraph_version": str(getattr(pyoxigraph, "__version__", "unknown")),
            "files": records,
            "triples": triples,
            "prefixes": dict(sorted(prefixes.items())),
            "build_seconds": round(seconds, 3),
            "validated": validated,
            "validation_seconds": round(validation_seconds, 3),
            "completed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        atomic_write(temporary / MANIFEST_NAME, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
        _swap_into_place(temporary, target)
    except BaseException as error:
        shutil.rmtree(temporary, ignore_errors=True)
        if isinstance(error, OSError):
            raise NtxError(f"{target}: the store cannot be written ({reason(error)})") from None
        raise
    info = StoreInfo(directory=target, triples=triples, files=tuple(records), prefixes=dict(sorted(prefixes.items())),
                     seconds=seconds, manifest=manifest)
    if report:
        report.line(summary(info))
    return info


def open_store(directory: str | os.PathLike[str]) -> tuple[Store, dict[str, str], dict[str, Any]]:
    """Open a complete store read-only: the store, its prefixes and its manifest; NtxError
    for a missing directory, an incomplete store (no valid manifest) or an incompatible version.
    """
    path = Path(directory)
    manifest = read_manifest(path)
    try:
        store = Store.read_only(str(path))
    except (OSError, RuntimeError) as error:  # RocksDB reports a damaged store as a RuntimeError
        raise NtxError(f"{path}: the store cannot be opened ({one_line(error)}); "
                       "rebuild it with ntx-graph load") from None
    return store, dict(manifest["prefixes"]), manifest


def open_graph(directory: str | os.PathLike[str]) -> KnowledgeGraph:
    """A :class:`~ntx_graph.graph.KnowledgeGraph` over the read-only store at
    ``directory``; its ``files`` are the files the store was built from (as the
    manifest records them), so that ``validate()`` checks those."""
    from ntx_graph.graph import KnowledgeGraph

    store, prefixes, manifest = open_store(directory)
    files = [Path(record["path"]) for record in manifest.get("files", []) if isinstance(record, dict)]
    return KnowledgeGraph(store, files, prefixes)


def read_manifest(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the store at ``directory``; NtxError unless it is a complete, compatible store."""
    path = Path(directory)
    if not path.exists():
        raise NtxError(f"{path}: no such store directory; build one with ntx-graph load")
    if not path.is_dir():
        raise NtxError(f"{path}: is not a directory, so not an ntx-graph store")
    incomplete = NtxError(f"{path} is not a complete ntx-graph store (interrupted build?); "
                          "rebuild it with ntx-graph load")
    try:
        manifest = json.loads((path / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise incomplete from None
    if not isinstance(manifest, dict) or manifest.get("format") != STORE_FORMAT:
        raise incomplete
    version = manifest.get("format_version")
    if version != STORE_FORMAT_VERSION:
        raise NtxError(f"{path}: the store has format version {version}, this ntx-graph reads version "
                       f"{STORE_FORMAT_VERSION}; rebuild it with ntx-graph load")
    prefixes = manifest.get("prefixes")
    if (not isinstance(manifest.get("triples"), int) or not isinstance(prefixes, dict)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in prefixes.items())):
        raise incomplete
    for name in prefixes:
        if not is_prefix_name(name):
            raise NtxError(f"{path / MANIFEST_NAME}: bad prefix in the manifest ({name!r} is not a prefix "
                           "name); rebuild the store with ntx-graph load")
    try:  # the IRIs as the query engine will take them: Oxigraph checks them itself
        Store().query("ASK {}", prefixes=prefixes)
    except (ValueError, SyntaxError) as error:
        raise NtxError(f"{path / MANIFEST_NAME}: bad prefix in the manifest ({one_line(error)}); "
                       "rebuild the store with ntx-graph load") from None
    return manifest


def is_store(directory: str | os.PathLike[str]) -> bool:
    """Whether ``directory`` holds a complete ntx-graph store."""
    try:
        read_manifest(directory)
    except NtxError:
        return False
    return True


# -- building ------------------------------------------------------------------


class _Progress:
    """Progress lines on a stream: the triples loaded so far and the rate, and one summary at the end."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.loading = time.perf_counter()  # reset when loading starts
        self.total = 0

    def line(self, text: str) -> None:
        self.out.write(f"ntx-graph: {text}\n")
        self.out.flush()

    def chunk(self, added: int) -> None:
        self.total += added
        elapsed = time.perf_counter() - self.loading
        rate = self.total / elapsed if elapsed > 0 else 0.0
        self.line(f"  {self.total:,} triples loaded, {rate:,.0f} triples/s")


def summary(info: StoreInfo) -> str:
    """One line saying what was built, how long it took in all (validation included) and the loading rate."""
    files = len(info.files)
    checked = f"validated in {info.validation_seconds:.1f} s, " if info.manifest.get("validated") else ""
    return (f"built {info.directory}: {info.triples:,} triples from {plural(files, 'file')} "
            f"in {info.seconds:.1f} s ({checked}loaded at {info.triples_per_second:,.0f} triples/s)")


def _validate(files: Sequence[str | os.PathLike[str]], include_bundled: bool, out: IO[str],
              report: _Progress | None, base: str | None) -> None:
    from ntx_graph.validate import validate

    if report:
        report.line(f"validating {plural(len(files), 'file')} against the SHACL shapes")
    checked = validate(files, include_bundled=include_bundled, progress=out if report else None, base=base)
    checked.raise_unless_conforms("the files do", "use --no-validate to load them anyway")


def _check_readable(path: Path) -> None:
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not an RDF file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: cannot be read (permission denied)")


def _check_replaceable(target: Path) -> None:
    """Refuse to replace anything but a missing or empty directory or an ntx-graph store,
    recognised by its content (our manifest, RocksDB's ``CURRENT``, only RocksDB's files
    besides), so a user's folder holding a file named like the manifest is never replaced.
    """
    if not target.exists():
        return
    if not target.is_dir():
        raise NtxError(f"{target} exists and is not a directory; choose another store directory")
    try:
        names = [entry.name for entry in target.iterdir()]
    except OSError as error:
        raise NtxError(f"{target}: cannot be read ({reason(error)})") from None
    if not names or _looks_like_store(target, names):
        return
    raise NtxError(f"{target} exists and is not an ntx-graph store; choose another directory or remove it")


#: The files RocksDB keeps in a store directory (besides our manifest).
_ROCKSDB_FILE = r"(CURRENT|IDENTITY|LOCK|LOG|LOG\.old\.\d+|MANIFEST-\d+|OPTIONS-\d+|\d+\.(sst|log|blob))"


def _looks_like_store(directory: Path, names: Sequence[str]) -> bool:
    if MANIFEST_NAME not in names or "CURRENT" not in names:
        return False
    if not all(name == MANIFEST_NAME or re.fullmatch(_ROCKSDB_FILE, name) for name in names):
        return False
    try:
        manifest = json.loads((directory / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == STORE_FORMAT



def _load(store: Store, path: Path, prefixes: dict[str, str], chunk_size: int, lenient: bool,
          report: _Progress | None, base: str | None = None) -> int:
    """Parse ``path`` into ``store`` chunk by chunk (bounded memory); return the triples read."""
    import itertools

    with read_rdf(path, lenient=lenient, base=base) as rdf:
        loaded = load_plain(store, rdf, path, bulk=True, lenient=lenient,
                            on_block=report.chunk if report else None)
        if loaded is not None and loaded.triples is not None:
            for prefix, iri in loaded.prefixes.items():
                prefixes.setdefault(prefix, iri)
            return loaded.triples
        count = 0
        while True:
            chunk = list(itertools.islice(rdf.quads, chunk_size))
            if not chunk:
                break
            if len(chunk) < _SMALL_CHUNK and count == 0:
                store.extend(chunk)  # a small file: one transaction beats writing table files
            else:
                store.bulk_extend(chunk)
            count += len(chunk)
            if report:
                report.chunk(len(chunk))
        declared = rdf.prefixes
    for prefix, iri in declared.items():
        prefixes.setdefault(prefix, iri)
    return count


def _digest(path: Path) -> tuple[int, str]:
    import hashlib

    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
            size += len(block)
    return size, sha.hexdigest()


def _swap_into_place(temporary: Path, target: Path) -> None:
    """Rename ``temporary`` to ``target``; an existing ``target`` is moved aside
    first and removed only once the new directory is in place (restored on failure)."""
    import secrets
    import shutil

    _check_replaceable(target)
    old: Path | None = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
        os.rename(target, old)
    try:
        os.rename(temporary, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        raise
    sync_folder(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _clean_stale(target: Path) -> None:
    """Remove what killed builds left beside ``target``: temporary build
    directories, and old stores moved aside (put back if ``target`` is missing)."""
    import shutil

    for leftover in sorted(target.parent.glob(f".{target.name}.*-*-*")):
        kind, _, rest = leftover.name[len(target.name) + 2:].partition("-")
        pid = rest.partition("-")[0]
        if kind not in ("building", "old") or not pid.isdigit() or _running(int(pid)):
            continue
        if kind == "old" and not target.exists():
            os.rename(leftover, target)
        else:
            shutil.rmtree(leftover, ignore_errors=True)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True  # alive, or another user's (PermissionError)
