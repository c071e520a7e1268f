"""How each claim is supported (stated, inferred by a named rule, editorial), read from a
built store and checked against the text of the sentences the claims come from."""

from __future__ import annotations

import html
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest

from graph import ids
from graph.knowledge.seed import KnowledgeError, build_seed_dataset
from tests._paths import ARTICLE_PATH, seed_nquads

ROOT = Path(__file__).resolve().parents[1]
ID = ids.ID
BKG = ids.DEF
SUPPORT = ID + "concept/claim-support/"
SUPPORTS = {"stated", "inferred", "editorial"}
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DCTERMS = "http://purl.org/dc/terms/"
TIME = "http://www.w3.org/2006/time#"
CLAIMS = f"""
PREFIX rdf: <{RDF}>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX bkg: <{BKG}>
SELECT ?claim ?s ?p ?o ?support ?rule ?n ?text WHERE {{
  GRAPH <{ids.GRAPH_ARTICLE}> {{
    ?claim a bkg:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
           prov:wasDerivedFrom ?sentence .
    ?sentence bkg:sentenceNumber ?n ; bkg:text ?text .
    OPTIONAL {{ ?claim bkg:support ?support }}
    OPTIONAL {{ ?claim bkg:inferenceRule ?rule }}
  }}
}}"""


class Claim:
    """One claim as the store has it, with the numbers and texts of its sentences."""

    def __init__(self, iri: str, s: str, p: str, o: Any, support: str, rule: str) -> None:
        self.iri, self.s, self.p, self.o = iri, s, p, o
        self.support, self.rule = support, rule
        self.sentences: dict[int, str] = {}
        self.wording: list[str] = []
        self.qualifiers: list[str] = []

    def text(self) -> str:
        return " ".join(self.sentences[n] for n in sorted(self.sentences))


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    s.load(io.BytesIO(seed_nquads().encode()), pyoxigraph.RdfFormat.N_QUADS)
    return s


@pytest.fixture(scope="module")
def claims(store: pyoxigraph.Store) -> dict[str, Claim]:
    found: dict[str, Claim] = {}
    for row in select(store, CLAIMS):
        iri = row["claim"].value
        support = row["support"].value if row["support"] else ""
        rule = row["rule"].value if row["rule"] else ""
        claim = found.setdefault(
            iri, Claim(iri, row["s"].value, row["p"].value, row["o"], support, rule)
        )
        claim.sentences[int(row["n"].value)] = row["text"].value
    graph = pyoxigraph.NamedNode(ids.GRAPH_ARTICLE)
    for name, attr in (("wording", "wording"), ("qualifier", "qualifiers")):
        for quad in store.quads_for_pattern(None, pyoxigraph.NamedNode(BKG + name), None, graph):
            assert isinstance(quad.subject, pyoxigraph.NamedNode)
            assert isinstance(quad.object, pyoxigraph.Literal)
            getattr(found[quad.subject.value], attr).append(quad.object.value)
    return found


def select(store: pyoxigraph.Store, query: str, union: bool = False) -> list[Any]:
    """The solutions of a SELECT query (over the union of the graphs if ``union``)."""
    answer = store.query(query, use_default_graph_as_union=union)
    assert isinstance(answer, pyoxigraph.QuerySolutions)
    return list(answer)


def docs_query(heading: str) -> str:
    """The first SPARQL block under ``heading`` in docs/knowledge.md."""
    doc = (ROOT / "docs" / "knowledge.md").read_text(encoding="utf-8")
    found = re.search(r"```sparql\n(.*?)```", doc[doc.index(heading):], re.S)
    assert found is not None, heading
    return found.group(1)


def find(claims: dict[str, Claim], subject: str, predicate: str, obj: str | None = None) -> Claim:
    matched = [
        c for c in claims.values()
        if c.s == ID + subject and c.p == predicate and (obj is None or c.o.value == obj)
    ]
    assert len(matched) == 1, (subject, predicate, obj, len(matched))
    return matched[0]


