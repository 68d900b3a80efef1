"""The ``ntx-graph`` command: a thin layer over the Python API.

Each subcommand is two functions, ``args_NAME()`` (its options, as a table
of :class:`~ntx_graph.argv.Option`) and ``cmd_NAME(args) -> exit code``, and
one entry in :data:`COMMANDS`. Only the invoked subcommand's table is built,
it is read by the small parser of :mod:`ntx_graph.argv` (argparse costs a
cold query ~5 ms to import), and each command imports what it needs when it
runs, so that start-up stays fast: ``query`` on the bundled graph imports the
standard library's cheapest modules, pyoxigraph and ntx-graph's own modules
on its path, nothing else (``tests/test_cold_start.py`` checks).

Exit codes: 0 success; 1 ``validate`` found SHACL violations; 2 a usage or
input error (one line on stderr; ``--data`` breaking the shapes prints the
SHACL report first); 3 an internal error (one line; the traceback with
``--debug`` or ``NTX_DEBUG=1``); 130 interrupted.
"""

from __future__ import annotations

import os
import sys

from ntx_graph import __version__
from ntx_graph.argv import HelpRequested, Namespace, Option, help_text, parse, usage_error
from ntx_graph.errors import NtxError

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import NoReturn

    from ntx_graph.catalog import SavedQuery
    from ntx_graph.graph import KnowledgeGraph
    from ntx_graph.results import QueryResult

DEFAULT_TIMEOUT = 30.0
DEFAULT_PUSH_TIMEOUT = 60.0
DEFAULT_MAX_ANSWER_BYTES = 256 * 1024 * 1024  # ntx_graph.http_client.DEFAULT_MAX_BYTES, without importing it


