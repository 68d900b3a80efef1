"""Export: deterministic bytes in every format, prefixes kept, and a graph
that parses back isomorphic to the one loaded."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from rdflib.compare import isomorphic

from ntx_graph import formats
from ntx_graph.cli import EXPORT_FORMATS, main
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.resources import bundled_files, data_files

USER_DATA = Path(__file__).parent / "fixtures" / "data" / "with-blank-nodes.ttl"


def _graph(data: bytes, fmt: str) -> rdflib.Graph:
    if fmt == "trig":
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format="trig")
        graph = rdflib.Graph()
        for s, p, o, _ in dataset.quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph
    return rdflib.Graph().parse(data=data, format=formats.BY_NAME[fmt].rdflib)


def _loaded(files: list[Path]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for f in files:
        graph.parse(f)
    return graph


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_round_trip_is_isomorphic(fmt: str) -> None:
    kg = KnowledgeGraph.open([USER_DATA])
    exported = kg.export(fmt)
    assert isomorphic(_graph(exported, fmt), _loaded([*bundled_files(), USER_DATA]))


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_two_runs_give_identical_bytes(fmt: str) -> None:
    """Separate processes (blank-node ids are random per parse) give the same bytes."""
    def run() -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "ntx_graph", "export", "--format", fmt, "--data", str(USER_DATA)],
            check=True, capture_output=True,
        ).stdout
    first, second = run(), run()
    assert first == second
    assert len(first) > 10_000


@pytest.mark.parametrize("fmt", ["turtle", "trig", "rdfxml", "jsonld"])
def test_prefixes_are_kept(fmt: str) -> None:
    text = KnowledgeGraph.open().export(fmt).decode()
    assert "https://w3id.org/ntx-graph/def/" in text
    compact = {"turtle": "ntx:Indication", "trig": "ntx:Indication", "rdfxml": 'xmlns:ntx="https://w3id.org/ntx-graph/def/"',
               "jsonld": '"ntx:Indication"'}[fmt]
    assert compact in text


def test_no_ontology_leaves_out_the_ontology(tmp_path: Path) -> None:
    out = tmp_path / "data.nt"
    assert main(["export", "--no-ontology", "--format", "ntriples", "--output", str(out)]) == 0
    exported = rdflib.Graph().parse(out, format="nt")
    assert isomorphic(exported, _loaded(data_files()))
    assert (rdflib.URIRef("https://w3id.org/ntx-graph/def/Indication"), rdflib.RDF.type, rdflib.OWL.Class) \
        not in exported


def test_output_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "graph.ttl"
    out.write_text("old content\n")
    assert main(["export", "--output", str(out)]) == 0
    assert out.read_bytes() == KnowledgeGraph.open().export("turtle")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.ttl"], "no temporary file left behind"


def test_failed_export_keeps_the_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "graph.ttl"
    out.write_text("precious\n")
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://e.org/a> <http://e.org/b> .\n")
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--output", str(out), "--data", str(broken), "--no-validate"])
    assert exit_info.value.code == 2
    assert out.read_text() == "precious\n"
    assert "broken.ttl" in capsys.readouterr().err


def test_export_into_a_missing_folder_fails_cleanly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["export", "--output", str(tmp_path / "missing" / "graph.ttl")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ntx-graph: error: cannot write") and "does not exist" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("fmt", [f for f in EXPORT_FORMATS if f not in ("trig", "nanopub")])  # TriG: ntx_graph.trig
def test_fast_export_path_equals_the_canonicalising_one(fmt: str) -> None:
    """A graph without blank nodes gives the same bytes whether or not its blank nodes are relabelled."""
    from ntx_graph import rdf_io

    kg = KnowledgeGraph.open()
    assert rdf_io._ordered_ntriples(kg.store, canonicalize=True) == rdf_io._ordered_ntriples(kg.store)
    assert rdf_io.export_store(kg.store, fmt, kg.prefixes) == kg.export(fmt)


ONTOLOGY = "https://w3id.org/ntx-graph/def"


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "rdfxml"])
def test_the_ontology_header_comes_first(fmt: str) -> None:
    """OWL tools read the owl:Ontology node before the rest (issue 15, defect 9); the rest stays sorted."""
    data = KnowledgeGraph.open([USER_DATA]).export(fmt).decode()
    body = [line for line in data.splitlines() if line.strip() and not line.startswith(("@prefix", "<?xml"))]
    first = {"turtle": f"<{ONTOLOGY}> a owl:Ontology ;",
             "ntriples": f"<{ONTOLOGY}> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                         "<http://www.w3.org/2002/07/owl#Ontology> .",
             "rdfxml": f'\t<owl:Ontology rdf:about="{ONTOLOGY}">'}[fmt]
    assert body[1 if fmt == "rdfxml" else 0] == first
    if fmt == "ntriples":
        header = [line for line in body if line.startswith(f"<{ONTOLOGY}> ")]
        assert body[:len(header)] == header and len(header) >= 5
        assert body[len(header):] == sorted(body[len(header):], key=str.encode)


def test_prefix_lines_are_put_in_order_and_text_already_in_order_is_kept_as_it_is() -> None:
    from ntx_graph.rdf_io import _sort_prefix_lines

    body = b"\n<http://e/s> <http://e/p> <http://e/o> .\n"
    unordered = b"@prefix b: <http://b/> .\n@prefix a: <http://a/> .\n" + body
    assert _sort_prefix_lines(unordered) == b"@prefix a: <http://a/> .\n@prefix b: <http://b/> .\n" + body
    ordered = b"@prefix a: <http://a/> .\n@prefix b: <http://b/> .\n" + body
    assert _sort_prefix_lines(ordered) is ordered
    assert _sort_prefix_lines(body) is body


# -- the store order (issue 13): pyoxigraph's own dump, deterministic for the same inputs ------------------------

STORE_ORDER = ["ntriples", "turtle", "rdfxml", "jsonld"]
NO_BLANK_NODES = Path(__file__).parent / "fixtures" / "data" / "indication-without-evidence.ttl"


def test_the_store_order_is_the_stores_own_dump() -> None:
    from pyoxigraph import DefaultGraph, RdfFormat

    kg = KnowledgeGraph.open()
    assert kg.export("ntriples", order="store") == kg.store.dump(format=RdfFormat.N_TRIPLES, from_graph=DefaultGraph())
    assert kg.export("ntriples", order="store") != kg.export("ntriples"), "the bundled graph is not loaded sorted"


@pytest.mark.parametrize("fmt", STORE_ORDER)
def test_the_store_order_round_trips_and_keeps_prefixes(fmt: str) -> None:
    kg = KnowledgeGraph.open([NO_BLANK_NODES], validate=False)
    exported = kg.export(fmt, order="store")
    assert isomorphic(_graph(exported, fmt), _loaded([*bundled_files(), NO_BLANK_NODES]))
    if fmt != "ntriples":
        assert {"turtle": "ntx:Indication", "rdfxml": 'xmlns:ntx="https://w3id.org/ntx-graph/def/"',
                "jsonld": '"ntx:Indication"'}[fmt] in exported.decode()


@pytest.mark.parametrize("fmt", STORE_ORDER)
def test_the_store_order_gives_identical_bytes_in_two_processes(fmt: str) -> None:
    def run() -> bytes:
        return subprocess.run(
            [sys.executable, "-m", "ntx_graph", "export", "--order", "store", "-f", fmt, "--data",
             str(NO_BLANK_NODES), "--no-validate"], check=True, capture_output=True).stdout
    first, second = run(), run()
    assert first == second and len(first) > 10_000


@pytest.mark.parametrize("fmt", STORE_ORDER)
def test_a_graph_with_blank_nodes_is_written_in_the_canonical_order_all_the_same(fmt: str) -> None:
    """Its blank-node labels are random per parse: only the canonical order relabels them."""
    kg = KnowledgeGraph.open([USER_DATA])
    assert kg.export(fmt, order="store") == kg.export(fmt)


@pytest.mark.parametrize("fmt", STORE_ORDER)
@pytest.mark.parametrize("turtle", [
    "ex:s ex:p [ ex:q 1 ] .",  # a blank node as subject and object
    "ex:s ex:p ( 1 2 ) .",  # a list
    "[] ex:p ex:o .",  # a blank node as subject only
    "ex:s ex:p [] .",  # as object only
    "ex:s ex:p <<( ex:a ex:b [] )>> .",  # inside a triple term (RDF 1.2)
    "ex:s ex:p <<( ex:a ex:b <<( [] ex:c 1 )>> )>> .",  # inside a triple term inside a triple term
])
def test_each_formats_blank_nodes_are_seen(fmt: str, turtle: str) -> None:
    """The check on the dumped bytes knows how each of pyoxigraph's serializers writes a blank node."""
    from pyoxigraph import RdfFormat, Store

    from ntx_graph.rdf_io import _in_store_order

    store = Store()
    store.load(f"@prefix ex: <http://example.org/> . {turtle}".encode(), format=RdfFormat.TURTLE)
    assert _in_store_order(store, fmt, {"ex": "http://example.org/"}) is None


