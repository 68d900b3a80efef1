"""The exact answer of every saved query (``queries/*.rq``) on the bundled graph.

Each saved query has a test registered with ``@answers(NAME)`` that checks its
exact rows, in order where the query orders them; a guard test fails when a
query file has no such test. The queries run through the package's
``KnowledgeGraph`` (parameters typed and bound by the package, on pyoxigraph or
rdflib). That the engines agree on every query is tests/test_agreement.py.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph
import pytest
import rdflib
from pyoxigraph import NamedNode

import servers
from ntx_graph.catalog import SavedQuery, get_saved_query
from ntx_graph.errors import ParameterError
from ntx_graph.graph import ENGINES, KnowledgeGraph
from ntx_graph.params import Term, bind_values
from ntx_graph.rdflib_bridge import to_rdflib
from ntx_graph.resources import bundled_files, queries_dir, source_file
from ntx_graph.results import QueryResult
from support.generate import write_generated

if TYPE_CHECKING:
    from ntx_graph.graph import Engine


@functools.cache
def open_graph() -> KnowledgeGraph:
    """The bundled graph, opened once."""
    return KnowledgeGraph.open()


def run_query(name: str, params: dict[str, str] | None = None, engine: Engine = "oxigraph") -> QueryResult:
    return open_graph().run(name, params, engine=engine)


def select(name: str, *columns: str, params: dict[str, str] | None = None, engine: Engine = "oxigraph") -> list[Any]:
    """The rows of a SELECT query as Python values; one column gives a flat list."""
    result = run_query(name, params, engine)
    assert result.kind == "select"
    missing = set(columns) - set(result.variables)
    assert not missing, f"{name} has no column(s) {sorted(missing)}"
    rows = result.to_python()
    if len(columns) == 1:
        return [row[columns[0]] for row in rows]
    return [tuple(row[c] for c in columns) for row in rows]


def bindings(query: SavedQuery, params: dict[str, str] | None = None) -> dict[str, Term]:
    """The RDF terms the package binds for ``query``'s parameters."""
    return open_graph().bind(query, params or {})


def run_text(text: str, terms: dict[str, Term], engine: Engine) -> QueryResult:
    return open_graph().query(text, terms, engine=engine)


# --- the expected answers ---------------------------------------------------

ID = "https://w3id.org/ntx-graph/id/"
DEF = "https://w3id.org/ntx-graph/def/"
NALTREXONE = ID + "drug/naltrexone"
UNKNOWN_DRUG = ID + "drug/no-such-drug"
SOURCE_TITLE = "Facts about Naltrexone"
NOT_STATED = "approval status not stated in the source"
NOT_SUPPORTED = "claims that Naltrexone treats HIV and cancer is not supported by scientific evidence"
MAIN_USES = "mainly used in the treatment of people having serious alcohol or opioid dependence"
STUDIES = "studies indicate a possible benefit"
MAIN_USE = "main use, stated as fact"
EXPECTED: dict[str, Callable[..., None]] = {}


