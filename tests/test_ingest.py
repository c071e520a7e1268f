"""``borderkg ingest``: a draft TriG whose offsets, mentions and figures are exact.

The article is ``tests/data/sources/removal-flight-2025-03.txt``, invented for these tests
(see ``tests/data/README.md``); the draft is made by the real command and read back with
pyoxigraph's TriG parser.
"""
from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse

from graph.knowledge.sources import SourceError, read_source
from graph.knowledge.text_spans import find_figures, find_mentions
from server.cli import cli, main
from tests._paths import DATA

ARTICLE = DATA / "sources" / "removal-flight-2025-03.txt"
SOURCE = "test-removal-flight-2025-03"
GRAPH = f"https://w3id.org/borderkg/graph/article/{SOURCE}"
DOC = f"https://w3id.org/borderkg/id/source/{SOURCE}"
ID = "https://w3id.org/borderkg/id/"
BKG = "https://w3id.org/borderkg/def/"
NIF = "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture(scope="module")
def draft_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ingest") / "draft.trig"
    result = CliRunner().invoke(cli, ["ingest", str(ARTICLE), "--source", SOURCE,
                                      "--published", "2025-03-05", "--output", str(path)])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def quads(draft_path: Path) -> list[Quad]:
    return list(parse(path=str(draft_path), format=RdfFormat.TRIG))


@pytest.fixture(scope="module")
def text() -> str:
    return ARTICLE.read_text(encoding="utf-8")


def values(quads: list[Quad], subject: str, prop: str) -> list[object]:
    return [q.object for q in quads if q.subject == NamedNode(subject)
            and q.predicate == NamedNode(prop)]


def one(quads: list[Quad], subject: str, prop: str) -> object:
    found = values(quads, subject, prop)
    assert len(found) == 1, (subject, prop, found)
    return found[0]


def typed(quads: list[Quad], cls: str) -> list[str]:
    return sorted(str(q.subject)[1:-1] for q in quads if q.predicate == NamedNode(RDF + "type")
                  and q.object == NamedNode(cls))


def number(term: object) -> int:
    assert isinstance(term, Literal)
    return int(term.value)


def test_draft_is_one_named_graph_derived_from_its_document(quads: list[Quad]) -> None:
    assert {q.graph_name for q in quads} == {NamedNode(GRAPH)}
    assert one(quads, GRAPH, "http://www.w3.org/ns/prov#wasDerivedFrom") == NamedNode(DOC)
    assert one(quads, GRAPH, BKG + "curationStatus") == Literal("draft")
    assert one(quads, DOC, "http://purl.org/dc/terms/date") == Literal(
        "2025-03-05", datatype=NamedNode(XSD + "date"))
    digest = hashlib.sha256(ARTICLE.read_bytes()).hexdigest()
    assert one(quads, DOC, BKG + "sha256") == Literal(digest, datatype=NamedNode(XSD + "hexBinary"))


def test_sentences_have_exact_offsets_and_the_seed_s_iri_scheme(quads: list[Quad],
                                                                  text: str) -> None:
    sentences = typed(quads, BKG + "Sentence")
    assert sentences == sorted(f"{DOC}/sentence/{n}" for n in range(1, 8))
    for iri in sentences:
        begin, end = number(one(quads, iri, BKG + "beginIndex")), number(
            one(quads, iri, BKG + "endIndex"))
        sentence = one(quads, iri, BKG + "text")
        assert isinstance(sentence, Literal)
        assert text[begin:end] == sentence.value
        assert one(quads, iri, "http://purl.org/dc/terms/isPartOf") == NamedNode(DOC)
    first = one(quads, f"{DOC}/sentence/1", BKG + "text")
    assert isinstance(first, Literal) and first.value.startswith("The U.S. Department")
    assert number(one(quads, f"{DOC}/sentence/4", BKG + "paragraphNumber")) == 3


