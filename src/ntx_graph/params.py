"""Turn parameter values given as text into RDF terms of the declared type."""

from __future__ import annotations

from pyoxigraph import Literal, NamedNode

from ntx_graph.catalog import Parameter, SavedQuery
from ntx_graph.errors import ParameterError
from ntx_graph.results import XSD

TYPE_CHECKING = False  # not typing's: the query path imports only what it runs (start-up time)
if TYPE_CHECKING:
    from collections.abc import Mapping

# Patterns are compiled on first use (re caches them), not at import, and what
# every bound saved query needs (prefixed names, IRIs, variable names) is
# checked with str methods: the CLI's start-up compiles only what it runs.
_INTEGER = r"[+-]?[0-9]+"
_DECIMAL = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"

Term = NamedNode | Literal


def expand_iri(value: str, prefixes: Mapping[str, str]) -> NamedNode:
    """An IRI from ``<iri>``, an absolute IRI or a prefixed name.

    >>> expand_iri("severity:mild", {"severity": "https://w3id.org/ntx-graph/def/severity/"}).value
    'https://w3id.org/ntx-graph/def/severity/mild'
    """
    text = value.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    else:
        curie = _prefixed_name(text)
        if curie is not None and curie[0] in prefixes:
            text = prefixes[curie[0]] + curie[1]
    try:
        return NamedNode(text)
    except ValueError as error:
        import re

        reason = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(error))
        raise ParameterError(f"{value!r} is not an absolute IRI or a known prefixed name ({reason})") from None


def _prefixed_name(text: str) -> tuple[str, str] | None:
    """(prefix, local name) if ``text`` reads as ``PREFIX:LOCAL``: the prefix
    an ASCII letter then letters, digits, ``_``, ``.`` or ``-``; the local
    name without white space or any of ``<>"{}|^`\\``. None otherwise.

    >>> _prefixed_name("severity:mild"), _prefixed_name(":x"), _prefixed_name("1a:b")
    (('severity', 'mild'), ('', 'x'), None)
    """
    prefix, colon, local = text.partition(":")
    if not colon:
        return None
    if prefix and not (prefix[0].isascii() and prefix[0].isalpha()
                       and all(c.isascii() and (c.isalnum() or c in "_.-") for c in prefix)):
        return None
    if any(c.isspace() or c in _NOT_IN_NAME for c in local):
        return None
    return prefix, local


def to_term(param: Parameter, value: str, prefixes: Mapping[str, str]) -> Term:
    """The RDF term for ``value`` under ``param``'s type; raises ParameterError."""
    where = f"parameter {param.name!r} ({param.type})"
    if param.type == "iri":
        try:
            return expand_iri(value, prefixes)
        except ParameterError as error:
            raise ParameterError(f"{where}: {error}") from None
    if param.type == "string":
        return Literal(value)
    if param.type == "integer":
        import re  # here, not at the top: an iri or string parameter needs no regex

        if not re.fullmatch(_INTEGER, value.strip()):
            raise ParameterError(f"{where}: {value!r} is not an integer")
        return Literal(str(int(value)), datatype=NamedNode(XSD + "integer"))
    if param.type == "decimal":
        import re

        if not re.fullmatch(_DECIMAL, value.strip()):
            raise ParameterError(f"{where}: {value!r} is not a decimal number")
        from decimal import Decimal, InvalidOperation

        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise ParameterError(f"{where}: {value!r} is not a decimal number") from None
        return Literal(format(number, "f"), datatype=NamedNode(XSD + "decimal"))
    if param.type == "boolean":
        lowered = value.strip().lower()
        if lowered not in ("true", "false", "1", "0"):
            raise ParameterError(f"{where}: {value!r} is not true or false")
        return Literal("true" if lowered in ("true", "1") else "false", datatype=NamedNode(XSD + "boolean"))
    raise ParameterError(f"{where}: unsupported type")


def bind(query: SavedQuery, given: Mapping[str, str], prefixes: Mapping[str, str]) -> dict[str, Term]:
    """Typed RDF terms for every parameter of ``query``: the given values,
    else the defaults. Unknown and missing parameters raise ParameterError."""
    unknown = sorted(set(given) - {p.name for p in query.parameters})
    if unknown:
        known = ", ".join(p.name for p in query.parameters) or "none"
        raise ParameterError(f"query {query.name!r} has no parameter {unknown[0]!r} (its parameters: {known})")
    bound: dict[str, Term] = {}
    for param in query.parameters:
        if param.name in given:
            bound[param.name] = to_term(param, given[param.name], prefixes)
        elif param.default is not None:
            bound[param.name] = to_term(param, param.default, prefixes)
        else:
            raise ParameterError(
                f"query {query.name!r} needs parameter {param.name!r} ({param.type}): give --param {param.name}=VALUE"
            )
    return bound


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; raises ParameterError on a malformed pair."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param expects KEY=VALUE, got {pair!r}")
        if key.strip() in result:
            raise ParameterError(f"parameter {key.strip()!r} is given twice")
        result[key.strip()] = value
    return result


# -- binding: one VALUES block, the same for every engine ----------------------

