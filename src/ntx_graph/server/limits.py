"""The endpoint's resource limits."""

from __future__ import annotations

from dataclasses import dataclass

from ntx_graph.errors import NtxError


class LimitsError(NtxError, ValueError):
    """A limit is out of range."""


@dataclass(frozen=True)
class Limits:
    """Limits on what one request may cost.

    ``timeout``: seconds a query may run before its worker process is killed
    (503). ``max_rows``: the most result rows (or triples) an answer may hold;
    a larger result is refused with 413 rather than silently cut short.
    ``max_request_bytes``: the largest request body (413) and URL (414).
    ``workers``: query worker processes.
    """

    timeout: float = 10.0
    max_rows: int = 10000
    max_request_bytes: int = 1_000_000
    workers: int = 2

    def __post_init__(self) -> None:
        if not self.timeout > 0:
            raise LimitsError("Limits.timeout must be positive")
        if self.max_rows < 1 or self.max_request_bytes < 1 or self.workers < 1:
            raise LimitsError("Limits.max_rows, max_request_bytes and workers must be at least 1")
