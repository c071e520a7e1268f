"""The seed dataset: claims and their sentences, statistics, checks, legislation, graphs."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from datetime import date
from pathlib import Path

import pyoxigraph
import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import PROV, RDF, TIME, XSD

from graph import ids, intervals
from graph.knowledge import checks
from graph.knowledge.seed import UnknownSentence, build_seed_dataset
from graph.namespace import BKG
from tests._paths import ARTICLE_PATH, seed_dataset, seed_nquads

ID = ids.ID
SENTENCE = ID + "source/000_e1eaba6903481a9d/sentence/"
CLAIMS_WITH_SOURCES = """
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX bkg: <https://w3id.org/borderkg/def/>
SELECT ?claim ?s ?p ?o ?n ?paragraph ?text WHERE {
  GRAPH <https://w3id.org/borderkg/graph/article/000_e1eaba6903481a9d> {
    ?claim a bkg:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ;
           prov:wasDerivedFrom ?sentence .
    ?sentence bkg:sentenceNumber ?n ; bkg:paragraphNumber ?paragraph ; bkg:text ?text .
  }
}"""


@pytest.fixture(scope="module")
def store() -> pyoxigraph.Store:
    s = pyoxigraph.Store()
    s.load(io.BytesIO(seed_nquads().encode()), pyoxigraph.RdfFormat.N_QUADS)
    return s


@pytest.fixture(scope="module")
def rows(store: pyoxigraph.Store) -> list[dict[str, str]]:
    return [
        {v: sol[v].value for v in ("claim", "s", "p", "o", "n", "paragraph", "text")}
        for sol in store.query(CLAIMS_WITH_SOURCES)
    ]


def article_graph(ds: Dataset):  # type: ignore[no-untyped-def]
    return ds.graph(URIRef(ids.GRAPH_ARTICLE))


def test_every_claim_is_reachable_with_its_sentence(rows: list[dict[str, str]]) -> None:
    ds = seed_dataset()
    claims = set(article_graph(ds).subjects(RDF.type, BKG.Claim))
    assert len(claims) > 150
    assert {URIRef(r["claim"]) for r in rows} == claims
    assert all(r["text"] for r in rows)


def test_every_claimed_triple_is_in_the_article_graph(store: pyoxigraph.Store) -> None:
    query = f"""
    PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
    PREFIX bkg: <https://w3id.org/borderkg/def/>
    SELECT ?claim WHERE {{ GRAPH <{ids.GRAPH_ARTICLE}> {{
      ?claim a bkg:Claim ; rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o .
      FILTER NOT EXISTS {{ ?s ?p ?o }} }} }}"""
    assert list(store.query(query)) == []


def test_every_sentence_and_paragraph_states_something(rows: list[dict[str, str]]) -> None:
    assert {int(r["n"]) for r in rows} == set(range(1, 20))
    assert {int(r["paragraph"]) for r in rows} == set(range(1, 15))


def test_a_triple_stated_twice_has_both_sentences() -> None:
    g = article_graph(seed_dataset())
    status = URIRef(ID + "law/laken-riley-act/status/2025-01-10")
    claims = [
        c
        for c in g.subjects(RDF.subject, URIRef(ID + "law/laken-riley-act"))
        if g.value(c, RDF.object) == status
    ]
    assert len(claims) == 1
    assert set(g.objects(claims[0], PROV.wasDerivedFrom)) == {
        URIRef(SENTENCE + "17"),
        URIRef(SENTENCE + "18"),
    }


@pytest.mark.parametrize(
    ("sentence", "subject", "predicate", "value"),
    [
        (1, "flight/chn-removal-5", BKG.ordinal, Literal("5", datatype=XSD.integer)),
        (1, "flight/chn-removal-5", BKG.assistedBy, URIRef(ID + "org/ice")),
        (1, "flight/chn-removal-5", BKG.destination, URIRef(ID + "country/CHN")),
        (1, "flight/chn-removal-5", TIME.hasTime, URIRef(ID + "time/2025-01-06--2025-01-10")),
        (3, "statistic/chn-swb-encounters-2024-06", BKG.encounterCount, Literal(2160)),
        (3, "statistic/chn-swb-encounters-2024-12", BKG.encounterCount, Literal(820)),
        (3, "statistic/chn-swb-encounters-2024-06", BKG.measuredBy, URIRef(ID + "org/usbp")),
        (
            3,
            "series/removal-flights-to-china-since-2024-06",
            BKG.resumedDuring,
            URIRef(ID + "time/2024-06"),
        ),
        (
            9,
            "designation/us-recalcitrant-countries-2020",
            BKG.numberOfCountries,
            Literal("13", datatype=XSD.integer),
        ),
        (
            9,
            "designation/us-recalcitrant-countries-2020",
            BKG.designatedCountry,
            URIRef(ID + "country/CHN"),
        ),
        (9, "designation/us-recalcitrant-countries-2020", TIME.hasTime, URIRef(ID + "time/2020")),
        (11, "statistic/chn-swb-encounters-fy2022", BKG.encounterCount, Literal(2176)),
        (11, "statistic/chn-swb-encounters-fy2022", BKG.measuredBy, URIRef(ID + "org/dhs")),
        (12, "statistic/chn-swb-encounters-fy2023", BKG.encounterCount, Literal(24314)),
        (12, "statistic/chn-swb-encounters-fy2024", BKG.encounterCount, Literal(38246)),
        (
            15,
            "person/alejandro-mayorkas",
            URIRef("http://www.w3.org/ns/org#holds"),
            URIRef(ID + "post/secretary-of-homeland-security"),
        ),
        (
            15,
            "agreement/removal-flight-procedure",
            BKG.appliesToFlightType,
            URIRef(ID + "concept/flight-type/commercial"),
        ),
        (18, "law/laken-riley-act/effect/state-suits", BKG.defendant, URIRef(ID + "org/dhs")),
    ],
)
def test_key_claims_and_their_sentences(
    sentence: int, subject: str, predicate: URIRef, value: object
) -> None:
    g = article_graph(seed_dataset())
    triple = (URIRef(ID + subject), predicate, value)
    assert triple in g
    claims = [
        c
        for c in g.subjects(RDF.subject, triple[0])
        if g.value(c, RDF.predicate) == predicate and g.value(c, RDF.object) == value
    ]
    assert len(claims) == 1
    assert URIRef(SENTENCE + str(sentence)) in set(g.objects(claims[0], PROV.wasDerivedFrom))


def test_statements_make_the_claims_of_their_sentences() -> None:
    g = article_graph(seed_dataset())
    announcement = URIRef(ID + "statement/dhs-announcement-2025-01-10")
    claimed = {
        (g.value(c, RDF.subject), g.value(c, RDF.predicate))
        for c in g.objects(announcement, BKG.makesClaim)
    }
    assert (URIRef(ID + "flight/chn-removal-5"), BKG.ordinal) in claimed
    assert all(s != announcement for s, _ in claimed)


def test_stated_and_computed_percentages_agree() -> None:
    results = [r for r in checks.run_checks(seed_dataset()) if r.check == "percentage-change"]
    assert len(results) == 1 and results[0].ok
    assert (results[0].stated, round(float(results[0].computed), 2)) == ("-62", -62.04)
    assert checks.stated_tolerance(checks.Decimal("-62")) == checks.Decimal("0.5")


def test_wrong_stated_percentage_would_be_inconsistent() -> None:
    assert abs(checks.percent_change(2160, 820) - checks.Decimal("-60")) > checks.stated_tolerance(
        checks.Decimal("-60")
    )


def test_the_article_graph_holds_no_checks() -> None:
    # checks live in the reconciliation graph (graph.imports.reconcile), not beside the claims
    g = article_graph(seed_dataset())
    change = URIRef(ID + "statistic/chn-swb-encounters-2024-06-to-2024-12")
    assert g.value(change, BKG.statedPercentageChange) == Literal("-62", datatype=XSD.decimal)
    assert list(g.subjects(RDF.type, BKG.ReconciliationResult)) == []
    assert list(g.subjects(RDF.type, BKG.DerivedValue)) == []


@pytest.mark.parametrize(
    ("fy", "first", "last"),
    [
        (2022, date(2021, 10, 1), date(2022, 9, 30)),
        (2023, date(2022, 10, 1), date(2023, 9, 30)),
        (2024, date(2023, 10, 1), date(2024, 9, 30)),
    ],
)
def test_fiscal_year_intervals(fy: int, first: date, last: date) -> None:
    assert intervals.fiscal_year_bounds(fy) == (first, last)
    g = seed_dataset().graph(URIRef(ids.GRAPH_REFERENCE))
    node = URIRef(intervals.fiscal_year_iri(fy))
    assert (node, RDF.type, TIME.ProperInterval) in g
    assert g.value(g.value(node, TIME.hasBeginning), TIME.inXSDDate).toPython() == first
    assert g.value(g.value(node, TIME.hasEnd), TIME.inXSDDate).toPython() == last


def test_months_lie_in_their_fiscal_year() -> None:
    g = seed_dataset().graph(URIRef(ids.GRAPH_REFERENCE))
    assert g.value(URIRef(intervals.month_iri(2024, 12)), TIME.intervalDuring) == URIRef(
        intervals.fiscal_year_iri(2025)
    )
    assert g.value(URIRef(intervals.month_iri(2021, 10)), TIME.intervalDuring) == URIRef(
        intervals.fiscal_year_iri(2022)
    )


def test_all_interval_checks_pass() -> None:
    results = checks.run_checks(seed_dataset())
    assert {r.check for r in results} >= {
        "fiscal-year-first-day",
        "fiscal-year-last-day",
        "fiscal-year-bounds",
    }
    assert all(r.ok for r in results), [r for r in results if not r.ok]


def test_laken_riley_act_is_not_law_on_the_article_date(store: pyoxigraph.Store) -> None:
    query = """
    PREFIX bkg: <https://w3id.org/borderkg/def/>
    SELECT ?code WHERE {
      <https://w3id.org/borderkg/id/law/laken-riley-act> bkg:hasLegislativeStatus ?st .
      ?st bkg:statusCode ?code ; bkg:statusDate ?d .
      FILTER (?d <= "2025-01-10"^^<http://www.w3.org/2001/XMLSchema#date>)
    } ORDER BY DESC(?d) LIMIT 1"""
    (row,) = list(store.query(query, use_default_graph_as_union=True))
    assert row["code"].value == ID + "concept/bill-status/in-progress"
    quads = list(seed_dataset().quads((URIRef(ID + "law/laken-riley-act"), None, None, None)))
    assert {o for _, p, o, _ in quads if p == RDF.type} == {BKG.Bill}
    assert not [q for q in quads if q[1] == URIRef("https://schema.org/legislationLegalForce")]


def test_building_twice_gives_identical_nquads() -> None:
    from graph.knowledge.seed import seed_nquads as again

    assert again(ARTICLE_PATH) == seed_nquads()


def test_build_is_identical_in_a_fresh_process() -> None:
    code = (
        "import hashlib, pathlib, sys; from graph.knowledge.seed import seed_nquads; "
        "print(hashlib.sha256(seed_nquads(pathlib.Path(sys.argv[1])).encode()).hexdigest())"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code, str(ARTICLE_PATH)],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == hashlib.sha256(seed_nquads().encode()).hexdigest()


def test_background_facts_are_only_in_the_background_graph() -> None:
    ds = seed_dataset()
    background = ds.graph(URIRef(ids.GRAPH_BACKGROUND))
    article = article_graph(ds)
    sub_org = URIRef("http://www.w3.org/ns/org#subOrganizationOf")
    for child, parent in (
        ("ice", "dhs"),
        ("cbp", "dhs"),
        ("usbp", "cbp"),
        ("dhs", "us-federal-government"),
    ):
        triple = (URIRef(ID + f"org/{child}"), sub_org, URIRef(ID + f"org/{parent}"))
        assert triple in background and triple not in article
    assert set(background) & set(article) == set()


def test_wikidata_links_are_only_the_certain_ones() -> None:
    links = {
        (str(s), str(o))
        for s, p, o, _ in seed_dataset().quads((None, None, None, None))
        if str(o).startswith("http://www.wikidata.org/")
    }
    assert links == {
        (ID + "country/USA", "http://www.wikidata.org/entity/Q30"),
        (ID + "country/CHN", "http://www.wikidata.org/entity/Q148"),
    }


def test_every_minted_resource_is_labelled(store: pyoxigraph.Store) -> None:
    query = f"""
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT DISTINCT ?x WHERE {{
      GRAPH ?g {{ ?x ?p ?o }} FILTER (STRSTARTS(STR(?x), "{ID}"))
      FILTER (!STRSTARTS(STR(?x), "{ID}claim/"))
      FILTER NOT EXISTS {{ GRAPH ?h {{ ?x rdfs:label ?l }} }}
      FILTER (!STRENDS(STR(?x), "/beginning") && !STRENDS(STR(?x), "/end"))
    }}"""
    assert [s["x"].value for s in store.query(query)] == []


def test_unknown_sentence_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import graph.knowledge.seed as seed

    bad = tmp_path / "article.trig"
    bad.write_text(f'<{SENTENCE}20> {{ <{ID}x> <{BKG.text}> "y" . }}\n', encoding="utf-8")
    real = seed.knowledge_path
    monkeypatch.setattr(
        seed, "knowledge_path", lambda name: bad if name == "article.trig" else real(name)
    )
    with pytest.raises(UnknownSentence, match="sentence 20"):
        build_seed_dataset(ARTICLE_PATH)
