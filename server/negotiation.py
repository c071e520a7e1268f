"""Content negotiation as tables: Accept parsing, q-values, wildcards, ``format=``.

The tables of offered formats live in ``graph.formats`` (one for SELECT/ASK results, one
for graphs, one for datasets); this module only decides which entry of a table a request
gets. Rules (RFC 9110 section 12.5.1):

* each media range has a quality ``q`` (default 1; ``q=0`` means "not acceptable");
* a media type takes the quality of the *most specific* range that matches it
  (``text/turtle`` beats ``text/*`` beats ``*/*``; a range with parameters beats the same
  range without);
* among offers of equal quality, the one matched more specifically wins, then the one the
  client listed first, then the table's order (so ``*/*`` gives the table's default);
* a ``format`` parameter (a name such as ``json`` or ``turtle``, an extension, or a media
  type) overrides Accept entirely;
* when nothing offered is acceptable the answer is 406, listing what is offered.

Every route negotiates here: a table of ``graph.formats`` (:func:`negotiate`), a table
and the route's HTML page (:func:`negotiate_page`), or a few media types the route renders
itself, such as JSON and a page (:func:`negotiate_media`). So one Accept header gets the
same reading everywhere: media-type parameters such as ``charset`` never stop a match.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flask import Response

from graph.errors import NotAcceptable
from graph.formats import GRAPH_FORMATS, RESULT_FORMATS, Format, by_name

#: the page a route renders for browsers, offered beside a table of data formats
HTML = "text/html"


@dataclass(frozen=True)
class MediaRange:
    """One element of an Accept header."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float
    position: int

    def matches(self, media_type: str) -> bool:
        kind, _, sub = media_type.partition("/")
        return (self.type in ("*", kind)) and (self.subtype in ("*", sub))

    @property
    def specificity(self) -> int:
        """3 exact type with parameters, 2 exact type, 1 ``type/*``, 0 ``*/*``."""
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2


