"""The ontology, the value scales and the data are consistent under HermiT.

The Turtle is converted to N-Triples with rdflib, loaded into a fresh
owlready2 World and classified by HermiT (owlready2's bundled reasoner, which
needs Java). The graph must be consistent and no class may be unsatisfiable.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, XSD

from ntx_graph import resources

pytestmark = pytest.mark.slow

JAVA = shutil.which("java")


@pytest.fixture(scope="module")
def owlready2() -> ModuleType:
    if JAVA is None:
        pytest.skip("HermiT needs a Java runtime; install one with: apt-get install default-jre-headless")
    module = pytest.importorskip("owlready2", reason="owlready2 is a test dependency: pip install -e '.[test]'")
    module.JAVA_EXE = JAVA
    return module


def bundled_graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    for path in resources.bundled_files():
        graph.parse(path, format="turtle")
    return graph


def values_outside_their_range(graph: rdflib.Graph) -> list[str]:
    """Data property values whose datatype is not the property's rdfs:range: to OWL 2 an
    inconsistency (a language-tagged string is not an xsd:string), and the usual cause of one."""
    out = []
    for prop in graph.subjects(RDF.type, OWL.DatatypeProperty):
        for datatype in graph.objects(prop, RDFS.range):
            for subject, value in graph.subject_objects(prop):
                actual = value.datatype or (RDF.langString if value.language else XSD.string) \
                    if isinstance(value, rdflib.Literal) else None
                if actual != datatype:
                    out.append(f"{subject} {prop} {value.n3()} (range {datatype})")
    return sorted(out)


def test_ontology_scales_and_data_are_consistent_under_hermit(owlready2: ModuleType, tmp_path: Path) -> None:
    graph = bundled_graph()
    ntriples = tmp_path / "ntx-graph.nt"
    graph.serialize(ntriples, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(ntriples.as_uri()).load()
    assert len(list(ontology.classes())) > 30
    try:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    except owlready2.OwlReadyInconsistentOntologyError:
        suspects = values_outside_their_range(graph)
        pytest.fail("HermiT finds the ontology, scales and data inconsistent."
                    + ("\nValues outside their property's rdfs:range:\n  " + "\n  ".join(suspects) if suspects else ""))
    assert list(world.inconsistent_classes()) == []


def test_range_check_helper_finds_a_language_tagged_string() -> None:
    graph = rdflib.Graph()
    ex = rdflib.Namespace("http://example.org/")
    graph.add((ex.p, RDF.type, OWL.DatatypeProperty))
    graph.add((ex.p, RDFS.range, XSD.string))
    graph.add((ex.a, ex.p, rdflib.Literal("plain")))
    graph.add((ex.b, ex.p, rdflib.Literal("tagged", lang="en")))
    assert values_outside_their_range(graph) == [f"{ex.b} {ex.p} \"tagged\"@en (range {XSD.string})"]