def spans(quads: list[Quad], cls: str, text: str) -> dict[str, str]:
    """anchor text -> span IRI, checking each span's offsets against the text."""
    found = {}
    for iri in typed(quads, BKG + cls):
        begin, end = number(one(quads, iri, NIF + "beginIndex")), number(
            one(quads, iri, NIF + "endIndex"))
        anchor = one(quads, iri, NIF + "anchorOf")
        assert isinstance(anchor, Literal) and text[begin:end] == anchor.value, iri
        assert iri.endswith(f"/{begin}-{end}")
        found[anchor.value] = iri
    return found


def test_mentions_of_known_things_longest_first(quads: list[Quad], text: str) -> None:
    mentions = spans(quads, "Mention", text)
    linked = {anchor: one(quads, iri, "http://www.w3.org/2005/11/its/rdf#taIdentRef")
              for anchor, iri in mentions.items()}
    assert linked == {
        "U.S. Department of Homeland Security": NamedNode(ID + "org/dhs"),
        "ICE": NamedNode(ID + "org/ice"),
        "China": NamedNode(ID + "country/CHN"),
        "DHS": NamedNode(ID + "org/dhs"),
        "U.S. Border Patrol": NamedNode(ID + "org/usbp"),
        "CBP": NamedNode(ID + "org/cbp"),
        "Beijing": NamedNode(ID + "org/government-of-china"),
        "United States": NamedNode(ID + "country/USA"),
        "Chinese authorities": NamedNode(ID + "org/government-of-china"),
    }
    sentence_of = one(quads, mentions["CBP"], "http://purl.org/dc/terms/isPartOf")
    assert sentence_of == NamedNode(f"{DOC}/sentence/4")


def test_figures_with_their_values(quads: list[Quad], text: str) -> None:
    figures = spans(quads, "Figure", text)
    found = {anchor: (one(quads, iri, BKG + "figureKind"), one(quads, iri, RDF + "value"))
             for anchor, iri in figures.items()}

    def lit(value: str, xsd: str) -> Literal:
        return Literal(value, datatype=NamedNode(XSD + xsd))

    assert found == {
        "March 4": (Literal("month-day"), lit("--03-04", "gMonthDay")),
        "116": (Literal("count"), lit("116", "integer")),
        "March 2, 2025": (Literal("date"), lit("2025-03-02", "date")),
        "fiscal year 2025": (Literal("fiscal-year"), lit("2025", "gYear")),
        "1,045": (Literal("count"), lit("1045", "integer")),
        "January 2025": (Literal("month"), lit("2025-01", "gYearMonth")),
        "38 percent": (Literal("percentage"), lit("38", "integer")),
        "1,686": (Literal("count"), lit("1686", "integer")),
        "October 2024": (Literal("month"), lit("2024-10", "gYearMonth")),
        "FY2024": (Literal("fiscal-year"), lit("2024", "gYear")),
        "37,400": (Literal("count"), lit("37400", "integer")),
        "12%": (Literal("percentage"), lit("12", "integer")),
    }
    fy = one(quads, figures["FY2024"], "http://purl.org/dc/terms/temporal")
    assert fy == NamedNode(ID + "time/fy2024")


def test_claim_skeletons_for_sentences_with_a_figure_or_mention(quads: list[Quad]) -> None:
    claims = typed(quads, BKG + "Claim")
    assert claims == sorted(f"{ID}claim/{SOURCE}/{n}" for n in range(1, 7))
    for n, claim in enumerate(sorted(claims, key=lambda c: int(c.rsplit("/", 1)[1])), start=1):
        assert one(quads, claim, "http://www.w3.org/ns/prov#wasDerivedFrom") == NamedNode(
            f"{DOC}/sentence/{n}")
        assert one(quads, claim, BKG + "curationStatus") == Literal("draft")
        assert values(quads, claim, RDF + "subject") == []


def test_the_draft_marks_what_to_curate(draft_path: Path) -> None:
    draft = draft_path.read_text(encoding="utf-8")
    assert draft.count("# CURATE") >= 2 + 6
    assert "# rdf:subject agency:usbp ;" in draft
    assert "#   figure: 1045 (count, '1,045')" in draft


