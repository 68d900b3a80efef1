"""Time ``ntx-graph check`` against loading the same graph.

The target (issue 10): checking about a million generated triples takes no
more than twice the time of loading them. This writes the synthetic graph
(``tests/support/generate.py``) with its source document, then, best of three
runs, times ``KnowledgeGraph.open`` and :func:`ntx_graph.provenance.check`
on it, and prints both with the machine's load average.

    python benchmarks/check_provenance.py [--drugs 10100] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic-drug generator lives with the tests

from ntx_graph.graph import KnowledgeGraph  # noqa: E402
from ntx_graph.provenance import check  # noqa: E402
from support.generate import write_generated  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drugs", type=int, default=10100, help="synthetic drugs (10,100 give about 1M triples)")
    parser.add_argument("--runs", type=int, default=3, help="runs; the best one counts")
    parser.add_argument("--work", type=Path, help="folder for the generated files (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        data = (args.work or Path(scratch)) / "generated.nt"
        data.parent.mkdir(parents=True, exist_ok=True)
        triples = write_generated(data, args.drugs)
        loads, checks = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            kg = KnowledgeGraph.open([data], include_bundled=False, validate=False)
            loads.append(time.perf_counter() - start)
            start = time.perf_counter()
            report = check(kg)
            checks.append(time.perf_counter() - start)
            if not report.ok:
                print(report.text(), end="")
                return 1
            del kg
    load, checking = min(loads), min(checks)
    print(f"{triples:,} triples, {report.quotes:,} quotes")
    print(f"load: {load:.2f} s; check after the load: {checking:.2f} s; load + check: {load + checking:.2f} s "
          f"= {(load + checking) / load:.2f} x the load (target: at most 2 x)")
    print("load average (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0 if load + checking <= 2 * load else 1


if __name__ == "__main__":
    raise SystemExit(main())
