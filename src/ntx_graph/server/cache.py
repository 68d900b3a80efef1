"""A bounded cache of answers.

The graph is read-only while the server runs, so a task's answer depends
only on the task: the query text or saved query, the parameter values, the
dataset and the format. Successful answers are kept, least recently used
first out, within a budget in bytes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ntx_graph.server.messages import Response
from ntx_graph.server.tasks import Task
from ntx_graph.server.workers import Executor


class CachingExecutor:
    """An Executor that answers a task it has answered before from memory.

    >>> from ntx_graph.server.messages import text
    >>> class Count:
    ...     calls = 0
    ...     def run(self, task): Count.calls += 1; return text(200, "hi")
    ...     def close(self): pass
    >>> cached = CachingExecutor(Count(), 1000)
    >>> [cached.run((len, ("x",))).body for _ in range(3)], Count.calls
    ([b'hi\\n', b'hi\\n', b'hi\\n'], 1)
    """

    def __init__(self, inner: Executor, max_bytes: int) -> None:
        self.inner = inner
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, Response] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(task: Task) -> str:
        """The cache key of a task (its function and arguments, by value)."""
        function, args = task
        return f"{function.__module__}.{function.__qualname__}{args!r}"

    def run(self, task: Task) -> Response:
        """The task's answer, from the cache when it is there."""
        key = self.key(task)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return Response(found.status, found.body, found.content_type, dict(found.headers))
            self.misses += 1
        response = self.inner.run(task)
        cost = len(response.body) + len(key)
        if response.status == 200 and cost <= self.max_entry:
            with self._lock:
                if key not in self._entries:
                    self._entries[key] = Response(response.status, response.body, response.content_type,
                                                  dict(response.headers))
                    self.size += cost
                while self.size > self.max_bytes:
                    old_key, old = self._entries.popitem(last=False)
                    self.size -= len(old.body) + len(old_key)
        return response

    def close(self) -> None:
        """Drop the cache and close the inner executor."""
        with self._lock:
            self._entries.clear()
            self.size = 0
        self.inner.close()

    def pids(self) -> list[int]:
        """The inner executor's worker processes."""
        pids = getattr(self.inner, "pids", None)
        return list(pids()) if callable(pids) else []