def test_a_draft_is_refused_by_the_build(draft_path: Path) -> None:
    with pytest.raises(SourceError, match='still a draft: bkg:curationStatus "draft"'):
        read_source(draft_path)


def test_ingest_to_stdout_is_the_same_draft(draft_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ingest", str(ARTICLE), "--source", SOURCE,
                                      "--published", "2025-03-05"])
    assert result.exit_code == 0
    assert result.stdout == draft_path.read_text(encoding="utf-8")
    assert "7 sentences, 9 mentions, 12 figures, 6 claims to complete" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--source", "no spaces"], "source id 'no spaces'"),
    (["--source", "000_e1eaba6903481a9d"], "is the founding article's"),
    (["--source", "ok", "--published", "5 March"], "--published '5 March': not a date"),
])
def test_bad_options_are_one_line(args: list[str], message: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(ARTICLE), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("borderkg: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("text", "kind", "value"), [
    ("down 62 percent", "percentage", 62),
    ("down 62 per cent", "percentage", 62),
    ("down 62%", "percentage", 62),
    ("up 6.5%", "percentage", Decimal("6.5")),
    ("in fiscal year 2024", "fiscal-year", "2024"),
    ("in FY2024", "fiscal-year", "2024"),
    ("in FY 2023", "fiscal-year", "2023"),
    ("on January 10", "month-day", "--01-10"),
    ("on January 10, 2025", "date", date(2025, 1, 10)),
    ("on Jan. 10, 2025", "date", date(2025, 1, 10)),
    ("on 10 January 2025", "date", date(2025, 1, 10)),
    ("in June 2024", "month", "2024-06"),
    ("in 2019", "year", "2019"),
    ("1,234,567 people", "count", 1234567),
    ("1.5 million people", "count", 1500000),
    ("820 individuals", "count", 820),
])
def test_figure_forms(text: str, kind: str, value: object) -> None:
    figures = find_figures(text)
    assert len(figures) == 1, figures
    figure = figures[0]
    assert (figure.kind, figure.value) == (kind, value)
    assert text[figure.begin:figure.end] == figure.text
    assert figure.end == len(text.split(" people")[0].split(" individuals")[0])


def test_no_figure_inside_a_word_or_an_invalid_date() -> None:
    assert [f.text for f in find_figures("Section S.5 of A1 took effect on June 31.")] == ["31"]


LABELS = {"Border Patrol": ["usbp"], "U.S. Border Patrol": ["usbp"], "ICE": ["ice"],
          "DHS": ["dhs"], "China": ["chn"], "Chinese authorities": ["gov-chn"],
          "Beijing": ["gov-chn", "city-beijing"]}


@pytest.mark.parametrize(("text", "expected"), [
    ("The U.S. Border Patrol said", [("U.S. Border Patrol", ("usbp",))]),
    ("the border patrol said", [("border patrol", ("usbp",))]),
    ("ICE said so; ice melted", [("ICE", ("ice",))]),
    ("DHSX and XDHS are not DHS", [("DHS", ("dhs",))]),
    ("China's Chinese authorities", [("China", ("chn",)), ("Chinese authorities", ("gov-chn",))]),
    ("in Beijing", [("Beijing", ("city-beijing", "gov-chn"))]),
])
def test_mentions_whole_word_case_insensitive_longest_first(
        text: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    mentions = find_mentions(text, LABELS)
    assert [(m.text, m.resources) for m in mentions] == expected
    assert all(text[m.begin:m.end] == m.text for m in mentions)


def test_longest_match_wins_over_an_earlier_shorter_one() -> None:
    labels = {"United States": ["usa"], "States Border Patrol": ["usbp"]}
    found = find_mentions("United States Border Patrol", labels)
    assert [(m.text, m.resources) for m in found] == [("States Border Patrol", ("usbp",))]
