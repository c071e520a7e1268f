"""Draft a new source for a curator: its document, sentences, mentions, figures and claims.

A new article enters BorderKG in three steps (``docs/curation.md``): this module reads the
text and writes a *draft* TriG file; a curator completes it (what each sentence claims,
the document's title and origin, the curation date); ``graph.knowledge.sources`` builds the curated
file into its own named graph. The draft only proposes: it finds what can be found
mechanically and marks everything a person must decide with ``bkg:curationStatus
"draft"`` and ``# CURATE`` comments, so a build refuses a file nobody finished.

The draft reuses the founding article's model and IRI scheme (``graph.knowledge.article``): the
document is ``id/source/{source}``, sentence N is ``{document}/sentence/N`` with the same
``bkg:`` sentence properties, and the graph is ``graph/article/{source}``. Mentions and
figures are NIF phrases (``nif:anchorOf``, ``nif:beginIndex``, ``nif:endIndex`` into the
document text, like a sentence's offsets) that are ``dcterms:isPartOf`` their sentence.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import RDFS, SKOS

from graph import ids, intervals, namespace
from graph.errors import BadParameter

from .article import Article, Sentence, document_iri, read_article
from .text_spans import Figure, Mention, find_figures, find_mentions

__all__ = ["Draft", "check_source_id", "draft_source", "draft_trig", "known_labels",
           "seed_labels", "source_graph_iri"]

#: a source id becomes an IRI segment and a Turtle local name, so it is kept to these
SOURCE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")
#: kinds of ``id/`` resources whose labels are not names to look for in a text: periods
#: (figures cover dates), documents and sentences, claims, build activities
NOT_NAMES = frozenset({"time", "source", "claim", "activity"})
LABEL_PROPERTIES = (RDFS.label, SKOS.prefLabel, SKOS.altLabel)
#: Turtle prefix names for ``id/{kind}/`` (``org`` is W3C ORG's, so agencies are ``agency``)
KIND_PREFIX = {"org": "agency"}
#: XSD datatype of each figure kind whose value is written as a string
PARTIAL_DATE_TYPES = {"month-day": "xsd:gMonthDay", "month": "xsd:gYearMonth",
                      "year": "xsd:gYear", "fiscal-year": "xsd:gYear"}
#: the draft's prefixes: those of the project's table it writes, and its own for sources
#: (``src:``) and periods (``t:``)
PREFIXES = {
    **namespace.prefixes("bkg", "dcterms", "foaf", "itsrdf", "nif", "prov", "rdf", "rdfs",
                         "schema", "xsd"),
    "src": ids.ID + "source/",
    "t": intervals.TIME_BASE,
}


@dataclass(frozen=True)
class Draft:
    """What was found in a new source's text, sentence by sentence."""

    source_id: str
    article: Article
    mentions: dict[int, list[Mention]] = field(default_factory=dict)
    figures: dict[int, list[Figure]] = field(default_factory=dict)
    published: date | None = None
    created: date = field(default_factory=date.today)

    @property
    def claim_sentences(self) -> list[Sentence]:
        """Sentences that get a claim skeleton: those with a figure or a mention."""
        return [s for s in self.article.sentences
                if self.mentions.get(s.number) or self.figures.get(s.number)]


def check_source_id(source_id: str) -> str:
    """``source_id`` if it can name a source; the founding article's id is taken."""
    if not SOURCE_ID.fullmatch(source_id):
        raise BadParameter(f"source id {source_id!r}: use 1 to 100 letters, digits, '_' or "
                           "'-', starting with a letter or digit", source=source_id)
    if source_id == ids.ARTICLE_ID:
        raise BadParameter(f"source id {source_id} is the founding article's, built by "
                           "borderkg build itself", source=source_id)
    return source_id


def source_graph_iri(source_id: str) -> str:
    """The named graph of source ``source_id``, beside the founding article's."""
    return ids.graph(f"article/{source_id}")


def known_labels(dataset: Dataset, graphs: Iterable[str]) -> dict[str, set[str]]:
    """Label -> IRIs of the named things in ``graphs`` (English or untagged labels)."""
    labels: dict[str, set[str]] = defaultdict(set)
    for name in graphs:
        graph = dataset.graph(URIRef(name))
        for prop in LABEL_PROPERTIES:
            for subject, label in graph.subject_objects(prop):
                if _is_name(subject, label):
                    labels[str(label)].add(str(subject))
    return dict(labels)


def _is_name(subject: object, label: object) -> bool:
    if not isinstance(subject, URIRef) or not isinstance(label, Literal):
        return False
    if label.language not in (None, "en") and not str(label.language).startswith("en-"):
        return False
    iri = str(subject)
    return iri.startswith(ids.ID) and iri[len(ids.ID):].split("/")[0] not in NOT_NAMES


def seed_labels() -> dict[str, set[str]]:
    """Names of the things the seed graph knows (background and founding article); the
    seed is built in memory, without the article's file, which adds no names."""
    from .seed import build_seed_dataset

    return known_labels(build_seed_dataset(None), (ids.GRAPH_BACKGROUND, ids.GRAPH_ARTICLE))


