"""The exact answer of every saved query (``queries/*.rq``) on the bundled graph.

Each saved query has a test registered with ``@answers(NAME)`` that checks its
exact rows, in order where the query orders them; a guard test fails when a
query file has no such test. The queries run through the package's
``KnowledgeGraph`` when it exists, otherwise through the local fallback runner
below, which binds parameters exactly as the engine will (pyoxigraph
``substitutions``, rdflib ``initBindings``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from ntx_graph.catalog import SavedQuery, get_saved_query
from ntx_graph.errors import ParameterError
from ntx_graph.resources import bundled_files, queries_dir, source_file

# ===========================================================================
# FALLBACK QUERY RUNNER -- used only while ntx_graph.graph.KnowledgeGraph does
# not exist. It mirrors that API: KnowledgeGraph.open() -> kg;
# kg.run(name, params: dict[str, str] | None, engine="oxigraph" | "rdflib")
# -> result with kind ("select" | "ask" | "graph"), variables, rows (tuples of
# pyoxigraph terms or None), to_python(), boolean and triples.
# ===========================================================================
try:
    from ntx_graph.graph import KnowledgeGraph
except ImportError:  # the package's engine does not exist yet
    KnowledgeGraph = None

ENGINES = ("oxigraph", "rdflib")
XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = {
    XSD + name
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "nonPositiveInteger",
        "positiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
}
_FLOAT_TYPES = {XSD + "double", XSD + "float"}


@functools.cache
def bundled_prefixes() -> dict[str, str]:
    """The prefixes declared in the bundled Turtle files."""
    prefixes: dict[str, str] = {}
    for path in bundled_files():
        parser = ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
        for _ in parser:
            pass
        prefixes.update(parser.prefixes)
    return prefixes


def expand_iri(value: str) -> str:
    """A full IRI for ``value``: ``<...>``, a prefixed name such as ``drug:naltrexone``, or an IRI."""
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return value[1:-1]
    prefix, sep, local = value.partition(":")
    if sep and prefix in bundled_prefixes() and not local.startswith("//"):
        return bundled_prefixes()[prefix] + local
    return value


def parameter_term(kind: str, value: str) -> ox.NamedNode | ox.Literal:
    """The RDF term a parameter value of type ``kind`` is bound as."""
    try:
        if kind == "iri":
            return ox.NamedNode(expand_iri(value))
        if kind == "string":
            return ox.Literal(value)
        if kind == "integer":
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
        if kind == "decimal":
            return ox.Literal(str(Decimal(value)), datatype=ox.NamedNode(XSD + "decimal"))
        if kind == "boolean":
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return ox.Literal(value.lower() in ("true", "1"))
    except (ValueError, ArithmeticError) as error:
        raise ParameterError(f"{value!r} is not a valid {kind}") from error
    raise ParameterError(f"unknown parameter type {kind!r}")


def to_rdflib(term: Any) -> Any:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD + "string":  # rdflib parses plain literals without a datatype
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def from_rdflib(term: Any) -> Any:
    """An rdflib term as a pyoxigraph term (None stays None)."""
    if term is None:
        return None
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    if term.datatype is not None:
        return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
    return ox.Literal(str(term))


def python_value(term: Any) -> Any:
    """IRIs as str, literals as Python values, unbound as None."""
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    datatype = term.datatype.value if term.datatype is not None else XSD + "string"
    if datatype in _INTEGER_TYPES:
        return int(term.value)
    if datatype == XSD + "decimal":
        return Decimal(term.value)
    if datatype in _FLOAT_TYPES:
        return float(term.value)
    if datatype == XSD + "boolean":
        return term.value in ("true", "1")
    return term.value


@dataclass
class LocalResult:
    """A query result shaped like the package's result object."""

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[ox.Triple] = field(default_factory=list)

    def to_python(self) -> list[dict[str, Any]]:
        return [{v: python_value(t) for v, t in zip(self.variables, row, strict=True)} for row in self.rows]


