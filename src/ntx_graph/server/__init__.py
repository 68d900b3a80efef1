"""A read-only SPARQL 1.1 endpoint, the saved queries over HTTP and a web
page, served by uvicorn through an ASGI adapter over the router.

The HTTP stack is imported on first use, so that importing a module of this
package (the guard, the negotiation) does not import uvicorn.

>>> from ntx_graph.server import Limits
>>> Limits().timeout
10.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ntx_graph.server.limits import Limits

if TYPE_CHECKING:
    from ntx_graph.server.http import NtxServer, make_server, serve

__all__ = ["Limits", "NtxServer", "make_server", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("NtxServer", "make_server", "serve"):
        from ntx_graph.server import http

        return getattr(http, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