_NOT_IN_NAME = frozenset('<>"{}|^`\\')
#: What a SPARQL IRIREF body (and an N-Triples one without \u escapes) may not hold.
_NOT_IN_IRI = frozenset('<>"{}|^`\\' + "".join(chr(c) for c in range(0x21)))
#: A SPARQL string literal with an optional language tag or datatype IRI.
_LITERAL_TEXT = (
    r'"(?:[^"\\\n\r]|\\(?:[tbnrf"\'\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}))*"'
    r'(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^<>"{}|^`\\\x00-\x20]*>)?'
)
_ESCAPE_OR_CHAR = r"(?s)\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\.|[^\\]"
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def term_text(term: Term) -> str:
    """``term`` as N-Triples text that is also one SPARQL term, or ParameterError.

    IRIs are checked by pyoxigraph and against SPARQL's IRIREF; literals are
    escaped by pyoxigraph. An escaped backslash before ``u``/``U`` gets the
    letter (and any hex digits after it) written as ``\\u0075``..., so that
    parsers which expand ``\\uXXXX`` before tokenising (as SPARQL 1.1 section
    19.2 says; rdflib does) read the same value. The text is parsed back and
    must give ``term`` again.

    >>> term_text(Literal('say "}" # now'))
    '"say \\\\"}\\\\" # now"'
    >>> term_text(NamedNode("https://w3id.org/ntx-graph/id/drug/naltrexone"))
    '<https://w3id.org/ntx-graph/id/drug/naltrexone>'
    """
    from pyoxigraph import RdfFormat, parse

    if isinstance(term, NamedNode):
        if not _NOT_IN_IRI.isdisjoint(term.value):
            raise ParameterError(f"<{term.value}> cannot be sent as an IRI: it holds a character IRIs may not")
        text = str(term)
    elif isinstance(term, Literal):
        import re

        text = _guard_codepoint_escapes(str(term))
        if not re.fullmatch(_LITERAL_TEXT, text):
            raise ParameterError(f"the literal {term.value[:40]!r} cannot be written safely")
    else:
        raise ParameterError("only IRIs and literals can be bound to parameters")
    try:
        parsed = list(parse(input=f"<urn:ntx:s> <urn:ntx:p> {text} .\n".encode(), format=RdfFormat.N_TRIPLES))
    except (SyntaxError, ValueError):
        parsed = []
    if len(parsed) != 1 or parsed[0].object != term:
        raise ParameterError(f"the value {text[:60]!r} does not read back as the same RDF term")
    return text


def _guard_codepoint_escapes(text: str) -> str:
    import re

    out: list[str] = []
    after_backslash = after_codepoint = False
    for match in re.finditer(_ESCAPE_OR_CHAR, text):
        tok = match.group()
        if (after_backslash and tok in ("u", "U")) or (after_codepoint and tok in _HEX_DIGITS):
            # rdflib reads up to 8 hex digits after \u, so hex digits right
            # after a \uXXXX are written as escapes too
            tok = f"\\u{ord(tok):04X}"
        after_codepoint = tok.startswith(("\\u", "\\U"))
        after_backslash = tok == "\\\\"
        out.append(tok)
    return "".join(out)


def values_block(bindings: Mapping[str, Term]) -> str:
    """``VALUES (?a) { (term) } VALUES (?b) { (term) }`` for ``bindings``:
    one block per variable, the same solutions as one block of them all.
    Virtuoso 7.2 fails to compile a block of several variables that the
    SELECT does not project ("ssg_print_rvr_fixed_val(): no
    SPART_VARR_FIXED"); one block each it compiles.

    >>> values_block({"drug": NamedNode("https://w3id.org/ntx-graph/id/drug/naltrexone")})
    'VALUES (?drug) { (<https://w3id.org/ntx-graph/id/drug/naltrexone>) }'
    >>> values_block({"a": NamedNode("urn:a"), "b": NamedNode("urn:b")})
    'VALUES (?a) { (<urn:a>) } VALUES (?b) { (<urn:b>) }'
    """
    for name in bindings:
        if not (name.isidentifier() and name.isascii()):  # [A-Za-z_][A-Za-z0-9_]*
            raise ParameterError(f"{name!r} is not a variable name")
    return " ".join(f"VALUES (?{name}) {{ ({term_text(term)}) }}" for name, term in bindings.items())


def bind_values(text: str, bindings: Mapping[str, Term]) -> str:
    """``text`` with ``bindings`` as a VALUES block, the first element of the
    outer WHERE group: the one way parameters are bound, for every engine
    (embedded Oxigraph, rdflib, remote endpoints). Unchanged if there is
    nothing to bind. The short form ``CONSTRUCT WHERE { P }`` becomes
    ``CONSTRUCT { P } WHERE { VALUES ... P }``.

    >>> bind_values("SELECT ?n WHERE { ?d ?p ?n }", {"d": NamedNode("urn:x")})
    'SELECT ?n WHERE {\\n  VALUES (?d) { (<urn:x>) }\\n ?d ?p ?n }'
    """
    if not bindings:
        return text
    from ntx_graph.sparql_text import analyse

    info = analyse(text)
    brace = info.where
    if brace < 0:
        raise ParameterError("cannot bind parameters: the query has no WHERE group")
    block = values_block(bindings)
    if info.construct_where:
        end = _group_end(text, brace)
        head = text[:brace].rstrip()
        head = head[: len(head) - len("WHERE")]
        pattern = text[brace + 1:end]
        return f"{head}{{{pattern}}} WHERE {{\n  {block}\n{pattern}{text[end:]}"
    return f"{text[:brace + 1]}\n  {block}\n{text[brace + 1:]}"


def _group_end(text: str, brace: int) -> int:
    from ntx_graph.sparql_text import tokens

    depth = 0
    for tok in tokens(text[brace:]):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
            if depth == 0:
                return brace + tok.start
    raise ParameterError("cannot bind parameters: the WHERE group is not closed")

