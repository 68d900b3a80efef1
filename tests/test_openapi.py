"""The OpenAPI description agrees with the router, both ways.

The routes and the query-string arguments are read from the router's own
code (its ``dispatch`` method and the handlers it calls, parsed with
``ast``), not from a second list kept here: a route or an argument added to
the router and not to ``/openapi.json`` fails these tests, and so does a
path, a path-parameter value or a method that ``/openapi.json`` describes
and the router does not serve (each is requested from the router).
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from openapi_spec_validator import validate

from ntx_graph.server import paging, router, sparql
from ntx_graph.server.messages import Request, Response
from ntx_graph.server.router import Router

METHODS = ("get", "post", "put", "delete", "patch")
#: Names a handler's query-string dictionary goes by.
ARG_DICTS = {"args", "params"}
#: The functions outside the router that read the query string for it, by the name it calls them.
READERS: dict[str, Callable[..., Any]] = {"read_page": paging.read_page, "read_protocol": sparql.read_protocol}


# -- what the router's code says ----------------------------------------------------------


@dataclass
class Route:
    """A branch of ``Router.dispatch``: the paths it matches (exact, or a
    prefix) and the handler methods it calls."""

    exact: tuple[str, ...] = ()
    prefix: str = ""
    handlers: set[str] = field(default_factory=set)


def _function(obj: Callable[..., Any]) -> ast.FunctionDef:
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def _path_tests(test: ast.expr) -> Iterator[tuple[str, tuple[str, ...]]]:
    """("exact", paths) and ("prefix", (p,)) for each test of ``path`` in a condition."""
    for node in ast.walk(test):
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "path":
            right = node.comparators[0]
            if isinstance(node.ops[0], ast.Eq) and isinstance(right, ast.Constant):
                yield "exact", (right.value,)
            elif isinstance(node.ops[0], ast.In) and isinstance(right, ast.Tuple):
                yield "exact", tuple(e.value for e in right.elts if isinstance(e, ast.Constant))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "path"):
            yield "prefix", (node.args[0].value,)  # type: ignore[attr-defined]


def router_routes() -> list[Route]:
    """The routes of ``Router.dispatch``: each top-level ``if`` on the path."""
    routes = []
    for statement in _function(Router.dispatch).body:
        if not isinstance(statement, ast.If):
            continue
        route = Route()
        for kind, values in _path_tests(statement.test):
            if kind == "exact":
                route.exact += values
            else:
                route.prefix = values[0]
        if not route.exact and not route.prefix:
            continue  # OPTIONS, the method and size checks
        for node in ast.walk(ast.Module(body=statement.body, type_ignores=[])):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
                route.handlers.add(node.attr)
        routes.append(route)
    return routes


@dataclass
class Reads:
    """The query-string arguments a handler reads: ``accepted``, ``refused``
    (read only to answer an error, as the SPARQL Update arguments are), and
    whether it takes every other argument as a saved query's parameter."""

    accepted: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    saved_parameters: bool = False


def _names(node: ast.AST) -> Iterator[str]:
    """The argument names ``node`` reads from a query-string dictionary."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if (isinstance(func, ast.Name) and func.id == "single" and len(sub.args) == 2
                    and isinstance(sub.args[1], ast.Constant)):
                yield sub.args[1].value
            elif (isinstance(func, ast.Attribute) and func.attr in ("pop", "get") and isinstance(func.value, ast.Name)
                  and func.value.id in ARG_DICTS and sub.args and isinstance(sub.args[0], ast.Constant)):
                yield sub.args[0].value
        elif (isinstance(sub, ast.Compare) and isinstance(sub.left, ast.Constant) and isinstance(sub.ops[0], ast.In)
              and isinstance(sub.comparators[0], ast.Name) and sub.comparators[0].id in ARG_DICTS):
            yield sub.left.value
        elif (isinstance(sub, ast.Subscript) and isinstance(sub.value, ast.Name) and sub.value.id in ARG_DICTS
              and isinstance(sub.slice, ast.Constant)):
            yield sub.slice.value


def reads(function: ast.FunctionDef, *, module: Any = router) -> Reads:
    """What ``function`` (and the readers it calls) reads from the query string."""
    found = Reads()
    for node in ast.walk(function):
        if isinstance(node, ast.If) and all(isinstance(s, ast.Raise) for s in node.body):
            found.refused |= set(_names(node.test))
        if isinstance(node, ast.For) and isinstance(node.iter, ast.Name) and node.iter.id in ARG_DICTS:
            found.saved_parameters = True
        if isinstance(node, ast.comprehension) and isinstance(node.iter, ast.Name) and node.iter.id in ARG_DICTS:
            found.saved_parameters = True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in READERS:
            inner = reads(_function(READERS[node.func.id]))
            found.accepted |= inner.accepted
            found.refused |= inner.refused
    found.accepted |= set(_names(function)) - found.refused
    if any(isinstance(n, ast.Name) and n.id == "PAGE_ARGS" for n in ast.walk(function)):
        found.accepted |= set(paging.PAGE_ARGS)
    return found


def handler_reads(name: str) -> Reads:
    return reads(_function(getattr(Router, name)))


# -- what the description says --------------------------------------------------------------


@pytest.fixture(scope="module")
def doc(router: Router) -> dict[str, Any]:
    response = router(Request("GET", "/openapi.json", "", {"accept": "application/json"}))
    assert response.status == 200
    document: dict[str, Any] = json.loads(response.body)
    return document


def _template(path: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$")


def _query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def _example(schema: dict[str, Any]) -> str:
    for key in ("enum", "default", "example"):
        if key in schema:
            value = schema[key][0] if key == "enum" else schema[key]
            return str(value).lower() if isinstance(value, bool) else str(value)
    return "x"


def instances(path: str, item: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(URL path, query string) for every value of the path's path parameter
    (one each), with the required query parameters given a value."""
    operation = item.get("get") or item.get("post") or {}
    params = operation.get("parameters", [])
    query = urlencode({p["name"]: _example(p["schema"]) for p in params if p["in"] == "query" and p["required"]})
    path_params = [p for p in params if p["in"] == "path"]
    if not path_params:
        yield path, query
        return
    (param,) = path_params
    schema = param["schema"]
    for value in schema.get("enum") or [schema["example"]]:
        yield path.replace("{" + param["name"] + "}", value), query


