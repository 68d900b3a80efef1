"""What the graph says about one entity: its outgoing and incoming triples,
with labels, and the evidence quotes of the claims about it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pyoxigraph import BlankNode, Literal, NamedNode, QuerySolution, QuerySolutions, Triple

from ntx_graph.errors import ParameterError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.params import expand_iri
from ntx_graph.rdf_io import serialize_triples
from ntx_graph.results import XSD, compact
from ntx_graph.server.messages import HTML, Response, text
from ntx_graph.server.negotiation import content_type

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: The most triples listed in each direction.
MAX_FACTS = 500
#: The most triples in an entity's RDF answer.
MAX_TRIPLES = 10000

_OUT = "SELECT ?p ?o WHERE { ?this ?p ?o } ORDER BY ?p ?o LIMIT %d"
_IN = "SELECT ?s ?p WHERE { ?s ?p ?this } ORDER BY ?p ?s LIMIT %d"
_AS_PROPERTY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?this ?o }"
#: The prefixes of the queries of the entity page and the source reader.
PREFIXES = "PREFIX ntx: <https://w3id.org/ntx-graph/def/>\nPREFIX oa: <http://www.w3.org/ns/oa#>\n"
_LABELS = """SELECT ?x ?l WHERE { VALUES ?x { %s }
  ?x <http://www.w3.org/2000/01/rdf-schema#label>|<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }"""
_EVIDENCE = PREFIXES + """SELECT DISTINCT ?claim ?link ?quote ?exact ?start ?end ?source WHERE {
  { BIND(?this AS ?claim) ?claim ntx:evidenceQuote ?quote }
  UNION { ?claim ?link ?this . ?claim ntx:evidenceQuote ?quote
          FILTER (?link != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>) }
  ?quote oa:hasSelector ?textSelector . ?textSelector oa:exact ?exact .
  OPTIONAL { ?quote oa:hasSelector ?positionSelector .
             ?positionSelector oa:start ?start ; oa:end ?end }
  OPTIONAL { ?quote oa:hasSource ?source }
} ORDER BY ?claim ?start ?quote LIMIT 1000"""


@dataclass(frozen=True)
class Value:
    """A term for display: an IRI (with label and short name), a blank node
    or a literal (with its language or datatype)."""

    kind: str  # "iri", "bnode" or "literal"
    value: str
    label: str = ""
    short: str = ""
    note: str = ""


@dataclass
class Quote:
    """A verbatim evidence quote, where it is, its source (on the entity
    page) and the claims resting on it (in the source reader)."""

    iri: str
    exact: str
    start: int | None
    end: int | None
    source: Value | None = None
    claims: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The id of the quote's entry in the reader's page."""
        return "quote-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1])

    @property
    def placed(self) -> bool:
        """Whether the quote has a usable position."""
        return self.start is not None and self.end is not None and 0 <= self.start < self.end


@dataclass
class Claim:
    """A claim node with the quotes that ground it; ``links`` are the
    properties by which it points at the entity (empty: the entity itself)."""

    node: Value
    links: list[Value] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)


@dataclass
class EntityView:
    """Everything the entity page shows."""

    entity: Value
    known: bool
    types: list[Value]
    outgoing: list[tuple[Value, Value]]
    incoming: list[tuple[Value, Value]]
    claims: list[Claim]
    more_outgoing: bool = False
    more_incoming: bool = False
    as_property: int = 0


def entity_iri(iri: str, prefixes: Mapping[str, str]) -> NamedNode:
    """The entity named by ``iri`` (an IRI or a prefixed name); ParameterError if none is given."""
    if not iri.strip():
        raise ParameterError("give the entity's IRI: /entity?iri=...")
    return expand_iri(iri, prefixes)


def about(sparql: str, e: NamedNode) -> str:
    """``sparql`` with ``?this`` standing for ``e``."""
    return re.sub(r"\?this\b", lambda _: str(e), sparql)  # str(e) is a checked <IRI>


def select_about(kg: KnowledgeGraph, sparql: str, e: NamedNode) -> QuerySolutions:
    """Run a SELECT with ``?this`` standing for ``e``."""
    answer = kg.store.query(about(sparql, e))
    assert isinstance(answer, QuerySolutions)
    return answer


def span(row: QuerySolution) -> tuple[int | None, int | None]:
    """A quote's ``?start`` and ``?end`` in a result row, as integers (None where unbound)."""
    start, end = row["start"], row["end"]
    return (int(start.value) if isinstance(start, Literal) else None,
            int(end.value) if isinstance(end, Literal) else None)


def labels_of(kg: KnowledgeGraph, iris: Iterable[str]) -> dict[str, str]:
    """The preferred label (English, else untagged) of each IRI that has one."""
    wanted = sorted(set(iris))
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(wanted), 400):
        chunk = " ".join(f"<{iri}>" for iri in wanted[start:start + 400])
        answer = kg.store.query(_LABELS % chunk)
        assert isinstance(answer, QuerySolutions)
        for row in answer:
            x, label = row["x"], row["l"]
            if isinstance(x, NamedNode) and isinstance(label, Literal):
                lang = (label.language or "").lower()
                rank = 0 if lang.startswith("en") else 1 if not lang else 2
                if x.value not in found or (rank, label.value) < found[x.value]:
                    found[x.value] = (rank, label.value)
    return {iri: label for iri, (_, label) in found.items()}


