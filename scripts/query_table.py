"""Print the README's table of saved queries from queries/*.rq headers.

Usage: python scripts/query_table.py
"""

from __future__ import annotations

from ntx_graph.catalog import saved_queries


def main() -> None:
    print("| query | question | form | parameters (default) |")
    print("|---|---|---|---|")
    for q in saved_queries():
        params = ", ".join(f"`{p.name}` {p.type}" + ("" if p.required else f" (`{p.default}`)") for p in q.parameters)
        print(f"| `{q.name}` | {q.title} | {q.form} | {params or '-'} |")


if __name__ == "__main__":
    main()
