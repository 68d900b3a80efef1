"""``python -m ntx_graph``: the ntx-graph command line."""

from ntx_graph.cli import main

raise SystemExit(main())
