"""The endpoint's resource limits."""

from __future__ import annotations

from dataclasses import dataclass

from ntx_graph.errors import NtxError

MIB = 1024 * 1024


class LimitsError(NtxError, ValueError):
    """A limit is out of range."""


def mib(size: int) -> str:
    """``size`` bytes in MiB or GiB, for messages: ``mib(1 << 30) == '1 GiB'``."""
    if size % (1024 * MIB) == 0:
        return f"{size // (1024 * MIB)} GiB"
    return f"{size / MIB:g} MiB"


@dataclass(frozen=True)
class Limits:
    """Limits on what one request may cost.

    ``timeout``: seconds a query may run before its worker process is killed
    (503). ``max_rows``: the most result rows (or triples) an answer may hold;
    a larger result is refused with 413 rather than silently cut short.
    ``max_request_bytes``: the largest request body (413) and URL (414).
    ``workers``: query worker processes. ``memory_bytes``: the address space
    of each worker (a query past it gets 503 and its worker is replaced).
    ``max_response_bytes``: the largest answer (413). ``allow_federation``:
    give the workers the network (SERVICE still needs the guard's consent).
    ``client_share``: the most workers one client address holds while
    another client within its share waits (0: one less than ``workers``, at
    least 1); idle workers beyond it are lent, and taken back (once the lent
    query has run 0.1 s) when such a client waits, unless ``strict_share``. ``queue_wait``: seconds a
    request waits for a worker before 503 with Retry-After (0: the time
    limit; a query whose lent worker was taken back waits once more, as long
    at most). ``max_queue``: the most requests waiting for a worker.

    >>> Limits(workers=4).client_share, Limits(workers=1).client_share
    (3, 1)
    """

    timeout: float = 10.0
    max_rows: int = 10000
    max_request_bytes: int = 1_000_000
    workers: int = 2
    memory_bytes: int = 1024 * MIB
    max_response_bytes: int = 50_000_000
    allow_federation: bool = False
    client_share: int = 0
    queue_wait: float = 0.0
    max_queue: int = 64
    strict_share: bool = False

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise LimitsError("Limits.timeout must be positive")
        if self.max_rows < 1 or self.max_request_bytes < 1 or self.workers < 1:
            raise LimitsError("Limits.max_rows, max_request_bytes and workers must be at least 1")
        if self.memory_bytes < 64 * MIB:
            raise LimitsError("Limits.memory_bytes must be at least 64 MiB")
        if self.max_response_bytes < 1 or self.max_queue < 1 or self.client_share < 0 or self.queue_wait < 0:
            raise LimitsError("Limits.max_response_bytes and max_queue must be at least 1, "
                              "client_share and queue_wait not negative")
        if self.client_share == 0:
            object.__setattr__(self, "client_share", max(1, self.workers - 1))
        if self.queue_wait == 0:
            object.__setattr__(self, "queue_wait", self.timeout)