def term_value(term: object, prefixes: Mapping[str, str], labels: Mapping[str, str] | None = None, *,
               datatype: bool = True) -> Value:
    """A term for display; ``datatype``: note a literal's datatype (other than xsd:string)."""
    if isinstance(term, NamedNode):
        return Value("iri", term.value, (labels or {}).get(term.value, ""), compact(term.value, prefixes))
    if isinstance(term, BlankNode):
        return Value("bnode", term.value, short="_:" + term.value)
    if isinstance(term, Literal):
        if term.language:
            note = "@" + term.language
        elif not datatype or term.datatype.value in (XSD + "string", ""):
            note = ""
        else:
            note = compact(term.datatype.value, prefixes)
        return Value("literal", term.value, note=note)
    return Value("literal", str(term))


def describe(kg: KnowledgeGraph, iri: str) -> EntityView:
    """The entity page's content for ``iri`` (an IRI or a prefixed name)."""
    entity = entity_iri(iri, kg.prefixes)
    out = list(select_about(kg, _OUT % (MAX_FACTS + 1), entity))
    inc = list(select_about(kg, _IN % (MAX_FACTS + 1), entity))
    evidence = list(select_about(kg, _EVIDENCE, entity))
    count = next(iter(select_about(kg, _AS_PROPERTY, entity)))["n"]
    as_property = int(count.value) if isinstance(count, Literal) else 0
    iris = {entity.value}
    for row in out:
        iris.update(t.value for t in (row["p"], row["o"]) if isinstance(t, NamedNode))
    for row in inc:
        iris.update(t.value for t in (row["s"], row["p"]) if isinstance(t, NamedNode))
    for row in evidence:
        iris.update(t.value for t in (row["claim"], row["link"], row["source"]) if isinstance(t, NamedNode))
    labels = labels_of(kg, iris)

    def v(term: object) -> Value:
        return term_value(term, kg.prefixes, labels)

    claims: dict[str, Claim] = {}
    for row in evidence:
        claim = claims.setdefault(str(row["claim"]), Claim(v(row["claim"])))
        link = row["link"]
        if link is not None and v(link) not in claim.links:
            claim.links.append(v(link))
        quote_iri = row["quote"].value
        if all(q.iri != quote_iri for q in claim.quotes):
            source = v(row["source"]) if row["source"] is not None else None
            claim.quotes.append(Quote(quote_iri, row["exact"].value, *span(row), source))
    for claim in claims.values():
        claim.quotes.sort(key=lambda q: (q.start if q.start is not None else -1, q.iri))
    types = [v(row["o"]) for row in out if isinstance(row["p"], NamedNode) and row["p"].value == RDF_TYPE]
    return EntityView(
        entity=v(entity),
        known=bool(out or inc or as_property),
        types=types,
        outgoing=[(v(row["p"]), v(row["o"])) for row in out[:MAX_FACTS]],
        incoming=[(v(row["s"]), v(row["p"])) for row in inc[:MAX_FACTS]],
        claims=sorted(claims.values(), key=lambda c: (c.node.value != entity.value, c.node.label or c.node.value)),
        more_outgoing=len(out) > MAX_FACTS,
        more_incoming=len(inc) > MAX_FACTS,
        as_property=as_property,
    )


_TRIPLES = PREFIXES + """CONSTRUCT { ?this ?p ?o . ?s ?q ?this . ?quote ?qp ?qo . ?selector ?sp ?so } WHERE {
  { ?this ?p ?o } UNION { ?s ?q ?this }
  UNION { ?this ntx:evidenceQuote ?quote . ?quote ?qp ?qo }
  UNION { ?this ntx:evidenceQuote/oa:hasSelector ?selector . ?selector ?sp ?so }
} LIMIT %d"""


def entity_answer(kg: KnowledgeGraph, iri: str, fmt: str) -> Response:
    """The entity as a page (``fmt`` "html") or as RDF: its outgoing and
    incoming triples and its own evidence quotes with their selectors."""
    from ntx_graph.server.pages import entity_html  # the pages import this module

    if fmt == "html":
        view = describe(kg, iri)
        return Response(200 if view.known else 404, entity_html(view).encode(), HTML)
    entity = entity_iri(iri, kg.prefixes)
    answer = kg.store.query(about(_TRIPLES % (MAX_TRIPLES + 1), entity))
    triples = [Triple(t.subject, t.predicate, t.object) for t in answer]  # type: ignore[union-attr]
    if not triples:
        return text(404, f"the graph has no triples about <{entity.value}>")
    if len(triples) > MAX_TRIPLES:
        return text(413, f"more than {MAX_TRIPLES} triples are about <{entity.value}>; query /sparql instead")
    return Response(200, serialize_triples(triples, fmt, kg.prefixes), content_type(fmt))