def publication_date(store: pyoxigraph.Store) -> date:
    doc = ID + "source/" + ids.ARTICLE_ID
    (row,) = select(store, f"SELECT ?d WHERE {{ GRAPH ?g {{ <{doc}> <{DCTERMS}date> ?d }} }}")
    return date.fromisoformat(row["d"].value)


def test_every_claim_has_one_support_and_a_rule_exactly_when_inferred(
    store: pyoxigraph.Store, claims: dict[str, Claim]
) -> None:
    supports = f"""SELECT ?c (COUNT(?v) AS ?n) WHERE {{ GRAPH <{ids.GRAPH_ARTICLE}> {{
        ?c a <{BKG}Claim> . OPTIONAL {{ ?c <{BKG}support> ?v }} }} }} GROUP BY ?c"""
    assert {int(row["n"].value) for row in select(store, supports)} == {1}
    for claim in claims.values():
        assert claim.support.startswith(SUPPORT), claim.iri
        assert claim.support[len(SUPPORT):] in SUPPORTS
        assert bool(claim.rule) == (claim.support == SUPPORT + "inferred"), claim.iri
    kinds = {c.support[len(SUPPORT):] for c in claims.values()}
    assert kinds == SUPPORTS


def test_labels_and_types_are_editorial(claims: dict[str, Claim]) -> None:
    for claim in claims.values():
        if claim.p in (RDF + "type", "http://www.w3.org/2000/01/rdf-schema#label"):
            assert claim.support == SUPPORT + "editorial", claim.iri


def test_wording_and_qualifiers_are_the_sentences_words(claims: dict[str, Claim]) -> None:
    worded = [c for c in claims.values() if c.wording]
    assert len(worded) > 30
    for claim in worded:
        for words in claim.wording:
            assert words in claim.text(), (claim.s, claim.p, words)
        for qualifier in claim.qualifiers:
            assert any(qualifier in words for words in claim.wording), (claim.s, qualifier)


def test_stated_text_values_are_the_articles_words(claims: dict[str, Claim]) -> None:
    """A stated claim whose object is text quotes its sentence (ignoring case); text that
    paraphrases can only be an editorial label."""
    checked = 0
    for claim in claims.values():
        literal = claim.o
        if claim.support != SUPPORT + "stated" or not isinstance(literal, pyoxigraph.Literal):
            continue
        if literal.datatype.value != RDF + "langString":
            continue
        checked += 1
        assert literal.value.lower() in claim.text().lower(), (claim.s, claim.p, literal.value)
    assert checked >= 8


def test_announcement_date_is_inferred_from_the_publication_year(
    store: pyoxigraph.Store, claims: dict[str, Claim]
) -> None:
    claim = find(claims, "statement/dhs-announcement-2025-01-10", DCTERMS + "date")
    sentence = claim.sentences[1]
    stated = date.fromisoformat(claim.o.value)
    assert claim.support == SUPPORT + "inferred" and "publication date" in claim.rule
    assert claim.wording == ["Friday (January 10)"]
    # the sentence gives the weekday, month and day, but no year: the year is the article's
    assert stated.strftime("%A") in claim.wording[0] and stated.strftime("%A") in sentence
    assert f"{stated:%B} {stated.day}" in sentence
    assert not re.search(r"\b(19|20)\d\d\b", sentence)
    assert stated.year == publication_date(store).year


def test_earlier_this_week_is_the_iso_week_up_to_the_announcement(
    store: pyoxigraph.Store, claims: dict[str, Claim]
) -> None:
    announced = date.fromisoformat(
        find(claims, "statement/dhs-announcement-2025-01-10", DCTERMS + "date").o.value
    )
    claim = find(claims, "flight/chn-removal-5", TIME + "hasTime")
    assert "earlier this week" in claim.sentences[1] and claim.wording == ["earlier this week"]
    assert claim.support == SUPPORT + "inferred" and "ISO week" in claim.rule
    bounds = {}
    for end in ("hasBeginning", "hasEnd"):
        (row,) = select(store, f"""SELECT ?d WHERE {{ GRAPH ?g {{
            <{claim.o.value}> <{TIME}{end}>/<{TIME}inXSDDate> ?d }} }}""")
        bounds[end] = date.fromisoformat(row["d"].value)
    assert bounds["hasBeginning"] == announced - timedelta(days=announced.weekday())
    assert bounds["hasEnd"] == announced


