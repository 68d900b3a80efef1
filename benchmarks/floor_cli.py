"""The floor for a cold query: what a 10-line pyoxigraph script needs to parse
the bundled graph, run one query and print CSV (no ntx-graph import).

    python benchmarks/floor_cli.py QUERY.rq TURTLE...
"""

import sys

from pyoxigraph import QueryResultsFormat, RdfFormat, Store

store = Store()
for path in sys.argv[2:]:
    store.load(path=path, format=RdfFormat.TURTLE)
with open(sys.argv[1], encoding="utf-8") as handle:
    answer = store.query(handle.read())
sys.stdout.buffer.write(answer.serialize(format=QueryResultsFormat.CSV))  # type: ignore[union-attr]