@pytest.mark.parametrize(("fmt", "order"), [(fmt, order) for fmt in ("ntriples", "turtle", "rdfxml")
                                             for order in ("canonical", "store")] + [("trig", "canonical")])
def test_blank_nodes_inside_triple_terms_are_relabelled_canonically(fmt: str, order: str, tmp_path: Path) -> None:
    """A blank node inside an RDF 1.2 triple term is labelled at random per parse, as any other
    (JSON-LD cannot write a triple term)."""
    path = tmp_path / "triple-term.ttl"
    path.write_text("@prefix ex: <http://example.org/> .\nex:s ex:p <<( ex:a ex:b [] )>> .\n")
    first, second = (KnowledgeGraph.open([path], validate=False).export(fmt, order=order) for _ in range(2))
    assert first == second
    assert b"c14n0" in first


@pytest.mark.parametrize("fmt", STORE_ORDER)
def test_text_that_looks_like_a_blank_node_is_not_one(fmt: str) -> None:
    from pyoxigraph import RdfFormat, Store

    from ntx_graph.rdf_io import _in_store_order

    store = Store()
    store.load(b'<http://example.org/s> <http://example.org/p> "_:b0 rdf:nodeID=\\"x\\"" .', format=RdfFormat.N_TRIPLES)
    assert b"_:b0" in (_in_store_order(store, fmt, {"ex": "http://example.org/"}) or b"")