def _quality(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        return 0.0
    return min(max(value, 0.0), 1.0)


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; malformed elements are skipped (RFC 9110
    lets a server ignore what it cannot parse rather than refuse the request)."""
    ranges: list[MediaRange] = []
    for position, element in enumerate((header or "").split(",")):
        parts = [p.strip() for p in element.split(";")]
        kind, _, sub = parts[0].lower().partition("/")
        if not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q, params = 1.0, []
        for param in parts[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                q = _quality(value)
            elif name:
                params.append((name, value.lower()))
        ranges.append(MediaRange(kind, sub, tuple(params), q, position))
    return ranges


def _best_range(ranges: Sequence[MediaRange], media_type: str) -> MediaRange | None:
    """The most specific range matching ``media_type`` (its quality is the type's)."""
    matching = [r for r in ranges if r.matches(media_type)]
    return max(matching, key=lambda r: (r.specificity, -r.position), default=None)


def choose(offers: Sequence[str], accept: str | None) -> str | None:
    """The offered media type the Accept header prefers, or None when none is acceptable.

    An absent or empty Accept header accepts anything: the first offer wins.

    >>> choose(["text/turtle", "application/n-triples"], "application/*;q=0.5, */*;q=0.1")
    'application/n-triples'
    >>> choose(["text/csv"], "application/json") is None
    True
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0] if offers else None
    scored = []
    for order, offer in enumerate(offers):
        best = _best_range(ranges, offer)
        if best is not None and best.q > 0:
            scored.append(((-best.q, -best.specificity, best.position, order), offer))
    return min(scored)[1] if scored else None


def offered(table: Sequence[Format]) -> list[str]:
    """Every media type of a table, canonical types first so wildcards pick them."""
    canonical = [f.media_type for f in table]
    return canonical + [alias for f in table for alias in f.aliases if alias not in canonical]


def format_for(table: Sequence[Format], media_type: str) -> Format:
    return next(f for f in table if media_type in f.media_types)


#: other names clients send in ``format`` (SPARQLWrapper sends its return-format names);
#: N3 is answered with Turtle, which every N3 parser reads
FORMAT_ALIASES = {"json-ld": "jsonld", "rdf+xml": "rdfxml", "rdf": "rdfxml", "n3": "turtle",
                  "text/n3": "turtle", "text/rdf+n3": "turtle", "n-triples": "ntriples",
                  "n-quads": "nquads", "json": "jsonld"}


def _by_format_param(table: Sequence[Format], value: str) -> Format | None:
    fmt = by_name(tuple(table), value)
    alias = FORMAT_ALIASES.get(value.strip().lower())
    if fmt is None and alias:
        fmt = by_name(tuple(table), alias)
    return fmt


def negotiate(table: Sequence[Format], accept: str | None,
              format_param: str | None = None) -> tuple[Format, str]:
    """The format and the media type to answer with; ``format_param`` overrides Accept."""
    if format_param:
        fmt = _by_format_param(table, format_param)
        if fmt is None:
            raise _unknown_format(format_param, [f.name for f in table],
                                  [f.media_type for f in table])
        return fmt, fmt.media_type
    if accept is not None and len(accept) > MEMO_HEADER:
        media_type = choose(offered(table), accept)  # never kept: the memo stays small
    else:
        media_type = _choose_in(tuple(table), accept)
    if media_type is None:
        raise not_acceptable(accept, [f.media_type for f in table])
    return format_for(table, media_type), media_type


def not_acceptable(accept: str | None, listed: Sequence[str]) -> NotAcceptable:
    """The one 406 every route answers: the Accept header it could not satisfy and the
    media types it offers (canonical ones; aliases are spellings of the same answer)."""
    return NotAcceptable(f"none of the acceptable media types ({accept}) can be produced "
                         "here; offered: " + ", ".join(listed), offered=list(listed))


def _unknown_format(format_param: str, names: Sequence[str],
                    listed: Sequence[str]) -> NotAcceptable:
    return NotAcceptable(f"format {format_param!r} is not offered for this answer; it can "
                         f"be given as: {', '.join(names)}", parameter="format",
                         offered=list(listed))


def negotiate_page(table: Sequence[Format], accept: str | None, format_param: str | None,
                   page: str = HTML, page_first: bool = False) -> tuple[Format | None, str]:
    """A table of formats plus a page a route renders itself (None as its format).

    The page is one more offer, first (documents: a browser's Accept, or none, gets the
    page) or last (data first: a client without a preference gets data); ``format=html``
    names it, any other ``format`` is looked up in the table as :func:`negotiate` does.
    """
    listed = [f.media_type for f in table]
    listed = [page, *listed] if page_first else [*listed, page]
    if format_param and format_param.strip().lower() in ("html", page):
        return None, page
    if format_param:
        if _by_format_param(table, format_param) is None:
            raise _unknown_format(format_param, [*(f.name for f in table), "html"], listed)
        return negotiate(table, None, format_param)
    offers = offered(table)
    offers = [page, *offers] if page_first else [*offers, page]
    media_type = choose(offers, accept)
    if media_type is None:
        raise not_acceptable(accept, listed)
    return (None, page) if media_type == page else (format_for(table, media_type), media_type)


def negotiate_media(offers: Sequence[str], accept: str | None, format_param: str | None = None,
                    names: Mapping[str, str] | None = None) -> str:
    """One of ``offers`` (media types of answers a route renders itself, such as JSON and
    its page): ``format`` (a name of ``names``, or an offered media type) wins over Accept,
    which is read by the same rules as for the format tables."""
    if format_param:
        wanted = (names or {}).get(format_param.strip().lower(), format_param.strip().lower())
        if wanted in offers:
            return wanted
        raise _unknown_format(format_param, sorted(names or offers), offers)
    spellings = _spellings(tuple(offers))
    media_type = choose(list(spellings), accept)
    if media_type is None:
        raise not_acceptable(accept, offers)
    return spellings[media_type]


@functools.lru_cache(maxsize=64)
def _spellings(offers: tuple[str, ...]) -> dict[str, str]:
    """Each offer, then the aliases of the offers that are formats of ``graph.formats``
    (``application/json`` for SPARQL JSON results), each mapped to the offer it spells:
    a route offering a format accepts every name of it, as the format tables do."""
    spellings = {offer: offer for offer in offers}
    for table in (RESULT_FORMATS, GRAPH_FORMATS):
        for fmt in table:
            if fmt.media_type in offers:
                spellings.update({a: fmt.media_type for a in fmt.aliases
                                  if a not in spellings})
    return spellings


#: longest Accept header remembered (1,024 of them at most: a bounded few hundred KiB)
MEMO_HEADER = 256


@functools.lru_cache(maxsize=1024)
def _choose_in(table: tuple[Format, ...], accept: str | None) -> str | None:
    """``choose`` over a table, remembered: clients send the same few Accept headers,
    and parsing one costs more than the query of a point lookup (bounded, so varied
    headers only cost the parse)."""
    return choose(offered(table), accept)


def content_type(media_type: str) -> str:
    """The Content-Type header: textual types say they are UTF-8."""
    if media_type.startswith("text/"):
        return f"{media_type}; charset=utf-8"
    return media_type


def empty(status: int) -> Response:
    """A response without a body, and so without a Content-Type."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response
