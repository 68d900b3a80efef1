"""pyshacl-turbo (the default engine, over pyoxigraph with ntx-graph's RDFS
rules) gives exactly pySHACL's report (the reference, with full RDFS
inference) on every shapes fixture and on the bundled graph."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import shacl_report
from ntx_graph.validate import ENGINES, Engine, ValidationReport, validate

FIXTURES = Path(__file__).parent / "fixtures" / "shapes"
CASES = {"bundled graph": None, **{p.stem: p for p in sorted(FIXTURES.glob("*.ttl")) if not p.name.startswith("_")}}


def _report(case: Path | None, engine: Engine) -> ValidationReport:
    """The report, computed once per session (test_shapes checks the same fast ones)."""
    return shacl_report(None if case is None else case.name, engine)


def test_there_are_fixtures_to_compare() -> None:
    assert len(CASES) > 60 and ENGINES[0] == "pyshacl-turbo"


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_engines_give_the_same_report(case: str) -> None:
    reference, fast = _report(CASES[case], "pyshacl"), _report(CASES[case], "pyshacl-turbo")
    assert fast.conforms == reference.conforms
    assert fast.results == reference.results
    assert fast.text == reference.text


def test_a_broken_fixture_is_reported_by_both(tmp_path: Path) -> None:
    """The comparison is not between two empty reports."""
    reports = [_report(FIXTURES / "Indication-drug.ttl", engine) for engine in ENGINES]
    assert all(not r.conforms and r.results for r in reports)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown SHACL engine"):
        validate(engine="nope")  # type: ignore[arg-type]