def draft_source(path: Path, source_id: str, labels: dict[str, set[str]],
                 published: date | None = None, created: date | None = None) -> Draft:
    """Read the text at ``path`` (UTF-8, one paragraph a line) and find what it holds."""
    check_source_id(source_id)
    try:
        article = read_article(path, expected_sha256=None)
    except UnicodeDecodeError as exc:
        raise BadParameter(f"{path}: not UTF-8 text (byte offset {exc.start})") from None
    if not article.sentences:
        raise BadParameter(f"{path}: no sentences to draft")
    mentions = {s.number: find_mentions(article.text, labels, s.begin, s.end)
                for s in article.sentences}
    figures = {s.number: find_figures(article.text, s.begin, s.end) for s in article.sentences}
    return Draft(source_id, article, mentions, figures, published, created or date.today())


def draft_trig(draft: Draft) -> str:
    """The draft as TriG text: one named graph, commented for the curator."""
    body = [*_graph_block(draft), *_document_block(draft)]
    for sentence in draft.article.sentences:
        body.extend(_sentence_block(draft, sentence))
    lines = [*_header(draft), *_prefixes(draft), "",
             f"GRAPH <{source_graph_iri(draft.source_id)}> {{", "",
             *body, "}"]
    return "\n".join(lines) + "\n"


def _header(draft: Draft) -> list[str]:
    return [
        f"# Draft of source {draft.source_id} for curation, from {draft.article.path.name}",
        f"# ({len(draft.article.sentences)} sentences, SHA-256 {draft.article.sha256}).",
        "#",
        "# Found mechanically: the sentences and their offsets, mentions of things the graph",
        "# already knows, and figures. Everything to decide is marked '# CURATE' and",
        '# bkg:curationStatus "draft"; borderkg build refuses the file until none is left.',
        "# For each claim: uncomment rdf:subject, rdf:predicate and rdf:object, fill them in,",
        '# and set bkg:curationStatus "curated"; copy the block (claim:N-2, ...) for another',
        "# triple of the same sentence, or delete it if the sentence claims nothing.",
        "# See docs/curation.md.",
        "",
    ]


def _prefixes(draft: Draft) -> list[str]:
    doc = str(document_iri(draft.source_id))
    local = {"s": f"{doc}/sentence/", "m": f"{doc}/mention/", "f": f"{doc}/figure/",
             "claim": f"{ids.ID}claim/{draft.source_id}/"}
    kinds = {_kind_of(iri) for found in draft.mentions.values() for m in found
             for iri in m.resources}
    entity = {KIND_PREFIX.get(k, k): f"{ids.ID}{k}/" for k in kinds if k}
    table = {**PREFIXES, **local, **entity}
    width = max(len(name) for name in table) + 2
    return [f"@prefix {name + ':':<{width}}<{iri}> ." for name, iri in sorted(table.items())]


def _kind_of(iri: str) -> str | None:
    """The ``id/{kind}/`` of an IRI that a prefixed name can write, else None."""
    if not iri.startswith(ids.ID):
        return None
    kind, _, local = iri[len(ids.ID):].partition("/")
    prefix = KIND_PREFIX.get(kind, kind)
    if prefix in PREFIXES or not re.fullmatch(r"[A-Za-z][\w-]*", prefix):
        return None
    return kind if re.fullmatch(r"[A-Za-z0-9_][\w-]*", local) else None


def _name(iri: str) -> str:
    """``iri`` as a prefixed name when the draft declares its ``id/{kind}/``."""
    kind = _kind_of(iri)
    if kind is None:
        return f"<{iri}>"
    return f"{KIND_PREFIX.get(kind, kind)}:{iri[len(ids.ID) + len(kind) + 1:]}"


def _string(text: str, lang: str | None = None) -> str:
    return Literal(text, lang=lang).n3()


def _graph_block(draft: Draft) -> list[str]:
    sid = draft.source_id
    return [
        "    # --- This graph: BorderKG's curation of the source --------------------------",
        f"    <{source_graph_iri(sid)}> a prov:Entity ;",
        f"        rdfs:label {_string(f'BorderKG curation of source {sid}', 'en')} ;",
        f"        prov:wasDerivedFrom src:{sid} ;",
        f"        dcterms:source src:{sid} ;",
        f'        dcterms:created "{draft.created.isoformat()}"^^xsd:date ;',
        "        # CURATE: the day the curation was finished (the build requires it):",
        '        # dcterms:dateAccepted "YYYY-MM-DD"^^xsd:date ;',
        '        bkg:curationStatus "draft" .',
        "",
    ]


def _document_block(draft: Draft) -> list[str]:
    sid, published = draft.source_id, draft.published
    date_line = (f'        dcterms:date "{published.isoformat()}"^^xsd:date ;' if published
                 else '        # dcterms:date "YYYY-MM-DD"^^xsd:date ;')
    return [
        "    # --- The document --------------------------------------------------------",
        f"    src:{sid} a schema:NewsArticle, prov:Entity, foaf:Document ;",
        f"        rdfs:label {_string(f'source {sid}', 'en')} ;",
        f"        dcterms:identifier {_string(sid)} ;",
        '        dcterms:language "en"^^xsd:language ;',
        "        # CURATE: the headline (or bkg:assignedTitle if it has none), the publisher,",
        "        # where it was published, and the date if --published did not give it:",
        '        # dcterms:title "..."@en ;',
        "        # dcterms:publisher <...> ;",
        "        # dcterms:source <https://...> ;",
        date_line,
        f'        bkg:sha256 "{draft.article.sha256}"^^xsd:hexBinary .',
        "",
    ]