def test_laken_riley_status_date_is_the_inferred_publication_date(
    store: pyoxigraph.Store, claims: dict[str, Claim]
) -> None:
    claim = find(claims, "law/laken-riley-act/status/2025-01-10", BKG + "statusDate")
    assert set(claim.sentences) == {17}
    assert not re.search(r"\b(19|20)\d\d\b", claim.sentences[17])
    assert claim.support == SUPPORT + "inferred" and "publication date" in claim.rule
    assert date.fromisoformat(claim.o.value) == publication_date(store)


def test_encouraging_lawful_pathways_is_concurrent_not_part_of_the_strict_measures(
    claims: dict[str, Claim],
) -> None:
    strict = "measure/us-strict-immigration-enforcement"
    encourage = "measure/encourage-lawful-pathways"
    parts = [c for c in claims.values() if c.s == ID + strict and c.p == DCTERMS + "hasPart"]
    assert [c.o.value for c in parts] == [ID + "measure/swift-removal-without-valid-reason-to-stay"]
    assert "including swift deportation" in parts[0].wording[0]
    concurrent = find(claims, encourage, BKG + "concurrentWith", ID + strict)
    sentence = concurrent.sentences[4]
    assert concurrent.support == SUPPORT + "stated" and concurrent.qualifiers == ["while"]
    # the encouragement follows "while", after the list the strict measures "include"
    assert sentence.index("while encouraging") > sentence.index("including swift deportation")


def test_obstacle_quotes_the_articles_words_and_its_paraphrase_is_editorial(
    claims: dict[str, Claim],
) -> None:
    obstacle = "obstacle/travel-document-hurdles"
    label = find(claims, obstacle, "http://www.w3.org/2000/01/rdf-schema#label")
    sentence = label.sentences[14]
    assert label.support == SUPPORT + "editorial"
    assert label.o.value not in sentence  # a paraphrase: "Chinese nationals"
    population = find(claims, obstacle, BKG + "targetPopulation")
    assert population.support == SUPPORT + "stated"
    assert f"documents for {population.o.value}" in sentence
    assert population.wording[0].endswith(population.o.value) and population.wording[0] in sentence


@pytest.mark.parametrize(
    ("subject", "predicate", "qualifier", "sentence"),
    [
        ("series/removal-flights-to-china-since-2024-06", "resumedDuring", "at the end of", 3),
        ("series/removal-flights-to-china-since-2024-06", "durationLessThan", "less than", 1),
        ("relation/usa-chn", "disagreementTopic", "sharp", 6),
        ("relation/usa-chn", "complicates", "at times", 6),
        ("statement/us-lawmakers-national-security-concern", DCTERMS + "creator", "many", 13),
        ("statement/us-lawmakers-national-security-concern", "promptedBy", "continuous", 13),
        ("statement/us-lawmakers-national-security-concern", "targetPopulation", "especially", 13),
    ],
)
def test_qualifiers_stay_on_the_claims_they_qualify(
    claims: dict[str, Claim], subject: str, predicate: str, qualifier: str, sentence: int
) -> None:
    full = predicate if "://" in predicate else BKG + predicate
    matched = [c for c in claims.values() if c.s == ID + subject and c.p == full]
    assert matched
    for claim in matched:
        assert qualifier in claim.qualifiers
        assert re.search(rf"\b{re.escape(qualifier)}\b", claim.sentences[sentence])