def answers(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Register a test as the expected-answer test of the saved query ``name``."""

    def register(test: Callable[..., None]) -> Callable[..., None]:
        EXPECTED[name] = test
        return test

    return register


@functools.cache
def source_text() -> str:
    return source_file().read_text(encoding="utf-8")


ALL_ENGINES = pytest.mark.parametrize("engine", ENGINES)


@answers("off-label-uses-lacking-evidence")
@ALL_ENGINES
def test_off_label_uses_lacking_evidence(engine: Engine) -> None:
    rows = select(
        "off-label-uses-lacking-evidence", "indication", "condition", "evidence", "quote", "quoteStart", "quoteEnd",
        engine=engine,
    )
    assert rows == [
        (ID + "indication/hiv", "HIV", "explicitly not supported by scientific evidence", NOT_SUPPORTED, 3045, 3129),
        (ID + "indication/cancer", "cancer", "explicitly not supported by scientific evidence", NOT_SUPPORTED,
         3045, 3129),
        (ID + "indication/multiple-sclerosis", "multiple sclerosis", "use reported, no evidence cited",
         "its off-label use may include treating conditions of multiple sclerosis", 2950, 3021),
    ]  # fmt: skip


@answers("primary-uses")
@ALL_ENGINES
def test_primary_uses(engine: Engine) -> None:
    rows = select(
        "primary-uses",
        "indication", "condition", "population", "approvalOfUse", "quote", "approvedFormulation",
        "approvedBy", "formulationQuote",
        engine=engine,
    )  # fmt: skip
    injection = "Alternatively, FDA approved Naltrexone injection is also available."
    population = "people having serious alcohol or opioid dependence"
    assert rows == [
        (ID + "indication/alcohol-dependence", "alcohol dependence", population, NOT_STATED, MAIN_USES,
         "naltrexone injection", "FDA", injection),
        (ID + "indication/opioid-dependence", "opioid dependence", population, NOT_STATED, MAIN_USES,
         "naltrexone injection", "FDA", injection),
    ]  # fmt: skip


@answers("indications-by-evidence")
def test_indications_by_evidence() -> None:
    rows = select("indications-by-evidence", "condition", "evidence", "approval", "mainUse")
    assert rows == [
        ("alcohol dependence", MAIN_USE, NOT_STATED, True),
        ("opioid dependence", MAIN_USE, NOT_STATED, True),
        ("compulsive gambling", STUDIES, NOT_STATED, False),
        ("kleptomania", STUDIES, NOT_STATED, False),
        ("pornography addiction", STUDIES, NOT_STATED, False),
        ("self-destructive behaviour", STUDIES, NOT_STATED, False),
        ("trichotillomania", STUDIES, NOT_STATED, False),
        ("depersonalization disorder", "use reported, no evidence cited", NOT_STATED, False),
        ("multiple sclerosis", "use reported, no evidence cited", "off-label", False),
        ("HIV", "explicitly not supported by scientific evidence", "off-label", False),
        ("cancer", "explicitly not supported by scientific evidence", "off-label", False),
    ]
    quotes = select("indications-by-evidence", "quote")
    assert quotes[0] == MAIN_USES and quotes[3] == "kleptomania"


@answers("uses-in-category")
@pytest.mark.parametrize(
    ("category", "name", "expected"),
    [
        (None, "behavioural addiction",
         ["compulsive gambling", "kleptomania", "pornography addiction", "trichotillomania"]),
        (ID + "condition/behavioural-addiction", "behavioural addiction",
         ["compulsive gambling", "kleptomania", "pornography addiction", "trichotillomania"]),
        (ID + "condition/substance-dependence", "substance dependence", ["alcohol dependence", "opioid dependence"]),
        (ID + "condition/hiv", None, []),  # a condition with nothing under it
    ],
)  # fmt: skip
def test_uses_in_category(category: str | None, name: str | None, expected: list[str]) -> None:
    params = {"category": category} if category else None
    rows = select("uses-in-category", "categoryName", "condition", "evidence", "approval", params=params)
    assert [condition for _, condition, _, _ in rows] == expected
    assert {c for c, _, _, _ in rows} <= {name}
    assert {approval for _, _, _, approval in rows} <= {NOT_STATED}
    if category == ID + "condition/substance-dependence":
        assert [evidence for _, _, evidence, _ in rows] == [MAIN_USE, MAIN_USE]


@answers("mechanism-of-action")
@ALL_ENGINES
def test_mechanism_of_action(engine: Engine) -> None:
    rows = select("mechanism-of-action", "mechanism", "certainty", "target", "explains", "population", engine=engine)
    craving = "reduces craving for alcohol or opioid drugs"
    assert rows == [
        (ID + "mechanism/opioid-receptor-antagonism", "established", "opioid receptor", None, None),
        (ID + "mechanism/blocks-narcotic-and-alcohol-effects", "established",
         "the part of the brain that produces the feeling of pleasure", None,
         "people who are addicted to alcohol or opioid drugs"),
        (ID + "mechanism/reduces-craving", "established", None, None, "people who have stopped drinking"),
        (ID + "mechanism/dopamine-pathways", "hypothesis",
         "neural pathways in the brain where dopamine is usually found", craving, None),
        (ID + "mechanism/craving-reduction-mechanism", "not fully understood", None, craving, None),
    ]  # fmt: skip
    quotes = dict(select("mechanism-of-action", "mechanism", "quote"))
    assert quotes[ID + "mechanism/craving-reduction-mechanism"] == (
        "how this craving is minimized by naltrexone is not fully understood")
    assert quotes[ID + "mechanism/reduces-craving"] == (
        "Naltrexone is known to reduce the craving for alcohol or opioid drugs in people who have stopped drinking.")


RARE = ["drowsiness", "confusion", "hallucinations", "skin rash", "blurred vision"]
RARE_QUOTES = ["drowsiness", "confusions", "hallucinations", "skin rash", "blurred vision"]
COMMON = ["stomach upset", "vomiting", "diarrhoea", "muscle or joint pain", "nervousness", "anxiety"]
NOTIFY = "notify the health care provider immediately"
IF_BOTHERSOME = "if it becomes bothersome, bring it to the health care provider's attention to be treated immediately"
RARE_SYSTEMS = ["nervous system", "psychiatric", "psychiatric", "skin", "eye"]
COMMON_SYSTEMS = ["gastrointestinal"] * 3 + ["musculoskeletal", "psychiatric", "psychiatric"]


@answers("side-effects-by-severity")
def test_side_effects_by_severity_default() -> None:
    rows = select(
        "side-effects-by-severity",
        "effect", "frequency", "usualSeverity", "worstSeverity", "bodySystem", "action", "quote",
    )  # fmt: skip
    assert rows == [
        *[(e, "rare", "severe", "severe", s, NOTIFY, q)
          for e, s, q in zip(RARE, RARE_SYSTEMS, RARE_QUOTES, strict=True)],
        *[(e, "common", "mild", "severe", s, IF_BOTHERSOME, e) for e, s in zip(COMMON, COMMON_SYSTEMS, strict=True)],
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("min_severity", "expected"),
    [
        ("mild", RARE + COMMON),
        ("moderate", RARE + COMMON),
        ("severe", RARE + COMMON),  # the common effects "may also become severe"
        ("life-threatening", []),
    ],
)
def test_side_effects_by_severity_minimum(min_severity: str, expected: list[str]) -> None:
    params = {"min_severity": DEF + "severity/" + min_severity}
    assert select("side-effects-by-severity", "effect", params=params) == expected
    if min_severity == "severe":
        rows = select("side-effects-by-severity", "usualSeverity", "worstSeverity", params=params)
        assert rows == [("severe", "severe")] * 5 + [("mild", "severe")] * 6


@answers("side-effects-by-frequency")
@pytest.mark.parametrize(("frequency", "expected"), [(None, COMMON), ("common", COMMON), ("rare", RARE)])
def test_side_effects_by_frequency(frequency: str | None, expected: list[str]) -> None:
    params = {"frequency": DEF + "frequency/" + frequency} if frequency else None
    rows = select("side-effects-by-frequency", "effect", "usualSeverity", "worstSeverity", params=params)
    usual = "severe" if frequency == "rare" else "mild"
    assert rows == [(effect, usual, "severe") for effect in expected]


LIVER_SIGNS = [
    "severe fatigue",
    "unusual bleeding or bruising",
    "loss of appetite",
    "dark urine",
    "yellowing of the skin or eyes",
    "pain in the right upper part of the stomach",
]
STOP = "stop taking the medication and get medical attention immediately"
LIVER_SENTENCE = (
    "Symptoms such as severe fatigue, unusual bleeding or bruising, loss of appetite, dark urine or yellowing of "
    "the skin or eyes, and pain in the right upper part of the stomach requires the individual to stop taking the "
    "medication and get medical attention immediately."
)
RARE_SEVERITY = (
    "Although rare, these side effects are so severe enough to notify to the health care provider immediately."
)


@answers("side-effects-needing-immediate-attention")
def test_side_effects_needing_immediate_attention() -> None:
    rows = select(
        "side-effects-needing-immediate-attention", "kind", "symptom", "action", "quote", "quoteStart", "quoteEnd",
    )
    assert rows == [
        *[("side effect", e, NOTIFY, RARE_SEVERITY, 4078, 4183) for e in RARE],
        *[("warning sign of liver damage", s, STOP, LIVER_SENTENCE, 4229, 4495) for s in LIVER_SIGNS],
    ]


@answers("side-effects-by-body-system")
@ALL_ENGINES
def test_side_effects_by_body_system(engine: Engine) -> None:
    rows = select("side-effects-by-body-system", "bodySystem", "effect", "bodySystemFrom", engine=engine)
    curators = "assigned by the curators"
    assert rows == [
        ("eye", "blurred vision", curators),
        *[("gastrointestinal", e, "named in the source") for e in ("stomach upset", "vomiting", "diarrhoea")],
        ("musculoskeletal", "muscle or joint pain", curators),
        ("nervous system", "drowsiness", curators),
        *[("psychiatric", e, curators) for e in ("nervousness", "anxiety", "confusion", "hallucinations")],
        ("skin", "skin rash", curators),
    ]


@answers("liver-damage-warning-signs")
def test_liver_damage_warning_signs() -> None:
    rows = select("liver-damage-warning-signs", "sign", "overdoseRisk", "action", "openList", "quote")
    risk = "naltrexone overdose can cause liver damage"
    assert rows == [(s, risk, STOP, True, s) for s in LIVER_SIGNS]
    for start, end, quote in select("liver-damage-warning-signs", "quoteStart", "quoteEnd", "quote"):
        assert source_text()[start:end] == quote and LIVER_SENTENCE.find(quote) >= 0


@answers("contraindications-and-precautions")
def test_contraindications_and_precautions() -> None:
    rows = select(
        "contraindications-and-precautions",
        "precaution", "kind", "patientCondition", "trigger", "risk", "action", "quoteStart", "quoteEnd",
    )  # fmt: skip
    withdrawal = "withdrawal symptoms"
    assert rows == [
        (ID + "precaution/withdrawal-in-physical-dependence", "precaution",
         "physical dependence on narcotics or alcohol", None, withdrawal, None, 813, 932),
        (ID + "precaution/physical-dependence-on-narcotics", "contraindication", "physical dependence on narcotics",
         None, withdrawal, None, 933, 1034),
        (ID + "precaution/start-only-when-no-longer-dependent", "precaution", "substance dependence", None, None,
         "start naltrexone only when no longer dependent on narcotics or alcohol", 1035, 1141),
        (ID + "precaution/report-withdrawal-symptoms", "precaution", None, withdrawal, None,
         "tell the physician before naltrexone treatment is started", 1272, 1386),
    ]  # fmt: skip


@answers("formulations-and-dosing")
def test_formulations_and_dosing() -> None:
    rows = select(
        "formulations-and-dosing", "formulation", "form", "dosing", "approval", "approvedBy", "quote", "dosingQuote",
    )
    pill = "Naltrexone is available in the form of pill, which should be taken once in a day."
    assert rows == [
        (ID + "formulation/pill", "pill", "once a day", NOT_STATED, None, pill, pill),
        (ID + "formulation/injection", "injection", "once a month", "approved", "FDA",
         "Alternatively, FDA approved Naltrexone injection is also available.", "once-a month naltrexone injection"),
    ]  # fmt: skip


@answers("treatment-duration")
def test_treatment_duration() -> None:
    rows = select(
        "treatment-duration",
        "kind", "claim", "condition", "population", "qualifier", "value", "unit", "mayVaryWith", "quote",
    )  # fmt: skip
    varies = "the amount of drug taken for dependence and how long it was taken"
    assert rows == [
        ("treatment duration", ID + "treatment-duration/alcohol-dependence", "alcohol dependence",
         "people who have stopped drinking", "in general", 12, "weeks", varies,
         "In general, Naltrexone is prescribed for people for a period of 12 weeks who have stopped drinking to "
         "minimize the cravings."),
        ("treatment duration", ID + "treatment-duration/opioid-dependence", "opioid dependence",
         "people dependent on opioid drugs", "up to", 12, "months", varies,
         "For people dependent on opioid drugs, the treatment period may expend up to 12 months."),
        ("treatment timing", ID + "treatment-timing/early-abstinence", None, None, None, None, None, None,
         "Treatment should be started during the early stages of abstinence where the risk of relapse is at the "
         "greatest."),
    ]  # fmt: skip


@answers("stated-facts")
@ALL_ENGINES
def test_stated_facts(engine: Engine) -> None:
    rows = select("stated-facts", "fact", "property", "value", "quote", engine=engine)
    dependence = ("But, since it is not a narcotic, it does not produce any physical or psychological dependence in "
                  "patients who use it.")
    assert rows == [
        ("naltrexone is an opioid receptor antagonist", "https://schema.org/drugClass",
         ID + "drug-class/opioid-receptor-antagonist", "Naltrexone is an opioid receptor antagonist"),
        ("naltrexone is available only on a doctor's prescription", "https://schema.org/prescriptionStatus",
         "https://schema.org/PrescriptionOnly", "is available only upon doctor's prescription."),
        ("naltrexone is not a narcotic", DEF + "isNarcotic", False, "Naltrexone is not a narcotic drug"),
        ("naltrexone produces no physical dependence", DEF + "producesPhysicalDependence", False, dependence),
        ("naltrexone produces no psychological dependence", DEF + "producesPsychologicalDependence", False,
         dependence),
        ("naltrexone treats addiction but does not cure it", DEF + "curesAddiction", False,
         "it is not a medication for curing addiction"),
    ]  # fmt: skip


@answers("suggested-claims")
@ALL_ENGINES
def test_suggested_claims(engine: Engine) -> None:
    rows = select("suggested-claims", "claim", "modality", "hedge", engine=engine)
    behaviours = [
        (ID + "indication/" + b, m, h)
        for b in ("pornography-addiction", "kleptomania", "trichotillomania", "compulsive-gambling")
        for m, h in (("possible", "might be beneficial"), ("reported by studies", "Studies indicate"))
    ]
    assert rows == [
        (ID + "programme/overall-addiction-programme", "possible", "may include"),
        (ID + "precaution/withdrawal-in-physical-dependence", "possible", "may occur"),
        (ID + "mechanism/craving-reduction-mechanism", "not understood", "is not fully understood"),
        (ID + "mechanism/dopamine-pathways", "believed by researchers", "Researchers believe"),
        (ID + "treatment-duration/opioid-dependence", "possible", "may expend up to"),
        (ID + "treatment-duration/opioid-dependence", "possible", "might also vary"),
        (ID + "treatment-duration/alcohol-dependence", "possible", "might also vary"),
        (ID + "treatment-duration/alcohol-dependence", "usual or general", "In general"),
        (ID + "finding/injection-reduces-compliance-problems", "usual or general", "often reduce"),
        (ID + "finding/injection-more-effective", "reported by studies", "It is also found"),
        (ID + "indication/multiple-sclerosis", "possible", "may include"),
        (ID + "indication/cancer", "possible", "may include"),
        (ID + "indication/hiv", "possible", "may include"),
        *behaviours,
        (ID + "indication/self-destructive-behaviour", "possible", "can be minimized"),
        (ID + "indication/self-destructive-behaviour", "reported by studies", "Studies also indicate"),
        (ID + "overdose-risk/liver-damage", "possible", "can cause"),
    ]


def expected_drug_card(drug: str) -> set[tuple[Any, ...]]:
    """The drug card computed in Python from an rdflib graph, independently of the query."""
    graph = open_graph().to_rdflib()
    ntx = rdflib.Namespace(DEF)
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    node = rdflib.URIRef(drug)
    if (node, rdflib.RDF.type, ntx.Drug) not in graph:
        return set()
    claims = set(graph.subjects(ntx.drug, node))
    quotes = {q for c in claims for q in graph.objects(c, ntx.evidenceQuote)}
    selectors = {s for q in quotes for s in graph.objects(q, oa.hasSelector)}
    triples = {t for subject in {node} | claims | quotes | selectors for t in graph.triples((subject, None, None))}
    values = {o for _, _, o in triples if isinstance(o, rdflib.URIRef)}
    for value in values:
        for label_property in (rdflib.RDFS.label, rdflib.SKOS.prefLabel):
            triples |= set(graph.triples((value, label_property, None)))
    return triples


def as_rdflib_triples(result: QueryResult) -> set[tuple[Any, ...]]:
    return {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in result.triples}


@answers("drug-card")
@ALL_ENGINES
def test_drug_card(engine: Engine) -> None:
    result = run_query("drug-card", engine=engine)
    assert result.kind == "graph"
    card = as_rdflib_triples(result)
    assert len(result.triples) == len(card) == len(expected_drug_card(NALTREXONE))
    assert card == expected_drug_card(NALTREXONE)
    ntx = rdflib.Namespace(DEF)
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    rdfs_label = rdflib.RDFS.label
    key_triples = [
        (rdflib.URIRef(NALTREXONE), ntx.isNarcotic, rdflib.Literal(False)),
        (rdflib.URIRef(NALTREXONE), rdflib.SKOS.exactMatch, rdflib.URIRef("http://purl.obolibrary.org/obo/CHEBI_7465")),
        (rdflib.URIRef(ID + "indication/hiv"), ntx.drug, rdflib.URIRef(NALTREXONE)),
        (rdflib.URIRef(ID + "indication/hiv"), ntx.evidenceLevel, rdflib.URIRef(DEF + "evidence-level/not-supported")),
        (rdflib.URIRef(ID + "indication/hiv"), ntx.principalQuote,
         rdflib.URIRef(ID + "quote/hiv-cancer-not-supported")),
        (rdflib.URIRef(DEF + "evidence-level/not-supported"), rdflib.SKOS.prefLabel,
         rdflib.Literal("explicitly not supported by scientific evidence", lang="en")),
        (rdflib.URIRef(ID + "indication/kleptomania"), ntx.sourceModality,
         rdflib.URIRef(DEF + "source-modality/reported-by-studies")),
        (rdflib.URIRef(ID + "condition/hiv"), rdfs_label, rdflib.Literal("HIV", lang="en")),
        (rdflib.URIRef(ID + "side-effect/skin-rash"), ntx.severity, rdflib.URIRef(DEF + "severity/severe")),
        (rdflib.URIRef(ID + "symptom/skin-rash"), rdfs_label, rdflib.Literal("skin rash", lang="en")),
        (rdflib.URIRef(ID + "quote/hiv-cancer-not-supported"), oa.hasSelector,
         rdflib.URIRef(ID + "selector/hiv-cancer-not-supported-position")),
        (rdflib.URIRef(ID + "selector/hiv-cancer-not-supported-position"), oa.start, rdflib.Literal(3045)),
        (rdflib.URIRef(ID + "source/facts-about-naltrexone"), rdfs_label, rdflib.Literal(SOURCE_TITLE, lang="en")),
    ]  # fmt: skip
    missing = [t for t in key_triples if t not in card]
    assert not missing
    # nothing about things that are not the drug's, such as the scheme of the conditions
    assert not any(s == rdflib.URIRef(ID + "condition/conditions") for s, _, _ in card)


@answers("claims-with-sources")
def test_claims_with_sources() -> None:
    graph = open_graph().to_rdflib()
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    pairs = set(graph.subject_objects(rdflib.URIRef(DEF + "evidenceQuote")))
    rows = run_query("claims-with-sources").to_python()
    assert len(rows) == len(pairs) == 129
    assert {(r["claim"], r["quoteStart"], r["quoteEnd"]) for r in rows} == {
        (str(c), int(graph.value(s, oa.start)), int(graph.value(s, oa.end)))
        for c, q in pairs for s in graph.objects(q, oa.hasSelector) if graph.value(s, oa.start) is not None
    }
    assert [(r["quoteStart"], r["claim"]) for r in rows] == sorted((r["quoteStart"], r["claim"]) for r in rows)
    assert {r["sourceTitle"] for r in rows} == {SOURCE_TITLE}
    assert all(r["claimType"] and r["statement"] and r["drug"] == NALTREXONE for r in rows)
    principal = [r for r in rows if r["principal"] == "principal"]
    assert len(principal) == len({r["claim"] for r in rows}) == 55  # one principal quote per claim
    first = [(r["claim"], r["claimType"], r["quote"], r["quoteStart"], r["principal"]) for r in rows[:2]]
    antagonist = "Naltrexone is an opioid receptor antagonist"
    assert first == [
        (ID + "mechanism/opioid-receptor-antagonism", "mechanism of action", antagonist, 24, "principal"),
        (ID + "statement/drug-class", "statement", antagonist, 24, "principal"),
    ]
    by_claim = {(r["claim"], r["quoteStart"]): r for r in rows}
    assert by_claim[(ID + "precaution/physical-dependence-on-narcotics", 933)]["claimType"] == "contraindication"
    assert by_claim[(ID + "side-effect/confusion", 4020)]["quote"] == "confusions"
    assert by_claim[(ID + "indication/alcohol-dependence", 75)]["quote"] == MAIN_USES
    assert rows[-1]["claim"] == ID + "outcome/reduced-cravings-and-recovery"


@answers("is-narcotic")
@ALL_ENGINES
def test_is_narcotic(engine: Engine) -> None:
    result = run_query("is-narcotic", engine=engine)
    assert result.kind == "ask"
    assert result.boolean is False


@answers("external-identifiers")
def test_external_identifiers() -> None:
    rows = select("external-identifiers", "kind", "resourceLabel", "mapping", "identifier")
    drug = [
        "http://identifiers.org/drugbank/DB00704",
        "http://identifiers.org/unii/5S6W795CQM",
        "http://purl.bioontology.org/ontology/ATC/N07BB04",
        "http://purl.bioontology.org/ontology/RXNORM/7243",
        "http://purl.obolibrary.org/obo/CHEBI_7465",
        "http://rdf.ncbi.nlm.nih.gov/pubchem/compound/CID5360515",
        "http://www.wikidata.org/entity/Q409587",
    ]
    mondo = "http://purl.obolibrary.org/obo/MONDO_"
    assert rows == [
        *[("drug", "naltrexone", "exact match", identifier) for identifier in drug],
        ("condition", "HIV", "exact match", mondo + "0005109"),
        ("condition", "alcohol dependence", "exact match", mondo + "0007079"),
        ("condition", "cancer", "exact match", mondo + "0004992"),
        ("condition", "multiple sclerosis", "exact match", mondo + "0005301"),
        ("condition", "opioid dependence", "exact match", mondo + "0005530"),
        ("biological target", "opioid receptor", "narrower match", "http://purl.uniprot.org/uniprot/P35372"),
    ]


@answers("quote-lookup")
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, [("mechanism/reduces-craving", 1403), ("mechanism/reduces-craving", 1510),
                ("mechanism/craving-reduction-mechanism", 1592), ("mechanism/craving-reduction-mechanism", 1597),
                ("treatment-duration/alcohol-dependence", 2222), ("outcome/reduced-cravings-and-recovery", 4573)]),
        ("LIVER DAMAGE", [("overdose-risk/liver-damage", 4185)]),
        ("not supported", [("indication/cancer", 3045), ("indication/hiv", 3045)]),
        ("no such words in the source", []),
    ],
)  # fmt: skip
def test_quote_lookup(text: str | None, expected: list[tuple[str, int]]) -> None:
    params = {"text": text} if text is not None else None
    rows = select("quote-lookup", "claim", "quoteStart", "quote", "claimType", params=params)
    assert [(claim, start) for claim, start, _, _ in rows] == [(ID + c, s) for c, s in expected]
    needle = (text or "craving").lower()
    assert all(needle in quote.lower() and kind for _, _, quote, kind in rows)


# --- checks across every saved query ------------------------------------------


def saved_query_names() -> list[str]:
    return sorted(path.stem for path in queries_dir().glob("*.rq"))


def test_every_saved_query_has_an_expected_answer_test() -> None:
    names = set(saved_query_names())
    assert names, "no saved queries found"
    assert sorted(names - set(EXPECTED)) == [], "saved queries without an expected-answer test"
    assert sorted(set(EXPECTED) - names) == [], "expected-answer tests for queries that do not exist"


def _body(query: SavedQuery) -> str:
    return "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("#"))


@pytest.mark.parametrize("name", saved_query_names())
def test_header_and_parameters(name: str) -> None:
    query = get_saved_query(name)
    assert query.name == name and query.title and query.description
    body = _body(query)
    where = re.search(r"\bWHERE\s*\{", body)  # ASK { ... } has no WHERE keyword
    pattern_start = where.end() - 1 if where else body.index("{")
    defaults = bindings(query)  # every default is valid and, with "of CLASS", an instance of it
    for parameter in query.parameters:
        # bound as a VALUES block opening the WHERE group: the variable must be used in the pattern
        # (a SELECT need not project it)
        variable = re.compile(rf"\?{parameter.name}\b")
        assert variable.search(body[pattern_start:]), f"?{parameter.name} is not used in the WHERE pattern"
        assert parameter.default is not None and parameter.name in defaults, f"{parameter.name} has no default"


@pytest.mark.parametrize("name", saved_query_names())
def test_a_saved_query_is_one_plain_pattern(name: str) -> None:
    """Saved queries are examples users copy: no sub-SELECT (to pick a quote or anything else)."""
    body = _body(get_saved_query(name))
    assert len(re.findall(r"\bSELECT\b", body, re.IGNORECASE)) <= 1, f"{name} has a sub-SELECT"


@pytest.mark.parametrize("name", saved_query_names())
def test_quotes_match_the_source_at_their_offsets(name: str) -> None:
    result = run_query(name)
    if result.kind != "select" or not {"quote", "quoteStart", "quoteEnd"} <= set(result.variables):
        return
    text = source_text()
    for row in result.to_python():
        if row["quote"] is not None:
            assert text[row["quoteStart"] : row["quoteEnd"]] == row["quote"]


def drug_queries() -> list[str]:
    return [name for name in saved_query_names() if get_saved_query(name).parameter("drug") is not None]


def _comparable(result: QueryResult) -> Any:
    if result.kind == "select":
        return result.variables, result.to_python()
    if result.kind == "graph":
        return {str(t) for t in result.triples}
    return result.boolean


@pytest.mark.parametrize("name", drug_queries())
@ALL_ENGINES
def test_an_unknown_drug_gives_no_answer(name: str, engine: Engine) -> None:
    query = get_saved_query(name)
    terms = {**bindings(query), "drug": NamedNode(UNKNOWN_DRUG)}
    result = run_text(query.text, terms, engine)
    assert result.rows == [] and result.triples == [] and not result.boolean
    with pytest.raises(ParameterError):  # the package refuses a drug that is not an ntx:Drug in the graph
        run_query(name, {"drug": UNKNOWN_DRUG}, engine)


@pytest.mark.parametrize("name", drug_queries())
@ALL_ENGINES
def test_drug_queries_also_answer_with_the_drug_unbound(name: str, engine: Engine) -> None:
    """Left unbound, ?drug ranges over every drug: on the bundled graph, naltrexone alone."""
    query = get_saved_query(name)
    bound = bindings(query)
    unbound = {k: v for k, v in bound.items() if k != "drug"}
    assert _comparable(run_text(query.text, unbound, engine)) == _comparable(run_text(query.text, bound, engine))


@pytest.mark.parametrize("name", saved_query_names())
@ALL_ENGINES
def test_an_inline_values_clause_binds_like_substitution(name: str, engine: Engine) -> None:
    """The parameters written by hand as a VALUES block opening the outermost group pattern (as a user
    copying the query would) give the package's answer."""
    query = get_saved_query(name)
    bound = bindings(query)
    if not bound:
        return
    body = _body(query)
    where = re.search(r"\bWHERE\s*\{", body) if query.form != "ASK" else re.search(r"\{", body)
    assert where is not None
    names = " ".join(f"?{k}" for k in bound)
    values = " ".join(str(v) for v in bound.values())
    text = f"{body[: where.end()]}\n  VALUES ({names}) {{ ({values}) }}\n{body[where.end() :]}"
    assert _comparable(run_text(text, {}, engine)) == _comparable(run_text(query.text, bound, engine))


# --- the cost of a drug-bound query follows its answer ------------------------------

#: Synthetic drugs added to the bundled graph for the plan test: enough that a scan of every claim
#: of some kind shows up as hundreds of solutions where the drug has a handful.
PLAN_DRUGS = 300


@pytest.fixture(scope="module")
def plan_stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """The ``oxigraph`` CLI (it prints a query's evaluation plan with the solutions of every step) and
    two stores: the bundled graph, and the bundled graph plus PLAN_DRUGS synthetic drugs."""
    binary = servers.require_binary("oxigraph", "pip install oxigraph")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()[-1]
    if version != pyoxigraph.__version__:
        pytest.skip(f"oxigraph {version} plans queries as another engine than pyoxigraph {pyoxigraph.__version__}")
    folder = tmp_path_factory.mktemp("plans")
    generated = folder / "generated.nt"
    write_generated(generated, PLAN_DRUGS, seed=0)
    stores = []
    for name, files in (("bundled", bundled_files()), ("scaled", [*bundled_files(), generated])):
        store = folder / name
        subprocess.run([binary, "load", "--location", str(store), "--file", *map(str, files)], check=True,
                       capture_output=True, timeout=300)
        stores.append(store)
    return binary, stores[0], stores[1]


def _largest_step(binary: str, store: Path, text: str, folder: Path, fmt: str) -> tuple[int, str]:
    """The most solutions any step of the query's evaluation produces, and that step."""
    query, plan = folder / "query.rq", folder / "plan.json"
    query.write_text(text, encoding="utf-8")
    subprocess.run([binary, "query", "--location", str(store), "--query-file", str(query), "--results-format",
                    fmt, "--results-file", str(folder / f"answer.{fmt}"), "--explain-file", str(plan), "--stats"],
                   check=True, capture_output=True, timeout=120)
    largest = (0, "")
    todo = [json.loads(plan.read_text())["plan"]]
    while todo:
        node = todo.pop()
        largest = max(largest, (int(node.get("number of results", 0)), str(node["name"])))
        todo.extend(node.get("children", []))
    return largest


@pytest.mark.parametrize("name", drug_queries())
def test_a_drug_bound_query_reads_only_what_concerns_the_drug(
        name: str, plan_stores: tuple[str, Path, Path], tmp_path: Path) -> None:
    """With the text the package runs (the VALUES block first), no step of the evaluation yields more
    than twice as many solutions once 300 other drugs are in the graph: the evaluation starts from the
    drug instead of reading every claim (or every quote) of the graph. Oxigraph evaluates the patterns
    in the order its optimizer picks; this holds the saved queries to an order that starts at the drug."""
    binary, bundled, scaled = plan_stores
    query = get_saved_query(name)
    text = bind_values(query.text, bindings(query))
    fmt = "nt" if query.form in ("CONSTRUCT", "DESCRIBE") else "tsv"
    small, _ = _largest_step(binary, bundled, text, tmp_path, fmt)
    large, step = _largest_step(binary, scaled, text, tmp_path, fmt)
    assert large <= 2 * small, (f"{name}: a step yields {large} solutions with {PLAN_DRUGS} more drugs in the graph "
                                f"({small} at most on the bundled graph): {step[:200]}")
