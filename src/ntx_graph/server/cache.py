"""A bounded cache of answers.

The graph is read-only while the server runs, and the router is a function
of the request, so a successful answer can be given again to the same
request: same method, path, query string, body, and the headers the router
reads (Accept, Content-Type, Host). Answers are kept within a budget in
bytes, least recently used out first; a hit is answered by the HTTP layer
without a thread, the router or a worker.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from ntx_graph.server.messages import Request, Response

#: The request headers an answer depends on.
KEY_HEADERS = ("accept", "content-type", "host")


class ResponseCache:
    """Successful answers by request, within ``max_bytes``.

    >>> from ntx_graph.server.messages import text
    >>> cache = ResponseCache(10_000)
    >>> request = Request("GET", "/health", "", {"host": "localhost"})
    >>> cache.get(cache.key(request)) is None
    True
    >>> cache.put(cache.key(request), text(200, "ok"))
    >>> cache.get(cache.key(request)).body, cache.hits, cache.misses
    (b'ok\\n', 1, 1)
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.size = 0
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[tuple[str, ...], Response] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(request: Request) -> tuple[str, ...]:
        """What the answer to ``request`` depends on."""
        headers: Mapping[str, str] = request.headers
        return (request.method, request.path, request.query_string, request.body.decode("latin-1"),
                *(headers.get(name, "") for name in KEY_HEADERS))

    def get(self, key: tuple[str, ...]) -> Response | None:
        """The answer kept for ``key``, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: tuple[str, ...], response: Response) -> None:
        """Keep a successful answer (one larger than an eighth of the budget is not kept)."""
        cost = len(response.body) + sum(len(part) for part in key)
        if response.status != 200 or cost > self.max_entry:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = response
            self.size += cost
            while self.size > self.max_bytes:
                old_key, old = self._entries.popitem(last=False)
                self.size -= len(old.body) + sum(len(part) for part in old_key)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()
            self.size = 0
