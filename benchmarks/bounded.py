"""Run benchmark work in a child process that is killed at a time limit.

Work done inside pyoxigraph (a SPARQL query, a load) cannot be interrupted
from Python: a signal handler runs only once the call returns. A case that
may run away is therefore run in a forked child, and the parent, which only
waits, kills the child when the time is up: ``call(fn, *args, timeout=60)``
returns ``fn(*args)`` or raises :class:`TimedOut` (or :class:`Failed` with
the child's traceback). ``fn`` may be any callable, a closure included (the
child is a fork, nothing is pickled but the answer). It needs the ``fork``
start method (Linux, macOS); the answer must pickle. (The saved-query cases,
many calls on one large graph, use their own long-lived child instead:
``benchmarks/query_worker.py``.) ``benchmarks/run.py`` runs each of its sections through
:func:`call`, so one hung section cannot stop the run.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

__all__ = ["Failed", "TimedOut", "call"]

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
