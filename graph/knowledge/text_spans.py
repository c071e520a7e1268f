"""Spans of a text worth a curator's attention: figures, dates, and names of known things.

Used by ``graph.knowledge.ingest`` to draft a new source. Everything here is plain text in and
``(begin, end)`` offsets out, in Unicode code points of the text, begin inclusive and end
exclusive, so ``text[begin:end]`` is always the span's exact text (the convention of
``graph.knowledge.article``). The finders are deliberately small regular expressions rather than a
statistical tagger, so that a draft is reproducible and every span can be explained; a
curator corrects what they miss.

Figures are found in order of specificity: fiscal years, then dates, then percentages,
then plain numbers, each in the text the earlier ones left, so the "2024" of "June 2024"
is a month, never a count as well.

Names are matched case-insensitively and as whole words, longest first, so "U.S. Border
Patrol" is one mention rather than "Border Patrol" inside it. A label written all in
capitals (an acronym such as ICE) matches only in capitals: otherwise every "ice" would
be the agency.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

__all__ = ["Figure", "Mention", "find_figures", "find_mentions"]

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
#: month names and their usual abbreviations (with an optional period) -> month number
MONTH_NUMBERS = {
    **{name: n for n, name in enumerate(MONTHS, start=1)},
    **{name[:3]: n for n, name in enumerate(MONTHS, start=1) if name != "may"},
    "sept": 9,
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_SCALES = {"thousand": 1000, "million": 10**6, "billion": 10**9}

#: (kind, pattern), tried in this order; a later pattern only sees text earlier ones left
FIGURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(r"(?<![\w.,])" + pattern + r"(?![\w%]|[.,]\d)", re.IGNORECASE))
    for kind, pattern in (
        ("fiscal-year", r"(?:fiscal\s+year\s+|FY\s?)(?P<fy>(?:19|20)\d\d|\d\d)"),
        ("date", _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR),
        ("date", _DAY + r"\s+" + _MONTH + r",?\s+" + _YEAR),
        ("month-day", _MONTH + r"\s+" + _DAY),
        ("month", _MONTH + r",?\s+" + _YEAR),
        ("percentage", r"(?P<number>" + _NUMBER + r")(?:\s?%|\s+per\s?cent)"),
        ("count", r"(?P<number>" + _NUMBER + r")(?:\s+(?P<scale>thousand|million|billion))?"),
    )
)


@dataclass(frozen=True)
class Figure:
    """A figure in the text: its span, its kind, and its value.

    ``value`` is an ``int`` or ``Decimal`` for counts and percentages (62 for "62
    percent"), a ``date`` for a full date, and an ISO string for the partial ones
    (``"--01-10"`` month-day, ``"2024-06"`` month, ``"2024"`` year or fiscal year), as
    their XSD types write them.
    """

    begin: int
    end: int
    text: str
    kind: str
    value: int | Decimal | date | str


@dataclass(frozen=True)
class Mention:
    """A span naming one or more known resources (several: an ambiguous label)."""

    begin: int
    end: int
    text: str
    resources: tuple[str, ...]


def find_figures(text: str, begin: int = 0, end: int | None = None) -> list[Figure]:
    """The figures of ``text[begin:end]``, in text order, with offsets into ``text``.

    >>> [(f.text, f.kind, f.value) for f in find_figures("FY2024 saw 2,160 (62%).")]
    [('FY2024', 'fiscal-year', '2024'), ('2,160', 'count', 2160), ('62%', 'percentage', 62)]
    """
    end = len(text) if end is None else end
    taken: list[tuple[int, int]] = []
    found: list[Figure] = []
    for kind, pattern in FIGURE_PATTERNS:
        for match in pattern.finditer(text, begin, end):
            if _overlaps(match.span(), taken):
                continue
            value = _value(kind, match)
            if value is None:
                continue
            if kind == "count" and _is_year(match):
                kind_found, value = "year", match.group(0)
            else:
                kind_found = kind
            taken.append(match.span())
            found.append(Figure(match.start(), match.end(), match.group(0), kind_found, value))
    return sorted(found, key=lambda f: f.begin)


def _overlaps(span: tuple[int, int], taken: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < e and b < span[1] for b, e in taken)


def _is_year(match: re.Match[str]) -> bool:
    """A bare four-digit number from 1900 to 2099 is read as a year, not a count."""
    return match["scale"] is None and re.fullmatch(r"(?:19|20)\d\d", match.group(0)) is not None


def _value(kind: str, match: re.Match[str]) -> int | Decimal | date | str | None:
    """The value a figure's match states; None when it is no figure after all (31 June)."""
    if kind == "fiscal-year":
        fy = match["fy"]
        return fy if len(fy) == 4 else f"20{fy}"
    if kind in ("count", "percentage"):
        return _number(match["number"], match.groupdict().get("scale"))
    month = MONTH_NUMBERS[match["month"].lower()]
    if kind == "month":
        return f"{int(match['year']):04d}-{month:02d}"
    return _day(kind, month, match)


def _day(kind: str, month: int, match: re.Match[str]) -> date | str | None:
    year = int(match["year"]) if kind == "date" else 2000  # 2000: a leap year, so 29 February
    try:
        day = date(year, month, int(match["day"]))
    except ValueError:
        return None
    return day if kind == "date" else f"--{month:02d}-{day.day:02d}"


def _number(digits: str, scale: str | None) -> int | Decimal:
    number = Decimal(digits.replace(",", "")) * _SCALES.get((scale or "").lower(), 1)
    return int(number) if number == number.to_integral_value() else number


def find_mentions(text: str, labels: Mapping[str, Iterable[str]], begin: int = 0,
                  end: int | None = None) -> list[Mention]:
    """Mentions in ``text[begin:end]`` of the resources ``labels`` maps each label to.

    >>> names = {"Border Patrol": ["usbp"], "U.S. Border Patrol": ["usbp"], "ICE": ["ice"]}
    >>> [(m.text, m.resources) for m in find_mentions("The U.S. border patrol and ice.", names)]
    [('U.S. border patrol', ('usbp',))]
    """
    end = len(text) if end is None else end
    candidates = sorted(_candidates(text, labels, begin, end),
                        key=lambda c: (c.begin - c.end, c.begin))
    chosen: list[Mention] = []
    for candidate in candidates:
        if not _overlaps((candidate.begin, candidate.end), ((m.begin, m.end) for m in chosen)):
            chosen.append(candidate)
    return sorted(chosen, key=lambda m: m.begin)


def _candidates(text: str, labels: Mapping[str, Iterable[str]], begin: int,
                end: int) -> Iterator[Mention]:
    """Every whole-word match of every label, the resources of equal labels merged."""
    for key, resources in _by_folded_label(labels).items():
        for match in _label_pattern(*key).finditer(text, begin, end):
            yield Mention(match.start(), match.end(), match.group(0), resources)


def _by_folded_label(labels: Mapping[str, Iterable[str]]
                     ) -> dict[tuple[str, bool], tuple[str, ...]]:
    """Labels that match the same text ("DHS", "dhs") share one entry and its resources."""
    merged: dict[tuple[str, bool], set[str]] = {}
    for label, resources in labels.items():
        label = " ".join(label.split())
        if not label:
            continue
        acronym = label.isupper()
        merged.setdefault((label if acronym else label.casefold(), acronym), set()).update(
            resources)
    return {key: tuple(sorted(resources)) for key, resources in merged.items()}


def _label_pattern(label: str, acronym: bool) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in label.split(" "))
    return re.compile(r"(?<!\w)" + words + r"(?!\w)", 0 if acronym else re.IGNORECASE)