class LocalGraph:
    """FALLBACK stand-in for ``ntx_graph.graph.KnowledgeGraph``."""

    def __init__(self) -> None:
        self.store = ox.Store()
        self.graph = rdflib.Graph()
        for path in bundled_files():
            self.store.load(path=str(path), format=ox.RdfFormat.TURTLE)
            self.graph.parse(path, format="turtle")

    @classmethod
    @functools.cache
    def open(cls) -> LocalGraph:
        return cls()

    def bindings(self, query: SavedQuery, params: dict[str, str] | None) -> dict[str, Any]:
        params = dict(params or {})
        unknown = set(params) - {p.name for p in query.parameters}
        if unknown:
            raise ParameterError(f"unknown parameter(s) {sorted(unknown)} for {query.name}")
        terms = {}
        for parameter in query.parameters:
            value = params.get(parameter.name, parameter.default)
            if value is None:
                raise ParameterError(f"{query.name} needs the parameter {parameter.name}")
            terms[parameter.name] = parameter_term(parameter.type, value)
        return terms

    def run(self, name: str, params: dict[str, str] | None = None, engine: str = "oxigraph") -> LocalResult:
        query = get_saved_query(name)
        return self.run_text(query.text, self.bindings(query, params), engine)

    def run_text(self, text: str, terms: dict[str, Any], engine: str = "oxigraph") -> LocalResult:
        if engine == "oxigraph":
            answer = self.store.query(text, substitutions={ox.Variable(k): v for k, v in terms.items()})
            if isinstance(answer, ox.QuerySolutions):
                variables = [v.value for v in answer.variables]
                return LocalResult("select", variables, [tuple(solution) for solution in answer])
            if isinstance(answer, ox.QueryTriples):
                return LocalResult("graph", triples=list(answer))
            return LocalResult("ask", boolean=bool(answer))
        if engine == "rdflib":
            answer = self.graph.query(text, initBindings={k: to_rdflib(v) for k, v in terms.items()})
            if answer.type == "SELECT":
                variables = [str(v) for v in answer.vars]
                rows = [tuple(from_rdflib(t) for t in row) for row in answer]
                return LocalResult("select", variables, rows)
            if answer.type == "ASK":
                return LocalResult("ask", boolean=bool(answer.askAnswer))
            triples = [ox.Triple(*(from_rdflib(t) for t in triple)) for triple in answer.graph]
            return LocalResult("graph", triples=triples)
        raise ValueError(f"unknown engine {engine!r}")


# ===========================================================================
# End of the fallback runner.
# ===========================================================================


@functools.cache
def open_graph() -> Any:
    """The package's KnowledgeGraph when it exists, else the fallback (opened once)."""
    return KnowledgeGraph.open() if KnowledgeGraph is not None else LocalGraph.open()


def run_query(name: str, params: dict[str, str] | None = None, engine: str = "oxigraph") -> Any:
    return open_graph().run(name, params, engine=engine)


def select(name: str, *columns: str, params: dict[str, str] | None = None, engine: str = "oxigraph") -> list[Any]:
    """The rows of a SELECT query as Python values; one column gives a flat list."""
    result = run_query(name, params, engine)
    assert result.kind == "select"
    missing = set(columns) - set(result.variables)
    assert not missing, f"{name} has no column(s) {sorted(missing)}"
    rows = result.to_python()
    if len(columns) == 1:
        return [row[columns[0]] for row in rows]
    return [tuple(row[c] for c in columns) for row in rows]


# --- the expected answers ---------------------------------------------------

ID = "https://w3id.org/ntx-graph/id/"
DEF = "https://w3id.org/ntx-graph/def/"
NALTREXONE = ID + "drug/naltrexone"
UNKNOWN_DRUG = ID + "drug/no-such-drug"
SOURCE_TITLE = "Facts about Naltrexone"
EXPECTED: dict[str, Callable[[], None]] = {}


