"""The SHACL shapes: the bundled graph conforms, and each shape catches what it should.

Fixtures, in the style of pySHACL's test suite: ``tests/fixtures/shapes/*.ttl``
(files starting with ``_`` excepted) are small broken graphs. Each is validated
together with the bundled ontology (``ntx.ttl``, ``scales.ttl``) and the shared
context ``_context.ttl`` (a valid source document, drug, condition, symptom and
quote), but without the bundled data. The first line of each fixture says what
must happen::

    # expect: ntxsh:Indication-drug 1
    # expect: ntxsh:Indication-evidenceQuote 1, ntxsh:Claim-evidenceQuote 1
    # expect: conforms

i.e. a comma-separated list of ``<shape> <count>``: the graph must not conform
and the results' ``sh:sourceShape`` values must be exactly these shapes, each
with exactly that many results. A shape is an ``ntxsh:`` prefixed name, a bare
local name in the shapes namespace, or a full ``<IRI>``. Most fixtures break
exactly one shape; a few list two where breaking one rule necessarily breaks an
overlapping one (an indication is a claim). ``conforms`` marks a near miss
that must pass. Name a fixture after the shape it breaks, with ``--variant``
for further cases.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Store

from conftest import shacl_report
from ntx_graph import resources
from ntx_graph.errors import DataError
from ntx_graph.validate import ValidationReport, validate

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
CONTEXT = FIXTURES / "_context.ttl"
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*.ttl") if not p.name.startswith("_"))
SHAPES_NS = "https://w3id.org/ntx-graph/shapes/"
NTX = "https://w3id.org/ntx-graph/def/"
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: Predicates of a shape that are not constraints of its own.
NOT_CONSTRAINTS = {SH + name for name in (
    "targetClass", "targetNode", "targetObjectsOf", "targetSubjectsOf", "target", "message", "property",
    "path", "name", "description", "severity", "deactivated", "order", "group")} | {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://www.w3.org/2000/01/rdf-schema#comment"}


def validate_fixture(path: Path) -> ValidationReport:
    return shacl_report(path.name)  # computed once per session, shared with test_shacl_engines


def expectation(path: Path) -> Counter[str]:
    """The expected results per source shape IRI, from the fixture's first line (empty: conforms)."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    match = re.fullmatch(r"#\s*expect:\s*(.+?)\s*", first)
    assert match, f"{path.name}: the first line must be '# expect: <shape> <count>[, ...]' or '# expect: conforms'"
    if match.group(1) == "conforms":
        return Counter()
    expected: Counter[str] = Counter()
    for item in match.group(1).split(","):
        shape, count = item.split()
        full_iri = shape.startswith("<") and shape.endswith(">")
        expected[shape[1:-1] if full_iri else SHAPES_NS + shape.removeprefix("ntxsh:")] = int(count)
    return expected


@cache
def shapes_store() -> Store:
    store = Store()
    store.load(path=resources.shapes_file(), format=RdfFormat.TURTLE)
    return store


@cache
def named_shapes() -> dict[str, set[str]]:
    """Every shape with an IRI, mapped to the predicates it has."""
    store = shapes_store()
    nodes = {q.subject for kind in ("NodeShape", "PropertyShape")
             for q in store.quads_for_pattern(None, RDF_TYPE, NamedNode(SH + kind))}
    nodes |= {q.object for q in store.quads_for_pattern(None, NamedNode(SH + "property"), None)}
    assert all(isinstance(node, NamedNode) for node in nodes), "every shape needs an IRI (no blank node shapes)"
    return {node.value: {q.predicate.value for q in store.quads_for_pattern(node, None, None)}
            for node in nodes if isinstance(node, NamedNode)}


# --- the bundled graph -------------------------------------------------------


def test_bundled_graph_conforms() -> None:
    report = shacl_report()
    assert report.conforms, f"{report.summary()}\n{report.text}"
    assert report.results == ()
    assert report.summary().startswith("conforms")


def test_fixture_context_conforms() -> None:
    report = validate([*resources.ontology_files(), CONTEXT], include_bundled=False)
    assert report.conforms, report.text


# --- the fixtures ------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_fires_exactly_the_expected_shapes(fixture: Path) -> None:
    expected = expectation(fixture)
    report = validate_fixture(fixture)
    fired = Counter(result.source_shape for result in report.results)
    if not expected:
        assert report.conforms, f"{fixture.name} should conform:\n{report.text}"
        return
    assert not report.conforms
    assert fired == expected, f"{fixture.name}: expected {dict(expected)}, got:\n{report.text}"
    assert all(result.message and result.severity == "Violation" for result in report.results)


