"""Pushing to and querying a private Virtuoso 7, whatever its dialect; that
every saved query gives the embedded engine's answer there is
test_agreement.py."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ntx_graph.errors import NtxError
from ntx_graph.push import PushError, push_graph
from ntx_graph.remote import RemoteEndpoint
from servers import (
    DEF,
    MAIN_GRAPH,
    PASSWORD_VAR,
    XSD,
    Server,
    ServerContract,
    cli,
    echo_query,
)

pytestmark = [pytest.mark.server, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(virtuoso: Server) -> Server:
    """The session's server (conftest): these tests keep to graphs under MAIN_GRAPH."""
    return virtuoso


class TestVirtuoso(ServerContract):
    """The shared contract (see servers.ServerContract)."""

    def test_booleans_come_back_as_true_and_false(self, endpoint: RemoteEndpoint) -> None:
        # Virtuoso stores booleans by value and writes them "1"/"0"
        result = endpoint.query(f"SELECT DISTINCT ?v WHERE {{ ?i <{DEF}isPrimaryUse> ?v }}")
        boolean = ox.NamedNode(XSD + "boolean")
        assert sorted(str(row[0]) for row in result.rows) == sorted(
            str(ox.Literal(v, datatype=boolean)) for v in ("false", "true"))

    def test_ask_answers_a_boolean(self, endpoint: RemoteEndpoint) -> None:
        assert endpoint.query(f"ASK {{ ?d <{DEF}isNarcotic> false }}").boolean is True
        assert endpoint.query(f"ASK {{ ?d <{DEF}isNarcotic> true }}").boolean is False


def test_wrong_password_is_one_clear_line(server: Server) -> None:
    done = cli("push", "--endpoint", server.store_url, "--graph", MAIN_GRAPH + "/denied", "--user", "dba",
               "--password-env", PASSWORD_VAR, "--auth", "digest", env={PASSWORD_VAR: "not-the-password"})
    assert done.returncode == 2
    assert done.stderr == ("ntx-graph: error: push failed: the server answered HTTP 401 Unauthorized: the user name "
                           "or password is wrong\n")


def test_basic_auth_on_a_digest_store_says_so(server: Server) -> None:
    done = cli("push", "--endpoint", server.store_url, "--graph", MAIN_GRAPH + "/denied", "--user", "dba",
               "--password-env", PASSWORD_VAR, env={PASSWORD_VAR: "dba"})
    assert done.returncode == 2
    assert done.stderr.startswith("ntx-graph: error: push failed: the server answered HTTP 401 Unauthorized: the "
                                  "server asks for digest authentication; use --auth digest")


def test_no_credentials_says_so(server: Server) -> None:
    with pytest.raises(PushError, match=r"^push failed: the server answered HTTP 401 Unauthorized: the server "
                                        r"asks for digest"):
        push_graph(b"<urn:a> <urn:b> <urn:c> .\n", endpoint=server.store_url, graph=MAIN_GRAPH + "/denied")


def test_a_large_body_is_not_sent_to_a_closed_door(server: Server) -> None:
    # Virtuoso resets the connection when it refuses a large body; the HEAD
    # preflight reports the 401 before the body is sent.
    data = b"".join(b'<urn:ntx:s> <urn:ntx:p> "%d" .\n' % i for i in range(200_000))
    with pytest.raises(PushError, match="password is wrong"):
        push_graph(data, endpoint=server.store_url, graph=MAIN_GRAPH + "/denied", user="dba", password="nope",
                   auth="digest")


def test_queries_with_digest_auth(server: Server) -> None:
    url = server.query_url.replace("/sparql", "/sparql-auth")
    ok = RemoteEndpoint(url, graph=MAIN_GRAPH, user="dba", password="dba", auth="digest", prefixes={})
    assert ok.query("ASK { ?s ?p ?o }").boolean is True
    denied = RemoteEndpoint(url, graph=MAIN_GRAPH, user="dba", password="nope", auth="digest", prefixes={})
    with pytest.raises(NtxError, match=r"^the server answered HTTP 401"):
        denied.query("ASK { ?s ?p ?o }")


def test_a_value_too_long_for_virtuoso_is_a_clear_error(server: Server) -> None:
    # Virtuoso cannot return a literal of more than about 8 kB in a result cell
    endpoint = RemoteEndpoint(server.query_url, graph=MAIN_GRAPH, prefixes={})
    with pytest.raises(NtxError) as caught:
        endpoint.run(echo_query(), {"text": "x" * 9000})
    assert str(caught.value).startswith("the server answered HTTP 500") and "\n" not in str(caught.value)
