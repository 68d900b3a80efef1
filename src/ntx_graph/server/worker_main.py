"""The entry point of a query worker process: ``python -m
ntx_graph.server.worker_main FD``, where FD is its end of a socket pair."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from ntx_graph.server.workers import serve_worker

    serve_worker(int(sys.argv[1]))
