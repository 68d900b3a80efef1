"""Turn parameter values given as text into RDF terms of the declared type."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from pyoxigraph import Literal, NamedNode

from ntx_graph.catalog import Parameter, SavedQuery
from ntx_graph.errors import ParameterError
from ntx_graph.results import XSD

_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9_.\-]*)?:([^\s<>\"{}|^`\\]*)$")
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")

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
        match = _CURIE.match(text)
        if match and (match.group(1) or "") in prefixes:
            text = prefixes[match.group(1) or ""] + match.group(2)
    try:
        return NamedNode(text)
    except ValueError as error:
        reason = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(error))
        raise ParameterError(f"{value!r} is not an absolute IRI or a known prefixed name ({reason})") from None


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
        if not _INTEGER.match(value.strip()):
            raise ParameterError(f"{where}: {value!r} is not an integer")
        return Literal(str(int(value)), datatype=NamedNode(XSD + "integer"))
    if param.type == "decimal":
        if not _DECIMAL.match(value.strip()):
            raise ParameterError(f"{where}: {value!r} is not a decimal number")
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