def call(router: Router, method: str, path: str, query: str) -> Response:
    headers = {"accept": "*/*"}
    if method == "POST":
        headers["content-type"] = "application/sparql-query"
    return router(Request(method, path, query, headers, b"ASK {}" if method == "POST" else b""))


# -- the tests -------------------------------------------------------------------------------


def test_the_description_is_valid_openapi_3(doc: dict[str, Any]) -> None:
    validate(doc)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def test_the_routes_are_read_from_the_router() -> None:
    """The reading of the router's code finds what it serves (so that the
    tests below cannot pass by reading nothing)."""
    routes = router_routes()
    exact = {p for r in routes for p in r.exact}
    prefixes = {r.prefix for r in routes}
    assert {"/sparql", "/health", "/queries", "/openapi.json", "/entity", "/source"} <= exact
    assert {"/queries/", "/static/", "/source/", "/entity."} <= prefixes
    assert {"sparql", "saved", "entity", "catalog"} <= {h for r in routes for h in r.handlers}
    sparql_reads = handler_reads("sparql")
    assert {"query", "default-graph-uri", "format", "_limit"} <= sparql_reads.accepted
    assert "update" in sparql_reads.refused and handler_reads("saved").saved_parameters


def test_every_route_the_router_serves_is_described(doc: dict[str, Any]) -> None:
    paths = set(doc["paths"])
    missing = []
    for route in router_routes():
        for exact in route.exact:
            # a trailing slash is the same route ("/source/" is "/source")
            if exact not in paths and (exact == "/" or exact.rstrip("/") not in paths):
                missing.append(exact)
        if route.prefix and not any(p.startswith(route.prefix) and p != route.prefix for p in paths):
            missing.append(route.prefix + "…")
    assert not missing, f"served but not in /openapi.json: {missing}"


def test_every_described_path_value_and_method_is_served(router: Router, doc: dict[str, Any]) -> None:
    """Each path (with each value of its path parameter) answers the methods
    described, and only those (the router answers 405 to the others)."""
    wrong = []
    for path, item in doc["paths"].items():
        described = {m for m in METHODS if m in item}
        for url, query in instances(path, item):
            for method in METHODS:
                response = call(router, method.upper(), url, query)
                served = response.status != 405
                if response.status == 404 or served != (method in described):
                    wrong.append(f"{method.upper()} {url}?{query}: {response.status} {response.body[:100]!r}")
    assert not wrong, "\n".join(wrong)


def test_every_argument_the_router_reads_is_described_and_no_other(router: Router, doc: dict[str, Any]) -> None:
    """Per route, the query-string arguments in /openapi.json are those its
    handler reads (plus, for a saved query, its own parameters); the
    arguments read only to refuse the request (SPARQL Update) are not."""
    problems = []
    snapshot = router.snapshot
    for route in router_routes():
        read = Reads()
        for name in route.handlers & {n for n, _ in inspect.getmembers(Router, inspect.isfunction)}:
            found = handler_reads(name)
            read.accepted |= found.accepted
            read.refused |= found.refused
            read.saved_parameters |= found.saved_parameters
        patterns = [*route.exact, *([route.prefix] if route.prefix else [])]
        items = {p: i for p, i in doc["paths"].items()
                 if any(p == e or (route.prefix and p.startswith(route.prefix) and p != route.prefix)
                        for e in patterns)}
        if read.saved_parameters:  # three paths per saved query: its answer, by suffix, its text
            names = {re.sub(r"\.(\{suffix\}|rq)$", "", p.removeprefix("/queries/")) for p in items}
            assert names == set(snapshot.queries)
            for name, saved in snapshot.queries.items():
                own = {p.name for p in saved.parameters}
                main = set().union(*(_query_names(op) for op in items[f"/queries/{name}"].values()))
                if main != read.accepted | own:  # the answer's path takes every argument
                    problems.append(f"/queries/{name}: described {sorted(main)}, read {sorted(read.accepted | own)}")
                for tail in (".{suffix}", ".rq"):
                    other = set().union(*(_query_names(op) for op in items[f"/queries/{name}{tail}"].values()))
                    if not own <= other <= main:
                        problems.append(f"/queries/{name}{tail}: described {sorted(other)}")
            continue
        described = set().union(*(_query_names(op) for item in items.values() for op in item.values()))
        if described != read.accepted:
            problems.append(f"{patterns}: described {sorted(described)}, read {sorted(read.accepted)}")
        if described & read.refused:
            problems.append(f"{patterns}: describes refused arguments {sorted(described & read.refused)}")
    assert not problems, "\n".join(problems)


def test_a_route_missing_from_the_description_is_caught(router: Router, doc: dict[str, Any]) -> None:
    """The checks above fail on a description that lacks a route or has one too many."""
    lacking = {k: v for k, v in doc["paths"].items() if k != "/prefixes"}
    with pytest.raises(AssertionError, match="/prefixes"):
        test_every_route_the_router_serves_is_described({**doc, "paths": lacking})
    extra = {**doc["paths"], "/nothing": doc["paths"]["/health"]}
    with pytest.raises(AssertionError, match="/nothing"):
        test_every_described_path_value_and_method_is_served(router, {**doc, "paths": extra})