def answers(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a test as the expected-answer test of the saved query ``name``."""

    def register(test: Callable[[], None]) -> Callable[[], None]:
        EXPECTED[name] = test
        return test

    return register


@functools.cache
def source_text() -> str:
    return source_file().read_text(encoding="utf-8")


ALL_ENGINES = pytest.mark.parametrize("engine", ENGINES)


@answers("off-label-uses-lacking-evidence")
@ALL_ENGINES
def test_off_label_uses_lacking_evidence(engine: str) -> None:
    not_supported = "However, claims that Naltrexone treats HIV and cancer is not supported by scientific evidence."
    rows = select(
        "off-label-uses-lacking-evidence",
        "indication", "condition", "conditionLabel", "evidenceLevel", "evidenceLabel", "evidenceRank",
        "quote", "quoteStart", "quoteEnd",
        engine=engine,
    )  # fmt: skip
    assert rows == [
        (ID + "indication/hiv", ID + "condition/hiv", "HIV", DEF + "evidence-level/not-supported",
         "explicitly not supported by scientific evidence", 1, not_supported, 3036, 3130),
        (ID + "indication/cancer", ID + "condition/cancer", "cancer", DEF + "evidence-level/not-supported",
         "explicitly not supported by scientific evidence", 1, not_supported, 3036, 3130),
        (ID + "indication/depersonalization-disorder", ID + "condition/depersonalization-disorder",
         "depersonalization disorder", DEF + "evidence-level/no-evidence-cited", "use reported, no evidence cited",
         2, "It is used in the treatment of depersonalization disorder", 2888, 2945),
        (ID + "indication/multiple-sclerosis", ID + "condition/multiple-sclerosis", "multiple sclerosis",
         DEF + "evidence-level/no-evidence-cited", "use reported, no evidence cited", 2,
         "its off-label use may include treating conditions of multiple sclerosis, HIV, cancer.", 2950, 3035),
    ]  # fmt: skip


@answers("approved-indications")
def test_approved_indications() -> None:
    rows = select(
        "approved-indications",
        "drug", "indication", "conditionLabel", "approvalLabel", "evidenceLabel", "evidenceRank", "isPrimaryUse",
        "therapeuticGoal",
    )  # fmt: skip
    assert rows == [
        (NALTREXONE, ID + "indication/alcohol-dependence", "alcohol dependence", "approved",
         "approved, established use", 5, True, "to stay narcotic or drug free"),
        (NALTREXONE, ID + "indication/opioid-dependence", "opioid dependence", "approved",
         "approved, established use", 5, True, "to stay narcotic or drug free"),
    ]  # fmt: skip


@answers("indications-by-evidence")
def test_indications_by_evidence() -> None:
    rows = select("indications-by-evidence", "conditionLabel", "evidenceRank", "approvalLabel", "isPrimaryUse")
    assert rows == [
        ("alcohol dependence", 5, "approved", True),
        ("opioid dependence", 5, "approved", True),
        ("compulsive gambling", 3, "off-label", False),
        ("kleptomania", 3, "off-label", False),
        ("pornography addiction", 3, "off-label", False),
        ("self-destructive behaviour", 3, "off-label", False),
        ("trichotillomania", 3, "off-label", False),
        ("depersonalization disorder", 2, "off-label", False),
        ("multiple sclerosis", 2, "off-label", False),
        ("HIV", 1, "off-label", False),
        ("cancer", 1, "off-label", False),
    ]
    assert select("indications-by-evidence", "evidenceLabel")[0] == "approved, established use"


@answers("uses-in-category")
@pytest.mark.parametrize(
    ("category", "expected"),
    [
        (None, ["compulsive gambling", "kleptomania", "pornography addiction", "trichotillomania"]),
        (ID + "condition/behavioural-addiction",
         ["compulsive gambling", "kleptomania", "pornography addiction", "trichotillomania"]),
        (ID + "condition/substance-dependence", ["alcohol dependence", "opioid dependence"]),
        (ID + "condition/hiv", []),  # a condition with nothing under it
    ],
)  # fmt: skip
def test_uses_in_category(category: str | None, expected: list[str]) -> None:
    params = {"category": category} if category else None
    rows = select("uses-in-category", "category", "conditionLabel", "evidenceRank", params=params)
    assert [label for _, label, _ in rows] == expected
    assert {c for c, _, _ in rows} <= {category or ID + "condition/behavioural-addiction"}
    if category == ID + "condition/substance-dependence":
        assert [rank for _, _, rank in rows] == [5, 5]


@answers("mechanism-of-action")
def test_mechanism_of_action() -> None:
    rows = select(
        "mechanism-of-action",
        "mechanism", "targetLabel", "certaintyLabel", "certaintyRank", "explains", "explainsLabel",
    )  # fmt: skip
    assert rows == [
        (ID + "mechanism/opioid-receptor-antagonism", "opioid receptor", "established", 3, None, None),
        (ID + "mechanism/blocks-narcotic-and-alcohol-effects",
         "the part of the brain that produces the feeling of pleasure", "established", 3, None, None),
        (ID + "mechanism/reduces-craving", None, "established", 3, None, None),
        (ID + "mechanism/dopamine-pathways", "neural pathways in the brain where dopamine is found", "hypothesis", 2,
         ID + "mechanism/reduces-craving", "reduces craving for alcohol or opioid drugs"),
    ]  # fmt: skip
    descriptions = select("mechanism-of-action", "description")
    assert all(descriptions) and descriptions[0] == "Naltrexone is an opioid (narcotic) receptor antagonist."


RARE = ["drowsiness", "confusion", "hallucinations", "skin rash", "blurred vision"]
COMMON = ["stomach upset", "vomiting", "diarrhoea", "muscle or joint pain", "nervousness", "anxiety"]
NOTIFY = "notify the health care provider immediately"
IF_BOTHERSOME = "if it becomes bothersome, bring it to the health care provider's attention to be treated immediately"
RARE_SYSTEMS = ["nervous system", "psychiatric", "psychiatric", "skin", "eye"]
COMMON_SYSTEMS = ["gastrointestinal"] * 3 + ["musculoskeletal", "psychiatric", "psychiatric"]


@answers("side-effects-by-severity")
def test_side_effects_by_severity_default() -> None:
    rows = select(
        "side-effects-by-severity",
        "effectLabel", "frequencyLabel", "severityLabel", "worstSeverityLabel", "bodySystemLabel", "actionLabel",
        "listPosition",
    )  # fmt: skip
    assert rows == [
        *[(e, "rare", "severe", "severe", s, NOTIFY, i)
          for i, (e, s) in enumerate(zip(RARE, RARE_SYSTEMS, strict=True), 7)],
        *[(e, "common", "mild", "severe", s, IF_BOTHERSOME, i)
          for i, (e, s) in enumerate(zip(COMMON, COMMON_SYSTEMS, strict=True), 1)],
    ]  # fmt: skip
    assert set(select("side-effects-by-severity", "min_severity")) == {DEF + "severity/mild"}


@pytest.mark.parametrize(
    ("min_severity", "expected"),
    [
        ("mild", RARE + COMMON),
        ("moderate", RARE),
        ("severe", RARE),
        ("life-threatening", []),
    ],
)
def test_side_effects_by_severity_minimum(min_severity: str, expected: list[str]) -> None:
    params = {"min_severity": DEF + "severity/" + min_severity}
    assert select("side-effects-by-severity", "effectLabel", params=params) == expected
    if min_severity == "severe":
        rows = select("side-effects-by-severity", "frequencyLabel", "severityRank", params=params)
        assert rows == [("rare", 3)] * 5


@answers("side-effects-by-frequency")
@pytest.mark.parametrize(("frequency", "expected"), [(None, COMMON), ("common", COMMON), ("rare", RARE)])
def test_side_effects_by_frequency(frequency: str | None, expected: list[str]) -> None:
    params = {"frequency": DEF + "frequency/" + frequency} if frequency else None
    rows = select("side-effects-by-frequency", "effectLabel", "frequencyLabel", "severityLabel", params=params)
    label = frequency or "common"
    assert rows == [(effect, label, "mild" if label == "common" else "severe") for effect in expected]


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
        "side-effects-needing-immediate-attention",
        "kind", "symptomLabel", "listPosition", "actionLabel", "quote", "quoteStart", "quoteEnd",
    )  # fmt: skip
    assert rows == [
        *[("side effect", e, i, NOTIFY, RARE_SEVERITY, 4078, 4183) for i, e in enumerate(RARE, 7)],
        *[("warning sign of liver damage", s, i, STOP, LIVER_SENTENCE, 4229, 4495)
          for i, s in enumerate(LIVER_SIGNS, 1)],
    ]  # fmt: skip


@answers("side-effects-by-body-system")
def test_side_effects_by_body_system() -> None:
    rows = select("side-effects-by-body-system", "bodySystem", "bodySystemLabel", "sideEffectCount")
    assert rows == [
        (ID + "body-system/psychiatric", "psychiatric", 4),
        (ID + "body-system/gastrointestinal", "gastrointestinal", 3),
        (ID + "body-system/eye", "eye", 1),
        (ID + "body-system/musculoskeletal", "musculoskeletal", 1),
        (ID + "body-system/nervous-system", "nervous system", 1),
        (ID + "body-system/skin", "skin", 1),
    ]


@answers("liver-damage-warning-signs")
def test_liver_damage_warning_signs() -> None:
    rows = select(
        "liver-damage-warning-signs",
        "listPosition", "signLabel", "overdoseRisk", "action", "actionLabel", "quote", "quoteStart", "quoteEnd",
    )  # fmt: skip
    action = ID + "action/stop-medication-and-get-medical-attention"
    risk = ID + "overdose-risk/liver-damage"
    assert rows == [(i, s, risk, action, STOP, LIVER_SENTENCE, 4229, 4495) for i, s in enumerate(LIVER_SIGNS, 1)]


@answers("contraindications-and-precautions")
def test_contraindications_and_precautions() -> None:
    rows = select(
        "contraindications-and-precautions",
        "listPosition", "precaution", "isContraindication", "kind", "patientConditionLabel", "riskLabel",
        "actionLabel", "quoteStart", "quoteEnd",
    )  # fmt: skip
    dependence = "physical dependence on narcotics or alcohol"
    withdrawal = "withdrawal symptoms"
    assert rows == [
        (1, ID + "precaution/withdrawal-in-physical-dependence", False, "precaution", dependence, withdrawal, None,
         813, 932),
        (2, ID + "precaution/physical-dependence-on-narcotics", True, "contraindication",
         "physical dependence on narcotics", withdrawal, None, 933, 1034),
        (3, ID + "precaution/start-only-when-no-longer-dependent", False, "precaution", dependence, None,
         "start naltrexone only when no longer dependent on narcotics or alcohol", 1035, 1141),
        (4, ID + "precaution/treatment-length-varies", False, "precaution", None, None, None, 1142, 1271),
        (5, ID + "precaution/report-withdrawal-symptoms", False, "precaution", None, withdrawal,
         "tell the physician before naltrexone treatment is started", 1272, 1386),
    ]  # fmt: skip
    quotes = select("contraindications-and-precautions", "quote")
    assert quotes[1] == (
        "This makes treatment with Naltrexone for people who are physically dependent on narcotics impossible."
    )


@answers("formulations-and-dosing")
def test_formulations_and_dosing() -> None:
    rows = select(
        "formulations-and-dosing",
        "formulation", "dosageForm", "dosingFrequency", "approvalLabel", "approvedByLabel", "quote", "quoteStart",
    )  # fmt: skip
    assert rows == [
        (ID + "formulation/pill", "pill", "once a day", None, None,
         "Naltrexone is available in the form of pill, which should be taken once in a day.", 2053),
        (ID + "formulation/injection", "injection", "once a month", "approved", "FDA",
         "Alternatively, FDA approved Naltrexone injection is also available.", 2460),
    ]  # fmt: skip


@answers("treatment-duration")
def test_treatment_duration() -> None:
    rows = select(
        "treatment-duration",
        "kind", "claim", "conditionLabel", "population", "qualifier", "value", "unit", "claimLabel",
    )  # fmt: skip
    assert rows == [
        ("treatment duration", ID + "treatment-duration/alcohol-dependence", "alcohol dependence",
         "people who have stopped drinking", "in general", 12, "weeks",
         "naltrexone is generally prescribed for 12 weeks to people who have stopped drinking"),
        ("treatment duration", ID + "treatment-duration/opioid-dependence", "opioid dependence",
         "people dependent on opioid drugs", "up to", 12, "months",
         "treatment for opioid dependence may extend up to 12 months"),
        ("treatment timing", ID + "treatment-timing/early-abstinence", None, None, None, None, None,
         "start treatment during the early stages of abstinence, when the risk of relapse is greatest"),
    ]  # fmt: skip


def expected_drug_card(drug: str) -> set[tuple[Any, ...]]:
    """The drug card computed in Python from an rdflib graph, independently of the query."""
    graph = LocalGraph.open().graph
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


def as_rdflib_triples(triples: Iterable[ox.Triple]) -> set[tuple[Any, ...]]:
    return {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in triples}


@answers("drug-card")
@ALL_ENGINES
def test_drug_card(engine: str) -> None:
    result = run_query("drug-card", engine=engine)
    assert result.kind == "graph"
    card = as_rdflib_triples(result.triples)
    assert len(result.triples) == len(card) == 1345
    assert card == expected_drug_card(NALTREXONE)
    ntx = rdflib.Namespace(DEF)
    rdfs_label = rdflib.RDFS.label
    key_triples = [
        (rdflib.URIRef(NALTREXONE), ntx.isNarcotic, rdflib.Literal(False)),
        (rdflib.URIRef(NALTREXONE), rdflib.SKOS.exactMatch, rdflib.URIRef("http://purl.obolibrary.org/obo/CHEBI_7465")),
        (rdflib.URIRef(ID + "indication/hiv"), ntx.drug, rdflib.URIRef(NALTREXONE)),
        (rdflib.URIRef(ID + "indication/hiv"), ntx.evidenceLevel, rdflib.URIRef(DEF + "evidence-level/not-supported")),
        (rdflib.URIRef(DEF + "evidence-level/not-supported"), rdflib.SKOS.prefLabel,
         rdflib.Literal("explicitly not supported by scientific evidence", lang="en")),
        (rdflib.URIRef(ID + "condition/hiv"), rdfs_label, rdflib.Literal("HIV", lang="en")),
        (rdflib.URIRef(ID + "side-effect/skin-rash"), ntx.severity, rdflib.URIRef(DEF + "severity/severe")),
        (rdflib.URIRef(ID + "symptom/skin-rash"), rdfs_label, rdflib.Literal("skin rash", lang="en")),
        (rdflib.URIRef(ID + "quote/hiv-cancer-not-supported"), rdflib.URIRef("http://www.w3.org/ns/oa#hasSelector"),
         rdflib.URIRef(ID + "selector/hiv-cancer-not-supported-position")),
        (rdflib.URIRef(ID + "selector/hiv-cancer-not-supported-position"),
         rdflib.URIRef("http://www.w3.org/ns/oa#start"), rdflib.Literal(3036)),
        (rdflib.URIRef(ID + "source/facts-about-naltrexone"), rdfs_label, rdflib.Literal(SOURCE_TITLE, lang="en")),
    ]  # fmt: skip
    missing = [t for t in key_triples if t not in card]
    assert not missing
    # nothing about things that are not the drug's, such as the scheme of the conditions
    assert not any(s == rdflib.URIRef(ID + "condition/conditions") for s, _, _ in card)


@answers("claims-with-sources")
def test_claims_with_sources() -> None:
    graph = LocalGraph.open().graph
    pairs = set(graph.subject_objects(rdflib.URIRef(DEF + "evidenceQuote")))
    result = run_query("claims-with-sources")
    rows = result.to_python()
    assert len(rows) == len(pairs) == 120
    assert {(r["claim"], r["quoteStart"], r["quoteEnd"]) for r in rows} == {
        (str(c), int(graph.value(s, rdflib.URIRef("http://www.w3.org/ns/oa#start"))),
         int(graph.value(s, rdflib.URIRef("http://www.w3.org/ns/oa#end"))))
        for c, q in pairs
        for s in graph.objects(q, rdflib.URIRef("http://www.w3.org/ns/oa#hasSelector"))
        if graph.value(s, rdflib.URIRef("http://www.w3.org/ns/oa#start")) is not None
    }  # fmt: skip
    assert [(r["quoteStart"], r["claim"]) for r in rows] == sorted((r["quoteStart"], r["claim"]) for r in rows)
    assert {r["sourceTitle"] for r in rows} == {SOURCE_TITLE}
    assert all(r["claimTypeLabel"] and r["claimLabel"] and r["drug"] == NALTREXONE for r in rows)
    first = [(r["claim"], r["claimTypeLabel"], r["quote"], r["quoteStart"], r["quoteEnd"]) for r in rows[:4]]
    antagonist = "Naltrexone is an opioid receptor antagonist"
    main_uses = (
        "Naltrexone is an opioid receptor antagonist and is mainly used in the treatment of people having serious "
        "alcohol or opioid dependence."
    )
    assert first == [
        (ID + "indication/alcohol-dependence", "indication", main_uses, 24, 158),
        (ID + "indication/opioid-dependence", "indication", main_uses, 24, 158),
        (ID + "mechanism/opioid-receptor-antagonism", "mechanism of action", antagonist, 24, 67),
        (ID + "statement/drug-class", "statement", antagonist, 24, 67),
    ]
    by_claim = {(r["claim"], r["quoteStart"]): r for r in rows}
    assert by_claim[(ID + "precaution/physical-dependence-on-narcotics", 933)]["claimTypeLabel"] == "contraindication"
    assert by_claim[(ID + "side-effect/confusion", 4020)]["quote"] == "confusions"
    assert rows[-1]["claim"] == ID + "outcome/reduced-cravings-and-recovery"


@answers("is-narcotic")
@ALL_ENGINES
def test_is_narcotic(engine: str) -> None:
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
                ("mechanism/dopamine-pathways", 1592), ("treatment-duration/alcohol-dependence", 2222),
                ("outcome/reduced-cravings-and-recovery", 4573)]),
        ("LIVER DAMAGE", [("overdose-risk/liver-damage", 4185)]),
        ("not supported", [("indication/cancer", 3036), ("indication/hiv", 3036)]),
        ("no such words in the source", []),
    ],
)  # fmt: skip
def test_quote_lookup(text: str | None, expected: list[tuple[str, int]]) -> None:
    params = {"text": text} if text is not None else None
    rows = select("quote-lookup", "claim", "quoteStart", "quote", "claimTypeLabel", params=params)
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
    graph = LocalGraph.open()
    for parameter in query.parameters:
        variable = re.compile(rf"\?{parameter.name}\b")
        # bound by substitution: the variable must be used in the graph pattern ...
        assert variable.search(body[pattern_start:]), f"?{parameter.name} is not used in the WHERE pattern"
        # ... and pyoxigraph only substitutes variables a SELECT projects
        if query.form == "SELECT":
            assert variable.search(body[:pattern_start]), f"?{parameter.name} is not projected"
        assert parameter.default is not None, f"{parameter.name} has no default"
        term = parameter_term(parameter.type, parameter.default)
        if parameter.of_class:
            assert parameter.type == "iri"
            is_instance = graph.store.query(f"ASK {{ {term} a <{expand_iri(parameter.of_class)}> }}")
            assert bool(is_instance), f"the default {parameter.default} is not a {parameter.of_class}"


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


@pytest.mark.parametrize("name", drug_queries())
@ALL_ENGINES
def test_an_unknown_drug_gives_no_answer(name: str, engine: str) -> None:
    graph = LocalGraph.open()
    query = get_saved_query(name)
    result = graph.run_text(query.text, graph.bindings(query, {"drug": UNKNOWN_DRUG}), engine)
    assert result.rows == [] and result.triples == [] and not result.boolean
    if KnowledgeGraph is not None:  # the package may refuse a drug that is not an ntx:Drug instead
        try:
            answer = run_query(name, {"drug": UNKNOWN_DRUG}, engine)
        except ParameterError:
            return
        if answer.kind == "select":
            assert answer.rows == []
        elif answer.kind == "graph":
            assert list(answer.triples) == []
        else:
            assert answer.boolean is False


@pytest.mark.parametrize("name", drug_queries())
@ALL_ENGINES
def test_drug_queries_also_answer_with_the_drug_unbound(name: str, engine: str) -> None:
    """Left unbound, ?drug ranges over every drug: on the bundled graph, naltrexone alone."""
    graph = LocalGraph.open()
    query = get_saved_query(name)
    bound = graph.bindings(query, None)
    unbound = {k: v for k, v in bound.items() if k != "drug"}
    expected = graph.run_text(query.text, bound, engine)
    actual = graph.run_text(query.text, unbound, engine)
    assert _comparable(actual) == _comparable(expected)


@pytest.mark.parametrize("name", saved_query_names())
@ALL_ENGINES
def test_an_inline_values_clause_binds_like_substitution(name: str, engine: str) -> None:
    """Endpoints without pre-binding (such as Virtuoso) get the parameters as a VALUES block opening the
    outermost group pattern; the answer must be the same as with substitution."""
    graph = LocalGraph.open()
    query = get_saved_query(name)
    bound = graph.bindings(query, None)
    if not bound:
        return
    body = _body(query)
    where = re.search(r"\bWHERE\s*\{", body) if query.form != "ASK" else re.search(r"\{", body)
    assert where is not None
    names = " ".join(f"?{k}" for k in bound)
    values = " ".join(str(v) for v in bound.values())
    text = f"{body[: where.end()]}\n  VALUES ({names}) {{ ({values}) }}\n{body[where.end() :]}"
    assert _comparable(graph.run_text(text, {}, engine)) == _comparable(graph.run_text(query.text, bound, engine))


def _comparable(result: LocalResult) -> Any:
    if result.kind == "select":
        return result.variables, result.to_python()
    if result.kind == "graph":
        return {str(t) for t in result.triples}
    return result.boolean
