"""Nanopublication export: one per claim, each valid under the official
nanopublication toolkit (``nanopub-sign``), byte-identical across runs; signed
ones trusty with a signature. Nothing is published."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import nanopub_sign  # a test dependency (pip install -e ".[test]"), the official nanopublication toolkit
import pyoxigraph as ox
import pytest

from ntx_graph.cli import main
from ntx_graph.errors import NtxError
from ntx_graph.graph import KnowledgeGraph
from ntx_graph.nanopub import NP_BASE, Nanopublication, export_nanopublications, nanopublications, read_key

NP = "http://www.nanopub.org/nschema#"
NTX = "https://w3id.org/ntx-graph/def/"
PROV = "http://www.w3.org/ns/prov#"
OA = "http://www.w3.org/ns/oa#"
QUOTE_LINKS = {NTX + "evidenceQuote", NTX + "principalQuote", NTX + "modalityQuote"}
PROVENANCE_LINKS = {*QUOTE_LINKS, PROV + "wasDerivedFrom"}


@cache
def graph() -> KnowledgeGraph:
    return KnowledgeGraph.open()


@cache
def exported() -> tuple[Nanopublication, ...]:
    return tuple(nanopublications(graph()))


def claims() -> list[str]:
    """The claims, found here with a query of the test's own."""
    rows = graph().store.query(f"""SELECT DISTINCT ?c WHERE {{
        {{ ?c <{NTX}evidenceQuote>|<{NTX}principalQuote>|<{NTX}modalityQuote> [] }}
        UNION {{ ?c a/<http://www.w3.org/2000/01/rdf-schema#subClassOf>* <{NTX}Claim> }} }}""")
    return sorted(row["c"].value for row in rows)  # type: ignore[union-attr]


def check(trig: str) -> dict[str, object]:
    """``nanopub-sign``'s check (it raises on an invalid nanopublication), then its info."""
    nanopub_sign.Nanopub(trig).check()
    info: dict[str, object] = nanopub_sign.Nanopub(trig).info()
    return info


def split(data: bytes) -> dict[str, str]:
    """The nanopublications of an exported file, each as TriG of its own, by IRI."""
    dataset = ox.Dataset(ox.parse(data, format=ox.RdfFormat.TRIG))
    by_graph: dict[str, list[ox.Quad]] = {}
    for quad in dataset:
        by_graph.setdefault(quad.graph_name.value, []).append(quad)  # type: ignore[union-attr]
    out = {}
    for quad in dataset.quads_for_predicate(ox.NamedNode(NP + "hasAssertion")):
        head = quad.graph_name.value  # type: ignore[union-attr]
        parts = [head] + [q.object.value for q in by_graph[head] if q.predicate.value.startswith(NP + "has")]
        quads = [q for name in parts for q in by_graph[name]]
        out[quad.subject.value] = ox.serialize(quads, format=ox.RdfFormat.TRIG).decode()  # type: ignore[union-attr]
    return out


def test_one_nanopublication_per_claim() -> None:
    assert claims()
    assert [np.claim for np in exported()] == claims()
    assert len({np.uri for np in exported()}) == len(claims())
    assert all(np.uri.startswith(NP_BASE) for np in exported())


def test_every_nanopublication_passes_the_official_check() -> None:
    for np in exported():
        info = check(np.trig)
        assert info["uri"] == {"value": np.uri.rstrip("/")}, np.claim  # the toolkit drops the trailing slash
        assert info["trusty_hash"] == "" and info["signature"] == ""


def test_the_exported_file_holds_the_same_valid_nanopublications() -> None:
    data = graph().export("nanopub")
    parts = split(data)
    assert sorted(parts) == sorted(np.uri for np in exported())
    for text in parts.values():
        check(text)


def test_output_is_byte_identical_across_runs() -> None:
    first = export_nanopublications(graph())
    assert first == export_nanopublications(KnowledgeGraph.open())
    assert b"_:" not in first  # blank nodes were made IRIs


def _graphs(np: Nanopublication) -> dict[str, set[ox.Triple]]:
    out: dict[str, set[ox.Triple]] = {}
    for q in ox.parse(np.trig.encode(), format=ox.RdfFormat.TRIG):
        out.setdefault(q.graph_name.value.removeprefix(np.uri), set()).add(  # type: ignore[union-attr]
            ox.Triple(q.subject, q.predicate, q.object))
    return out


