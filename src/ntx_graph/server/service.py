"""The SPARQL 1.1 service description answered at ``GET /sparql``."""

from __future__ import annotations

from html import escape

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from ntx_graph import formats
from ntx_graph.rdf_io import serialize_triples
from ntx_graph.server.limits import Limits
from ntx_graph.server.pages import formats_html, layout

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
RDFS_COMMENT = NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
DCT_TITLE = NamedNode("http://purl.org/dc/terms/title")
XSD_INTEGER = NamedNode("http://www.w3.org/2001/XMLSchema#integer")
PREFIXES = {"sd": SD, "formats": FORMATS, "void": VOID, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "dcterms": "http://purl.org/dc/terms/"}
#: The W3C format IRIs of every format the endpoint answers in.
RESULT_FORMATS = tuple(dict.fromkeys(
    f.iri for use in (formats.RESULTS, formats.GRAPH) for f in formats.serving(use, http=True) if f.iri))


def _features(endpoint: str, limits: Limits) -> list[tuple[str, str, str]]:
    return [
        (f"{endpoint}#read-only", "read-only",
         "SPARQL Update (including LOAD) is refused; the graph never changes."),
        (f"{endpoint}#no-outbound-connections", "no outbound connections",
         "SERVICE, FROM, FROM NAMED, GRAPH and default-graph-uri/named-graph-uri naming a graph that the "
         "endpoint does not hold are refused; the endpoint never fetches anything."),
        (f"{endpoint}#time-limit", f"time limit of {limits.timeout:g} s",
         f"A query running longer than {limits.timeout:g} s is stopped and answered with 503."),
        (f"{endpoint}#row-limit", f"at most {limits.max_rows} rows",
         f"A result with more than {limits.max_rows} rows or triples is refused with 413; add LIMIT."),
    ]


def service_description(endpoint: str, triples: int, limits: Limits, fmt: str = "turtle") -> bytes:
    """The description of the endpoint at ``endpoint`` (its absolute URL)."""
    service, dataset, graph = BlankNode("service"), BlankNode("dataset"), BlankNode("defaultGraph")
    sd = {name: NamedNode(SD + name) for name in (
        "Service", "endpoint", "supportedLanguage", "SPARQL11Query", "resultFormat", "feature", "Feature",
        "defaultDataset", "Dataset", "defaultGraph", "Graph")}
    out = [
        Triple(service, RDF_TYPE, sd["Service"]),
        Triple(service, sd["endpoint"], NamedNode(endpoint)),
        Triple(service, sd["supportedLanguage"], sd["SPARQL11Query"]),
        Triple(service, DCT_TITLE, Literal("ntx-graph: the naltrexone knowledge graph (read-only)", language="en")),
        Triple(service, sd["defaultDataset"], dataset),
        Triple(dataset, RDF_TYPE, sd["Dataset"]),
        Triple(dataset, sd["defaultGraph"], graph),
        Triple(graph, RDF_TYPE, sd["Graph"]),
        Triple(graph, NamedNode(VOID + "triples"), Literal(str(triples), datatype=XSD_INTEGER)),
    ]
    out += [Triple(service, sd["resultFormat"], NamedNode(iri)) for iri in RESULT_FORMATS]
    for iri, label, comment in _features(endpoint, limits):
        feature = NamedNode(iri)
        out += [Triple(service, sd["feature"], feature), Triple(feature, RDF_TYPE, sd["Feature"]),
                Triple(feature, RDFS_LABEL, Literal(label, language="en")),
                Triple(feature, RDFS_COMMENT, Literal(comment, language="en"))]
    return serialize_triples(out, fmt, PREFIXES)


def service_html(endpoint: str, triples: int, limits: Limits) -> str:
    """The same description as a page, for people."""
    features = "".join(f"<li><strong>{escape(label)}</strong>: {escape(comment)}</li>"
                       for _, label, comment in _features(endpoint, limits))
    names = ", ".join(name.replace("_", " ").replace("RDF XML", "RDF/XML") for name in RESULT_FORMATS)
    body = (
        "<h1>SPARQL service description</h1>"
        f"<p>The SPARQL 1.1 endpoint is <code>{escape(endpoint)}</code>: send a query as "
        "<code>GET ?query=…</code>, as a form (<code>POST</code>, <code>query=…</code>) or as a body of type "
        "<code>application/sparql-query</code>. The default graph holds "
        f"{triples:,} triples.</p>"
        f"<h2>Features</h2><ul class=\"features\">{features}</ul>"
        f"<h2>Result formats</h2><p>{escape(names)}; chosen by <code>Accept</code> or by "
        "<code>format=</code>.</p>"
        + formats_html({label: f"/sparql?format={suffix}"
                        for suffix, label in formats.downloads(formats.GRAPH).items()}, "This description as")
    )
    return layout("Service description", body)
