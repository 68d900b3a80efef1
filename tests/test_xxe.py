"""RDF/XML with external entities (XXE): no file is read into the graph and
no connection is made, on every path that parses user files."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import Listener
from ntx_graph.errors import DataError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.validate import validate

SECRET = "SECRET-CONTENT-7f3a"


@pytest.fixture
def evil(tmp_path: Path, listener: Listener) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    port = listener.port
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
    time.sleep(0.3)  # let the listener record a late connection
    assert SECRET not in text
    assert hits == [], "the parser connected to the entity's URL"


def test_embedded_engine(evil: Path, listener: Listener) -> None:
    try:
        kg = KnowledgeGraph.open([evil])
        text = kg.export("ntriples").decode()
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener.hits)


def test_validation_path(evil: Path, listener: Listener) -> None:
    try:
        report = validate([evil])
        text = report.text
    except DataError as error:
        text = str(error)
    _assert_safe(text, listener.hits)


def test_cli(evil: Path, listener: Listener) -> None:
    for args in (["export", "--data", str(evil), "--no-validate"], ["validate", str(evil)],
                 ["query", "--sparql", "SELECT * WHERE { ?s ?p ?o }", "--data", str(evil), "-f", "csv"]):
        result = subprocess.run([sys.executable, "-m", "ntx_graph", *args], capture_output=True, text=True,
                                timeout=120)
        _assert_safe(result.stdout + result.stderr, listener.hits)
        assert "Traceback" not in result.stderr
