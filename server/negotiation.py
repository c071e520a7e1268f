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
"""
from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Response

from graph.errors import NotAcceptable
from graph.formats import Format, by_name


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
            names = ", ".join(f.name for f in table)
            raise NotAcceptable(f"format {format_param!r} is not offered for this answer; "
                                f"it can be given as: {names}", parameter="format",
                                offered=[f.media_type for f in table])
        return fmt, fmt.media_type
    if accept is not None and len(accept) > MEMO_HEADER:
        media_type = choose(offered(table), accept)  # never kept: the memo stays small
    else:
        media_type = _choose_in(tuple(table), accept)
    if media_type is None:
        raise NotAcceptable(f"none of the acceptable media types ({accept}) can be "
                            "produced here; offered: "
                            + ", ".join(f.media_type for f in table),
                            offered=[f.media_type for f in table])
    return format_for(table, media_type), media_type


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