def __getattr__(name: str) -> tuple[str, ...]:
    """QUERY_FORMATS and EXPORT_FORMATS, read from the formats registry when
    first asked for (importing it at start-up would cost every command)."""
    if name not in ("QUERY_FORMATS", "EXPORT_FORMATS"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ntx_graph import formats

    return formats.query_names() if name == "QUERY_FORMATS" else formats.names(formats.EXPORT)


# -- shared arguments ----------------------------------------------------------


def _data_args(base: str = "relative IRIs (<x>) in --data files against IRI (default: each file's own "
                           "location, a file: IRI)") -> tuple[Option, ...]:
    return (
        Option("--data", "-d", action="append", metavar="FILE",
               help="an RDF file to add to the bundled graph (repeatable; Turtle, N-Triples, RDF/XML, JSON-LD, TriG, "
                    "guessed from the suffix); it must conform to the shapes"),
        Option("--store", metavar="DIR",
               help="use the persistent store built by 'ntx-graph load' instead of loading files"),
        Option("--no-validate", action="store_true", help="accept --data files even if they break the SHACL shapes"),
        _base_arg(base),
    )


def _base_arg(what: str) -> Option:
    return Option("--base", metavar="IRI", help=f"resolve {what}")


def _auth_args(group: str | None = None) -> tuple[Option, ...]:
    return (
        Option("--user", group=group, help="user name for HTTP authentication"),
        Option("--password-env", metavar="VAR", group=group,
               help="name of the environment variable holding the password (never on the command line)"),
        Option("--auth", choices=("basic", "digest"), default="basic", group=group,
               help="HTTP authentication scheme (default: basic)"),
    )


OUTPUT_ARG = Option("--output", "-o", metavar="FILE",
                    help="write to this file (atomically: never half-written) instead of standard output")


def _password(args: Namespace) -> str | None:
    if not args.password_env:
        return None
    value = os.environ.get(args.password_env)
    if value is None:
        raise NtxError(f"environment variable {args.password_env} (from --password-env) is not set")
    return value


def _open(args: Namespace, *, include_ontology: bool = True) -> KnowledgeGraph:
    """The graph named by --store, or the bundled graph plus --data (checked
    against the shapes unless --no-validate)."""
    if getattr(args, "store", None) is not None:
        if args.data or args.base:
            raise NtxError(f"--store and {'--data' if args.data else '--base'} cannot be combined: load the files "
                           "into the store instead (load --base IRI)")
        if not include_ontology:
            raise NtxError("--no-ontology applies to the bundled graph, not to --store")
        from ntx_graph.persistent import open_graph

        return open_graph(args.store)
    from ntx_graph.errors import ValidationFailed
    from ntx_graph.graph import KnowledgeGraph

    try:
        return KnowledgeGraph.open(args.data, include_ontology=include_ontology, validate=not args.no_validate,
                                   base=args.base)
    except ValidationFailed as error:
        raise ValidationFailed(f"--data does not conform to the shapes ({error.summary}); use --no-validate to "
                               "load it anyway", report=error.report) from None


def _text(value: str, what: str) -> str:
    """``value`` (from the command line) if it is UTF-8 text; NtxError otherwise."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        byte = ord(value[error.start]) - 0xDC00 if 0xDC80 <= ord(value[error.start]) <= 0xDCFF else None
        shown = f"byte 0x{byte:02x}" if byte is not None else f"U+{ord(value[error.start]):04X}"
        raise NtxError(f"{what} is not UTF-8 text ({shown} at character {error.start})") from None
    return value


# -- list, show ----------------------------------------------------------------


def args_list() -> tuple[Option, ...]:
    """No arguments."""
    return ()


def cmd_list(args: Namespace) -> int:
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


def args_show() -> tuple[Option, ...]:
    return (Option("name", action="one", help="a saved query's name (or a unique prefix of one)"),)


def cmd_show(args: Namespace) -> int:
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


# -- query -----------------------------------------------------------------------


def args_query() -> tuple[Option, ...]:
    from ntx_graph import formats

    remote = "remote endpoint (instead of the embedded graph)"
    return (
        Option("name", action="?", metavar="QUERY",
               help="a saved query's name (or a unique prefix of one), a .rq file (its '#+' header is optional), or - "
                    "to read SPARQL from standard input"),
        Option("--sparql", metavar="TEXT", help="SPARQL query text to run instead of a saved query"),
        Option("--param", "-p", action="append", metavar="KEY=VALUE",
               help="a parameter value (repeatable); IRIs may be prefixed names such as severity:severe"),
        Option("--format", "-f", choices=formats.query_names(),
               help=f"output format: {', '.join(formats.names(formats.RESULTS))} for SELECT/ASK, "
                    f"{', '.join(formats.names(formats.GRAPH))} for CONSTRUCT/DESCRIBE (default: from the -o file's "
                    "suffix, else table on a terminal and tsv otherwise for SELECT/ASK, turtle for "
                    "CONSTRUCT/DESCRIBE)"),
        OUTPUT_ARG,
        *_data_args("relative IRIs (<x>) in the query and in --data files against IRI (without it, a data file's "
                    "own location, a file: IRI)"),
        Option("--engine", choices=("oxigraph", "rdflib"), default="oxigraph",
               help="the SPARQL engine (default: oxigraph)"),
        Option("--timeout", convert=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
               help=f"stop a query that runs longer; 0 for no limit (default: {DEFAULT_TIMEOUT:g})"),
        Option("--allow-federation", action="store_true",
               help="allow SERVICE, FROM and FROM NAMED, which may fetch remote data"),
        Option("--endpoint", metavar="URL", group=remote, help="run the query on this SPARQL 1.1 endpoint"),
        Option("--graph", metavar="IRI", group=remote, help="the named graph holding the data on the endpoint"),
        *_auth_args(remote),
        Option("--max-answer-bytes", convert=int, default=DEFAULT_MAX_ANSWER_BYTES, metavar="N", group=remote,
               help=f"refuse a larger answer from the endpoint (default: {DEFAULT_MAX_ANSWER_BYTES})"),
    )


def _query_source(args: Namespace) -> SavedQuery | str:
    """The saved query (from the catalogue or a file) or the SPARQL text to run."""
    if args.sparql is not None and args.name:
        raise NtxError("give either a query name or --sparql, not both")
    if args.sparql is not None:
        return _text(args.sparql, "--sparql")
    if not args.name:
        raise NtxError("give a saved query name, a .rq file, - (standard input) or --sparql TEXT "
                       "('ntx-graph list' shows the names)")
    if args.name == "-":
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise NtxError(f"standard input is not UTF-8 text (byte 0x{data[error.start]:02x} at offset "
                           f"{error.start})") from None
    from ntx_graph import catalog

    name = _text(args.name, "the query name")
    if name.endswith(".rq") or os.sep in name or (os.path.isfile(name) and not catalog.has_saved_query(name)):
        if not os.path.isfile(name):
            raise NtxError(f"{name}: no such query file")
        return catalog.parse_saved_query(name, header_required=False)
    return catalog.get_saved_query(name)


def cmd_query(args: Namespace) -> int:
    from ntx_graph.params import parse_assignments

    params = parse_assignments([_text(p, "--param") for p in args.param])
    source = _query_source(args)
    if isinstance(source, str) and params:
        raise NtxError("--param applies to saved queries and query files; SPARQL text (--sparql or -) takes no "
                       "parameters")
    timeout = args.timeout if args.timeout and args.timeout > 0 else None
    if args.endpoint:
        result = _query_remote(args, source, params, timeout)
    else:
        kg = _open(args)
        options = {"engine": args.engine, "timeout": timeout, "allow_federation": args.allow_federation,
                   "base": args.base}
        result = kg.query(source, **options) if isinstance(source, str) else kg.run(source, params, **options)
    from ntx_graph.output import emit_result

    emit_result(result, args.format, args.output)
    return 0


def _query_remote(args: Namespace, source: SavedQuery | str, params: dict[str, str],
                  timeout: float | None) -> QueryResult:
    from ntx_graph.remote import RemoteEndpoint
    from ntx_graph.sparql_text import analyse, check_policy

    if args.engine != "oxigraph":
        raise NtxError("--engine applies to the embedded graph, not to --endpoint")
    if args.base is not None:
        raise NtxError("--base applies to the embedded graph; write BASE <iri> in the query for --endpoint")
    text = source if isinstance(source, str) else source.text
    check_policy(analyse(text), allow_federation=args.allow_federation, engine="remote")
    prefixes = None  # the bundled graph's
    if args.data:  # and those the files declare: the endpoint holds the data, the files are not loaded
        from ntx_graph.rdf_io import declared_prefixes
        from ntx_graph.remote import bundled_prefixes

        prefixes = dict(bundled_prefixes())
        for path in args.data:
            for name, iri in declared_prefixes(path).items():
                prefixes.setdefault(name, iri)
    endpoint = RemoteEndpoint(args.endpoint, graph=args.graph, user=args.user, password=_password(args),
                              timeout=timeout or 60.0, prefixes=prefixes, auth=args.auth,
                              max_bytes=args.max_answer_bytes)
    if isinstance(source, str):
        return endpoint.query(source, allow_federation=args.allow_federation)
    return endpoint.run(source, params, allow_federation=args.allow_federation)


# -- export, validate, info --------------------------------------------------------


def args_export() -> tuple[Option, ...]:
    from ntx_graph import formats

    return (
        Option("--format", "-f", choices=(*formats.names(formats.EXPORT), "nanopub"),
               help="the RDF format, or nanopub: one nanopublication per claim, as TriG (default: from the -o file's "
                    "suffix, else turtle)"),
        OUTPUT_ARG,
        Option("--no-ontology", action="store_true", help="leave out the ontology and value scales"),
        Option("--order", choices=("canonical", "store"), default="canonical",
               help="canonical (the default): triples sorted, so equal graphs give the same bytes whatever their "
                    "source; store: as the store holds them, faster on a large graph, the same bytes for the same "
                    "inputs loaded in the same order (ntriples, turtle, rdfxml and jsonld; a graph with blank nodes "
                    "stays canonical)"),
        Option("--sign", metavar="KEYFILE",
               help="with -f nanopub: sign each nanopublication with this RSA private key (PEM) and give it a trusty "
                    "URI (needs the nanopub-sign package); nothing is published"),
        *_data_args(),
    )


def cmd_export(args: Namespace) -> int:
    from ntx_graph.output import emit, export_format
    from ntx_graph.rdf_io import check_order

    if args.sign is not None and args.format != "nanopub":
        raise NtxError("--sign applies to --format nanopub")
    fmt = args.format if args.format == "nanopub" else export_format(args.format, args.output)
    check_order(fmt, args.order)  # before the graph is loaded
    kg = _open(args, include_ontology=not args.no_ontology)
    if args.sign is not None:
        from pathlib import Path

        from ntx_graph.nanopub import export_nanopublications, read_key

        emit(export_nanopublications(kg, key=read_key(Path(args.sign))), args.output)
        return 0
    emit(kg.export(fmt, order=args.order), args.output)
    return 0


def args_validate() -> tuple[Option, ...]:
    return (
        Option("files", action="*", metavar="FILE", help="RDF files to check together with the bundled graph"),
        _base_arg("relative IRIs (<x>) in FILEs against IRI (default: each file's own location)"),
    )


def cmd_validate(args: Namespace) -> int:
    from ntx_graph.validate import validate

    report = validate(args.files, base=args.base)
    if report.text.strip():
        sys.stdout.write(report.text if report.text.endswith("\n") else report.text + "\n")
    sys.stdout.write(report.summary() + "\n")
    return 0 if report.conforms else 1


def args_info() -> tuple[Option, ...]:
    return _data_args()


def cmd_info(args: Namespace) -> int:
    from ntx_graph.info import summary_text

    sys.stdout.write(summary_text(_open(args)))
    return 0


# -- check ---------------------------------------------------------------------------


def args_check() -> tuple[Option, ...]:
    return (
        Option("--data", "-d", action="append", metavar="FILE", help="an RDF file to add to the bundled graph "
                                                                      "(repeatable)"),
        Option("--store", metavar="DIR", help="check the persistent store built by 'ntx-graph load'"),
        Option("--no-bundled", action="store_true", help="leave out the bundled ontology and data"),
        Option("--source", action="append", metavar="IRI=PATH",
               help="read this source document (IRI or prefixed name) from PATH instead (repeatable)"),
        Option("--coverage", action="store_true",
               help="also list every sentence of each source that no quote cites (minus those in "
                    "uncited-sentences.tsv beside it)"),
        Option("--format", "-f", choices=("text", "json"), default="text", help="report format"),
    )


def cmd_check(args: Namespace) -> int:
    import json

    from ntx_graph.provenance import check

    overrides = {}
    for item in args.source:
        iri, sep, path = item.partition("=")
        if not sep or not iri or not path:
            raise NtxError(f"--source {item!r}: give IRI=PATH")
        overrides[iri] = path
    if args.store is not None:
        if args.data or args.no_bundled:
            raise NtxError("--store cannot be combined with --data or --no-bundled")
        from ntx_graph.persistent import open_graph

        kg = open_graph(args.store)
    else:
        from ntx_graph.graph import KnowledgeGraph

        kg = KnowledgeGraph.open(args.data, include_bundled=not args.no_bundled, validate=False)
    report = check(kg, sources=overrides, coverage=args.coverage)
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_json(), indent=1, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.text())
    return 0 if report.ok else 1


# -- serve, push, load ---------------------------------------------------------------


def args_serve() -> tuple[Option, ...]:
    return (
        Option("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)"),
        Option("--port", convert=int, default=8000, help="port to bind (default: 8000)"),
        Option("--timeout", convert=float, default=10.0, metavar="SECONDS", help="per-query time limit (default: 10)"),
        Option("--max-rows", convert=int, default=10000, metavar="N", help="cap on result rows (default: 10000)"),
        Option("--max-request-bytes", convert=int, default=1_000_000, metavar="N",
               help="cap on a request's size; larger gets 413 (default: 1000000)"),
        Option("--workers", convert=int, default=2, metavar="N",
               help="query worker processes; each holds the graph and answers one query at a time, and is replaced "
                    "when a query runs past the time or memory limit (default: 2)"),
        Option("--processes", convert=int, default=1, metavar="N",
               help="server processes sharing the port, each with its own workers (default: 1)"),
        Option("--memory-limit", convert=int, default=1024, metavar="MIB",
               help="address space of each query worker; a query past it gets 503 (default: 1024)"),
        Option("--max-response-bytes", convert=int, default=50_000_000, metavar="N",
               help="cap on an answer's size; larger gets 413 (default: 50000000)"),
        Option("--client-share", convert=int, default=0, metavar="N",
               help="most query workers one client address holds while another client within its share waits "
                    "(default: workers - 1, at least 1); idle workers beyond it are lent, and taken back when needed"),
        Option("--strict-share", action="store_true",
               help="never lend a client more than --client-share workers, even idle ones"),
        Option("--allowed-host", action="append", metavar="NAME",
               help="also answer requests whose Host is NAME (repeatable; '*' for any); bound to loopback, only "
                    "loopback names are answered by default (DNS-rebinding protection)"),
        Option("--allow-federation", action="store_true",
               help="give the query workers the network (off by default: they run without any)"),
        Option("--no-cache", action="store_true", help="do not keep answers in memory"),
        Option("--access-log", action="switch",
               help="one log line per request on stderr (default: on unless stderr is a terminal)"),
        Option("--log-queries", action="store_true", help="include query strings in the access log"),
        *_data_args(),
    )


def cmd_serve(args: Namespace) -> int:
    import logging

    from ntx_graph.server import Limits, serve
    from ntx_graph.server.http import DEFAULT_CACHE_BYTES

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    limits = Limits(timeout=args.timeout, max_rows=args.max_rows, max_request_bytes=args.max_request_bytes,
                    workers=args.workers, memory_bytes=args.memory_limit * 1024 * 1024,
                    max_response_bytes=args.max_response_bytes, allow_federation=args.allow_federation,
                    client_share=args.client_share, strict_share=args.strict_share)
    if args.processes < 1:
        raise NtxError("--processes must be at least 1")
    access_log = not sys.stderr.isatty() if args.access_log is None else args.access_log
    kg = _open(args)
    serve(kg, host=args.host, port=args.port, limits=limits, store=getattr(args, "store", None),
          processes=args.processes, allowed_hosts=tuple(args.allowed_host),
          cache_bytes=0 if args.no_cache else DEFAULT_CACHE_BYTES, access_log=access_log,
          log_queries=args.log_queries)
    return 0


def args_push() -> tuple[Option, ...]:
    return (
        Option("--endpoint", required=True, metavar="GSP_URL",
               help="the Graph Store Protocol URL, e.g. http://host:8890/sparql-graph-crud-auth"),
        Option("--graph", required=True, metavar="IRI", help="the named graph to write"),
        Option("--replace", action="store_true", exclusive="mode",
               help="replace the graph's content (HTTP PUT; default)"),
        Option("--append", action="store_true", exclusive="mode", help="add to the graph's content (HTTP POST)"),
        Option("--no-ontology", action="store_true", help="leave out the ontology and value scales"),
        *_auth_args(),
        Option("--timeout", convert=float, default=DEFAULT_PUSH_TIMEOUT, metavar="SECONDS",
               help=f"give up an upload that takes longer (default: {DEFAULT_PUSH_TIMEOUT:g})"),
        *_data_args(),
    )


def cmd_push(args: Namespace) -> int:
    from ntx_graph.push import push_graph

    kg = _open(args, include_ontology=not args.no_ontology)
    result = push_graph(kg.export("ntriples"), endpoint=args.endpoint, graph=args.graph,
                        replace=not args.append, user=args.user, password=_password(args), auth=args.auth,
                        progress=sys.stderr.isatty(), timeout=args.timeout)
    sys.stderr.write(f"{result}\n")
    return 0


def args_load() -> tuple[Option, ...]:
    return (
        Option("files", action="*", metavar="FILE", help="RDF files to add to the store"),
        Option("--store", required=True, metavar="DIR", help="the store directory to build"),
        Option("--no-bundled", action="store_true",
               help="leave out the bundled ontology and data (a store of FILEs only)"),
        Option("--no-validate", action="store_true", help="skip the SHACL check of FILEs"),
        _base_arg("relative IRIs (<x>) in FILEs against IRI (default: each file's own location)"),
    )


def cmd_load(args: Namespace) -> int:
    from ntx_graph.persistent import build_store, summary

    progress = sys.stderr.isatty()
    info = build_store(args.files, args.store, include_bundled=not args.no_bundled, progress=progress,
                       validate=not args.no_validate, base=args.base)
    if not progress:  # on a terminal the progress display ends with the same line
        sys.stderr.write(f"ntx-graph: {summary(info)}\n")
    return 0


# -- the command table -------------------------------------------------------------


class Command:
    """A subcommand: its one-line help, its description, ``--help`` examples,
    and its two functions (its options' table, and what it runs)."""

    def __init__(self, help: str, description: str, examples: str, arguments: Callable[[], tuple[Option, ...]],
                 run: Callable[[Namespace], int]) -> None:
        self.help, self.description, self.examples = help, description, examples
        self.arguments, self.run = arguments, run


COMMANDS: dict[str, Command] = {
    "list": Command(
        "list the saved queries with their parameters",
        "List the saved queries: name, title and parameters (NAME:TYPE, =DEFAULT when optional).",
        "ntx-graph list", args_list, cmd_list),
    "show": Command(
        "show a saved query's metadata and text",
        "Show a saved query's title, form, description, parameters and SPARQL text. A unique prefix of a "
        "name works wherever a name does.",
        "ntx-graph show drug-card\n  ntx-graph show side-effects-by-sev", args_show, cmd_show),
    "query": Command(
        "run a saved query, a .rq file or SPARQL text",
        "Run a saved query (by name or unique name prefix), a .rq file, SPARQL from standard input (-) or "
        "--sparql TEXT on the embedded graph, or on a remote SPARQL endpoint with --endpoint. Queries are "
        "read-only; SERVICE, FROM and FROM NAMED are refused unless --allow-federation. Parameters are bound "
        "as typed RDF terms, never pasted into the text.",
        "ntx-graph query off-label-uses-lacking-evidence\n"
        "  ntx-graph query side-effects-by-severity -p min_severity=severity:severe -f csv\n"
        "  ntx-graph query my-question.rq -o answer.json -f json\n"
        "  echo 'ASK { ?s a ntx:Drug }' | ntx-graph query -\n"
        "  ntx-graph query --sparql 'SELECT * WHERE { ?s ?p <x> }' --base https://example.org/",
        args_query, cmd_query),
    "export": Command(
        "write the whole graph in an RDF format, deterministically",
        "Write the whole graph (bundled plus --data), sorted (unless --order store), prefixes kept, byte-identical "
        "across runs.",
        "ntx-graph export -f turtle -o ntx-graph.ttl\n  ntx-graph export -f rdfxml --no-ontology",
        args_export, cmd_export),
    "validate": Command(
        "check the graph (and FILEs) against the SHACL shapes",
        "Check the bundled graph, with FILEs added, against the SHACL shapes; print the report. Exit code "
        "1 when there are violations. This checks the graph's structure only: use 'ntx-graph check' to "
        "verify that every quote is its source's text.",
        "ntx-graph validate\n  ntx-graph validate my-facts.ttl", args_validate, cmd_validate),
    "serve": Command(
        "serve a read-only SPARQL endpoint and web page",
        "Serve the graph over HTTP: a SPARQL 1.1 endpoint at /sparql, saved queries at /queries and a web "
        "page at /. The endpoint is read-only. It binds 127.0.0.1 by default, reachable only from this "
        "machine; --host 0.0.0.0 exposes the graph and its query engine to every network this machine is "
        "on, with no authentication.",
        "ntx-graph serve\n  ntx-graph serve --port 8080 --workers 4 --timeout 5", args_serve, cmd_serve),
    "push": Command(
        "upload the graph to a triplestore (SPARQL 1.1 Graph Store Protocol)",
        "Upload the graph into a named graph of a triplestore (Virtuoso, Oxigraph server, GraphDB, ...) "
        "through the SPARQL 1.1 Graph Store Protocol: replace it (PUT) or append to it (POST).",
        "NTX_PW=secret ntx-graph push --endpoint http://localhost:8890/sparql-graph-crud-auth \\\n"
        "      --graph https://w3id.org/ntx-graph/graph --user dba --password-env NTX_PW --auth digest",
        args_push, cmd_push),
    "load": Command(
        "build a persistent on-disk store from the bundled graph and FILEs",
        "Build an on-disk Oxigraph store once, so that large graphs are not parsed again for every "
        "command; use it with --store. The store is built beside DIR and moved into place only when "
        "complete, so an interrupted build never leaves a store that opens.",
        "ntx-graph load big.nt --store ./store\n  ntx-graph query drug-card --store ./store\n"
        "  ntx-graph load only-mine.ttl --store ./mine --no-bundled", args_load, cmd_load),
    "check": Command(
        "verify every evidence quote against its source document",
        "Verify every evidence quote of every claim against its source document: the quote's oa:exact must "
        "be the source's text at oa:start..oa:end (characters of the UTF-8 text) and the file's SHA-256 the "
        "one the graph records. A source's ntx:repositoryPath is resolved relative to the data file that "
        "declares it. Exit code 0 if everything checks, 1 if any quote or checksum fails (or, with "
        "--coverage, a sentence is uncited), 2 on a usage or file error. The SHACL shapes are not applied: "
        "that is what validate does.",
        "ntx-graph check\n  ntx-graph check --no-bundled --data mine.ttl --coverage\n"
        "  ntx-graph check --data mine.ttl --source src:leaflet=leaflet-v2.txt -f json",
        args_check, cmd_check),
    "info": Command(
        "triple counts, classes, version and the source's checksum",
        "Summarise the graph: version, triple count, files, instances per class, and whether each source "
        "document matches its recorded SHA-256.",
        "ntx-graph info\n  ntx-graph info --store ./store", args_info, cmd_info),
}


DESCRIPTION = "Query the naltrexone knowledge graph: saved SPARQL questions, raw SPARQL, export and checks."
EPILOG = ("examples:\n  ntx-graph list\n  ntx-graph query off-label-uses-lacking-evidence\n"
          "  ntx-graph query side-effects-by-severity -p min_severity=severity:severe -f csv\n"
          "  ntx-graph serve\n\n'ntx-graph COMMAND --help' describes each command. Exit codes: 0 success, "
          "1 SHACL violations (validate), 2 usage or input error, 3 internal error, 130 interrupted.")
#: The options before the command.
GLOBAL_OPTIONS = (
    Option("--version", action="store_true", help="show program's version number and exit"),
    Option("--debug", action="store_true",
           help="log what happens on stderr, and the traceback of an internal error (also NTX_DEBUG=1)"),
)


def parse_args(argv: Sequence[str]) -> Namespace:
    """The command line read: ``command`` (its name), ``debug``, and the
    command's options. ``--help`` and ``--version`` print and exit 0; usage
    errors print one line and exit 2 (argparse's conventions)."""
    position = next((i for i, arg in enumerate(argv) if not arg.startswith("-") or arg == "-"), len(argv))
    before = list(argv[:position])
    if "--" in before:  # "ntx-graph -- list": the command is after it
        position = before.index("--")
        before, after = before[:position], list(argv[position + 1:])
        name = after[0] if after else None
        rest = after[1:]
    else:
        name = argv[position] if position < len(argv) else None
        rest = list(argv[position + 1:])
    try:
        top = parse(GLOBAL_OPTIONS, before, prog="ntx-graph")
    except HelpRequested:
        _print_help("ntx-graph", GLOBAL_OPTIONS, DESCRIPTION, EPILOG, tail="COMMAND ...", sections=[
            ("commands", [(n, c.help) for n, c in COMMANDS.items()])])
    if top.version:
        sys.stdout.write(f"ntx-graph {__version__}\n")
        raise SystemExit(0)
    if name is None:
        usage_error("the following arguments are required: COMMAND", "ntx-graph")
    command = COMMANDS.get(name)
    if command is None:
        usage_error(f"argument COMMAND: invalid choice: {name!r} (choose from "
                    f"{', '.join(repr(n) for n in COMMANDS)})", "ntx-graph")
    prog = f"ntx-graph {name}"
    spec = command.arguments()
    end = rest.index("--") if "--" in rest else len(rest)
    late_debug = "--debug" in rest[:end]  # also taken after the command ("ntx-graph query … --debug")
    if late_debug:
        rest = [arg for i, arg in enumerate(rest) if arg != "--debug" or i > end]
    try:
        args = parse(spec, rest, prog=prog)
    except HelpRequested:
        _print_help(prog, spec, command.description, f"examples:\n  {command.examples}")
    args.command, args.debug = name, top.debug or late_debug
    return args


def _print_help(prog: str, spec: Sequence[Option], description: str, epilog: str, *, tail: str = "",
                sections: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()) -> NoReturn:
    sys.stdout.write(help_text(prog, spec, description, epilog, tail=tail, sections=sections))
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    debug = args.debug or os.environ.get("NTX_DEBUG", "") not in ("", "0")
    if debug:
        import logging

        logging.basicConfig(level=logging.DEBUG, format="ntx-graph: %(name)s: %(levelname)s: %(message)s")
    try:
        return COMMANDS[args.command].run(args)
    except NtxError as error:
        report = getattr(error, "report", "")
        if report:
            sys.stderr.write(report if report.endswith("\n") else report + "\n")
        _fail(str(error), error.exit_code, hard=type(error).__name__ == "QueryTimeout")
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except MemoryError:
        _fail("out of memory", 2)
    except RecursionError:
        _fail("the input nests too deeply to be read", 2)
    except Exception as error:  # never a traceback, unless asked for
        if debug:
            import logging

            logging.getLogger(__name__).error("internal error", exc_info=True)
        first = str(error).splitlines()[0] if str(error) else ""
        hint = "" if debug else " (run with --debug for the traceback)"
        _fail(f"internal error: {type(error).__name__}: {first}{hint}", 3)
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
