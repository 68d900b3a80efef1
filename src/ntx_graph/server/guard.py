"""Read-only and no-outbound checks on SPARQL text and dataset parameters.

The endpoint answers only from its own store: updates are refused, and so is
anything that names a graph the store does not hold (SERVICE, FROM, FROM
NAMED, GRAPH <iri>, default-graph-uri, named-graph-uri), since another
endpoint would fetch it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ntx_graph.sparql_text import Token, is_update, operation, stray_backslash, tokens

NO_OUTBOUND = "the endpoint makes no outbound connections"
READ_ONLY = "SPARQL Update is refused: this endpoint is read-only"


class Refused(Exception):
    """The request would change the graph or reach outside it."""


def _graph_name(token: Token, declared: Mapping[str, str], prefixes: Mapping[str, str]) -> str:
    if token.kind == "iri":
        return token.text[1:-1]
    prefix, _, local = token.text.partition(":")
    namespace = declared.get(prefix, prefixes.get(prefix))
    return namespace + local if namespace is not None else token.text


def _declared_prefixes(toks: Sequence[Token]) -> dict[str, str]:
    declared: dict[str, str] = {}
    for i, tok in enumerate(toks[:-2]):
        if tok.kind == "word" and tok.text.upper() == "PREFIX" and toks[i + 2].kind == "iri":
            declared[toks[i + 1].text.rstrip(":")] = toks[i + 2].text[1:-1]
    return declared


def _absent(name: str, graphs: Collection[str]) -> str:
    held = "it holds only the default graph" if not graphs else f"its named graphs are {', '.join(sorted(graphs))}"
    return f"<{name}> is not a graph in the endpoint's dataset ({held})"


def check_query(text: str, graphs: Collection[str], prefixes: Mapping[str, str]) -> None:
    """Raise Refused if ``text`` is an update, uses SERVICE, or names (in
    FROM, FROM NAMED or GRAPH) a graph that is not in ``graphs``."""
    if is_update(text):
        word = operation(text)
        raise Refused(f"{READ_ONLY} ({word} found)" if word == "LOAD" else READ_ONLY)
    if stray_backslash(text):  # text the lexical check cannot read as the parser does
        raise Refused(f"SERVICE is refused: {NO_OUTBOUND} (a backslash outside strings, IRIs and prefixed "
                      "names is not accepted)")
    toks = tokens(text)
    declared = _declared_prefixes(toks)
    for i, tok in enumerate(toks):
        word = tok.text.upper() if tok.kind == "word" else ""
        if word == "SERVICE":
            raise Refused(f"SERVICE is refused: {NO_OUTBOUND}")
        if word not in ("FROM", "GRAPH"):
            continue
        keyword, j = word, i + 1
        if word == "FROM" and j < len(toks) and toks[j].kind == "word" and toks[j].text.upper() == "NAMED":
            keyword, j = "FROM NAMED", j + 1
        target = toks[j] if j < len(toks) else None
        if target is None or target.kind == "var":
            continue
        if target.kind not in ("iri", "word"):
            if keyword == "GRAPH":
                continue
            raise Refused(f"{keyword} is refused: {NO_OUTBOUND}")
        name = _graph_name(target, declared, prefixes)
        if name not in graphs:
            raise Refused(f"{keyword} <{name}> is refused: {NO_OUTBOUND}, and {_absent(name, graphs)}")


def check_dataset(default_graphs: Sequence[str], named_graphs: Sequence[str], graphs: Collection[str]) -> None:
    """Raise Refused if a default-graph-uri or named-graph-uri parameter names
    a graph that is not in ``graphs``."""
    for parameter, names in (("default-graph-uri", default_graphs), ("named-graph-uri", named_graphs)):
        for name in names:
            if name not in graphs:
                raise Refused(f"{parameter} <{name}> is refused: {NO_OUTBOUND}, and {_absent(name, graphs)}")
