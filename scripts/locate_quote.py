"""Print the Turtle for an evidence quote: a Web Annotation specific resource
with a text quote selector and a text position selector into the source.

Usage: python scripts/locate_quote.py ID "exact text" [OCCURRENCE [MODALITY]]
       python scripts/locate_quote.py --tsv FILE   (lines: ID<TAB>exact[<TAB>occurrence[<TAB>modality]])

OCCURRENCE (1-based) picks among repeated passages; empty or absent, the
passage must occur exactly once in the source. MODALITY (a local name of the
source-modality scheme, such as ``possible``) makes the quote a modality quote
that names the modality its words express (ntx:expressesModality).
"""

from __future__ import annotations

import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[1] / "ontology/sources/facts-about-naltrexone.txt"


def locate(text: str, exact: str, occurrence: int | None) -> int:
    starts = []
    i = text.find(exact)
    while i != -1:
        starts.append(i)
        i = text.find(exact, i + 1)
    if not starts:
        raise SystemExit(f"not in the source: {exact!r}")
    if occurrence is None:
        if len(starts) > 1:
            raise SystemExit(f"occurs {len(starts)} times, give an occurrence: {exact!r}")
        return starts[0]
    return starts[occurrence - 1]


def turtle(qid: str, exact: str, start: int, modality: str | None = None) -> str:
    lit = exact.replace("\\", "\\\\").replace('"', '\\"')
    expresses = f"    ntx:expressesModality modality:{modality} ;\n" if modality else ""
    return (
        f"q:{qid} a oa:SpecificResource ;\n"
        f"    oa:hasSource src:facts-about-naltrexone ;\n"
        f"{expresses}"
        f"    oa:hasSelector sel:{qid}-quote , sel:{qid}-position .\n"
        f'sel:{qid}-quote a oa:TextQuoteSelector ; oa:exact "{lit}" .\n'
        f"sel:{qid}-position a oa:TextPositionSelector ; oa:start {start} ; oa:end {start + len(exact)} .\n"
    )


def main(argv: list[str]) -> None:
    text = SOURCE.read_text(encoding="utf-8")
    if argv[:1] == ["--tsv"]:
        rows = [line.split("\t") for line in Path(argv[1]).read_text().splitlines() if line.strip()]
    else:
        rows = [argv]
    for row in rows:
        occ = int(row[2]) if len(row) > 2 and row[2] else None
        modality = row[3] if len(row) > 3 and row[3] else None
        print(turtle(row[0], row[1], locate(text, row[1], occ), modality))


if __name__ == "__main__":
    main(sys.argv[1:])
