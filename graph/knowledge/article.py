"""The founding news article as a source: its document resource and one resource per sentence.

The article is read at build time from a path given by the caller, never copied into the
project. Its SHA-256 is checked first, because the hand-authored knowledge
(``graph/knowledge/article.trig``) cites sentences by number: a different file, even one
with a single word changed, would silently misattribute every claim.

Sentences are found by a small explicit splitter rather than a statistical tokenizer so
that the numbering is deterministic and reviewable: each line of the file is a paragraph,
and a paragraph is split after ``.``, ``!`` or ``?`` (optionally followed by a closing
quote) and whitespace when the next character starts a sentence, unless the word ending
in the period is a known abbreviation (``U.S.``). Offsets are in Unicode code points of
the decoded text, begin inclusive and end exclusive, so ``text[begin:end]`` is the
sentence (as NIF's ``beginIndex``/``endIndex``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SDO, SKOS, XSD

from graph import ids
from graph.errors import BadParameter
from graph.namespace import BKG

__all__ = [
    "ARTICLE_SHA256",
    "Article",
    "ArticleMismatch",
    "Sentence",
    "article_triples",
    "document_iri",
    "placeholder_triples",
    "read_article",
    "sentence_iri",
    "split_sentences",
]

ARTICLE_SHA256 = "7d12404a315a255c0afa27364f8038fc16f413ee29e12e26a6f3389d29025085"
EXPECTED_PARAGRAPHS = 14
EXPECTED_SENTENCES = 19

#: Words that end in a period without ending a sentence (compared case-sensitively).
ABBREVIATIONS = frozenset(
    {
        "U.S.",
        "U.K.",
        "U.N.",
        "E.U.",
        "Mr.",
        "Mrs.",
        "Ms.",
        "Dr.",
        "St.",
        "Jan.",
        "Feb.",
        "Aug.",
        "Sept.",
        "Oct.",
        "Nov.",
        "Dec.",
        "No.",
        "vs.",
    }
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’]?(?=\s+[\"“‘(A-Z0-9])")

TITLE = (
    "DHS announces fifth large-scale removal of Chinese nationals in under seven months "
    "(news article, January 2025)"
)
PUBLICATION_DATE = "2025-01-10"
MISSING_NOTE = (
    "Built without the article's file, which was not found: the sentences are named and "
    "numbered but their text, offsets and paragraphs, and the file's SHA-256, are missing. "
    "They are added when the service starts with the file (setting article)."
)
EDITORIAL_NOTE = (
    "The source file carries no headline, byline, publisher or date. The title is assigned by "
    "BorderKG. The date is inferred from the text: the announcement it reports was made on "
    "'Friday (January 10)', which is 10 January 2025, so the article is of that day or "
    "shortly after. The publisher is unknown and deliberately not stated."
)


class ArticleMismatch(BadParameter):
    """The file given as the article is not the one the authored knowledge cites."""

    code = "article-mismatch"


@dataclass(frozen=True)
class Sentence:
    """One sentence: number in the document and in-paragraph, offsets, exact text."""

    number: int
    paragraph: int
    begin: int
    end: int
    text: str


@dataclass(frozen=True)
class Article:
    """The decoded article text, its digest and its sentences."""

    path: Path
    text: str
    sha256: str
    sentences: tuple[Sentence, ...]

    @property
    def paragraphs(self) -> int:
        return max(s.paragraph for s in self.sentences)


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` (one paragraph per line) into numbered sentences with offsets.

    >>> [s.text for s in split_sentences("The U.S. agreed. China did too.")]
    ['The U.S. agreed.', 'China did too.']
    """
    sentences: list[Sentence] = []
    offset = 0
    for paragraph, line in enumerate(text.split("\n"), start=1):
        for begin, end in _spans(line):
            sentences.append(
                Sentence(
                    len(sentences) + 1, paragraph, offset + begin, offset + end, line[begin:end]
                )
            )
        offset += len(line) + 1
    return sentences


def _spans(line: str) -> Iterator[tuple[int, int]]:
    """(begin, end) of each sentence in one paragraph, surrounding whitespace excluded."""
    start = 0
    for match in _BOUNDARY.finditer(line):
        cut = match.end()
        if _ends_with_abbreviation(line[start:cut]):
            continue
        yield from _trimmed(line, start, cut)
        start = cut
    yield from _trimmed(line, start, len(line))


def _ends_with_abbreviation(chunk: str) -> bool:
    words = chunk.rstrip('"”’').split()
    return bool(words) and words[-1].lstrip('(“"‘') in ABBREVIATIONS


