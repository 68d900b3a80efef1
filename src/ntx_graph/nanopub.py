"""Every claim as a nanopublication: its assertion, its provenance, its publication info.

A claim is a node with a quote link (``ntx:evidenceQuote``, ...) or an instance
of a subclass of ``ntx:Claim``. Its nanopublication is
``https://w3id.org/ntx-graph/np/PATH/`` (``PATH``: the claim's path under
``https://w3id.org/ntx-graph/id/``, else ``claim/`` and a hash of its IRI), with
the graphs ``…/Head``, ``…/assertion``, ``…/provenance`` and ``…/pubinfo``:

* assertion: the claim's own statements, less its quotes and ``prov:wasDerivedFrom``;
* provenance: the assertion derived from each quote and source; the claim's
  provenance links, evidence level, certainty and source modality; each quote
  with its selectors; each source's description;
* pubinfo: the creation time (the ontology's ``dcterms:modified`` at midnight
  UTC, so every run gives the same bytes), the loaded ontology's licence, a
  label, and ntx-graph as the software that made it.

Blank nodes become IRIs under the nanopublication, numbered canonically
(RDFC-1.0). With a private key (:func:`read_key`) each one is signed and gets
its trusty URI through ``nanopub-sign`` (the ``nanopub`` extra); nothing is
ever published.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pyoxigraph import (
    BlankNode,
    CanonicalizationAlgorithm,
    Dataset,
    Literal,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    Triple,
    parse,
)

from ntx_graph import __version__, resources
from ntx_graph.errors import NtxError, reason
from ntx_graph.provenance import QUOTE_LINKS, QUOTE_PATH, solutions
from ntx_graph.results import XSD
from ntx_graph.trig import serialize_trig

if TYPE_CHECKING:

    from ntx_graph.graph import KnowledgeGraph

__all__ = ["NP_BASE", "Nanopublication", "export_nanopublications", "nanopublications", "read_key"]

#: Where the nanopublications live.
NP_BASE = "https://w3id.org/ntx-graph/np/"
#: The software credited in each publication info.
SOFTWARE = "https://w3id.org/ntx-graph"
_ID = "https://w3id.org/ntx-graph/id/"
_NTX = "https://w3id.org/ntx-graph/def/"
_OA = "http://www.w3.org/ns/oa#"
_PROV = "http://www.w3.org/ns/prov#"
_DCT = "http://purl.org/dc/terms/"
_NP = "http://www.nanopub.org/nschema#"
_RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
_DERIVED_FROM = NamedNode(_PROV + "wasDerivedFrom")
#: The claim's statements that are its provenance rather than its content.
_PROVENANCE_LINKS = frozenset((*QUOTE_LINKS, _DERIVED_FROM.value))
#: The claim's statements copied to the provenance as well: how sure and how well supported the source is.
_EVIDENCE = frozenset(_NTX + name for name in ("evidenceLevel", "certainty", "sourceModality"))
_PREFIXES = {"np": _NP, "prov": _PROV, "dcterms": _DCT, "oa": _OA, "xsd": XSD,
             "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
_CLAIMS = f"""
PREFIX ntx: <{_NTX}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?claim ?p ?o WHERE {{
  {{ SELECT DISTINCT ?claim WHERE {{
    {{ ?claim {QUOTE_PATH} [] }} UNION {{ ?claim a/rdfs:subClassOf* ntx:Claim }}
    FILTER(isIRI(?claim))
  }} }}
  ?claim ?p ?o
}}"""
_QUOTES = f"""
PREFIX ntx: <{_NTX}>
PREFIX oa: <{_OA}>
SELECT ?node ?p ?o WHERE {{
  {{ SELECT DISTINCT ?quote WHERE {{ [] {QUOTE_PATH} ?quote }} }}
  {{ ?quote ?p ?o BIND(?quote AS ?node) }} UNION {{ ?quote oa:hasSelector ?node . ?node ?p ?o }}
}}"""
_SOURCES = f"""
PREFIX ntx: <{_NTX}>
PREFIX oa: <{_OA}>
PREFIX prov: <{_PROV}>
SELECT ?source ?p ?o WHERE {{
  {{ SELECT DISTINCT ?source WHERE {{
    {{ [] {QUOTE_PATH}/oa:hasSource ?source }} UNION {{ ?source a ntx:SourceDocument }}
  }} }}
  ?source ?p ?o
}}"""
_ONTOLOGY = f"""
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX dcterms: <{_DCT}>
SELECT ?modified ?license WHERE {{
  <https://w3id.org/ntx-graph/def> a owl:Ontology ; dcterms:modified ?modified .
  OPTIONAL {{ <https://w3id.org/ntx-graph/def> dcterms:license ?license }}
}} ORDER BY ?modified ?license LIMIT 1"""


@dataclass(frozen=True)
class Nanopublication:
    """One claim's nanopublication: its IRI and its TriG text."""

    claim: str
    uri: str
    trig: str


def read_key(path: Path) -> str:
    """An RSA private key from a PEM file (or the bare base64 that
    ``nanopub_sign.KeyPair().private`` gives), as ``nanopub-sign`` takes it."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise NtxError(f"{path}: cannot read the private key ({reason(error)})") from None
    body = "".join(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("-----"))
    if not body:
        raise NtxError(f"{path}: holds no private key")
    return body


def nanopublications(kg: KnowledgeGraph, *, key: str | None = None) -> list[Nanopublication]:
    """One nanopublication per claim of ``kg``, in claim IRI order; signed,
    with trusty URIs, when ``key`` (an RSA private key, see :func:`read_key`) is given."""
    created, licence = _publication_facts(kg)
    claims = _by_subject(solutions(kg.store, _CLAIMS), "claim")
    described = _by_subject(solutions(kg.store, _QUOTES), "node")
    sources = _by_subject(solutions(kg.store, _SOURCES), "source")
    signer = _signer(key) if key is not None else None
    out = []
    for iri in sorted(claims):
        uri = NP_BASE + _path(iri) + "/"
        trig = _nanopub_trig(iri, uri, claims[iri], described, sources, created, licence, kg.prefixes)
        if signer is not None:
            trig = signer(trig, iri)
        out.append(Nanopublication(iri, uri, trig))
    return out


def export_nanopublications(kg: KnowledgeGraph, *, key: str | None = None) -> bytes:
    """Every claim's nanopublication, one after the other, as one TriG file."""
    return "\n".join(np.trig.rstrip("\n") + "\n" for np in nanopublications(kg, key=key)).encode()


def _by_subject(rows: QuerySolutions, name: str) -> dict[str, list[Triple]]:
    out: dict[str, list[Triple]] = {}
    for row in rows:
        subject = row[name]
        out.setdefault(_key(subject), []).append(Triple(subject, row["p"], row["o"]))
    return out


def _key(term: object) -> str:
    """An IRI, or a blank node's ``_:label``."""
    return term.value if isinstance(term, NamedNode) else str(term)


def _path(iri: str) -> str:
    """The nanopublication's path under :data:`NP_BASE` for a claim IRI."""
    if iri.startswith(_ID) and all(c.isalnum() or c in "-_./" for c in iri[len(_ID):]):
        return iri[len(_ID):].strip("/")
    return "claim/" + hashlib.sha256(iri.encode()).hexdigest()[:32]


def _publication_facts(kg: KnowledgeGraph) -> tuple[Literal, NamedNode | None]:
    """The creation time and the licence, from the ontology in ``kg``; without
    it, the creation time from the bundled ontology and no licence."""
    rows = list(solutions(kg.store, _ONTOLOGY))
    in_graph = bool(rows)
    if not rows:
        from pyoxigraph import Store

        store = Store()
        for path in resources.ontology_files():
            store.extend(Quad(t.subject, t.predicate, t.object) for t in parse(path=path, format=RdfFormat.TURTLE))
        rows = list(solutions(store, _ONTOLOGY))
    if not rows:
        raise NtxError("the ontology records no dcterms:modified date, which nanopublications take as their "
                       "creation time")
    modified, licence = rows[0]["modified"], rows[0]["license"]
    created = Literal(f"{str(modified.value)[:10]}T00:00:00Z",
                      datatype=NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
    return created, licence if in_graph and isinstance(licence, NamedNode) else None


def _nanopub_trig(claim: str, uri: str, statements: Sequence[Triple], described: Mapping[str, list[Triple]],
                  sources: Mapping[str, list[Triple]], created: Literal, licence: NamedNode | None,
                  prefixes: Mapping[str, str]) -> str:
    this = NamedNode(uri)
    head, assertion, provenance, pubinfo = (NamedNode(uri + name)
                                            for name in ("Head", "assertion", "provenance", "pubinfo"))
    quads = [Quad(this, _RDF_TYPE, NamedNode(_NP + "Nanopublication"), head)]
    quads += [Quad(this, NamedNode(_NP + link), graph, head) for link, graph in
              (("hasAssertion", assertion), ("hasProvenance", provenance), ("hasPublicationInfo", pubinfo))]
    quotes, derived_from = [], set()
    label = None
    for t in statements:
        predicate = t.predicate.value
        if predicate not in _PROVENANCE_LINKS:
            quads.append(Quad(t.subject, t.predicate, t.object, assertion))
        if predicate in _PROVENANCE_LINKS or predicate in _EVIDENCE:
            quads.append(Quad(t.subject, t.predicate, t.object, provenance))
        if predicate in QUOTE_LINKS:
            quotes.append(t.object)
        elif predicate == _DERIVED_FROM.value:
            derived_from.add(t.object)
        if t.predicate == _LABEL and label is None:
            label = t.object
    if not any(q.graph_name == assertion for q in quads):
        raise NtxError(f"the claim <{claim}> states nothing but its provenance, so its nanopublication would "
                       "have an empty assertion")
    for quote in quotes:
        quads.append(Quad(assertion, _DERIVED_FROM, quote, provenance))
        for t in described.get(_key(quote), []):
            quads.append(Quad(t.subject, t.predicate, t.object, provenance))
            if t.predicate.value == _OA + "hasSelector":
                quads.extend(Quad(s.subject, s.predicate, s.object, provenance)
                             for s in described.get(_key(t.object), []))
            if t.predicate.value == _OA + "hasSource":
                derived_from.add(t.object)
    for source in sorted(derived_from, key=str):
        quads.append(Quad(assertion, _DERIVED_FROM, source, provenance))
        quads.extend(Quad(t.subject, t.predicate, t.object, provenance) for t in sources.get(_key(source), []))
    software = NamedNode(SOFTWARE)
    quads += [Quad(this, NamedNode(_DCT + "created"), created, pubinfo),
              Quad(this, NamedNode(_PROV + "wasAttributedTo"), software, pubinfo),
              Quad(software, _RDF_TYPE, NamedNode(_PROV + "SoftwareAgent"), pubinfo),
              Quad(software, _LABEL, Literal(f"ntx-graph {__version__}"), pubinfo)]
    if licence is not None:
        quads.append(Quad(this, NamedNode(_DCT + "license"), licence, pubinfo))
    if label is not None:
        quads.append(Quad(this, _LABEL, label, pubinfo))
    return _serialize(quads, uri, [head, assertion, provenance, pubinfo], prefixes)


def _serialize(quads: Iterable[Quad], uri: str, graphs: Sequence[NamedNode], prefixes: Mapping[str, str]) -> str:
    """The quads sorted by graph then N-Triples text, blank nodes made IRIs
    ``URI_1``, ``URI_2``, ... in their canonical (RDFC-1.0) order."""
    dataset = Dataset(quads)
    if any(isinstance(q.subject, BlankNode) or isinstance(q.object, BlankNode) for q in dataset):
        dataset.canonicalize(CanonicalizationAlgorithm.RDFC_1_0)
    labels = sorted({t.value for q in dataset for t in (q.subject, q.object) if isinstance(t, BlankNode)})
    skolem = {label: NamedNode(f"{uri}_{number}") for number, label in enumerate(labels, start=1)}

    def term(value: object) -> object:
        return skolem[value.value] if isinstance(value, BlankNode) else value

    order = {graph.value: number for number, graph in enumerate(graphs)}
    items = sorted({Quad(term(q.subject), q.predicate, term(q.object), q.graph_name)  # type: ignore[arg-type]
                    for q in dataset}, key=lambda q: (order[_key(q.graph_name)], str(q)))
    return serialize_trig(items, {**prefixes, **_PREFIXES, "this": uri}).decode()


def _signer(key: str):  # type: ignore[no-untyped-def]
    """A function signing one nanopublication's TriG with ``key``."""
    try:
        from nanopub_sign import Nanopub, NpProfile
    except ImportError:
        raise NtxError("signing nanopublications needs the nanopub-sign package: "
                       "pip install 'ntx-graph[nanopub]'") from None
    try:
        profile = NpProfile(key)
    except Exception as error:  # the Rust binding raises plain Exception
        raise NtxError(f"the private key cannot be used for signing ({error})") from None

    def sign(trig: str, claim: str) -> str:
        try:
            return str(Nanopub(trig).sign(profile).rdf())
        except Exception as error:
            raise NtxError(f"the nanopublication of <{claim}> cannot be signed ({error})") from None

    return sign
