"""The minimal rdflib peer: parse one Turtle file, run one SPARQL file, print CSV.

    python benchmarks/rdflib_query.py DATA.ttl QUERY.rq
"""

import sys

import rdflib

graph = rdflib.Graph()
graph.parse(sys.argv[1], format="turtle")
with open(sys.argv[2], encoding="utf-8") as handle:
    result = graph.query(handle.read())
sys.stdout.write(result.serialize(format="csv").decode())
