"""``borderkg ingest``: draft a new source's TriG for a curator (``docs/curation.md``).

Thin: it parses the options, asks ``graph.knowledge.ingest`` for the draft and writes it. It needs
no store: the names it looks for come from the seed graph, built in memory.
"""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from graph.errors import BadParameter


def parse_date(value: str | None) -> date | None:
    """An ISO date (YYYY-MM-DD) from the command line, or None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"--published {value!r}: not a date; write YYYY-MM-DD") from None


@click.command()
@click.argument("article", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_id", required=True, metavar="ID",
              help="The source's id: names its document, sentences and graph.")
@click.option("--published", default=None, metavar="DATE",
              help="Publication date (YYYY-MM-DD), written as the document's dcterms:date.")
@click.option("--output", "-o", default=None, type=click.Path(dir_okay=False, path_type=Path),
              help="Write the draft here (default: standard output).")
def ingest(article: Path, source_id: str, published: str | None, output: Path | None) -> None:
    """Draft a curated source from ARTICLE (UTF-8 text, one paragraph a line): sentences
    with offsets, mentions of known things, figures and claim skeletons, as TriG."""
    from graph.knowledge.ingest import draft_source, draft_trig, seed_labels

    draft = draft_source(article, source_id, seed_labels(), parse_date(published))
    text = draft_trig(draft)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    mentions = sum(len(m) for m in draft.mentions.values())
    figures = sum(len(f) for f in draft.figures.values())
    click.echo(f"{len(draft.article.sentences)} sentences, {mentions} mentions, {figures} "
               f"figures, {len(draft.claim_sentences)} claims to complete"
               + (f": {output}" if output else ""), err=True)
