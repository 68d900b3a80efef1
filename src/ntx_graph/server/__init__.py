"""A read-only SPARQL 1.1 endpoint, the saved queries over HTTP and a web
page, served with the standard library's HTTP server.

>>> from ntx_graph.server import Limits
>>> Limits().timeout
10.0
"""

from __future__ import annotations

from ntx_graph.server.http import NtxServer, make_server, serve
from ntx_graph.server.limits import Limits

__all__ = ["Limits", "NtxServer", "make_server", "serve"]
