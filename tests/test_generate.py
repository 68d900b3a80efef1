"""The synthetic-drug generator: deterministic, about 100 triples a drug, in
ntx-graph's schema, conforming to the shapes, with quotes that point into the
run's synthetic source document, which is written beside the data."""

from __future__ import annotations

import doctest
import hashlib
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from ntx_graph.errors import NtxError
from support import generate as generator
from support.generate import (
    GENERATED_PREFIXES,
    SYNTHETIC,
    generate,
    source_iri,
    source_path_for,
    source_text,
    synthetic_drug,
    write_generated,
)

OA = "http://www.w3.org/ns/oa#"


def _text(term: object) -> str:
    """The IRI, label or lexical form of a term (generated triples hold no quoted triples)."""
    return str(getattr(term, "value", ""))


NTX = "https://w3id.org/ntx-graph/def/"


def test_same_seed_gives_identical_bytes(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for fmt, suffix in (("ntriples", ".nt"), ("turtle", ".ttl")):
        first, second = tmp_path / "a" / f"g{suffix}", tmp_path / "b" / f"g{suffix}"
        assert write_generated(first, 25, seed=7, fmt=fmt) == write_generated(second, 25, seed=7, fmt=fmt)
        assert first.read_bytes() == second.read_bytes()
        assert source_path_for(first).read_bytes() == source_path_for(second).read_bytes()
    assert write_generated(tmp_path / "c.nt", 25, seed=8) > 0
    assert (tmp_path / "c.nt").read_bytes() != (tmp_path / "a" / "g.nt").read_bytes()


def test_turtle_and_ntriples_hold_the_same_graph(tmp_path: Path) -> None:
    count = write_generated(tmp_path / "g.ttl", 12)
    write_generated(tmp_path / "g.nt", 12)
    turtle = set(ox.parse(path=str(tmp_path / "g.ttl")))
    ntriples = set(ox.parse(path=str(tmp_path / "g.nt")))
    assert turtle == ntriples
    assert len(turtle) == count == sum(1 for _ in generate(12))
    header = (tmp_path / "g.ttl").read_text().splitlines()[: len(GENERATED_PREFIXES)]
    assert header == sorted(header) and all(line.startswith("@prefix ") for line in header)


def test_about_a_hundred_and_twenty_triples_per_drug_and_no_duplicates() -> None:
    triples = list(generate(200, seed=3))
    assert 105 <= len(triples) / 200 <= 130
    assert len(set(triples)) == len(triples)


def test_generate_is_lazy() -> None:
    stream = generate(10**9)  # would never finish if it built a list
    assert isinstance(next(stream), ox.Triple)


def test_every_subject_is_synthetic() -> None:
    subjects = {_text(t.subject) for t in generate(30)}
    assert all(s.startswith(SYNTHETIC) for s in subjects)


def test_docstring_examples() -> None:
    failures, tried = doctest.testmod(generator)
    assert failures == 0 and tried > 0


def _drug_triples(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Without the run's source document (described last)."""
    source = source_iri(5)
    return [t for t in triples if t.subject != source]


def test_drugs_are_independent_of_how_many_are_generated() -> None:
    three = _drug_triples(list(generate(3, seed=5)))
    four = _drug_triples(list(generate(4, seed=5)))
    assert four[: len(three)] == three
    offset = len(source_text(3, seed=5))
    assert four[len(three):] == synthetic_drug(3, seed=5, offset=offset).triples
    assert source_text(4, seed=5).startswith(source_text(3, seed=5))


def test_quotes_are_verbatim_at_their_offsets_and_checksums_match() -> None:
    triples = list(generate(20, seed=2, source_path="run.txt"))
    text = source_text(20, seed=2)
    by_subject: dict[str, dict[str, str]] = {}
    for t in triples:
        by_subject.setdefault(_text(t.subject), {})[t.predicate.value] = _text(t.object)
    quotes = {s: v[OA + "exact"] for s, v in by_subject.items() if OA + "exact" in v}
    positions = {s: (int(v[OA + "start"]), int(v[OA + "end"])) for s, v in by_subject.items() if OA + "start" in v}
    assert len(quotes) == len(positions) >= 40
    for selector, exact in quotes.items():
        start, end = positions[selector.removesuffix("-quote") + "-position"]
        assert text[start:end] == exact
    sources = [v for v in by_subject.values() if NTX + "sha256" in v]
    assert [v[NTX + "sha256"] for v in sources] == [hashlib.sha256(text.encode()).hexdigest()]
    assert [v[NTX + "repositoryPath"] for v in sources] == ["run.txt"]
    assert {v[OA + "hasSource"] for v in by_subject.values() if OA + "hasSource" in v} == {source_iri(2).value}


def test_written_source_document_makes_every_quote_check(tmp_path: Path) -> None:
    """The data and its source, written side by side, pass ``ntx-graph check`` from any folder."""
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.provenance import check

    data = tmp_path / "run" / "drugs.nt"
    data.parent.mkdir()
    write_generated(data, 30, seed=9)
    assert source_path_for(data) == tmp_path / "run" / "drugs.source.txt"
    assert source_path_for(data).read_text(encoding="utf-8") == source_text(30, seed=9)
    report = check(KnowledgeGraph.open([data], include_bundled=False, validate=False), coverage=True)
    expected_quotes = sum(1 for t in generate(30, seed=9) if t.predicate.value == OA + "exact")
    assert report.failures == () and not report.ok  # only the headings are cited by no quote:
    headings = {line for line in source_text(30, seed=9).splitlines() if line and not line.endswith(".")}
    assert len(headings) == 31
    assert {s.text for s in report.sources[0].uncited} == headings
    assert report.quotes == expected_quotes
    assert [s.file for s in report.sources] == [source_path_for(data).resolve()]


def test_uses_the_real_scales_and_covers_every_claim_kind() -> None:
    types = Counter(_text(t.object).removeprefix(NTX) for t in generate(200)
                    if t.predicate.value.endswith("#type") and _text(t.object).startswith(NTX))
    for kind in ("Drug", "Indication", "SideEffect", "MechanismOfAction", "Formulation", "Regimen", "Statement",
                 "OverdoseRisk", "WarningSign", "Contraindication", "TreatmentDuration", "TreatmentTiming",
                 "SourceDocument"):
        assert types[kind] > 0, kind
    objects = {_text(t.object) for t in generate(200) if isinstance(t.object, ox.NamedNode)}
    for level in ("evidence-level/not-supported", "evidence-level/no-evidence-cited", "evidence-level/established-use",
                  "severity/mild", "severity/severe", "frequency/rare", "frequency/common", "certainty/hypothesis"):
        assert NTX + level in objects, level


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(NtxError, match="cannot write generated data as 'rdfxml'"):
        write_generated(tmp_path / "x.rdf", 1, fmt="rdfxml")
    with pytest.raises(NtxError, match="0 or more"):
        list(generate(-1))
    with pytest.raises(NtxError, match="cannot be written"):
        write_generated(tmp_path / "missing" / "x.nt", 1)
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_generated_graph_conforms_to_the_shapes(tmp_path: Path) -> None:
    """The generated drugs add no SHACL result to those of the bundled graph alone."""
    from ntx_graph.validate import validate

    path = tmp_path / "ten-drugs.ttl"
    assert 1000 <= write_generated(path, 10) <= 1350
    with_generated = validate([path], include_bundled=True)
    bundled_only = validate(include_bundled=True)
    assert not [r for r in with_generated.results if r.focus_node.startswith(SYNTHETIC)]
    assert set(with_generated.results) == set(bundled_only.results)
    assert with_generated.conforms == bundled_only.conforms
