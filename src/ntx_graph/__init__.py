"""ntx-graph: a knowledge graph of naltrexone's facts with a SPARQL query interface."""

from __future__ import annotations

__version__ = "0.1.0"