def test_the_store_order_of_a_persistent_store_follows_the_triples_not_the_loading(tmp_path: Path) -> None:
    """Two stores built from the same files in opposite orders give the same bytes."""
    from ntx_graph.persistent import build_store

    other = tmp_path / "other.ttl"
    # short strings and numbers are inlined in the store's keys, longer literals and IRIs hashed
    other.write_text(
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        "<https://example.org/a> <https://example.org/p> \"a\", 3, \"b\"@en, -7, 3.14, 1.0e3, true, \"\"@fr, \"\", "
        "\"2020-01-01\"^^xsd:date, \"a string longer than sixteen bytes\", \"a longer one, tagged\"@en-GB, "
        "\"x\"^^<https://example.org/dt>, \"a long literal of its own datatype\"^^<https://example.org/dt>, "
        "\"12345678901234567890123\"^^xsd:integer .\n")
    build_store([NO_BLANK_NODES, other], tmp_path / "one")
    build_store([other, NO_BLANK_NODES], tmp_path / "two")
    one, two = KnowledgeGraph.open_store(tmp_path / "one"), KnowledgeGraph.open_store(tmp_path / "two")
    for fmt in STORE_ORDER:
        assert one.export(fmt, order="store") == two.export(fmt, order="store")
        assert one.export(fmt) == two.export(fmt) == KnowledgeGraph.open([NO_BLANK_NODES, other],
                                                                         validate=False).export(fmt)