def _trimmed(line: str, begin: int, end: int) -> Iterator[tuple[int, int]]:
    while begin < end and line[begin].isspace():
        begin += 1
    while end > begin and line[end - 1].isspace():
        end -= 1
    if begin < end:
        yield begin, end


def read_article(path: Path, expected_sha256: str | None = ARTICLE_SHA256) -> Article:
    """Read and split the article, refusing a file whose digest or shape is not the expected one.

    ``expected_sha256=None`` skips the checks (for other texts in tests).
    """
    data = Path(path).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise ArticleMismatch(
            f"{path} is not the founding article: SHA-256 {digest}, expected {expected_sha256}; "
            "the authored knowledge cites its sentences by number",
            path=str(path),
            sha256=digest,
        )
    text = data.decode("utf-8")
    sentences = tuple(split_sentences(text))
    article = Article(Path(path), text, digest, sentences)
    if expected_sha256 is not None:
        _check_shape(article)
    return article


def _check_shape(article: Article) -> None:
    found = (article.paragraphs, len(article.sentences))
    if found != (EXPECTED_PARAGRAPHS, EXPECTED_SENTENCES):
        raise ArticleMismatch(
            f"{article.path}: expected {EXPECTED_PARAGRAPHS} paragraphs and "
            f"{EXPECTED_SENTENCES} sentences, found {found[0]} and {found[1]}"
        )


def document_iri(article_id: str = ids.ARTICLE_ID) -> URIRef:
    """IRI of the article as a document."""
    return URIRef(ids.thing("source", article_id))


def sentence_iri(number: int, article_id: str = ids.ARTICLE_ID) -> URIRef:
    """IRI of sentence ``number`` (from 1) of the article."""
    return URIRef(f"{document_iri(article_id)}/sentence/{number}")


def article_triples(article: Article) -> Iterator[tuple[URIRef, URIRef, URIRef | Literal]]:
    """The document resource and every sentence resource, as triples."""
    doc = document_iri()
    yield from _document_triples(doc, article.sha256)
    for s in article.sentences:
        node = sentence_iri(s.number)
        yield node, RDF.type, BKG.Sentence
        yield (
            node,
            RDFS.label,
            Literal(f"sentence {s.number} of article {ids.ARTICLE_ID}", lang="en"),
        )
        yield node, BKG.text, Literal(s.text)
        yield node, BKG.beginIndex, Literal(s.begin, datatype=XSD.integer)
        yield node, BKG.endIndex, Literal(s.end, datatype=XSD.integer)
        yield node, BKG.sentenceNumber, Literal(s.number, datatype=XSD.integer)
        yield node, BKG.paragraphNumber, Literal(s.paragraph, datatype=XSD.integer)
        yield node, DCTERMS.isPartOf, doc


def placeholder_triples(
    sentence_count: int = EXPECTED_SENTENCES,
) -> Iterator[tuple[URIRef, URIRef, URIRef | Literal]]:
    """The document and its sentences as far as they are known without the file.

    The authored claims cite sentences by number, so the claims can be served before the
    file is at hand; the sentences keep their IRIs, numbers and labels, so a later build
    from the file only adds to them. The document says what is missing, and has no
    SHA-256: its absence is how a build tells that the article is still to be read.
    """
    doc = document_iri()
    yield from _document_triples(doc, None)
    yield doc, RDFS.comment, Literal(MISSING_NOTE, lang="en")
    for number in range(1, sentence_count + 1):
        node = sentence_iri(number)
        yield node, RDF.type, BKG.Sentence
        yield node, RDFS.label, Literal(f"sentence {number} of article {ids.ARTICLE_ID}",
                                        lang="en")
        yield node, BKG.sentenceNumber, Literal(number, datatype=XSD.integer)
        yield node, DCTERMS.isPartOf, doc


def _document_triples(
    doc: URIRef, sha256: str | None
) -> Iterator[tuple[URIRef, URIRef, URIRef | Literal]]:
    for cls in (SDO.NewsArticle, PROV.Entity, FOAF.Document):
        yield doc, RDF.type, cls
    title = Literal(TITLE, lang="en")
    yield doc, DCTERMS.title, title
    yield doc, BKG.assignedTitle, title
    yield doc, RDFS.label, title
    yield doc, DCTERMS.identifier, Literal(ids.ARTICLE_ID)
    yield doc, DCTERMS.date, Literal(PUBLICATION_DATE, datatype=XSD.date)
    yield doc, DCTERMS.language, Literal("en", datatype=XSD.language)
    if sha256 is not None:
        yield doc, BKG.sha256, Literal(sha256, datatype=XSD.hexBinary)
    yield doc, SKOS.editorialNote, Literal(EDITORIAL_NOTE, lang="en")
