"""The ``ntx-graph`` command: a thin layer over the Python API."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from ntx_graph import __version__, formats
from ntx_graph.errors import NtxError

DEFAULT_TIMEOUT = 30.0
QUERY_FORMATS = formats.query_names()
EXPORT_FORMATS = formats.names(formats.EXPORT)


class _Parser(argparse.ArgumentParser):
    """argparse with errors in the project's one-line form."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"ntx-graph: error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ntx-graph",
        description="Query the naltrexone knowledge graph: saved SPARQL questions, raw SPARQL, export and checks.",
    )
    parser.add_argument("--version", action="version", version=f"ntx-graph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("list", help="list the saved queries with their parameters")

    show = sub.add_parser("show", help="show a saved query's metadata and text")
    show.add_argument("name")

    query = sub.add_parser("query", help="run a saved query, a .rq file or SPARQL text")
    query.add_argument("name", nargs="?", help="a saved query's name or a .rq file")
    query.add_argument("--sparql", metavar="TEXT", help="SPARQL query text to run instead of a saved query")
    query.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE",
                       help="a parameter value (repeatable); IRIs may be prefixed names such as severity:severe")
    query.add_argument("--format", "-f", choices=QUERY_FORMATS,
                       help=f"output format: {', '.join(formats.names(formats.RESULTS))} for SELECT/ASK, "
                            f"{', '.join(formats.names(formats.GRAPH))} for CONSTRUCT/DESCRIBE (default: from "
                            "the -o file's suffix, else table on a terminal and tsv otherwise for SELECT/ASK, "
                            "turtle for CONSTRUCT/DESCRIBE)")
    query.add_argument("--output", "-o", type=Path, help="write to this file (atomically) instead of stdout")
    _add_data_args(query)
    query.add_argument("--engine", choices=("oxigraph", "rdflib"), default="oxigraph",
                       help="the SPARQL engine (default: oxigraph)")
    query.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"stop a query that runs longer (default: {DEFAULT_TIMEOUT:g})")
    query.add_argument("--allow-federation", action="store_true",
                       help="allow SERVICE, FROM and FROM NAMED, which may fetch remote data")
    remote = query.add_argument_group("remote endpoint (instead of the embedded graph)")
    remote.add_argument("--endpoint", metavar="URL", help="run the query on this SPARQL 1.1 endpoint")
    remote.add_argument("--graph", metavar="IRI", help="the named graph holding the data on the endpoint")
    _add_auth_args(remote)
    remote.add_argument("--auth", choices=("basic", "digest"), default="basic", help="HTTP authentication scheme")

    export = sub.add_parser("export", help="write the whole graph in an RDF format, deterministically")
    export.add_argument("--format", "-f", choices=EXPORT_FORMATS,
                        help="RDF format (default: from the -o file's suffix, else turtle)")
    export.add_argument("--output", "-o", type=Path, help="write to this file (atomically) instead of stdout")
    export.add_argument("--no-ontology", action="store_true", help="leave out the ontology and value scales")
    _add_data_args(export)

    validate = sub.add_parser("validate", help="check the graph (and FILEs) against the SHACL shapes")
    validate.add_argument("files", nargs="*", type=Path, metavar="FILE")
    _add_base_arg(validate)

    serve = sub.add_parser(
        "serve", help="serve a read-only SPARQL endpoint and web page",
        description="Serve the graph over HTTP: a SPARQL 1.1 endpoint at /sparql, saved queries at /queries "
                    "and a web page at /. The endpoint is read-only. It binds 127.0.0.1 by default, reachable "
                    "only from this machine; --host 0.0.0.0 exposes the graph and its query engine to every "
                    "network this machine is on, with no authentication.")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    serve.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                       help="per-query time limit (default: 10)")
    serve.add_argument("--max-rows", type=int, default=10000, help="cap on result rows (default: 10000)")
    serve.add_argument("--max-request-bytes", type=int, default=1_000_000,
                       help="cap on a request's size; larger gets 413 (default: 1000000)")
    serve.add_argument("--workers", type=int, default=2, help="query worker processes (default: 2)")
    _add_data_args(serve)

    push = sub.add_parser("push", help="upload the graph to a triplestore (SPARQL 1.1 Graph Store Protocol)")
    push.add_argument("--endpoint", required=True, metavar="GSP_URL",
                      help="the Graph Store Protocol URL, e.g. http://host:8890/sparql-graph-crud-auth")
    push.add_argument("--graph", required=True, metavar="IRI", help="the named graph to write")
    mode = push.add_mutually_exclusive_group()
    mode.add_argument("--replace", action="store_true", help="replace the graph's content (HTTP PUT; default)")
    mode.add_argument("--append", action="store_true", help="add to the graph's content (HTTP POST)")
    push.add_argument("--no-ontology", action="store_true", help="leave out the ontology and value scales")
    _add_auth_args(push)
    push.add_argument("--auth", choices=("basic", "digest"), default="basic", help="HTTP authentication scheme")
    _add_data_args(push)

    load = sub.add_parser("load", help="build a persistent on-disk store from the bundled graph and FILEs",
                          description="Build an on-disk Oxigraph store once, so that large graphs are not parsed "
                                      "again for every command; use it with --store. The store is built beside "
                                      "DIR and moved into place only when complete, so an interrupted build never "
                                      "leaves a store that opens.")
    load.add_argument("files", nargs="*", type=Path, metavar="FILE")
    load.add_argument("--store", type=Path, required=True, metavar="DIR", help="the store directory to build")
    load.add_argument("--no-bundled", action="store_true", help="leave out the bundled ontology and data")
    load.add_argument("--no-validate", action="store_true", help="skip the SHACL check of FILEs")
    _add_base_arg(load)

    info = sub.add_parser("info", help="triple counts, classes, version and the source's checksum")
    _add_data_args(info)
    return parser


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", "-d", action="append", default=[], type=Path, metavar="FILE",
                        help="an RDF file to add to the bundled graph (repeatable)")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="use the persistent store built by 'ntx-graph load' instead of loading files")
    parser.add_argument("--no-validate", action="store_true",
                        help="accept --data files even if they break the SHACL shapes")
    _add_base_arg(parser)


