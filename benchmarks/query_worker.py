"""A child process for the saved-query benchmark (``benchmarks/run.py``, section "queries").

    python benchmarks/query_worker.py DATA_FILE...

Loads the bundled graph plus DATA_FILE(s) in memory, and the bundled graph
alone, both in this one process, then prints one JSON line
``{"big": N, "small": N}``. It then reads requests from standard input, one
JSON object a line (``{"graph": "big"|"small", "name": QUERY, "params": {...}}``),
runs each once through ``KnowledgeGraph.run`` with all rows materialised,
and answers with one JSON line: ``{"seconds": S, "cpu_seconds": C, "rows": N}``
(the wall and CPU time of the ``run`` call alone) or ``{"error": TEXT}``. The parent bounds each request in
time and kills this process when one overruns: a pyoxigraph query cannot be
interrupted from Python, so a process is the unit that can be stopped.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

from ntx_graph.graph import KnowledgeGraph


def main(argv: list[str]) -> int:
    graphs = {"big": KnowledgeGraph.open([Path(p) for p in argv], validate=False), "small": KnowledgeGraph.open()}
    print(json.dumps({name: len(kg) for name, kg in graphs.items()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        kg = graphs[request["graph"]]
        gc.collect()  # the garbage of earlier requests is not collected inside this one's time
        try:
            start, start_cpu = time.perf_counter(), time.process_time()
            result = kg.run(request["name"], request.get("params") or {})
            seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
            rows = int(bool(result.boolean)) if result.kind == "ask" else len(result)
            del result  # freed now, not inside the next request's time
            answer: dict[str, object] = {"seconds": seconds, "cpu_seconds": cpu_seconds, "rows": rows}
        except Exception as error:  # reported to the parent, which records the case as failed
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
