"""Run benchmark work in a child process that is killed at a time limit.

Work done inside pyoxigraph (a SPARQL query, a load) cannot be interrupted
from Python: a signal handler runs only once the call returns. A case that
may run away is therefore run in a forked child, and the parent, which only
waits, kills the child when the time is up. Two forms:

- :func:`call` forks once for one call: ``call(fn, *args, timeout=60)``
  returns ``fn(*args)`` or raises :class:`TimedOut` (or :class:`Failed` with
  the child's traceback). ``fn`` may be any callable, a closure included
  (the child is a fork, nothing is pickled but the answer).
- :class:`Worker` keeps one forked child for many calls, so that state built
  once (a million-triple graph) serves them all in the same process: the
  child runs ``setup()`` once, then each ``worker.call(name, *args,
  timeout=...)`` runs ``handlers[name](state, *args)`` there. When a call
  overruns, the child is killed, :class:`TimedOut` is raised, and the next
  call starts a new child (running ``setup()`` again).

Both need the ``fork`` start method (Linux, macOS); arguments and answers
must pickle. ``benchmarks/run.py`` runs each of its sections through
:func:`call`, so one hung section cannot stop the run.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any, TypeVar

__all__ = ["Failed", "TimedOut", "Worker", "call"]

T = TypeVar("T")
_FORK = multiprocessing.get_context("fork")


class TimedOut(Exception):
    """The child did not answer within its time limit and was killed."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what}: stopped at the time limit of {seconds:g} s")
        self.seconds = seconds


class Failed(Exception):
    """The work raised in the child, or the child died; the message ends with the child's traceback."""


def _answer(conn: Connection, fn: Callable[[], Any]) -> None:
    try:
        outcome: tuple[str, Any] = ("ok", fn())
    except BaseException as error:  # reported to the parent, whatever it is
        outcome = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
    try:
        conn.send(outcome)
    except Exception as error:  # an answer that does not pickle
        conn.send(("error", f"the answer cannot be sent to the parent: {type(error).__name__}: {error}"))


def _kill(process: Any) -> None:
    if process.is_alive():
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the child and whatever it started
        except OSError:
            process.kill()
    process.join(10)


def _start(target: Callable[..., None], *args: Any) -> Any:
    def run(*inner: Any) -> None:
        os.setpgid(0, 0)  # its own process group: a kill reaches the processes it started too
        target(*inner)

    process = _FORK.Process(target=run, args=args, daemon=False)
    process.start()
    return process


def _receive(conn: Connection, process: Any, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            _kill(process)
            raise TimedOut(what, timeout)
        if conn.poll(min(left, 1.0)):
            try:
                status, value = conn.recv()
            except EOFError:
                break
            if status == "error":
                raise Failed(f"{what}: {value}")
            return value
        if not process.is_alive() and not conn.poll(0):
            break
    process.join(10)
    raise Failed(f"{what}: the child process died (exit status {process.exitcode})")


def call(fn: Callable[..., T], *args: Any, timeout: float, what: str | None = None) -> T:
    """``fn(*args)`` in a forked child; TimedOut if it has not returned within ``timeout`` seconds."""
    label = what or getattr(fn, "__name__", "call")
    parent, child = _FORK.Pipe(duplex=False)
    process = _start(lambda: _answer(child, lambda: fn(*args)))
    child.close()
    try:
        return _receive(parent, process, label, timeout)  # type: ignore[no-any-return]
    finally:
        parent.close()
        _kill(process)


def _serve(conn: Connection, setup: Callable[[], Any], handlers: Mapping[str, Callable[..., Any]]) -> None:
    state = setup()
    conn.send(("ok", None))
    while True:
        try:
            name, args = conn.recv()
        except EOFError:
            return
        _answer(conn, functools.partial(handlers[name], state, *args))


class Worker:
    """One forked child that holds ``setup()``'s state and runs ``handlers`` on it, each call under a time limit."""

    def __init__(self, setup: Callable[[], Any], handlers: Mapping[str, Callable[..., Any]], *,
                 setup_timeout: float = 600) -> None:
        self.setup, self.handlers, self.setup_timeout = setup, dict(handlers), setup_timeout
        self._process: Any = None
        self._conn: Connection | None = None
        self.restarts = 0

    def _ensure(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self.close()
        ours, theirs = _FORK.Pipe(duplex=True)
        self._process = _start(_serve, theirs, self.setup, self.handlers)
        theirs.close()
        self._conn = ours
        _receive(ours, self._process, "worker setup", self.setup_timeout)
        return ours

    def call(self, name: str, *args: Any, timeout: float) -> Any:
        """``handlers[name](state, *args)`` in the child; TimedOut (and a new child next time) past ``timeout``."""
        conn = self._ensure()
        conn.send((name, args))
        try:
            return _receive(conn, self._process, name, timeout)
        except (TimedOut, Failed):
            if not self._process.is_alive():
                self.restarts += 1
                self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._process is not None:
            _kill(self._process)
            self._process = None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
