"""Every Turtle file under ontology/ and tests/fixtures/ parses the same with rdflib and pyoxigraph.

Both parsers must read the same number of triples and, after RDFC-1.0
canonicalisation of blank nodes, the same triples. The bundled files have no
blank nodes, so for them the plain N-Triples lines must be equal too.

A fixture that is deliberately not valid Turtle starts with the line
``# invalid-turtle``; both parsers must then reject it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    DefaultGraph,
    Literal,
    Quad,
    RdfFormat,
    Triple,
    parse,
    serialize,
)

from ntx_graph import resources

ROOT = Path(__file__).resolve().parents[1]
TTL_FILES = sorted(resources.ontology_dir().rglob("*.ttl")) + sorted((ROOT / "tests" / "fixtures").rglob("*.ttl"))


def name(path: Path) -> str:
    for base in (resources.ontology_dir().parent, ROOT):
        if path.is_relative_to(base):
            return str(path.relative_to(base))
    return str(path)


def with_oxigraph(path: Path) -> list[Triple]:
    return [Triple(q.subject, q.predicate, q.object)
            for q in parse(path=path, format=RdfFormat.TURTLE, base_iri=path.as_uri())]


def with_rdflib(path: Path) -> tuple[int, list[Triple]]:
    """rdflib's triple count, and its triples read back from its N-Triples output."""
    graph = rdflib.Graph()
    graph.parse(path, format="turtle", publicID=path.as_uri())
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    return len(graph), [Triple(q.subject, q.predicate, q.object)
                        for q in parse(ntriples, format=RdfFormat.N_TRIPLES)]


def canonical(triples: list[Triple]) -> set[str]:
    dataset = Dataset(Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples)
    dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    return {str(quad) for quad in dataset}


def ntriples_lines(triples: list[Triple]) -> set[str]:
    return {line for line in serialize(triples, format=RdfFormat.N_TRIPLES).decode().splitlines() if line}


def test_the_expected_files_are_checked() -> None:
    names = {name(path) for path in TTL_FILES}
    assert {"ontology/ntx.ttl", "ontology/scales.ttl", "ontology/naltrexone.ttl", "ontology/shapes.ttl"} <= names
    assert any(n.startswith("tests/fixtures/shapes/") for n in names)


def is_invalid_on_purpose(path: Path) -> bool:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return lines.readline().strip() == "# invalid-turtle"


@pytest.mark.parametrize("path", TTL_FILES, ids=name)
def test_rdflib_and_pyoxigraph_read_the_same_triples(path: Path) -> None:
    if is_invalid_on_purpose(path):
        with pytest.raises(SyntaxError):
            with_oxigraph(path)
        with pytest.raises(Exception):  # noqa: B017 - rdflib's parsers raise assorted exception types
            with_rdflib(path)
        return
    oxigraph_triples = with_oxigraph(path)
    count, rdflib_triples = with_rdflib(path)
    assert oxigraph_triples, f"{name(path)} has no triples"
    distinct = len(set(oxigraph_triples))
    assert count == distinct, f"{name(path)}: rdflib reads {count} triples, pyoxigraph {distinct}"
    only_oxigraph = canonical(oxigraph_triples) - canonical(rdflib_triples)
    only_rdflib = canonical(rdflib_triples) - canonical(oxigraph_triples)
    assert not only_oxigraph and not only_rdflib, (
        f"{name(path)}: only pyoxigraph reads {sorted(only_oxigraph)[:5]}; only rdflib reads {sorted(only_rdflib)[:5]}")


@pytest.mark.parametrize("path", resources.bundled_files(), ids=name)
def test_bundled_file_has_no_blank_nodes_and_the_same_ntriples(path: Path) -> None:
    oxigraph_triples = with_oxigraph(path)
    blank = [t for t in oxigraph_triples if isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode)]
    assert not blank, f"{name(path)} has blank nodes: {blank[:3]}"
    assert ntriples_lines(oxigraph_triples) == ntriples_lines(with_rdflib(path)[1])


# --- OWL 2 DL: every entity the bundled graph uses is declared -------------------------

OWL = "http://www.w3.org/2002/07/owl#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
PROPERTY_KINDS = {OWL + "ObjectProperty", OWL + "DatatypeProperty", OWL + "AnnotationProperty"}
#: The OWL 2 built-in vocabulary that the bundled graph uses without declaring it (the
#: structural specification's reserved IRIs; the built-in annotation properties among them).
BUILT_IN = {RDF + "type", RDFS + "label", RDFS + "comment", RDFS + "subClassOf", RDFS + "subPropertyOf",
            RDFS + "domain", RDFS + "range", OWL + "versionIRI", OWL + "versionInfo", OWL + "priorVersion"}


def bundled_triples() -> list[Triple]:
    return [t for path in resources.bundled_files() for t in with_oxigraph(path)]


def declarations() -> dict[str, set[str]]:
    """Each declared IRI with the OWL kinds it is declared as."""
    kinds: dict[str, set[str]] = {}
    for t in bundled_triples():
        if t.predicate.value == RDF + "type" and t.object.value.startswith(OWL):
            kinds.setdefault(t.subject.value, set()).add(t.object.value)
    return kinds


def test_every_property_used_is_declared_once() -> None:
    """The OWL API reads the export as strict OWL 2 DL only if every property it meets is declared as
    exactly one of object, datatype or annotation property (schema:name once was not)."""
    kinds = declarations()
    used = {t.predicate.value for t in bundled_triples()} - BUILT_IN
    undeclared = sorted(p for p in used if not kinds.get(p, set()) & PROPERTY_KINDS)
    assert not undeclared, f"properties used but not declared: {undeclared}"
    ambiguous = sorted(p for p in used if len(kinds[p] & PROPERTY_KINDS) > 1)
    assert not ambiguous, f"properties declared as more than one kind: {ambiguous}"


def test_every_class_used_is_declared() -> None:
    kinds = declarations()
    used = {t.object.value for t in bundled_triples() if t.predicate.value == RDF + "type"}
    used |= {t.object.value for t in bundled_triples() if t.predicate.value in (RDFS + "subClassOf", RDFS + "domain")}
    used = {c for c in used if not c.startswith(OWL)}
    undeclared = sorted(c for c in used if OWL + "Class" not in kinds.get(c, set()))
    assert not undeclared, f"classes used but not declared as owl:Class: {undeclared}"


def test_object_and_datatype_properties_take_the_right_kind_of_value() -> None:
    kinds = declarations()
    wrong = [str(t) for t in bundled_triples()
             if (OWL + "ObjectProperty" in kinds.get(t.predicate.value, set()) and isinstance(t.object, Literal))
             or (OWL + "DatatypeProperty" in kinds.get(t.predicate.value, set()) and not isinstance(t.object, Literal))]
    assert not wrong, f"values of the wrong kind: {wrong[:5]}"
