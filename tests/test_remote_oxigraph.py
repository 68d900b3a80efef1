"""Pushing to and querying an Oxigraph server (``oxigraph serve``); that every
saved query gives the embedded engine's answer there is test_agreement.py."""

from __future__ import annotations

import pytest

from servers import MAIN_GRAPH, Server, ServerContract, cli, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(oxigraph: Server) -> Server:
    """The session's server (conftest): these tests keep to graphs under MAIN_GRAPH."""
    return oxigraph


class TestOxigraph(ServerContract):
    """The shared contract (see servers.ServerContract)."""


def test_push_to_a_wrong_path_fails_in_one_line(server: Server) -> None:
    done = cli("push", "--endpoint", server.store_url.replace("/store", "/nowhere"), "--graph", MAIN_GRAPH)
    assert done.returncode == 2
    assert done.stderr.startswith("ntx-graph: error: push failed: the server answered HTTP 404 Not Found")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_push_to_a_closed_port_fails_in_one_line() -> None:
    done = cli("push", "--endpoint", f"http://127.0.0.1:{free_port()}/store", "--graph", MAIN_GRAPH)
    assert done.returncode == 2
    assert done.stderr.startswith("ntx-graph: error: push failed: cannot reach http://127.0.0.1:")
    assert done.stderr.count("\n") == 1


def test_query_on_a_closed_port_fails_in_one_line() -> None:
    done = cli("query", "is-narcotic", "--endpoint", f"http://127.0.0.1:{free_port()}/query")
    assert done.returncode == 2
    assert done.stderr.startswith("ntx-graph: error: cannot reach http://127.0.0.1:")
    assert done.stderr.count("\n") == 1