def _add_base_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", metavar="IRI",
                        help="resolve relative IRIs in the data files against IRI (default: each file's own "
                             "location, a file: IRI)")


def _add_auth_args(parser: argparse._ActionsContainer) -> None:
    parser.add_argument("--user", help="user name for HTTP authentication")
    parser.add_argument("--password-env", metavar="VAR",
                        help="name of the environment variable holding the password (never on the command line)")


def _password(args: argparse.Namespace) -> str | None:
    if not args.password_env:
        return None
    value = os.environ.get(args.password_env)
    if value is None:
        raise NtxError(f"environment variable {args.password_env} (from --password-env) is not set")
    return value


def _open(args: argparse.Namespace, *, include_ontology: bool = True):  # type: ignore[no-untyped-def]
    from ntx_graph.graph import KnowledgeGraph

    if getattr(args, "store", None) is not None:
        if args.data or args.base:
            raise NtxError(f"--store and {'--data' if args.data else '--base'} cannot be combined: load the files "
                           "into the store instead (load --base IRI)")
        if not include_ontology:
            raise NtxError("--no-ontology applies to the bundled graph, not to --store")
        from ntx_graph.persistent import open_graph

        return open_graph(args.store)
    kg = KnowledgeGraph.open(args.data, include_ontology=include_ontology, base=args.base)
    if args.data and not args.no_validate:
        report = kg.validate()
        if not report.conforms:
            from ntx_graph.errors import ValidationFailed

            sys.stderr.write(report.text if report.text.endswith("\n") else report.text + "\n")
            raise ValidationFailed(f"--data does not conform to the shapes ({report.summary()}); "
                                   "use --no-validate to load it anyway")
    return kg


def cmd_list(args: argparse.Namespace) -> int:
    from ntx_graph.catalog import saved_queries

    lines = []
    for q in saved_queries():
        params = " ".join(f"{p.name}:{p.type}" + ("" if p.required else f"={p.default}") for p in q.parameters)
        lines.append((q.name, q.title, params))
    if not lines:
        sys.stdout.write("no saved queries\n")
        return 0
    width = max(len(n) for n, _, _ in lines)
    tw = max(len(t) for _, t, _ in lines)
    for name, title, params in lines:
        sys.stdout.write(f"{name.ljust(width)}  {title.ljust(tw)}  {params}".rstrip() + "\n")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ntx_graph.catalog import get_saved_query

    q = get_saved_query(args.name)
    out = [f"name:        {q.name}", f"title:       {q.title}", f"form:        {q.form}",
           f"description: {q.description}"]
    for p in q.parameters:
        extra = f" of {p.of_class}" if p.of_class else ""
        default = "required" if p.required else f"default {p.default}"
        out.append(f"parameter:   {p.name} ({p.type}{extra}; {default}) {p.description}".rstrip())
    out.append("")
    sys.stdout.write("\n".join(out) + "\n" + q.text)
    return 0