def test_less_than_seven_months_is_an_exclusive_bound(claims: dict[str, Claim]) -> None:
    series = "series/removal-flights-to-china-since-2024-06"
    claim = find(claims, series, BKG + "durationLessThan")
    number = {"five": 5, "six": 6, "seven": 7, "eight": 8}
    words = re.search(r"less than (\w+) months", claim.sentences[1])
    assert words is not None and claim.o.value == f"P{number[words.group(1)]}M"
    assert not [c for c in claims.values() if c.s == ID + series and c.p == BKG + "maximumDuration"]


def test_the_10_january_announcement_finds_the_62_percent_decline(
    store: pyoxigraph.Store, claims: dict[str, Claim]
) -> None:
    query = docs_query("## What DHS announced on 10 January")
    found = {row["claim"].value for row in select(store, query, union=True)}
    change = find(claims, "statistic/chn-swb-encounters-2024-06-to-2024-12",
                  BKG + "statedPercentageChange")
    assert change.iri in found
    assert f"decreased by {abs(int(float(change.o.value)))}%" in change.sentences[3]
    link = find(claims, "statement/dhs-statement-2025-01", DCTERMS + "isPartOf")
    assert link.support == SUPPORT + "inferred" and link.wording[0] in link.sentences[2]


def test_cooperation_issues_of_sentences_5_and_6_are_linked(claims: dict[str, Claim]) -> None:
    narrow = "issue/us-china-cooperation-on-removals"
    wide = "issue/us-china-cooperation-on-illegal-immigration"
    link = find(claims, narrow, DCTERMS + "isPartOf", ID + wide)
    assert link.support == SUPPORT + "inferred" and link.rule
    assert set(link.sentences) == {6}
    five = find(claims, narrow, BKG + "longStanding").sentences[5]
    assert "cooperation on deporting illegal immigrants" in five
    assert link.wording[0] in link.sentences[6]


def test_stated_only_query_of_the_docs(store: pyoxigraph.Store, claims: dict[str, Claim]) -> None:
    rows = select(store, docs_query("## Asking for stated claims only"), union=True)
    answered = {row["claim"].value for row in rows}
    assert answered == {c.iri for c in claims.values() if c.support == SUPPORT + "stated"}
    assert all(row["text"] is not None for row in rows)


def test_flight_page_shows_each_claims_support(client: Any, claims: dict[str, Claim]) -> None:
    page = html.unescape(
        client.get("/doc/id/flight/chn-removal-5", headers={"Accept": "text/html"}).get_data(True)
    )
    when = find(claims, "flight/chn-removal-5", TIME + "hasTime")
    assert f"inferred: {when.rule}" in page
    assert 'class="support support-stated">stated<' in page
    assert 'class="support support-editorial">editorial<' in page


def test_an_annotation_of_no_claim_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import graph.knowledge.seed as seed

    real = seed.knowledge_path
    text = real("article.trig").read_text(encoding="utf-8")
    bad = tmp_path / "article.trig"
    bad.write_text(text.replace(
        "[] rdf:subject flight:chn-removal-5 ; rdf:predicate bkg:ordinal ;",
        "[] rdf:subject flight:chn-removal-5 ; rdf:predicate bkg:removalCount ;", 1),
        encoding="utf-8")
    monkeypatch.setattr(
        seed, "knowledge_path", lambda name: bad if name == "article.trig" else real(name)
    )
    with pytest.raises(KnowledgeError, match="support given for no claim"):
        build_seed_dataset(ARTICLE_PATH)


def test_shape_refuses_an_inferred_claim_without_its_rule(claims: dict[str, Claim]) -> None:
    from rdflib import URIRef

    from graph.knowledge.validate import union_graph, validate_graph
    from tests._paths import seed_dataset

    data = union_graph(seed_dataset())
    when = find(claims, "flight/chn-removal-5", TIME + "hasTime")
    data.remove((URIRef(when.iri), URIRef(BKG + "inferenceRule"), None))
    result = validate_graph(data)
    assert not result.conforms and when.iri in result.report
