"""Synthetic drugs in ntx-graph's own schema, for the scale tests and the benchmarks
(not part of the installed package).

:func:`generate` yields the triples of ``n_drugs`` made-up drugs, about 105
triples each, built like ``ontology/naltrexone.ttl``: a drug with its labels
and flags, indications (condition, approval status, evidence level), side
effects (frequency, severity, body system, patient action), a mechanism of
action with its certainty, a formulation, a statement, and on some drugs a
regimen, an overdose risk with a warning sign, a contraindication, a
treatment duration or timing. Every claim is derived from the run's one
synthetic source document, which holds each drug's sentences in turn, and
carries W3C Web Annotation quotes whose offsets and SHA-256 are those of the
document :func:`source_text` returns; :func:`write_generated` writes that
document beside the data file (``NAME.source.txt``) and records its file name,
so ``ntx-graph check --data NAME.nt`` verifies every generated quote.

The drugs and their claims live under ``https://w3id.org/ntx-graph/id/synthetic/``;
they reuse the real value scales (``evidence:``, ``severity:``, ...) and the
real conditions, symptoms, body systems, patient actions and targets of the
bundled graph, so the saved queries return rows on them once the generated
file is loaded next to the bundled graph. The output depends only on
``n_drugs`` and ``seed`` (only ``random.Random.random`` is used, whose
sequence Python keeps stable), so a file written twice is byte-identical.

>>> triples = list(generate(2, seed=1))
>>> len(triples) > 150, len({str(t) for t in triples}) == len(triples)
(True, True)
>>> source_text(2, seed=1).startswith(SOURCE_HEADER.format(seed=1))
True
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

from pyoxigraph import Literal, NamedNode, RdfFormat, Triple, serialize

from ntx_graph.errors import NtxError
from ntx_graph.output import atomic_write

__all__ = ["GENERATED_PREFIXES", "SOURCE_HEADER", "SYNTHETIC", "SyntheticDrug", "generate", "source_iri",
           "source_path_for", "source_text", "synthetic_drug", "write_generated"]

#: The namespace of every generated individual.
SYNTHETIC = "https://w3id.org/ntx-graph/id/synthetic/"
_ID = "https://w3id.org/ntx-graph/id/"
_DEF = "https://w3id.org/ntx-graph/def/"
_XSD = "http://www.w3.org/2001/XMLSchema#"

#: The prefixes of a generated Turtle file (the bundled graph's, plus one per synthetic kind).
GENERATED_PREFIXES: dict[str, str] = {
    "ntx": _DEF,
    "evidence": _DEF + "evidence-level/",
    "approval": _DEF + "approval-status/",
    "severity": _DEF + "severity/",
    "frequency": _DEF + "frequency/",
    "certainty": _DEF + "certainty/",
    "modality": _DEF + "source-modality/",
    "cond": _ID + "condition/",
    "sym": _ID + "symptom/",
    "system": _ID + "body-system/",
    "action": _ID + "action/",
    "target": _ID + "target/",
    "drugclass": _ID + "drug-class/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": _XSD,
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "oa": "http://www.w3.org/ns/oa#",
    "schema": "https://schema.org/",
    "sdrug": SYNTHETIC + "drug/",
    "sind": SYNTHETIC + "indication/",
    "sse": SYNTHETIC + "side-effect/",
    "smech": SYNTHETIC + "mechanism/",
    "sform": SYNTHETIC + "formulation/",
    "sregimen": SYNTHETIC + "regimen/",
    "soverdose": SYNTHETIC + "overdose-risk/",
    "ssign": SYNTHETIC + "warning-sign/",
    "sprec": SYNTHETIC + "precaution/",
    "sduration": SYNTHETIC + "treatment-duration/",
    "stiming": SYNTHETIC + "treatment-timing/",
    "sstmt": SYNTHETIC + "statement/",
    "ssrc": SYNTHETIC + "source/",
    "sq": SYNTHETIC + "quote/",
    "ssel": SYNTHETIC + "selector/",
    "sext": SYNTHETIC + "external/",
}

_P = GENERATED_PREFIXES
#: The first line of a run's source document (then each drug's section in turn).
SOURCE_HEADER = "Synthetic drug facts, seed {seed}\n\n"
#: The source file name recorded when :func:`generate` is not told one.
DEFAULT_SOURCE_PATH = "generated.source.txt"
_T = TypeVar("_T")


def _n(prefix: str, local: str) -> NamedNode:
    return NamedNode(_P[prefix] + local)


# -- terms used on every drug, built once --------------------------------------

_RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_LABEL = _n("rdfs", "label")
_C = {name: _n("ntx", name) for name in (
    "Drug", "Indication", "SideEffect", "MechanismOfAction", "Formulation", "Regimen", "OverdoseRisk",
    "WarningSign", "Contraindication", "TreatmentDuration", "TreatmentTiming", "Statement", "SourceDocument",
)}
_PR = {name: _n("ntx", name) for name in (
    "drug", "isNarcotic", "curesAddiction", "hasIndication", "hasSideEffect", "hasMechanism", "condition",
    "approvalStatus", "evidenceLevel", "isPrimaryUse", "therapeuticGoal", "effect", "frequency", "severity",
    "worstSeverity", "bodySystem", "patientAction", "listPosition", "usuallyTemporary", "target", "certainty",
    "dosageForm", "formulation", "dosingFrequency", "consequence", "sign", "warnsOf", "patientCondition", "risk",
    "durationValue", "durationUnit", "durationQualifier", "population", "statementSubject", "statementProperty",
    "statementValue", "evidenceQuote", "principalQuote", "sourceModality", "modalityQuote", "expressesModality",
    "sha256", "repositoryPath",
)}
_DRUG_CLASS = _n("schema", "drugClass")
_PRESCRIPTION_STATUS = _n("schema", "prescriptionStatus")
_PRESCRIPTION_ONLY = _n("schema", "PrescriptionOnly")
_EXACT_MATCH = _n("skos", "exactMatch")
_DERIVED_FROM = _n("prov", "wasDerivedFrom")
_TITLE = _n("dcterms", "title")
_FORMAT = _n("dcterms", "format")
_OA = {name: _n("oa", name) for name in (
    "SpecificResource", "TextQuoteSelector", "TextPositionSelector", "hasSource", "hasSelector", "exact", "start",
    "end",
)}
_OPIOID_ANTAGONIST = _n("drugclass", "opioid-receptor-antagonist")
_TRUE = Literal("true", datatype=NamedNode(_XSD + "boolean"))
_FALSE = Literal("false", datatype=NamedNode(_XSD + "boolean"))
_INTEGER = NamedNode(_XSD + "integer")
_TEXT_PLAIN = Literal("text/plain")
#: How the synthetic text puts a mechanism of each certainty ("is believed to", "in a way that is not understood").
_MECHANISM_MODALITY = {"established": "stated", "hypothesis": "believed-by-researchers",
                       "not-understood": "not-understood"}

#: Real conditions of the bundled graph, with their labels: leaves of the
#: hierarchy (under substance dependence or behavioural addiction) and the
#: top-level ones the source names.
_CONDITIONS = (
    ("alcohol-dependence", "alcohol dependence"), ("opioid-dependence", "opioid dependence"),
    ("pornography-addiction", "pornography addiction"), ("kleptomania", "kleptomania"),
    ("trichotillomania", "trichotillomania"), ("compulsive-gambling", "compulsive gambling"),
    ("self-destructive-behaviour", "self-destructive behaviour"),
    ("depersonalization-disorder", "depersonalization disorder"), ("multiple-sclerosis", "multiple sclerosis"),
    ("hiv", "HIV"), ("cancer", "cancer"),
)
_PRIMARY_CONDITIONS = _CONDITIONS[:6]
#: Real symptoms with the body system the bundled graph files them under.
_EFFECTS = (
    ("stomach-upset", "stomach upset", "gastrointestinal"), ("vomiting", "vomiting", "gastrointestinal"),
    ("diarrhoea", "diarrhoea", "gastrointestinal"), ("muscle-or-joint-pain", "muscle or joint pain", "musculoskeletal"),
    ("nervousness", "nervousness", "psychiatric"), ("anxiety", "anxiety", "psychiatric"),
    ("drowsiness", "drowsiness", "nervous-system"), ("confusion", "confusion", "psychiatric"),
    ("hallucinations", "hallucinations", "psychiatric"), ("skin-rash", "skin rash", "skin"),
    ("blurred-vision", "blurred vision", "eye"),
)
_LIVER_SIGNS = (
    ("severe-fatigue", "severe fatigue"), ("unusual-bleeding-or-bruising", "unusual bleeding or bruising"),
    ("loss-of-appetite", "loss of appetite"), ("dark-urine", "dark urine"),
    ("yellowing-of-skin-or-eyes", "yellowing of the skin or eyes"),
    ("right-upper-stomach-pain", "pain in the right upper part of the stomach"),
)
#: (phrase, certainty, target or None)
_MECHANISMS = (
    ("blocks the opioid receptor", "established", "opioid-receptor"),
    ("blocks the feeling of pleasure that alcohol and narcotics produce in the brain", "established",
     "brain-reward-region"),
    ("is believed to reduce craving by acting on the dopamine pathways of the brain", "hypothesis",
     "dopamine-pathways"),
    ("reduces craving in a way that is not understood", "not-understood", None),
)
_FORMS = (("pill", "once a day"), ("tablet", "twice a day"), ("injection", "once a month"), ("capsule", "once a day"))
_OFF_LABEL_EVIDENCE = (
    "not-supported", "no-evidence-cited", "studies-indicate-possible-benefit", "supported-by-studies",
)
_SYLLABLES = ("ba", "co", "da", "fe", "li", "mo", "nu", "ra", "si", "to", "vi", "ze", "ka", "lo", "pe", "tu")
_SUFFIXES = ("trexone", "xamine", "pirone", "dolol", "zepam", "mefene", "tidine", "sartan")


@dataclass(frozen=True)
class SyntheticDrug:
    """One generated drug: its triples and its section of the run's source
    document (``text``, which starts at character ``offset`` of the document)."""

    index: int
    name: str
    iri: NamedNode
    text: str
    offset: int
    triples: list[Triple]


def _rng(seed: int, index: int) -> Callable[[], float]:
    """A generator of floats in [0, 1) for one drug, independent of every other drug."""
    return random.Random(seed * 1_000_003 + index).random


def _pick(draw: Callable[[], float], options: tuple[_T, ...]) -> _T:
    return options[int(draw() * len(options))]


def _int(value: int) -> Literal:
    return Literal(str(value), datatype=_INTEGER)


def _en(text: str) -> Literal:
    return Literal(text, language="en")


def source_iri(seed: int = 0) -> NamedNode:
    """The IRI of the source document of the run with ``seed``."""
    return _n("ssrc", f"seed-{seed}")


def synthetic_drug(index: int, seed: int = 0, offset: int = 0) -> SyntheticDrug:
    """The ``index``-th synthetic drug of ``seed``: its triples and its section
    of the source document, taken to start at character ``offset`` of it (in a
    run, :func:`generate` passes where it starts; its other facts do not depend
    on ``offset``)."""
    draw = _rng(seed, index)
    stem = "".join(_pick(draw, _SYLLABLES) for _ in range(3))
    slug = f"{stem}{_pick(draw, _SUFFIXES)}-{index}"
    name = slug.capitalize()
    drug = _n("sdrug", slug)
    source = source_iri(seed)
    out: list[Triple] = []

    def add(s: NamedNode, p: NamedNode, o: NamedNode | Literal) -> None:
        out.append(Triple(s, p, o))

    # -- what the drug's source document says ---------------------------------
    cond1, cond1_label = _pick(draw, _PRIMARY_CONDITIONS)
    cond2, cond2_label = _pick(draw, tuple(c for c in _CONDITIONS if c[0] != cond1))
    approved = draw() < 0.8
    evidence2 = _pick(draw, _OFF_LABEL_EVIDENCE)
    effect1 = _pick(draw, _EFFECTS)
    effect2 = _pick(draw, tuple(e for e in _EFFECTS if e[0] != effect1[0]))
    rare2 = draw() < 0.5
    mechanism = _pick(draw, _MECHANISMS)
    form, dosing = _pick(draw, _FORMS)
    narcotic = draw() < 0.1
    extras = draw()
    has_regimen = draw() < 0.3
    sign = _pick(draw, _LIVER_SIGNS)
    duration_value = 4 + int(draw() * 49)

    use_sentence = (f"{name} is an opioid receptor antagonist that {mechanism[0]}, available as a {form} taken "
                    f"{dosing} and used in the treatment of {cond1_label}; its off-label use may include "
                    f"{cond2_label}.")
    if rare2:
        effects_sentence = (f"Common side effects of {name} include {effect1[1]}; rare side effects such as "
                            f"{effect2[1]} are severe enough to notify the health care provider immediately.")
    else:
        effects_sentence = (f"Common side effects of {name} include {effect1[1]} and {effect2[1]}; if they become "
                            "bothersome, tell the health care provider.")
    sentences = [("uses", use_sentence), ("side-effects", effects_sentence)]
    text = f"Facts about {name}\n\n"
    spans: dict[str, tuple[str, int, int]] = {}
    for key, sentence in sentences:
        start = offset + len(text)
        text += sentence + " "
        spans[key] = (sentence, start, start + len(sentence))
    text = text.rstrip() + "\n\n"
    quote = {key: _n("sq", f"{slug}-{key}") for key in spans}

    # -- the drug -----------------------------------------------------------------
    ind1, ind2 = _n("sind", f"{slug}-{cond1}"), _n("sind", f"{slug}-{cond2}")
    se1, se2 = _n("sse", f"{slug}-{effect1[0]}"), _n("sse", f"{slug}-{effect2[0]}")
    mech = _n("smech", f"{slug}-{mechanism[1]}")
    add(drug, _RDF_TYPE, _C["Drug"])
    add(drug, _LABEL, _en(slug))
    add(drug, _DRUG_CLASS, _OPIOID_ANTAGONIST)
    add(drug, _PRESCRIPTION_STATUS, _PRESCRIPTION_ONLY)
    add(drug, _PR["isNarcotic"], _TRUE if narcotic else _FALSE)
    add(drug, _EXACT_MATCH, _n("sext", f"D{index:07d}"))
    for node in (ind1, ind2):
        add(drug, _PR["hasIndication"], node)
    for node in (se1, se2):
        add(drug, _PR["hasSideEffect"], node)
    add(drug, _PR["hasMechanism"], mech)

    def claim(node: NamedNode, cls: str, label: str, *quotes: str, modality: str = "stated") -> None:
        add(node, _RDF_TYPE, _C[cls])
        add(node, _LABEL, _en(label))
        add(node, _PR["drug"], drug)
        add(node, _DERIVED_FROM, source)
        add(node, _PR["sourceModality"], _n("modality", modality))
        if modality != "stated":  # the hedge words are in the claim's first quote
            add(node, _PR["modalityQuote"], quote[quotes[0]])
            add(quote[quotes[0]], _PR["expressesModality"], _n("modality", modality))
        add(node, _PR["principalQuote"], quote[quotes[0]])
        for key in quotes:
            add(node, _PR["evidenceQuote"], quote[key])

    # -- a statement recording the drug-class triple ------------------------------
    statement = _n("sstmt", f"{slug}-drug-class")
    claim(statement, "Statement", f"{slug} is an opioid receptor antagonist", "uses")
    add(statement, _PR["statementSubject"], drug)
    add(statement, _PR["statementProperty"], _DRUG_CLASS)
    add(statement, _PR["statementValue"], _OPIOID_ANTAGONIST)

    # -- indications ----------------------------------------------------------------
    claim(ind1, "Indication", f"{slug} for {cond1_label}", "uses")
    add(ind1, _PR["condition"], _n("cond", cond1))
    add(ind1, _PR["approvalStatus"], _n("approval", "approved" if approved else "off-label"))
    add(ind1, _PR["evidenceLevel"], _n("evidence", "established-use" if approved else "supported-by-studies"))
    add(ind1, _PR["isPrimaryUse"], _TRUE)
    claim(ind2, "Indication", f"{slug} for {cond2_label}", "uses")
    add(ind2, _PR["condition"], _n("cond", cond2))
    add(ind2, _PR["approvalStatus"], _n("approval", "off-label"))
    add(ind2, _PR["evidenceLevel"], _n("evidence", evidence2))
    add(ind2, _PR["isPrimaryUse"], _FALSE)

    # -- side effects -----------------------------------------------------------------
    for position, (node, (effect, effect_label, system), rare) in enumerate(
            ((se1, effect1, False), (se2, effect2, rare2)), start=1):
        claim(node, "SideEffect", f"{effect_label} ({'rare' if rare else 'common'} side effect of {slug})",
              "side-effects")
        add(node, _PR["effect"], _n("sym", effect))
        add(node, _PR["frequency"], _n("frequency", "rare" if rare else "common"))
        add(node, _PR["severity"], _n("severity", "severe" if rare else "mild"))
        if not rare:
            add(node, _PR["worstSeverity"], _n("severity", "severe"))
        add(node, _PR["bodySystem"], _n("system", system))
        add(node, _PR["patientAction"],
            _n("action", "notify-provider-immediately" if rare else "tell-provider-if-bothersome"))
        add(node, _PR["listPosition"], _int(position))

    # -- mechanism, formulation, regimen ------------------------------------------------
    claim(mech, "MechanismOfAction", f"{slug} {mechanism[0]}", "uses", modality=_MECHANISM_MODALITY[mechanism[1]])
    if mechanism[2] is not None:
        add(mech, _PR["target"], _n("target", mechanism[2]))
    add(mech, _PR["certainty"], _n("certainty", mechanism[1]))
    formulation = _n("sform", f"{slug}-{form}")
    claim(formulation, "Formulation", f"{slug} {form}", "uses")
    add(formulation, _PR["dosageForm"], Literal(form))
    if has_regimen:
        regimen = _n("sregimen", f"{slug}-{form}")
        claim(regimen, "Regimen", f"{slug} {form} {dosing}", "uses")
        add(regimen, _PR["formulation"], formulation)
        add(regimen, _PR["dosingFrequency"], Literal(dosing))

    # -- on some drugs: an overdose risk, a contraindication, a duration or a timing -------
    if extras < 0.15:
        risk = _n("soverdose", f"{slug}-liver-damage")
        claim(risk, "OverdoseRisk", f"{slug} overdose can cause liver damage", "side-effects")
        add(risk, _PR["consequence"], _n("cond", "liver-damage"))
        warning = _n("ssign", f"{slug}-{sign[0]}")
        claim(warning, "WarningSign", f"{sign[1]} (warning sign of liver damage from {slug})", "side-effects")
        add(warning, _PR["sign"], _n("sym", sign[0]))
        add(warning, _PR["warnsOf"], risk)
        add(warning, _PR["patientAction"], _n("action", "stop-medication-and-get-medical-attention"))
        add(warning, _PR["listPosition"], _int(1))
    elif extras < 0.35:
        precaution = _n("sprec", f"{slug}-physical-dependence")
        claim(precaution, "Contraindication", f"{slug} cannot be given to people physically dependent on narcotics",
              "uses")
        add(precaution, _PR["patientCondition"], _n("cond", "physical-dependence"))
        add(precaution, _PR["risk"], _n("sym", "withdrawal-symptoms"))
        add(precaution, _PR["listPosition"], _int(1))
    elif extras < 0.5:
        duration = _n("sduration", f"{slug}-{cond1}")
        claim(duration, "TreatmentDuration", f"{slug} is prescribed for up to {duration_value} weeks", "uses")
        add(duration, _PR["condition"], _n("cond", cond1))
        add(duration, _PR["population"], Literal(f"people treated for {cond1_label}"))
        add(duration, _PR["durationValue"], _int(duration_value))
        add(duration, _PR["durationUnit"], Literal("weeks"))
        add(duration, _PR["durationQualifier"], Literal("up to"))
    elif extras < 0.6:
        timing = _n("stiming", f"{slug}-early-abstinence")
        claim(timing, "TreatmentTiming", f"start {slug} early in abstinence", "uses")

    # -- the quotes -------------------------------------------------------------------------
    for key, (sentence, start, end) in spans.items():
        node = quote[key]
        quote_selector, position_selector = _n("ssel", f"{slug}-{key}-quote"), _n("ssel", f"{slug}-{key}-position")
        add(node, _RDF_TYPE, _OA["SpecificResource"])
        add(node, _OA["hasSource"], source)
        add(node, _OA["hasSelector"], quote_selector)
        add(node, _OA["hasSelector"], position_selector)
        add(quote_selector, _RDF_TYPE, _OA["TextQuoteSelector"])
        add(quote_selector, _OA["exact"], Literal(sentence))
        add(position_selector, _RDF_TYPE, _OA["TextPositionSelector"])
        add(position_selector, _OA["start"], _int(start))
        add(position_selector, _OA["end"], _int(end))
    return SyntheticDrug(index=index, name=slug, iri=drug, text=text, offset=offset, triples=out)


def source_text(n_drugs: int, seed: int = 0) -> str:
    """The source document of a run of ``n_drugs`` drugs (every quote's offsets point into it)."""
    return SOURCE_HEADER.format(seed=seed) + "".join(drug.text for drug in _drugs(n_drugs, seed))


def _drugs(n_drugs: int, seed: int) -> Iterator[SyntheticDrug]:
    offset = len(SOURCE_HEADER.format(seed=seed))
    for index in range(n_drugs):
        drug = synthetic_drug(index, seed, offset)
        offset += len(drug.text)
        yield drug


def generate(n_drugs: int, seed: int = 0, source_path: str = DEFAULT_SOURCE_PATH,
             text: list[str] | None = None) -> Iterator[Triple]:
    """The triples of ``n_drugs`` synthetic drugs (about 105 each), one drug at a
    time, each subject's triples together, then those of the run's source
    document (recorded at ``source_path``, relative to the data file).
    Deterministic for a given seed. The document's text is appended to
    ``text`` as it is made, when given."""
    if n_drugs < 0:
        raise NtxError(f"the number of drugs must be 0 or more, not {n_drugs}")
    header = SOURCE_HEADER.format(seed=seed)
    digest = hashlib.sha256(header.encode())
    if text is not None:
        text.append(header)
    for drug in _drugs(n_drugs, seed):
        digest.update(drug.text.encode())
        if text is not None:
            text.append(drug.text)
        yield from drug.triples
    source = source_iri(seed)
    yield Triple(source, _RDF_TYPE, _C["SourceDocument"])
    yield Triple(source, _TITLE, _en(f"Synthetic drug facts, seed {seed}, {n_drugs} drugs"))
    yield Triple(source, _FORMAT, _TEXT_PLAIN)
    yield Triple(source, _PR["repositoryPath"], Literal(source_path))
    yield Triple(source, _PR["sha256"], Literal(digest.hexdigest()))


def source_path_for(path: str | os.PathLike[str]) -> Path:
    """Where :func:`write_generated` writes the source document of the data file ``path``."""
    target = Path(path)
    return target.with_name(target.name.rsplit(".", 1)[0] + ".source.txt")


_WRITE_FORMATS = ("ntriples", "turtle")
_SUFFIX_FORMATS = {".nt": "ntriples", ".ttl": "turtle", ".turtle": "turtle"}


def _create_temporary(target: Path) -> tuple[BinaryIO, Path]:
    """A new hidden file beside ``target`` (permissions as for any new file), open for writing."""
    directory = target.parent
    for _ in range(100):
        temporary = directory / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return os.fdopen(descriptor, "wb"), temporary
    raise FileExistsError(f"no free temporary name beside {target}")


class _SkipPrefixLines(io.RawIOBase):
    """A writer passing everything on to ``out`` except the leading ``@prefix`` lines
    (written beforehand in name order, so that the header does not depend on the
    serializer's own order)."""

    def __init__(self, out: BinaryIO) -> None:
        super().__init__()
        self._out = out
        self._pending = b""
        self._in_header = True

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        if not self._in_header:
            self._out.write(chunk)
            return len(chunk)
        self._pending += chunk
        while self._in_header:
            end = self._pending.find(b"\n")
            if end < 0:
                if self._pending and not b"@prefix ".startswith(self._pending[:8]):
                    self._in_header = False
                break
            if self._pending.startswith(b"@prefix "):
                self._pending = self._pending[end + 1:]
            else:
                self._in_header = False
        if not self._in_header:
            self._out.write(self._pending)
            self._pending = b""
        return len(chunk)


def write_generated(path: str | os.PathLike[str], n_drugs: int, seed: int = 0, fmt: str | None = None) -> int:
    """Write :func:`generate`'s triples to ``path`` as N-Triples or Turtle
    (``fmt``, else guessed from the extension: ``.ttl`` is Turtle, anything else
    N-Triples), streaming, through a temporary file renamed into place, so
    ``path`` is never half-written; and the run's source document beside it
    (:func:`source_path_for`). Returns the number of triples written."""
    target = Path(path)
    source = source_path_for(target)
    text: list[str] = []
    name = fmt or _SUFFIX_FORMATS.get(target.suffix.lower(), "ntriples")
    if name not in _WRITE_FORMATS:
        raise NtxError(f"cannot write generated data as {name!r}; use one of {', '.join(_WRITE_FORMATS)}")
    count = 0

    def counted() -> Iterator[Triple]:
        nonlocal count
        for triple in generate(n_drugs, seed, source.name, text):
            count += 1
            yield triple

    try:
        handle, temporary = _create_temporary(target)
    except OSError as error:
        raise NtxError(f"{target}: cannot be written ({error.strerror or error})") from None
    try:
        with handle:
            if name == "turtle":
                header = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in sorted(GENERATED_PREFIXES.items()))
                handle.write(header.encode())
                body = cast(BinaryIO, _SkipPrefixLines(handle))
                serialize(counted(), body, format=RdfFormat.TURTLE, prefixes=GENERATED_PREFIXES)
            else:
                serialize(counted(), handle, format=RdfFormat.N_TRIPLES)
            handle.flush()
            os.fsync(handle.fileno())
        atomic_write(source, "".join(text).encode())
        os.replace(temporary, target)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise NtxError(f"{target}: cannot be written ({error.strerror or error})") from None
        raise
    return count