def test_every_shape_is_exercised_by_a_fixture() -> None:
    """Every shape with constraints of its own is expected to fire by some fixture; a
    node shape made only of property shapes is exercised through them."""
    exercised = {shape for fixture in FIXTURE_FILES for shape in expectation(fixture)}
    unknown = exercised - named_shapes().keys()
    assert not unknown, f"fixtures expect shapes that shapes.ttl does not define: {sorted(unknown)}"
    missing = []
    for shape, predicates in sorted(named_shapes().items()):
        if predicates - NOT_CONSTRAINTS:
            if shape not in exercised:
                missing.append(shape)
        else:
            parts = {q.object.value for q in shapes_store().quads_for_pattern(
                NamedNode(shape), NamedNode(SH + "property"), None)}
            if not parts or not parts & exercised:
                missing.append(shape)
    assert not missing, f"shapes that no fixture in {FIXTURES} exercises: {missing}"


def test_every_shape_has_a_plain_english_message() -> None:
    store = shapes_store()
    for shape in named_shapes():
        assert shape.startswith(SHAPES_NS), f"{shape} is not in the {SHAPES_NS} namespace"
        messages = [q.object for q in store.quads_for_pattern(NamedNode(shape), NamedNode(SH + "message"), None)]
        assert messages, f"{shape} has no sh:message"
        for message in messages:
            assert isinstance(message, Literal) and message.language == "en", f"{shape}: sh:message must be @en"
            assert message.value[:1].isupper() and message.value.endswith("."), f"{shape}: {message.value!r}"


def test_shapes_cover_the_required_classes() -> None:
    store = shapes_store()
    targets = {q.object.value for q in store.quads_for_pattern(None, NamedNode(SH + "targetClass"), None)}
    required = {NTX + name for name in (
        "Claim", "Indication", "SideEffect", "MechanismOfAction", "ScaleConcept", "SourceDocument",
        "TreatmentDuration", "WarningSign", "Statement", "Drug", "Precaution", "Formulation", "Regimen",
        "SourceModality")}
    required |= {"http://www.w3.org/ns/oa#" + name for name in
                 ("SpecificResource", "TextQuoteSelector", "TextPositionSelector")}
    assert required <= targets, f"no shape targets {sorted(required - targets)}"
    sparql_targets = list(store.quads_for_pattern(None, NamedNode(SH + "target"), None))
    assert sparql_targets and all(isinstance(q.object, BlankNode) for q in sparql_targets)


# --- the validate() API ------------------------------------------------------


def test_report_text_has_one_line_per_result() -> None:
    report = validate_fixture(FIXTURES / "Indication-evidenceQuote.ttl")
    lines = report.text.splitlines()
    assert len(lines) == len(report.results) == 3
    assert sorted(line.split(": ", 1)[0] for line in lines) == [
        "ex:indication -> ntx:evidenceQuote", "ex:indication -> ntx:evidenceQuote",
        "ex:indication -> ntx:principalQuote"]
    assert {r.focus_node for r in report.results} == {"https://example.org/fixture/indication"}
    assert {r.path for r in report.results} == {NTX + "evidenceQuote", NTX + "principalQuote"}
    summary = report.summary()
    assert "\n" not in summary and summary.startswith("does not conform: 3 violations")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.conforms = True  # type: ignore[misc]


def test_validate_raises_data_error_for_an_unparsable_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken-data.ttl"
    broken.write_text('@prefix ex: <http://example.org/> .\nex:a ex:b ex:c .\nex:a ex:b "unterminated .\n')
    with pytest.raises(DataError) as caught:
        validate([broken])
    message = str(caught.value)
    assert "broken-data.ttl" in message and "line 3" in message
    assert "\n" not in message


def test_validate_raises_data_error_for_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        validate([tmp_path / "no-such-file.ttl"], include_bundled=False)
    assert "no-such-file.ttl" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_validate_raises_data_error_for_unparsable_shapes(tmp_path: Path) -> None:
    shapes = tmp_path / "broken-shapes.ttl"
    shapes.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n<a> sh:path .\n")
    with pytest.raises(DataError, match=r"broken-shapes\.ttl: .*line 2"):
        validate([], include_bundled=False, shapes=shapes)


def test_validate_raises_data_error_for_invalid_sparql_in_shapes(tmp_path: Path) -> None:
    shapes = tmp_path / "bad-sparql.ttl"
    shapes.write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "<http://example.org/S> a sh:NodeShape ; sh:targetNode <http://example.org/x> ;\n"
        '    sh:sparql [ sh:select "SELECT $this WHERE { $this ?p }" ] .\n')
    with pytest.raises(DataError, match=r"bad-sparql\.ttl: invalid SPARQL"):
        validate([], include_bundled=False, shapes=shapes)


def test_importing_validate_does_not_import_rdflib_or_pyshacl() -> None:
    code = "import sys, ntx_graph.validate; print(sorted({'rdflib', 'pyshacl'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