def cmd_query(args: argparse.Namespace) -> int:
    from ntx_graph.params import parse_assignments

    params = parse_assignments(args.param)
    if args.sparql is not None and args.name:
        raise NtxError("give either a query name or --sparql, not both")
    if args.sparql is None and not args.name:
        raise NtxError("give a saved query name, a .rq file or --sparql TEXT ('ntx-graph list' shows the names)")
    kg = _open(args)
    timeout = args.timeout if args.timeout and args.timeout > 0 else None
    if args.endpoint:
        return _query_remote(args, kg, params, timeout)
    if args.sparql is not None:
        if params:
            raise NtxError("--param applies to saved queries; raw --sparql takes no parameters")
        result = kg.query(args.sparql, engine=args.engine, timeout=timeout,
                          allow_federation=args.allow_federation)
    else:
        saved = _saved_or_file(args.name)
        bindings = kg.bind(saved, params)
        result = kg.query(saved.text, bindings, engine=args.engine, timeout=timeout,
                          allow_federation=args.allow_federation)
    from ntx_graph.output import emit_result

    emit_result(result, args.format, args.output)
    return 0


def _saved_or_file(name: str):  # type: ignore[no-untyped-def]
    from ntx_graph.catalog import get_saved_query, parse_saved_query

    if name.endswith(".rq"):
        path = Path(name)
        if not path.is_file():
            raise NtxError(f"{path}: no such query file")
        return parse_saved_query(path)
    return get_saved_query(name)


def _query_remote(args: argparse.Namespace, kg, params: dict[str, str],  # type: ignore[no-untyped-def]
                  timeout: float | None) -> int:
    from ntx_graph.output import emit_result
    from ntx_graph.remote import RemoteEndpoint

    if args.engine != "oxigraph":
        raise NtxError("--engine applies to the embedded graph, not to --endpoint")
    endpoint = RemoteEndpoint(args.endpoint, graph=args.graph, user=args.user, password=_password(args),
                              timeout=timeout or 60.0, prefixes=kg.prefixes, auth=args.auth)
    if args.sparql is not None:
        if params:
            raise NtxError("--param applies to saved queries; raw --sparql takes no parameters")
        result = endpoint.query(args.sparql)
    else:
        result = endpoint.run(_saved_or_file(args.name), params)
    emit_result(result, args.format, args.output)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ntx_graph.server import Limits, serve

    kg = _open(args)
    serve(kg, host=args.host, port=args.port,
          limits=Limits(timeout=args.timeout, max_rows=args.max_rows,
                        max_request_bytes=args.max_request_bytes, workers=args.workers))
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from ntx_graph.push import push_graph

    kg = _open(args, include_ontology=not args.no_ontology)
    result = push_graph(kg.export("ntriples"), endpoint=args.endpoint, graph=args.graph,
                        replace=not args.append, user=args.user, password=_password(args), auth=args.auth,
                        progress=sys.stderr.isatty())
    sys.stderr.write(f"{result}\n")
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from ntx_graph.persistent import build_store

    if args.files and not args.no_validate:
        from ntx_graph.validate import validate

        report = validate(args.files, include_bundled=not args.no_bundled, base=args.base)
        if not report.conforms:
            from ntx_graph.errors import ValidationFailed

            sys.stderr.write(report.text if report.text.endswith("\n") else report.text + "\n")
            raise ValidationFailed(f"the files do not conform to the shapes ({report.summary()}); "
                                   "use --no-validate to load them anyway")
    info = build_store(args.files, args.store, include_bundled=not args.no_bundled, progress=sys.stderr.isatty(),
                       base=args.base)
    sys.stderr.write(f"ntx-graph: {info.triples} triples in {args.store} "
                     f"({info.seconds:.1f} s, {info.triples_per_second:,.0f} triples/s)\n")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ntx_graph.output import emit, export_format

    kg = _open(args, include_ontology=not args.no_ontology)
    emit(kg.export(export_format(args.format, args.output)), args.output)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from ntx_graph.validate import validate

    report = validate(args.files, base=args.base)
    if report.text.strip():
        sys.stdout.write(report.text if report.text.endswith("\n") else report.text + "\n")
    sys.stdout.write(report.summary() + "\n")
    return 0 if report.conforms else 1


def cmd_info(args: argparse.Namespace) -> int:
    from ntx_graph.info import describe

    kg = _open(args)
    sys.stdout.write(describe(kg))
    return 0


COMMANDS = {"list": cmd_list, "show": cmd_show, "query": cmd_query, "export": cmd_export,
            "validate": cmd_validate, "info": cmd_info, "serve": cmd_serve, "push": cmd_push,
            "load": cmd_load}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except NtxError as error:
        _fail(str(error), error.exit_code, hard=type(error).__name__ == "QueryTimeout")
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        _fail("out of memory", 2)
    except Exception as error:  # never a traceback
        _fail(f"internal error: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}", 3)
    return 0


def _fail(message: str, code: int, *, hard: bool = False) -> None:
    sys.stderr.write(f"ntx-graph: error: {message}\n")
    sys.stderr.flush()
    if hard:  # a query thread is still running; do not wait for it
        sys.stdout.flush()
        os._exit(code)
    raise SystemExit(code)


if __name__ == "__main__":
    raise SystemExit(main())