@pytest.mark.parametrize("argv", [
    ["export", "--order", "store", "-f", "trig"],
    ["export", "--order", "store", "-f", "nanopub"],
    ["export", "--order", "store", "-o", "graph.trig"],
])
def test_the_store_order_is_refused_where_it_does_not_apply(argv: list[str], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("ntx-graph: error: the store order applies to ntriples, turtle, rdfxml and jsonld;")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("order", ["canonical", "store"])
def test_an_unknown_format_is_refused_whatever_the_order(order: str) -> None:
    """Not a KeyError, nor a claim that the format is written in the canonical order."""
    with pytest.raises(formats.FormatError, match=r"unknown format 'bogus'; use one of turtle, .*, nanopub$"):
        KnowledgeGraph.open().export("bogus", order=order)


def test_an_unknown_order_is_refused() -> None:
    from ntx_graph.errors import NtxError

    with pytest.raises(NtxError, match="unknown export order 'random'"):
        KnowledgeGraph.open().export("turtle", order="random")


@pytest.mark.parametrize("order", ["canonical", "store"])
@pytest.mark.parametrize(("name", "namespace", "used"), [
    ("xml", "http://example.org/not-xml#", False), ("xml", "http://example.org/not-xml#", True),
    ("xmlns", "http://example.org/xmlns#", False), ("xmlns", "http://example.org/xmlns#", True),
    ("x", "http://www.w3.org/XML/1998/namespace", False), ("x", "http://www.w3.org/XML/1998/namespace", True),
    ("y", "http://www.w3.org/2000/xmlns/", False),  # an IRI in it cannot be an RDF/XML element at all
])
def test_rdfxml_is_xml_whatever_prefixes_the_data_declares(order: str, name: str, namespace: str, used: bool,
                                                           tmp_path: Path) -> None:
    """Turtle may bind ``xml:`` and ``xmlns:`` as it likes, XML may not: such a prefix is left out of RDF/XML."""
    from xml.dom import minidom

    path = tmp_path / "prefixes.ttl"
    predicate = f"{name}:p" if used else "<http://example.org/p>"
    path.write_text(f"@prefix {name}: <{namespace}> .\n<http://example.org/s> {predicate} \"o\" .\n")
    exported = KnowledgeGraph.open([path], include_bundled=False, validate=False).export("rdfxml", order=order)
    minidom.parseString(exported)
    assert isomorphic(_graph(exported, "rdfxml"), _loaded([path]))


def test_a_construct_answer_in_rdfxml_is_xml_whatever_prefixes_the_data_declares(tmp_path: Path) -> None:
    from xml.dom import minidom

    path = tmp_path / "prefixes.ttl"
    path.write_text("@prefix xml: <http://example.org/not-xml#> .\n<http://example.org/s> xml:p \"o\" .\n")
    kg = KnowledgeGraph.open([path], include_bundled=False, validate=False)
    answer = kg.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize("rdfxml")
    minidom.parseString(answer)


PREFIXES_TURTLE_CANNOT_NAME = {
    "rdf": '<?xml version="1.0"?>\n<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
           'xmlns:_x="http://example.org/u/" xmlns:y.="http://example.org/d/">\n'
           '  <rdf:Description rdf:about="http://example.org/s"><_x:p>o</_x:p></rdf:Description>\n</rdf:RDF>\n',
    "jsonld": '{"@context": {"my term": "http://example.org/t/", "9x": "http://example.org/9/"}, '
              '"@id": "http://example.org/s", "9x:p": "o"}\n',
}


@pytest.mark.parametrize("suffix", PREFIXES_TURTLE_CANNOT_NAME)
def test_prefixes_that_turtle_cannot_name_are_not_kept(suffix: str, tmp_path: Path) -> None:
    """RDF/XML and JSON-LD allow prefix names that Turtle, SPARQL (and for JSON-LD, XML) do not: they are
    not the graph's prefixes, so every export parses back, and a store built from such a file opens."""
    from ntx_graph.persistent import build_store
    from ntx_graph.rdf_io import EXPORT_ORDERS

    path = tmp_path / f"prefixes.{suffix}"
    path.write_text(PREFIXES_TURTLE_CANNOT_NAME[suffix])
    build_store([path], tmp_path / "store", include_bundled=False, validate=False)
    for kg in KnowledgeGraph.open([path], include_bundled=False, validate=False), \
            KnowledgeGraph.open_store(tmp_path / "store"):
        assert kg.prefixes.keys() <= {"rdf"}
        triples = _graph(kg.export("ntriples"), "ntriples")  # rdflib cannot read the JSON-LD file itself
        assert len(triples) == 1
        for fmt in ("turtle", "rdfxml"):
            for order in EXPORT_ORDERS:
                assert isomorphic(_graph(kg.export(fmt, order=order), fmt), triples), (fmt, order)


def test_json_ld_refuses_a_triple_term_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: pyoxigraph's JSON-LD writer has no RDF 1.2; that was reported as an internal error (exit 3)."""
    data = tmp_path / "triple-term.ttl"
    data.write_text("@prefix ex: <http://example.org/> .\nex:s ex:p <<( ex:a ex:b ex:c )>> .\n")
    for order in ("canonical", "store"):
        with pytest.raises(SystemExit) as exit_info:
            main(["export", "-f", "jsonld", "--order", order, "--data", str(data), "--no-validate"])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err == "ntx-graph: error: the graph cannot be written as JSON-LD: JSON-LD does not support RDF 1.2 yet\n"


_NOT_A_NAME = "its IRI does not end in an XML name (a letter or _, then letters, digits, -, . or _)"
_RESERVED = "RDF/XML reserves that name for its syntax"


@pytest.mark.parametrize(("predicate", "reason"), [
    ("http://example.org/1", _NOT_A_NAME), ("http://example.org/", _NOT_A_NAME), ("urn:x:-", _NOT_A_NAME),
    *((f"http://www.w3.org/1999/02/22-rdf-syntax-ns#{name}", _RESERVED)
      for name in ("li", "about", "Description", "aboutEach", "bagID"))])
@pytest.mark.parametrize("argv", [["export", "-f", "rdfxml"], ["export", "-f", "rdfxml", "--order", "store"],
                                  ["query", "-f", "rdfxml", "--sparql", "CONSTRUCT WHERE { ?s ?p ?o }"]])
def test_rdfxml_refuses_a_predicate_it_cannot_write(predicate: str, reason: str, argv: list[str], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: pyoxigraph wrote ``<oxprefix: xmlns:oxprefix="…/1">``, which no XML parser reads; ``rdf:li``
    or ``rdf:about`` was an internal error of export (pyoxigraph's writer refuses them), and ``rdf:aboutEach``
    or ``rdf:bagID`` was written as RDF/XML that no reader takes."""
    data = tmp_path / "odd-predicate.nt"
    data.write_text(f'<http://example.org/s> <{predicate}> "x" .\n')
    out = tmp_path / "out.rdf"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--data", str(data), "--no-validate", "-o", str(out)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (f"ntx-graph: error: RDF/XML cannot write the predicate <{predicate}>: {reason}; "
                                       "use another format, such as turtle or ntriples\n")
    assert not out.exists()


def test_rdfxml_writes_a_predicate_whose_iri_ends_in_an_xml_name_after_other_characters(tmp_path: Path) -> None:
    from xml.dom import minidom

    data = tmp_path / "predicates.nt"
    data.write_text('<http://example.org/s> <http://example.org/1a> "x" .\n'
                    '<http://example.org/s> <http://example.org/p#é-1.x> "y" .\n')
    kg = KnowledgeGraph.open([data], validate=False, include_bundled=False)
    for order in ("canonical", "store"):
        document = kg.export("rdfxml", order=order)
        minidom.parseString(document)
        assert isomorphic(rdflib.Graph().parse(data=document, format="xml"), rdflib.Graph().parse(data))


@pytest.mark.parametrize("argv", [["export", "-f", "rdfxml"], ["export", "-f", "rdfxml", "--order", "store"],
                                  ["query", "-f", "rdfxml", "--sparql", "CONSTRUCT WHERE { ?s ?p ?o }"]])
def test_rdfxml_refuses_a_predicate_it_cannot_write_inside_a_triple_term(argv: list[str], tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: a triple term's predicate (rdf:parseType="Triple") was not checked, and was written as
    ``<oxprefix: xmlns:oxprefix="…/1">``, ill-formed XML."""
    data = tmp_path / "triple-term.ttl"
    data.write_text("@prefix ex: <http://example.org/> .\n"
                    "ex:s ex:says <<( ex:a ex:b <<( ex:c <http://example.org/1> ex:d )>> )>> .\n")
    out = tmp_path / "out.rdf"
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--data", str(data), "--no-validate", "-o", str(out)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.startswith("ntx-graph: error: RDF/XML cannot write the predicate "
                                              "<http://example.org/1>: ")
    assert not out.exists()


@pytest.mark.parametrize(("tail", "writable"), [("a" * 30000 + "/", False), ("/" + "a" * 30000, True),
                                                ("/1" + "a-" * 15000, True), ("/" + "1-" * 15000, False)])
def test_rdfxml_checks_a_long_predicate_iri(tail: str, writable: bool) -> None:
    from ntx_graph.rdf_io import check_rdfxml_predicates

    iri = "http://example.org" + tail
    if writable:
        check_rdfxml_predicates([iri])
    else:
        with pytest.raises(formats.FormatError):
            check_rdfxml_predicates([iri])