def test_assertion_is_the_claim_and_provenance_its_quotes_and_source() -> None:
    store = graph().store
    for np in exported():
        graphs = _graphs(np)
        assert set(graphs) == {"Head", "assertion", "provenance", "pubinfo"}
        claim = ox.NamedNode(np.claim)
        direct = {ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_for_pattern(claim, None, None)}
        assert graphs["assertion"] == {t for t in direct if t.predicate.value not in PROVENANCE_LINKS}
        assertion = ox.NamedNode(np.uri + "assertion")
        derived = {t.object for t in graphs["provenance"]
                   if t.subject == assertion and t.predicate.value == PROV + "wasDerivedFrom"}
        quotes = {t.object for t in direct if t.predicate.value in QUOTE_LINKS}
        sources = {q.object for quote in quotes
                   for q in store.quads_for_pattern(quote, ox.NamedNode(OA + "hasSource"), None)}
        assert quotes | sources <= derived
        if quotes:
            exacts = [t for t in graphs["provenance"] if t.predicate.value == OA + "exact"]
            assert len(exacts) >= len(quotes)
        for t in direct:
            if t.predicate.value in (NTX + "evidenceLevel", NTX + "sourceModality"):
                assert t in graphs["provenance"]


def test_publication_info_dates_from_the_ontology() -> None:
    row = next(iter(graph().store.query(
        "SELECT ?d WHERE { <https://w3id.org/ntx-graph/def> <http://purl.org/dc/terms/modified> ?d }")))
    date = row["d"].value  # type: ignore[index, union-attr]
    for np in exported():
        created = [t.object.value for t in _graphs(np)["pubinfo"] if t.predicate.value.endswith("/created")]
        assert created == [f"{date}T00:00:00Z"]


def test_without_the_ontology_no_licence_is_claimed(tmp_path: Path) -> None:
    out = tmp_path / "claims.trig"
    assert main(["export", "-f", "nanopub", "--no-ontology", "-o", str(out)]) == 0
    text = out.read_text()
    assert "dcterms:license" not in text
    assert text.count("dcterms:created") == len(claims())


def test_blank_nodes_become_iris_of_the_nanopublication(tmp_path: Path) -> None:
    data = tmp_path / "mine.ttl"
    data.write_text("""
        @prefix ntx: <https://w3id.org/ntx-graph/def/> . @prefix oa: <http://www.w3.org/ns/oa#> .
        <https://example.org/claim> a ntx:Claim ; ntx:evidenceQuote <https://example.org/quote> .
        <https://example.org/quote> a oa:SpecificResource ; oa:hasSource <https://example.org/doc> ;
            oa:hasSelector [ a oa:TextQuoteSelector ; oa:exact "It may." ] ,
                           [ a oa:TextPositionSelector ; oa:start 0 ; oa:end 7 ] .
    """)
    kg = KnowledgeGraph.open([data], include_bundled=False, validate=False)
    [np] = nanopublications(kg)
    assert np.uri.startswith(NP_BASE + "claim/")
    check(np.trig)
    assert "_:" not in np.trig and f"<{np.uri}_1>" in np.trig.replace("this:_1", f"<{np.uri}_1>")
    assert nanopublications(KnowledgeGraph.open([data], include_bundled=False, validate=False)) == [np]


def test_a_claim_with_nothing_to_assert_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "empty.ttl"
    data.write_text("<https://example.org/c> <https://w3id.org/ntx-graph/def/evidenceQuote> <https://example.org/q> .")
    with pytest.raises(NtxError, match=r"example\.org/c> states nothing but its provenance"):
        nanopublications(KnowledgeGraph.open([data], include_bundled=False, validate=False))


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PEM private key made by nanopub-sign."""
    body = nanopub_sign.KeyPair().private
    path = tmp_path_factory.mktemp("key") / "id_rsa.pem"
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    path.write_text("-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n")
    return path


def test_signed_nanopublications_are_trusty_with_a_signature(key_file: Path) -> None:
    signed = nanopublications(graph(), key=read_key(key_file))
    assert [np.claim for np in signed] == claims()
    for np in signed:
        info = check(np.trig)
        assert info["trusty_hash"] and info["signature"], np.claim
        assert str(info["trusty_hash"]) in np.trig
    again = nanopublications(graph(), key=read_key(key_file))
    assert again == signed  # RSA PKCS#1 v1.5 signatures are deterministic


def test_cli_export_and_sign(tmp_path: Path, key_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "claims.trig"
    assert main(["export", "-f", "nanopub", "-o", str(out)]) == 0
    assert out.read_bytes() == export_nanopublications(graph())
    signed = tmp_path / "signed.trig"
    assert main(["export", "-f", "nanopub", "--sign", str(key_file), "-o", str(signed)]) == 0
    parts = split(signed.read_bytes())
    assert len(parts) == len(claims())
    for text in parts.values():
        assert check(text)["signature"]
    with pytest.raises(SystemExit) as stop:
        main(["export", "-f", "turtle", "--sign", str(key_file)])
    assert stop.value.code == 2
    assert "--sign applies to --format nanopub" in capsys.readouterr().err
    (tmp_path / "empty.pem").write_text("")
    with pytest.raises(SystemExit) as stop:
        main(["export", "-f", "nanopub", "--sign", str(tmp_path / "empty.pem")])
    assert stop.value.code == 2
    assert "holds no private key" in capsys.readouterr().err
