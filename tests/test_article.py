"""The article reader: sentence splitting, offsets, and refusal of a wrong file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from graph.knowledge.article import ARTICLE_SHA256, ArticleMismatch, read_article, split_sentences
from tests._paths import ARTICLE_PATH


def test_abbreviation_does_not_split() -> None:
    assert [s.text for s in split_sentences("The U.S. Department acted. China agreed.")] == [
        "The U.S. Department acted.",
        "China agreed.",
    ]


def test_closing_quote_stays_with_its_sentence() -> None:
    texts = [s.text for s in split_sentences("They were called “recalcitrant.” Then more.")]
    assert texts == ["They were called “recalcitrant.”", "Then more."]


def test_lower_case_after_period_does_not_split() -> None:
    assert len(split_sentences("Along the U.S. southwestern border it fell.")) == 1


def test_paragraphs_are_lines_and_offsets_are_global() -> None:
    text = "One. Two.\nThree."
    sentences = split_sentences(text)
    assert [(s.number, s.paragraph) for s in sentences] == [(1, 1), (2, 1), (3, 2)]
    assert all(text[s.begin : s.end] == s.text for s in sentences)
    assert sentences[2].begin == 10


def test_article_has_14_paragraphs_and_19_sentences() -> None:
    article = read_article(ARTICLE_PATH)
    assert article.sha256 == ARTICLE_SHA256
    assert article.paragraphs == 14
    assert len(article.sentences) == 19
    assert [s.paragraph for s in article.sentences].count(7) == 3


def test_sentence_texts_and_offsets() -> None:
    article = read_article(ARTICLE_PATH)
    for s in article.sentences:
        assert article.text[s.begin : s.end] == s.text
        assert s.text == s.text.strip()
    first, ninth, last = article.sentences[0], article.sentences[8], article.sentences[-1]
    assert first.text.startswith("The U.S. Department of Homeland Security (DHS) announced")
    assert ninth.text.endswith("deported by the U.S.")
    assert article.sentences[17].text.endswith("“recalcitrant countries.”")
    assert last.text.startswith("The repercussions")


def test_wrong_file_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "article.txt"
    altered.write_bytes(ARTICLE_PATH.read_bytes().replace(b"2,160", b"2,161"))
    with pytest.raises(ArticleMismatch, match="SHA-256"):
        read_article(altered)


def test_shape_is_checked_when_digest_matches(tmp_path: Path) -> None:
    odd = tmp_path / "odd.txt"
    odd.write_text("Just one sentence.", encoding="utf-8")
    digest = hashlib.sha256(odd.read_bytes()).hexdigest()
    with pytest.raises(ArticleMismatch, match="19 sentences"):
        read_article(odd, expected_sha256=digest)
