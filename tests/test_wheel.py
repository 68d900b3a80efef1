"""The wheel carries the ontology and the saved queries: installed from it
into a fresh virtual environment, ntx-graph answers from any directory."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_answers_from_elsewhere(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(dist), str(ROOT)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("ntx_graph-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("ntx_graph/data/ontology/ntx.ttl", "ntx_graph/data/ontology/naltrexone.ttl",
                   "ntx_graph/data/ontology/shapes.ttl", "ntx_graph/data/ontology/sources/facts-about-naltrexone.txt",
                   "ntx_graph/data/queries/off-label-uses-lacking-evidence.rq", "ntx_graph/py.typed"):
        assert needed in names, f"{needed} missing from the wheel"

    venv = tmp_path / "venv"
    # dependencies come from this environment; ntx-graph itself only from the wheel
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run([str(python), "-c", "import ntx_graph.resources as r; print(r.ontology_dir())"],
                           check=True, capture_output=True, text=True, cwd=elsewhere).stdout.strip()
    assert where.startswith(str(venv)), f"the data came from {where}, not from the installed wheel"
    result = subprocess.run([str(venv / "bin" / "ntx-graph"), "query", "off-label-uses-lacking-evidence",
                             "--format", "csv"], check=True, capture_output=True, text=True, cwd=elsewhere)
    rows = result.stdout.strip().splitlines()
    assert len(rows) == 5
    assert "HIV" in rows[1]
    info = subprocess.run([str(venv / "bin" / "ntx-graph"), "info"], check=True, capture_output=True, text=True,
                          cwd=elsewhere).stdout
    assert "(matches)" in info
