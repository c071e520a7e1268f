"""What the runner reads in, and changes in, a test's query or update text.

The text sent to a server is the test's own, with two changes that keep its meaning and
its syntax:

* ``BASE <its W3C address>`` in front, so relative IRIs resolve where the suite's
  authors meant them to (a Prologue may hold any number of BASE declarations);
* the IRI after ``SERVICE`` or ``LOAD`` replaced by a loopback one — the endpoint that
  plays that remote service, or an address where nothing listens — so that no server
  ever reaches the Internet on a test's behalf.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

#: strings and comments, blanked before looking for keywords (IRIs are kept: they
#: cannot contain braces, quotes or spaces)
_NOISE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
                    r"|'(?:[^'\\\n]|\\.)*'|<[^<>\"{}|^`\\\s]*>|#[^\n]*")
_OUTBOUND = re.compile(r"\b(SERVICE|LOAD)(\s+SILENT)?(\s*)<([^<>\"{}|^`\\\s]*)>", re.I)
_FROM = re.compile(r"\bFROM\s+(?:NAMED\s+)?<([^<>\"{}|^`\\\s]*)>", re.I)
_ORDER_BY = re.compile(r"\bORDER\s+BY\b", re.I)
_MODIFIER_END = re.compile(r"\b(LIMIT|OFFSET|VALUES)\b", re.I)
_SIMPLE_KEY = re.compile(r"(?:\b(?:ASC|DESC)\s*\(\s*[?$](\w+)\s*\)|[?$](\w+))", re.I)


def without_noise(text: str) -> str:
    """The text with strings and comments blanked (same length, IRIs intact)."""
    return _NOISE.sub(lambda m: m.group(0) if m.group(0).startswith("<")
                      else " " * len(m.group(0)), text)


def with_base(text: str, base: str) -> str:
    return f"BASE <{base}>\n{text}"


def is_loopback(iri: str) -> bool:
    return (urlsplit(iri).hostname or "").startswith("127.")


def outbound_to_loopback(text: str, base: str, names: dict[str, str], dead: str) -> str:
    """SERVICE and LOAD IRIs moved to loopback: ``names`` maps the endpoints a test
    describes; every other non-loopback IRI goes to ``dead``, where nothing listens."""
    def replace(match: re.Match[str]) -> str:
        iri = urljoin(base, match.group(4))
        target = names.get(iri) or (iri if is_loopback(iri) else f"{dead}/{_slug(iri)}")
        return f"{match.group(1)}{match.group(2) or ''}{match.group(3)}<{target}>"
    return _OUTBOUND.sub(replace, text)


def _slug(iri: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", iri).strip("-")


def renamed(text: str, names: dict[str, str]) -> str:
    """Every ``<iri>`` of ``names`` written as its new name."""
    for old, new in names.items():
        text = text.replace(f"<{old}>", f"<{new}>")
    return text


def from_graphs(text: str, base: str) -> list[str]:
    """The IRIs of the query's FROM and FROM NAMED clauses, resolved."""
    return [urljoin(base, iri) for iri in _FROM.findall(without_noise(text))]


def top_level_order(text: str) -> list[str] | bool:
    """How the answer must be ordered: False (it need not be), the ORDER BY variables
    when every key is a plain variable (rows that tie may come in any order), or True
    (keys are expressions: the whole row order is compared)."""
    clean = without_noise(text)
    for match in _ORDER_BY.finditer(clean):
        if _depth(clean, match.start()) == 0:
            return _keys(clean[match.end():])
    return False


def _depth(text: str, position: int) -> int:
    depth = 0
    for char in text[:position]:
        depth += {"{": 1, "}": -1}.get(char, 0)
    return depth


def _keys(rest: str) -> list[str] | bool:
    end = _MODIFIER_END.search(rest)
    clause = rest[:end.start()] if end else rest
    keys = [a or b for a, b in _SIMPLE_KEY.findall(clause)]
    leftover = _SIMPLE_KEY.sub("", clause).strip()
    return keys if keys and not leftover else True