def _sentence_block(draft: Draft, sentence: Sentence) -> Iterator[str]:
    n, sid = sentence.number, draft.source_id
    yield f"    # --- Sentence {n} (paragraph {sentence.paragraph}) " + "-" * 40
    yield f"    # {sentence.text}"
    yield f"    s:{n} a bkg:Sentence ;"
    yield f"        rdfs:label {_string(f'sentence {n} of source {sid}', 'en')} ;"
    yield f"        bkg:text {_string(sentence.text)} ;"
    yield f"        bkg:beginIndex {sentence.begin} ;"
    yield f"        bkg:endIndex {sentence.end} ;"
    yield f"        bkg:sentenceNumber {n} ;"
    yield f"        bkg:paragraphNumber {sentence.paragraph} ;"
    yield f"        dcterms:isPartOf src:{sid} ."
    yield ""
    for mention in draft.mentions.get(n, []):
        yield from _mention_block(n, mention)
    for figure in draft.figures.get(n, []):
        yield from _figure_block(n, figure)
    if draft.mentions.get(n) or draft.figures.get(n):
        yield from _claim_block(draft, sentence)


def _span_lines(kind: str, prefix: str, n: int, span: Mention | Figure) -> list[str]:
    return [
        f"    {prefix}:{span.begin}-{span.end} a {kind} ;",
        f"        nif:anchorOf {_string(span.text)} ;",
        f"        nif:beginIndex {span.begin} ;",
        f"        nif:endIndex {span.end} ;",
        f"        dcterms:isPartOf s:{n} ;",
    ]


def _mention_block(n: int, mention: Mention) -> list[str]:
    lines = _span_lines("bkg:Mention", "m", n, mention)
    targets = ", ".join(_name(iri) for iri in mention.resources)
    if len(mention.resources) > 1:
        lines.append("        # CURATE: the label is ambiguous; keep the one meant")
    return [*lines, f"        itsrdf:taIdentRef {targets} .", ""]


def _figure_block(n: int, figure: Figure) -> list[str]:
    lines = _span_lines("bkg:Figure", "f", n, figure)
    lines.append(f'        bkg:figureKind "{figure.kind}" ;')
    period = _period_iri(figure)
    if period is not None:
        lines.append(f"        dcterms:temporal {_name_time(period)} ;")
    return [*lines, f"        rdf:value {_value(figure)} .", ""]


def _period_iri(figure: Figure) -> str | None:
    """The OWL-Time interval IRI BorderKG uses for a month, year or fiscal year."""
    value = str(figure.value)
    if figure.kind == "fiscal-year":
        return intervals.fiscal_year_iri(int(value))
    if figure.kind == "year":
        return intervals.calendar_year_iri(int(value))
    if figure.kind == "month":
        return intervals.month_iri(int(value[:4]), int(value[5:]))
    return None


def _name_time(iri: str) -> str:
    return "t:" + iri[len(intervals.TIME_BASE):]


def _value(figure: Figure) -> str:
    """The figure's value as a Turtle literal of the XSD type its kind calls for."""
    value = figure.value
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return f'"{value}"^^xsd:decimal'
    if isinstance(value, date):
        return f'"{value.isoformat()}"^^xsd:date'
    return f'"{value}"^^{PARTIAL_DATE_TYPES[figure.kind]}'


def _claim_block(draft: Draft, sentence: Sentence) -> list[str]:
    n, sid = sentence.number, draft.source_id
    mentions = draft.mentions.get(n, [])
    figures = draft.figures.get(n, [])
    subject = _name(mentions[0].resources[0]) if mentions else "<...>"
    obj = _value(figures[0]) if figures else (
        _name(mentions[-1].resources[0]) if len(mentions) > 1 else "<...>")
    return [
        f"    # CURATE: the triple sentence {n} states (candidates below), then set",
        '    # bkg:curationStatus "curated".',
        f"    claim:{n} a bkg:Claim ;",
        f"        rdfs:label {_string(f'claim of sentence {n} of source {sid}', 'en')} ;",
        f"        prov:wasDerivedFrom s:{n} ;",
        f"        # rdf:subject {subject} ;",
        "        # rdf:predicate bkg:... ;",
        f"        # rdf:object {obj} ;",
        *_candidate_comments(mentions, figures),
        '        bkg:curationStatus "draft" .',
        "",
    ]


def _candidate_comments(mentions: list[Mention], figures: list[Figure]) -> list[str]:
    lines = [f"        #   mentioned: {' | '.join(_name(i) for i in m.resources)} "
             f"({m.text!r})" for m in mentions]
    lines += [f"        #   figure: {_value(f)} ({f.kind}, {f.text!r})" for f in figures]
    return lines
