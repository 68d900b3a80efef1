"""RDF/XML with external entities (XXE): no file is read into the graph and
no connection is made, on every path that parses user files."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ntx_graph.errors import DataError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.validate import validate

SECRET = "SECRET-CONTENT-7f3a"


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A loopback socket that records any connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            hits.append(conn.recv(1024))
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()


@pytest.fixture
def evil(tmp_path: Path, listener: tuple[int, list[bytes]]) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    port = listener[0]
    path = tmp_path / "evil.rdf"
    path.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY file SYSTEM "{secret.as_uri()}">
  <!ENTITY remote SYSTEM "http://127.0.0.1:{port}/entity">
  <!ENTITY % param SYSTEM "http://127.0.0.1:{port}/dtd"> %param;
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/a"><ex:p>&file;</ex:p><ex:q>&remote;</ex:q></rdf:Description>
</rdf:RDF>
""")
    return path


def _assert_safe(text: str, hits: list[bytes]) -> None:
    assert SECRET not in text
    assert hits == [], "the parser connected to the entity's URL"


def test_embedded_engine(evil: Path, listener: tuple[int, list[bytes]]) -> None:
    try:
        kg = KnowledgeGraph.open([evil])
        text = kg.export("ntriples").decode()
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener[1])


def test_validation_path(evil: Path, listener: tuple[int, list[bytes]]) -> None:
    try:
        report = validate([evil])
        text = report.text
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener[1])


def test_cli(evil: Path, listener: tuple[int, list[bytes]]) -> None:
    for args in (["export", "--data", str(evil), "--no-validate"], ["validate", str(evil)],
                 ["query", "--sparql", "SELECT * WHERE { ?s ?p ?o }", "--data", str(evil), "-f", "csv"]):
        result = subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True,
                                timeout=120)
        _assert_safe(result.stdout + result.stderr, listener[1])
        assert "Traceback" not in result.stderr
