"""The graph says what "Facts about Naltrexone" says, no more and no less.

One test per finding of the review against the source, each phrased as the
question a user asks and the answer the source gives. The queries use the
prefixes of the bundled Turtle files (``ind:``, ``q:``, ``modality:``, ...).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ntx_graph.graph import KnowledgeGraph
from ntx_graph.resources import source_file

ID = "https://w3id.org/ntx-graph/id/"
DEF = "https://w3id.org/ntx-graph/def/"


@cache
def graph() -> KnowledgeGraph:
    return KnowledgeGraph.open()


def rows(sparql: str) -> list[dict[str, Any]]:
    return graph().query(sparql).to_python()


def column(sparql: str) -> list[Any]:
    return [next(iter(row.values())) for row in rows(sparql)]


def ask(sparql: str) -> bool:
    answer = graph().query(sparql).boolean
    assert answer is not None
    return answer


def local(iris: list[str]) -> list[str]:
    return sorted(iri.rsplit("/", 1)[-1] for iri in iris)


def quote_of(claim: str, prop: str = "ntx:principalQuote") -> list[str]:
    return column(f"SELECT ?text WHERE {{ {claim} {prop}/oa:hasSelector/oa:exact ?text }} ORDER BY ?text")


# --- 1. approval ------------------------------------------------------------------------


def test_which_uses_does_the_source_say_are_approved() -> None:
    """None: the one approval it names is of the injection, a formulation, by the FDA."""
    assert column("SELECT ?use WHERE { ?use a ntx:Indication ; ntx:approvalStatus approval:approved }") == []
    assert rows("SELECT ?form ?by WHERE { ?form ntx:approvalStatus approval:approved ; ntx:approvedBy ?by }") == [
        {"form": ID + "formulation/injection", "by": ID + "organization/fda"}]
    assert quote_of("form:injection") == ["Alternatively, FDA approved Naltrexone injection is also available."]


def test_which_uses_does_the_source_call_off_label() -> None:
    """Multiple sclerosis, HIV and cancer: 'its off-label use may include treating conditions of ...'."""
    off_label = column("SELECT ?use WHERE { ?use a ntx:Indication ; ntx:approvalStatus approval:off-label }")
    assert local(off_label) == ["cancer", "hiv", "multiple-sclerosis"]


def test_what_does_the_source_say_about_the_approval_of_the_other_uses() -> None:
    """Nothing: the main uses, depersonalization disorder and the studied uses have 'not stated'."""
    not_stated = column("SELECT ?use WHERE { ?use a ntx:Indication ; ntx:approvalStatus approval:not-stated }")
    assert local(not_stated) == [
        "alcohol-dependence", "compulsive-gambling", "depersonalization-disorder", "kleptomania", "opioid-dependence",
        "pornography-addiction", "self-destructive-behaviour", "trichotillomania"]
    assert column("SELECT ?label WHERE { approval:not-stated skos:prefLabel ?label }") == [
        "approval status not stated in the source"]


def test_what_are_the_main_uses_and_are_they_approved() -> None:
    """Serious alcohol or opioid dependence ('mainly used'); the source states no approval of them."""
    answer = graph().run("primary-uses").to_python()
    assert [(r["condition"], r["approvalOfUse"]) for r in answer] == [
        ("alcohol dependence", "approval status not stated in the source"),
        ("opioid dependence", "approval status not stated in the source")]
    assert {r["approvedFormulation"] for r in answer} == {"naltrexone injection"}


def test_which_off_label_uses_lack_evidence() -> None:
    """HIV and cancer (not supported by scientific evidence) and multiple sclerosis (no evidence cited)."""
    answer = graph().run("off-label-uses-lacking-evidence").to_python()
    assert [(r["condition"], r["evidence"]) for r in answer] == [
        ("HIV", "explicitly not supported by scientific evidence"),
        ("cancer", "explicitly not supported by scientific evidence"),
        ("multiple sclerosis", "use reported, no evidence cited")]


def test_no_evidence_level_claims_an_approval() -> None:
    labels = column("SELECT ?label WHERE { ?level a ntx:EvidenceLevel ; skos:prefLabel ?label }")
    assert labels and not [label for label in labels if "approv" in label]


# --- 2. the craving caveat ------------------------------------------------------------


def test_how_certain_is_the_craving_reduction_mechanism() -> None:
    """'how this craving is minimized by naltrexone is not fully understood'."""
    answer = rows("""
        SELECT ?certainty ?text WHERE {
            ?how ntx:explains mech:reduces-craving ; ntx:certainty/skos:prefLabel ?certainty ;
                ntx:principalQuote/oa:hasSelector/oa:exact ?text .
            FILTER NOT EXISTS { ?how ntx:target ?target }
        }""")
    assert answer == [{"certainty": "not fully understood",
                       "text": "how this craving is minimized by naltrexone is not fully understood"}]


def test_how_certain_is_the_craving_reduction_itself() -> None:
    """Stated as known: 'Naltrexone is known to reduce the craving ... in people who have stopped drinking.'"""
    assert column("SELECT ?c WHERE { mech:reduces-craving ntx:certainty/skos:prefLabel ?c }") == ["established"]
    assert column("SELECT ?m WHERE { mech:reduces-craving ntx:sourceModality ?m }") == [
        DEF + "source-modality/stated"]
    # the "not fully understood" caveat is on the mechanism it qualifies, not on the effect
    assert not ask("ASK { mech:reduces-craving ntx:evidenceQuote q:not-fully-understood }")
    assert ask("ASK { mech:craving-reduction-mechanism ntx:evidenceQuote q:not-fully-understood }")


def test_what_do_researchers_believe_about_how_it_works() -> None:
    """A hypothesis: it works by affecting the pathways where dopamine is *usually* found."""
    answer = rows("""SELECT ?certainty ?target WHERE { mech:dopamine-pathways ntx:certainty/skos:prefLabel ?certainty ;
                     ntx:target/rdfs:label ?target }""")
    assert answer == [{"certainty": "hypothesis",
                       "target": "neural pathways in the brain where dopamine is usually found"}]
    assert quote_of("mech:dopamine-pathways", "ntx:modalityQuote") == ["Researchers believe"]


# --- 3. hedges ---------------------------------------------------------------------------


def test_which_claims_does_the_source_only_suggest() -> None:
    """Those it gives as possible, reported by studies, believed by researchers, usual, or not understood."""
    suggested = {r["claim"] for r in graph().run("suggested-claims").to_python()}
    assert local(list(suggested)) == sorted([
        "overall-addiction-programme", "withdrawal-in-physical-dependence", "craving-reduction-mechanism",
        "dopamine-pathways", "opioid-dependence", "alcohol-dependence", "injection-reduces-compliance-problems",
        "injection-more-effective", "multiple-sclerosis", "hiv", "cancer", "pornography-addiction", "kleptomania",
        "trichotillomania", "compulsive-gambling", "self-destructive-behaviour", "liver-damage"])
    stated = column("SELECT ?c WHERE { ?c ntx:sourceModality modality:stated }")
    assert not suggested & set(stated)


def test_does_every_claim_record_how_the_source_puts_it() -> None:
    assert column("""SELECT ?claim WHERE { ?claim ntx:evidenceQuote ?q .
                     FILTER NOT EXISTS { ?claim ntx:sourceModality ?m } }""") == []


def test_which_hedges_of_the_source_does_the_graph_keep() -> None:
    """Every hedge the review named, each as the quote of the modality it expresses."""
    hedges = rows("""SELECT ?text ?modality WHERE { ?claim ntx:modalityQuote ?q .
                     ?q ntx:expressesModality/skos:prefLabel ?modality ; oa:hasSelector/oa:exact ?text }""")
    found = {(r["text"], r["modality"]) for r in hedges}
    expected = {
        ("may include", "possible"), ("might be beneficial", "possible"), ("Studies indicate", "reported by studies"),
        ("Researchers believe", "believed by researchers"), ("usually mild and temporary", "usual or general"),
        ("may also become severe and last longer for some individuals", "possible"),
        ("might also vary", "possible"), ("In general", "usual or general"),
        ("often reduce", "usual or general"), ("is not fully understood", "not understood"),
    }
    assert expected <= found
    text = source_file().read_text(encoding="utf-8")
    assert all(words in text for words, _ in found)


def test_which_lists_are_open() -> None:
    """The programme's components ('may include'), the off-label uses ('may include'), the behavioural
    addictions ('such as') and the liver warning signs ('Symptoms such as')."""
    open_items = column("SELECT ?c WHERE { ?c ntx:openList true }")
    assert local(open_items) == sorted([
        "overall-addiction-programme", "multiple-sclerosis", "hiv", "cancer", "pornography-addiction", "kleptomania",
        "trichotillomania", "compulsive-gambling", "severe-fatigue", "unusual-bleeding-or-bruising",
        "loss-of-appetite", "dark-urine", "yellowing-of-skin-or-eyes", "right-upper-stomach-pain"])


def test_how_severe_are_the_common_side_effects() -> None:
    """'usually mild and temporary, but may also become severe': usual mild, worst severe, both hedged."""
    answer = rows("""SELECT DISTINCT ?usual ?worst WHERE { ?se ntx:frequency frequency:common ;
                     ntx:severity/skos:prefLabel ?usual ; ntx:worstSeverity/skos:prefLabel ?worst ;
                     ntx:sourceModality modality:usual , modality:possible }""")
    assert answer == [{"usual": "mild", "worst": "severe"}]


# --- 4. typing ---------------------------------------------------------------------------


def test_is_the_varying_treatment_length_a_precaution() -> None:
    """No: it qualifies the durations ('might also vary depending on the amount of drug taken ...')."""
    assert not ask("ASK { ?p a ntx:Precaution ; ntx:evidenceQuote q:length-varies }")
    answer = rows("SELECT ?d ?with WHERE { ?d a ntx:TreatmentDuration ; ntx:mayVaryWith ?with ; "
                  "ntx:sourceModality modality:possible ; ntx:modalityQuote q:hedge-might-also-vary }")
    assert local([r["d"] for r in answer]) == ["alcohol-dependence", "opioid-dependence"]
    assert {r["with"] for r in answer} == {"the amount of drug taken for dependence and how long it was taken"}


def test_what_calls_for_telling_the_physician_before_treatment() -> None:
    """Withdrawal symptoms are the trigger of the action, not a risk of ignoring it."""
    assert column("SELECT ?t WHERE { prec:report-withdrawal-symptoms ntx:trigger ?t }") == [
        ID + "symptom/withdrawal-symptoms"]
    assert not ask("ASK { prec:report-withdrawal-symptoms ntx:risk ?r }")


def test_how_many_pills_a_day() -> None:
    """The source gives no pill count: 'should be taken once in a day'."""
    label = column("SELECT ?l WHERE { regimen:pill-once-a-day rdfs:label ?l }")
    assert label == ["naltrexone pill taken once a day"]
    assert "one" not in label[0].split()


def test_when_does_treatment_start() -> None:
    """'only when the patient is no longer dependent to narcotics or alcohol': any dependence, not only physical."""
    assert column("SELECT ?c WHERE { prec:start-only-when-no-longer-dependent ntx:patientCondition ?c }") == [
        ID + "condition/substance-dependence"]


def test_in_whom_does_it_block_the_pleasure_and_for_whom_is_it_mainly_used() -> None:
    assert column("SELECT ?p WHERE { mech:blocks-narcotic-and-alcohol-effects ntx:population ?p }") == [
        "people who are addicted to alcohol or opioid drugs"]
    assert set(column("SELECT ?p WHERE { ?use ntx:isPrimaryUse true ; ntx:population ?p }")) == {
        "people having serious alcohol or opioid dependence"}


def test_which_body_systems_does_the_source_name() -> None:
    """Only 'Gastrointestinal'; the curators assigned the others."""
    named = column("SELECT ?e WHERE { ?se ntx:bodySystemStated true ; ntx:effect ?e }")
    assert local(named) == ["diarrhoea", "stomach-upset", "vomiting"]
    assert len(column("SELECT ?se WHERE { ?se ntx:bodySystemStated false }")) == 8


# --- 5. evidence-level and severity mappings -------------------------------------------


def test_what_does_the_source_say_about_the_studies_of_behavioural_addictions() -> None:
    """'Studies indicate that Naltrexone might be beneficial': a possible benefit, studies not named."""
    assert column("SELECT DISTINCT ?l WHERE { ?use ntx:condition/skos:broader cond:behavioural-addiction ; "
                  "ntx:evidenceLevel/skos:prefLabel ?l }") == ["studies indicate a possible benefit"]
    assert not ask("ASK { ?s ?p <https://w3id.org/ntx-graph/def/evidence-level/preliminary-studies> }")
    # the source names no study, so no study level claims a close match to ECO clinical study evidence
    assert not ask("ASK { ?level a ntx:EvidenceLevel ; skos:closeMatch obo:ECO_0000180 }")


def test_how_precise_are_the_severity_levels() -> None:
    """The source has no grading criteria: CTCAE grades are related, not close, matches."""
    assert not ask("ASK { ?level a ntx:Severity ; skos:closeMatch ?grade }")
    assert len(column("SELECT ?level WHERE { ?level a ntx:Severity ; skos:relatedMatch ?grade }")) == 4


# --- 6. quotes ---------------------------------------------------------------------------


def test_does_every_claim_have_one_principal_quote_among_its_quotes() -> None:
    assert column("""SELECT ?claim WHERE { ?claim ntx:evidenceQuote ?q .
                     FILTER NOT EXISTS { ?claim ntx:principalQuote ?p } }""") == []
    assert column("SELECT ?claim WHERE { ?claim ntx:principalQuote ?a , ?b FILTER (?a != ?b) }") == []
    # asserted, not only entailed: a query without inference finds the principal among the evidence quotes
    assert column("""SELECT ?claim WHERE { ?claim ntx:principalQuote ?p .
                     FILTER NOT EXISTS { ?claim ntx:evidenceQuote ?p } }""") == []


def test_how_is_the_injection_taken() -> None:
    """'once-a month naltrexone injection', not the whole compliance sentence."""
    assert quote_of("regimen:injection-once-a-month") == ["once-a month naltrexone injection"]
    assert quote_of("regimen:injection-once-a-month", "ntx:evidenceQuote") == ["once-a month naltrexone injection"]


def test_what_is_the_quote_for_the_main_uses() -> None:
    """The use, without the drug-class clause."""
    for use in ("ind:alcohol-dependence", "ind:opioid-dependence"):
        assert quote_of(use) == ["mainly used in the treatment of people having serious alcohol or opioid dependence"]


def test_which_words_name_each_listed_use() -> None:
    """Term-level quotes, as the side effects have, beside the list sentence."""
    terms = (("kleptomania", "kleptomania"), ("trichotillomania", "trichotillomania"),
             ("pornography-addiction", "pornography addiction"), ("compulsive-gambling", "compulsive gambling"),
             ("multiple-sclerosis", "multiple sclerosis"), ("hiv", "HIV"), ("cancer", "cancer"))
    for use, term in terms:
        assert term in quote_of(f"ind:{use}", "ntx:evidenceQuote"), use
    assert quote_of("ind:kleptomania") == ["kleptomania"]
    assert quote_of("ind:multiple-sclerosis") == [
        "its off-label use may include treating conditions of multiple sclerosis"]
