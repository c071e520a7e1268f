"""Differential fuzzing of the query-safety policy against the real engine.

Generated hostile queries and updates go through ``graph.guard.admit``; whatever it
admits is run by a bare pyoxigraph ``Store`` in a worker process (``_oracle.py``), with
the same base IRI and no other protection. Every ``SERVICE``/``LOAD`` target the
generators write points at a loopback listener or at canary files, so the invariants are
observable: no connection to the listener, no open of a canary file, no crashed worker,
and every admitted text either answered or refused by the engine with a normal error.
A dangerous clause written where it is a real clause (``FROM <file:...>``, ``LOAD``, a
``SERVICE`` before any string or comment) must also not be admitted when the engine
parses the text, even if the engine would not have gone on to reach anything.

The generators aim at the places where two readings of one text can differ: prefixed
names with characters from every ``PN_CHARS_BASE``/``PN_CHARS_U``/``PN_CHARS`` range of
the SPARQL 1.1 grammar, ``PN_LOCAL_ESC`` and percent escapes, ``\\uXXXX`` escapes (the
engine decodes them only inside strings and IRIs), the four string forms, comments ended
by ``\\n``, ``\\r`` or nothing, IRIs with quotes and braces, and bracket nesting deep
enough to crash the engine's parser, hidden by those tricks.

``BORDERKG_POLICY_FUZZ_CASES`` sets the total number of cases over the four families
(default 10,000, about a minute on two cores); for example
``BORDERKG_POLICY_FUZZ_CASES=200000 .venv/bin/pytest -s tests/security/test_policy_fuzz.py``.
"""
from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pyoxigraph import RdfFormat

from graph.guard import admit
from graph.settings import load_settings
from graph.sparql_text import Kind
from graph.store import OxigraphStore
from tests.conftest import report_family

from ._oracle import Canary, EnginePool, Judge, Listener, World, base_quads

TOTAL_CASES = int(os.environ.get("BORDERKG_POLICY_FUZZ_CASES", "10000"))
#: each family's share of TOTAL_CASES
SHARES = {"queries": 0.4, "updates": 0.29, "codepoint-escape": 0.25, "hidden-nesting": 0.06}

# --- characters of the SPARQL 1.1 grammar's names (section 19.8) ---------------------------

PN_CHARS_BASE = ((0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x2FF),
                 (0x370, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D), (0x2070, 0x218F),
                 (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF), (0xFDF0, 0xFFFD),
                 (0x10000, 0xEFFFF))
#: PN_CHARS beyond PN_CHARS_BASE: '_' (PN_CHARS_U), '-', digits, U+00B7, combining marks
PN_CHARS_MORE = ((0x5F, 0x5F), (0x2D, 0x2D), (0x30, 0x39), (0xB7, 0xB7), (0x300, 0x36F),
                 (0x203F, 0x2040))
PN_LOCAL_ESC = "_~.-!$&'()*+,;=/?#@%"
ALL_RANGES = PN_CHARS_BASE + PN_CHARS_MORE


def _edges() -> tuple[str, ...]:
    """Each range's first and last character and the characters just outside it."""
    points = {c + d for lo, hi in ALL_RANGES for c in (lo, hi) for d in (-1, 0, 1)}
    return tuple(chr(c) for c in sorted(points) if 0x20 < c <= 0x10FFFF
                 and not 0xD800 <= c <= 0xDFFF)


def _unwordly() -> tuple[str, ...]:
    """Name characters of the grammar that regular-expression classes misjudge: not a
    ``\\w`` word character, or a ``\\s`` space (U+1680). A lexer built on ``\\w`` ends a
    name early at each of them."""
    word, space = re.compile(r"\w"), re.compile(r"\s")
    return tuple(chr(c) for lo, hi in ALL_RANGES if hi <= 0xFFFF for c in range(lo, hi + 1)
                 if not word.match(chr(c)) or space.match(chr(c)))


EDGES, UNWORDLY = _edges(), _unwordly()
KEYWORD_LABELS = ("SERVICE", "service", "LOAD", "FROM", "WITH", "USING", "NAMED", "SILENT",
                  "BASE", "PREFIX", "SELECT")
#: string content valid in all four forms: escapes, braces, '#', the other quote...
STRING_PIECES = ("x", " ", "{", "}", "{{", "#", "<", ">", "\\'", '\\"', "\\\\", "\\n", "\\t",
                 "\\r", "\\b", "\\f", "\\u005C", "\\u007B", "\\u007D", "\\u0023", "\\u000A",
                 "SERVICE", "LOAD <", "\u00c0", "\u00b7", "\u3001")
#: ...and content that is valid only in some forms, or in none: raw quotes, line ends, and
#: escaped quotes (the engine reads them as content, the grammar as string ends)
RISKY_PIECES = ("'", '"', "''", '""', "\n", "\r", "\\", "\\u", "\\U0011FFFF", "\\u0027",
                "\\u0022", "\\U00000027")
COMMENT_ENDS = ("\n", "\n", "\r\n", "\r", "\n\r")
CODEPOINT_FORMS = ("\\u{:04X}", "\\u{:04x}", "\\U{:08X}")
FORMS = ("SELECT *", "SELECT ?s", "SELECT DISTINCT ?s ?o", "ASK", "CONSTRUCT { ?s ?p ?o }",
         "DESCRIBE ?s", "select *", "SELECT REDUCED *")
TAILS = ("", "", " LIMIT 5", " ORDER BY ?s", " OFFSET 1 LIMIT 2", " VALUES ?z { 1 }")


@dataclass(frozen=True)
class Vocabulary:
    """The IRIs the generators may write: the listener's, the canary's, the store's."""

    origin: str        # http://127.0.0.1:PORT, the listener
    canaries: tuple[str, ...]
    canary_dir: str    # file:///.../canary/

    @property
    def namespace(self) -> str:
        return self.origin + "/ns/"

    @property
    def graph(self) -> str:
        """A named graph the store holds (FROM/USING may name it)."""
        return self.namespace + "graph/one"

    @property
    def new_graph(self) -> str:
        """A graph the store lacks, under the ``iri_base`` setting (WITH may name it)."""
        return self.namespace + "own/graph/new"


class Gen:
    """Draws one text piece by piece; remembers the prefix labels it used and whether a
    dangerous clause was written before any string, comment or odd name (``planted``).

    Each text gets one *attack*, whose decisions (which trick, which character at a name's
    edge, which target, where it goes) are hypothesis draws made inside ``decisions()``;
    everything else, the filler around the attack included (which may hold more attacks),
    comes from a ``random.Random`` seeded by one draw: a hypothesis draw costs about 0.1 ms
    and a text has hundreds of choices.
    """

    def __init__(self, draw: Callable[[Any], Any], vocabulary: Vocabulary) -> None:
        self.draw, self.v = draw, vocabulary
        self.random = random.Random(draw(st.integers(0, 2**32 - 1)))
        self.labels: set[str] = set()
        self.base: str | None = None
        self.dirty = False
        self.planted = ""
        self._deciding = False

    @contextmanager
    def decisions(self) -> Iterator[None]:
        """Within this block, choices are hypothesis draws (except ``detail=True`` ones)."""
        previous, self._deciding = self._deciding, True
        try:
            yield
        finally:
            self._deciding = previous

    # primitives
    def number(self, lo: int, hi: int, detail: bool = False) -> int:
        if self._deciding and not detail:
            return int(self.draw(st.integers(lo, hi)))
        return self.random.randint(lo, hi)

    def pick(self, options: tuple[Any, ...] | str, detail: bool = False) -> Any:
        # an index, not st.sampled_from: that labels its options anew on every call
        return options[self.number(0, len(options) - 1, detail)]

    def chance(self, percent: int, detail: bool = False) -> bool:
        return self.number(0, 99, detail) < percent

    def char(self, ranges: tuple[tuple[int, int], ...] = ALL_RANGES, edges: int | None = None,
             detail: bool = False) -> str:
        """A name character: a range's edge or just outside it (``edges`` percent: 10 for a
        decision, 2 in filler), one a regular expression misjudges, or any in the ranges."""
        edges = (2 if detail else 10) if edges is None else edges
        how = self.number(0, 99, detail)
        if how < edges:
            return str(self.pick(EDGES, detail))
        if how < 45:
            return str(self.pick(UNWORDLY, detail))
        lo, hi = ranges[self.number(0, len(ranges) - 1, detail)]
        return chr(self.number(lo, hi, detail))

    def keyword(self, word: str, escapes: int = 5) -> str:
        """``word`` in some letter case, sometimes (``escapes`` percent) with a letter
        written as a codepoint escape."""
        spelled = self.pick((word, word.lower(), word.capitalize(), word.swapcase(),
                             "".join(c.lower() if i % 2 else c for i, c in enumerate(word))),
                            detail=True)
        if self.chance(escapes, detail=True):
            at = self.number(0, len(word) - 1, detail=True)
            escape = self.pick(CODEPOINT_FORMS, detail=True).format(ord(spelled[at]))
            spelled = spelled[:at] + escape + spelled[at + 1:]
        return str(spelled)

    def ws(self) -> str:
        return str(self.pick((" ", " ", " ", "\n", "\t", "\r\n", " #c\n", "#\r", "\r"),
                             detail=True))

    def long(self, times: int) -> int:
        """How often a token's body repeats: usually once, rarely ``times`` (long tokens)."""
        return times if self.chance(3) else 1

    # names
    def label(self) -> str:
        """A PN_PREFIX (declared in the prologue): keyword-like or from the ranges."""
        if self.chance(15):
            label = str(self.pick(KEYWORD_LABELS, detail=True))
        else:
            middle = "".join(self.pick((self.char(detail=True), "."), detail=True)
                             for _ in range(self.number(0, 3, detail=True)))
            label = self.char(PN_CHARS_BASE) + middle + (self.char() if middle else "")
        self.labels.add(label)
        return label

    def local_piece(self, detail: bool = True) -> str:
        how = self.number(0, 9, detail)
        if how < 6:
            return self.char(detail=detail)
        if how == 6:
            return "\\" + str(self.pick(PN_LOCAL_ESC, detail))
        if how == 7:
            return "%" + str(self.pick(("41", "2F", "e9", "7B", "4", "G0", "27"), detail))
        return str(self.pick((".", ":", "-", "0"), detail))

    def local(self) -> str:
        text = self.local_piece(detail=False) + "".join(
            self.local_piece() for _ in range(self.number(0, 3, detail=True)))
        return text * self.long(self.pick((300, 5000)))

    def pname(self) -> str:
        self.dirty = True
        label = self.pick(("ns", "lo", ""), detail=True) if self.chance(50) else self.label()
        return f"{label}:{self.local()}"

    def boundary_name(self, quote: str) -> str:
        """A prefixed name in which a quote is escaped (``\\'``) right after a character at
        a range boundary: a lexer that ends the name early sees a string start there."""
        self.dirty = True
        label = str(self.pick(("ns", "ns", ""))) if self.chance(70) else self.label()
        before = "".join(self.local_piece(detail=False) for _ in range(self.number(0, 2)))
        return f"{label}:{before}{self.char(edges=3)}\\{quote}"

    # terms
    def string(self, payload: str = "") -> str:
        """One of the four string forms, with escapes, stray quotes and ``payload``."""
        self.dirty = True
        quote = str(self.pick(("'", '"', "'''", '"""')))
        pieces = [str(self.pick(RISKY_PIECES if self.chance(4, detail=True) else STRING_PIECES,
                                detail=True))
                  for _ in range(self.number(0, 5, detail=True))]
        if self.chance(5):
            pieces.append(str(self.pick(RISKY_PIECES)))
        if payload:
            pieces.insert(self.number(0, len(pieces), detail=True), _escaped(payload, quote))
        suffix = self.pick(("", "", "@en", "@SERVICE", "^^ns:type", "^^<#SERVICE>"), detail=True)
        return quote + "".join(pieces) * self.long(2000) + quote + str(suffix)

    def iri(self) -> str:
        """An IRI: the namespace's, relative, or with quotes, braces or escapes in it."""
        tail = str(self.pick(("s", "o", "SERVICE", "LOAD%20x", "a'b", "a''", "#SERVICE", "",
                              "\\u0027", "s", "o", "a\"b", "{x}", "\\u0022", "\\u007B",
                              "\\u003E")[:None if self.chance(20) else 10]))
        if tail not in ("s", "o"):
            self.dirty = True
        tail *= self.long(3000)
        return str(self.pick((f"<{self.v.namespace}{tail}>", f"<{tail}>", f"<urn:x:{tail}>"),
                             detail=True))

    def term(self) -> str:
        how = self.number(0, 9, detail=True)
        if how < 3:
            return str(self.pick(("?s", "?o", "?x", "$y", "?SERVICE", "?load", "?a\u00b7b"),
                                 detail=True))
        if how < 5:
            return self.iri()
        if how < 7:
            return self.pname()
        if how < 9:
            return self.string()
        if self.chance(50, detail=True):
            return self.keyword_name()
        return str(self.pick(("1", "-2.5e3", "true", "[]", "_:b", "_:SERVICE", "[ ns:p 1 ]"),
                             detail=True))

    def keyword_name(self) -> str:
        """A dangerous keyword as a name, where it is not a keyword: a local name, a
        prefix label, a variable."""
        word = str(self.pick(("SERVICE", "LOAD", "FROM", "NAMED", "USING", "WITH", "SILENT"),
                             detail=True))
        how = self.number(0, 3, detail=True)
        if how == 1:
            self.labels.add(word)
        return (f"ns:{self.keyword(word, 0)}", f"{word}:", f"?{word}", f"ns:{word}\\.x")[how]

    def comment(self, payload: str = "") -> str:
        self.dirty = True
        pieces = "".join(str(self.pick(STRING_PIECES, detail=True)).replace("\n", "")
                         for _ in range(self.number(0, 3, detail=True)))
        return f"#{pieces * self.long(5000)}{payload}{self.pick(COMMENT_ENDS)}"

    # dangerous clauses
    def target(self, use: str) -> str:
        """Where a SERVICE, LOAD or dataset clause points: always the listener or a canary,
        spelled as an absolute, relative or escaped IRI or as a prefixed name."""
        o, v = self.v.origin, self.v
        canary = str(self.pick(v.canaries, detail=True))
        options = [f"<{o}/{use}>", f"<{use}>", f"<../{use}?q>", "<>", "<#f>", f"<//{o[7:]}/x>",
                   f"<\\u0068ttp://127.0.0.1:{o.rsplit(':', 1)[1]}/{use}>",
                   f"<{o}/\\u0027{use}>", f"lo:{use}", "lo:", f"lo:a\\.b\\'{use}",
                   f"lo:%41{use}", "rel:x", f"<{canary}>", "fs:canary.ttl",
                   f"<{canary.replace('file://', 'file:')}>"]
        if self.base:
            options += ["<../y>", "<canary.ttl>", "<./>"]
        if use == "service":
            options += ["?endpoint", "$e"]
        return str(self.pick(tuple(options)))

    def plant(self, clause: str) -> str:
        if not self.dirty and not self.planted:
            self.planted = clause
        return clause

    def service(self) -> str:
        silent = f"{self.ws()}{self.keyword('SILENT')}" if self.chance(40, detail=True) else ""
        inner = self.pick(("{ }", "{ ?s ?p ?o }", "{}", "{ SELECT * { } }"), detail=True)
        return self.plant(f"{self.keyword('SERVICE')}{silent}{self.ws()}"
                          f"{self.target('service')}{self.ws()}{inner}")

    def real_pattern(self) -> str:
        """A group-pattern element in which the engine calls SERVICE."""
        s = self.service()
        return str(self.pick((s, f"{{ }} UNION {{ {s} }}", f"OPTIONAL {{ {s} }}",
                              f"MINUS {{ {s} }}", f"FILTER EXISTS {{ {s} }}",
                              f"FILTER NOT EXISTS {{ {s} }}", f"{{ SELECT * WHERE {{ {s} }} }}",
                              f"GRAPH ?g {{ {s} }}", f"BIND(EXISTS {{ {s} }} AS ?e)")))

    def hidden(self, clause: str) -> str:
        """``clause`` hidden behind a trick: in the engine's reading it is real, in a naive
        lexer's reading it sits inside a string that a comment closes."""
        quote = str(self.pick(("'", "'", "'", '"')))  # PN_LOCAL_ESC has \\' but not \\"
        trick = self.number(0, 2)
        self.dirty = True
        if trick == 0:
            return (f"{{ ?s ?p {self.boundary_name(quote)} }} UNION {{ {clause} }} "
                    f"#{quote}\n")
        if trick == 1:
            return (f"{{ ?s {self.boundary_name(quote)}{quote * 2} .\n }} UNION {{ {clause} }}"
                    f" #{quote * 3}\n")
        escape = self.pick(CODEPOINT_FORMS).format(ord(quote))
        return f"{{ BIND({quote}a{escape}{quote} AS ?h) }} UNION {{ {clause} }} #{quote}\n"

    # patterns
    def element(self, depth: int = 0) -> str:
        """A group-pattern element; now and then (filler) a real or hidden SERVICE too."""
        how = self.number(0, 23 if depth < 2 else 17)
        if how < 6:
            predicate = self.pick(("?p", "ns:p", "a", "<p>"), detail=True)
            return f"{self.term()} {predicate} {self.term()} ."
        if how < 9:
            term = self.term()
            term = "?o" if term.startswith(("_:", "[")) else term  # no blank nodes in these
            return str(self.pick(("BIND({} AS ?b{})", "FILTER(?o != {}){}", "VALUES ?v {{ {} }}{}"),
                                 detail=True)).format(term, self.number(0, 99, detail=True)
                                                      if how == 6 else "")
        if how < 13:
            return f"?s ?p {self.string(self.dangerous())} ."
        if how < 16:
            return self.comment(self.dangerous())
        if how == 16:
            return self.real_pattern()
        if how == 17:
            return self.hidden(self.real_pattern())
        inner = self.group(depth + 1)
        return str(self.pick((inner, f"{inner} UNION {self.group(depth + 1)}",
                              f"OPTIONAL {inner}", f"MINUS {inner}", f"GRAPH ?g {inner}"),
                             detail=True))

    def group(self, depth: int = 0) -> str:
        elements = [self.element(depth) for _ in range(self.number(1 if depth else 0, 5))]
        return "{ " + self.ws().join(elements) + " }"

    def dangerous(self) -> str:
        """A dangerous clause as text to hide in a string or comment (inert there)."""
        return str(self.pick((f"SERVICE <{self.v.origin}/inert> {{ }}",
                              f"LOAD <{self.v.canaries[0]}>", f"FROM <{self.v.canaries[0]}>",
                              "} SERVICE lo:x { } {", "WITH <file:///etc/passwd>",
                              "USING NAMED lo:", "SERVICE SILENT ?e {"), detail=True))

    def prologue(self) -> str:
        """BASE (sometimes) and PREFIX declarations for every label the text used."""
        v = self.v
        declared = {"lo": v.origin + "/", "ns": v.namespace, "fs": v.canary_dir, "rel": "sub/",
                    "": v.namespace, **{label: v.namespace for label in self.labels}}
        prefixes = " ".join(f"{self.keyword('PREFIX', escapes=0)} {label}: <{iri}>"
                            for label, iri in declared.items())
        if self.base is None:
            return prefixes
        base = f"{self.keyword('BASE', escapes=0)} <{self.base}>"
        return f"{base} {prefixes}" if self.chance(70, detail=True) else f"{prefixes} {base}"

    def choose_base(self) -> None:
        if self.chance(30):
            self.base = str(self.pick((self.v.origin + "/x/", "sub/", self.v.canary_dir)))

    def attack(self) -> str:
        """The text's one decided group-pattern element: a SERVICE in a real position,
        hidden behind a trick, or inert in a string or comment."""
        how = self.number(0, 3)
        if how == 0:
            return self.real_pattern()
        if how == 1:
            return self.hidden(self.real_pattern())
        if how == 2:
            return f"?s ?p {self.string(self.dangerous())} ."
        return self.comment(self.dangerous())

    # whole texts
    def query(self) -> str:
        with self.decisions():
            self.choose_base()
            dataset = ""
            if self.chance(25):
                target = self.target("from") if self.chance(60) else f"<{self.v.graph}>"
                clause = f"{self.keyword('FROM')}{self.pick(('', ' NAMED'), True)} {target}"
                dataset = " " + (self.plant(clause) if target != f"<{self.v.graph}>" else clause)
            at = self.number(0, 3)
        return self.assemble(dataset, self.around(at, self.number(0, 4), self.element,
                                                  self.attack))

    def around(self, at: int, count: int, filler: Callable[[], str],
               attack: Callable[[], str]) -> list[str]:
        """``count`` filler pieces with the decided attack at position ``at``, drawn in
        text order so that ``planted`` sees what comes before each clause."""
        at = min(at, count)
        pieces = [filler() for _ in range(at)]
        with self.decisions():
            pieces.append(attack())
        return pieces + [filler() for _ in range(count - at)]

    def assemble(self, dataset: str, elements: list[str]) -> str:
        form = str(self.pick(FORMS, detail=True))
        body = "{ " + self.ws().join(elements) + " }"
        tail = str(self.pick(TAILS, detail=True))
        if self.chance(10):
            tail += self.comment(self.dangerous()).rstrip("\r\n")  # a comment at the very end
        return f"{self.prologue()} {form}{dataset} WHERE {body}{tail}"

    def update(self) -> str:
        with self.decisions():
            self.choose_base()
            at = self.number(0, 2)
        operations = self.around(at, self.number(0, 2), self.operation, self.attack_operation)
        separator = str(self.pick((" ; ", "; ", " ;\n "), detail=True))
        return f"{self.prologue()} " + separator.join(operations)

    def operation(self) -> str:
        how = self.number(0, 11)
        s, p = "ns:s", "ns:p"
        if how < 2:
            return f"{self.keyword('INSERT')} DATA {{ {s} {p} {self.term_ground()} }}"
        if how == 2:
            return f"DELETE WHERE {{ ?s {p} ?o }}"
        if how == 3:
            return f"INSERT {{ ?s {p} 1 }} WHERE {self.group()}"
        if how == 4:
            return str(self.pick(("CLEAR SILENT GRAPH <{}>", "DROP SILENT GRAPH <{}>",
                                  "CREATE SILENT GRAPH <{}>", "ADD DEFAULT TO <{}>"),
                                 detail=True)).format(self.v.new_graph)
        if how == 5:
            graph = self.pick((self.v.new_graph, self.v.graph), detail=True)
            return f"WITH <{graph}> INSERT {{ {s} {p} 2 }} WHERE {{ }}"
        if how < 9:
            return self.real_operation()
        return self.hidden_operation()

    def attack_operation(self) -> str:
        """The update's one decided operation: LOAD, SERVICE or a dataset outside the store
        in a real position, hidden behind a trick, or inert in a string or comment."""
        how = self.number(0, 2)
        if how == 0:
            return self.real_operation()
        if how == 1:
            return self.hidden_operation()
        if self.chance(50):
            return f"INSERT DATA {{ ns:s ns:p {self.string(self.dangerous())} }}"
        return f"{self.comment(self.dangerous())} CLEAR SILENT GRAPH <{self.v.new_graph}>"

    def term_ground(self) -> str:
        term = self.term()
        return term if not term.startswith(("?", "$")) else "ns:o"

    def real_operation(self) -> str:
        """An operation that loads, calls SERVICE or names a dataset outside the store."""
        how = self.number(0, 3)
        if how == 0:
            silent = f" {self.keyword('SILENT')}" if self.chance(40, detail=True) else ""
            into = f" INTO GRAPH <{self.v.new_graph}>" if self.chance(40, detail=True) else ""
            return self.plant(f"{self.keyword('LOAD')}{silent}{self.ws()}"
                              f"{self.target('load')}{into}")
        if how == 1:
            return f"INSERT {{ ns:s ns:p 3 }} WHERE {{ {self.real_pattern()} }}"
        if how == 2:
            return self.plant(f"{self.keyword('WITH')} {self.target('with')} "
                              "INSERT { ns:s ns:p 4 } WHERE { }")
        named = self.pick(("", " NAMED"), detail=True)
        return self.plant(f"INSERT {{ ns:s ns:p 5 }} {self.keyword('USING')}{named} "
                          f"{self.target('using')} WHERE {{ ?s ?p ?o }}")

    def hidden_operation(self) -> str:
        op = self.real_operation()  # real in the engine's reading whenever it parses
        quote = str(self.pick(("'", "'", "'", '"')))
        self.dirty = True
        if self.chance(50):
            return f"INSERT DATA {{ ns:s ns:p {self.boundary_name(quote)} }} ; {op} #{quote}\n"
        escape = self.pick(CODEPOINT_FORMS).format(ord(quote))
        return f"INSERT DATA {{ ns:s ns:p {quote}a{escape}{quote} }} ; {op} #{quote}\n"


def _escaped(payload: str, quote: str) -> str:
    """``payload`` written so it stays inside a string with ``quote``."""
    text = payload.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
    return text if len(quote) == 3 else text.replace("\n", "\\n").replace("\r", "\\r")


@dataclass(frozen=True)
class Text:
    """A generated text, its kind, and the dangerous clause it plants in a real position."""

    kind: Kind
    text: str
    planted: str = ""


def queries(v: Vocabulary) -> st.SearchStrategy[Text]:
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        text = gen.query()
        return Text("query", text, gen.planted)

    return build()


def updates(v: Vocabulary) -> st.SearchStrategy[Text]:
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        text = gen.update()
        return Text("update", text, gen.planted)

    return build()


#: characters the codepoint family escapes most: quotes, brackets, '#', '\', ':', keywords'
ESCAPE_TARGETS = "'\"<>{}#\\:SELRVICOADFMNWTHUGP ."


def codepoint_escaped(v: Vocabulary) -> st.SearchStrategy[Text]:
    """A generated query or update with some characters written as \\u/\\U escapes: every
    occurrence of one character (a quote, a bracket, '#', a keyword's letter...) and a few
    characters anywhere."""
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        kind: Kind = "query" if draw(st.booleans()) else "update"
        text = gen.query() if kind == "query" else gen.update()
        with gen.decisions():
            if gen.chance(60):
                char = str(gen.pick(ESCAPE_TARGETS))
                text = text.replace(char, _codepoint(char, gen.number(0, 2)))
            for _ in range(gen.number(0, 8)):
                at = gen.number(0, len(text) - 1, detail=True)
                text = text[:at] + _codepoint(text[at], gen.number(0, 2)) + text[at + 1:]
        return Text(kind, text, gen.planted)

    return build()


def _codepoint(char: str, form: int) -> str:
    return CODEPOINT_FORMS[form if ord(char) <= 0xFFFF else 2].format(ord(char))


def hidden_nesting(v: Vocabulary) -> st.SearchStrategy[Text]:
    """3,000-6,000 nested brackets, hidden or in the open, in queries and updates."""
    @st.composite
    def build(draw: Any) -> Text:
        gen = Gen(draw, v)
        with gen.decisions():
            return _nested(gen, draw(st.integers(3000, 6000)))

    return build()


def _nested(gen: Gen, n: int) -> Text:
    """Brackets ``n`` deep (groups, parentheses, blank nodes, subqueries), behind a name's
    escaped quote, a long string, a codepoint-escaped quote, in a string or comment, in the
    open, after a comment ended by ``\\r``, or as codepoint escapes."""
    nest = gen.pick(("{" * n + "}" * n, "FILTER(" + "(" * n + "1" + ")" * n + ")",
                     "?s ns:p " + "[ ns:p " * n + "1" + " ]" * n + " .",
                     "{ SELECT * WHERE " * (n // 2) + "{ }" + " }" * (n // 2)))
    quote = gen.pick(("'", "'", "'", '"'))
    name = gen.boundary_name(quote)
    hide = gen.pick((f"?s ?p {name} . {nest} }} #{quote}\n",
                     f"?s {name}{quote * 2} .\n {nest}\n }} #{quote * 3}\n",
                     f"BIND({quote}a\\u{ord(quote):04X}{quote} AS ?h) {nest} }} #{quote}\n",
                     f"?s ?p {quote * 3}{nest}{quote * 3} }}", f"# {nest}\n }}",
                     f"{nest} }}", f"# x\r {nest} }}",
                     f"{nest} }}".replace("{", "\\u007B").replace("}", "\\u007D")))
    if gen.chance(30):
        return Text("update", f"{gen.prologue()} INSERT {{ ns:s ns:p 1 }} WHERE {{ {hide}")
    return Text("query", f"{gen.prologue()} SELECT * WHERE {{ {hide}")


# --- the world: listener, canary, engine workers, the policy's store -------------------------

@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    listener = Listener()
    canary = Canary(tmp_path_factory.mktemp("policy-fuzz") / "canary")
    namespace = listener.origin + "/ns/"
    pool = EnginePool(namespace, listener.origin + "/sparql")
    listener.hooks.append(pool.suspect_recent)
    canary.hooks.append(pool.suspect_recent)
    store = OxigraphStore(None)
    store.load(f"<{namespace}s> <{namespace}p> <{namespace}o> <{namespace}graph/one> .\n",
               RdfFormat.N_QUADS)
    settings_ = load_settings({"store": "memory", "iri_base": namespace + "own/"}, environ={})
    try:
        yield World(settings_, store, listener.origin + "/sparql", listener, canary, pool)
    finally:
        pool.close()
        canary.close()
        listener.close()


@pytest.fixture(scope="module")
def vocabulary(world: World) -> Vocabulary:
    directory = world.canary.directory.as_uri() + "/"
    return Vocabulary(world.listener.origin, tuple(world.canary.iris), directory)


def run_family(world: World, family: str, strategy: st.SearchStrategy[Text], quota: int,
               policy: Callable[..., object] = admit) -> Judge:
    """Feed ``quota`` distinct texts from ``strategy`` to a judge of ``policy``."""
    judge = Judge(world, family, policy)
    seen: set[int] = set()

    @settings(max_examples=quota, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def one(generated: Text) -> None:
        # hypothesis repeats a text when it varies a choice the text does not show; a
        # repeat is not a case (assume() makes hypothesis draw another in its place)
        key = hash(generated.text)
        assume(key not in seen)
        judge(generated.kind, generated.text, generated.planted)
        seen.add(key)  # after: should the judge itself fail, hypothesis's replay shows why

    one()
    judge.finish()
    assert judge.cases >= quota, f"only {judge.cases} of {quota} cases were generated"
    return judge


BUILDERS = {"queries": queries, "updates": updates, "codepoint-escape": codepoint_escaped,
            "hidden-nesting": hidden_nesting}


@pytest.mark.parametrize("family", list(SHARES))
def test_policy_fuzz(world: World, vocabulary: Vocabulary, family: str) -> None:
    quota = max(1, round(TOTAL_CASES * SHARES[family]))
    judge = run_family(world, family, BUILDERS[family](vocabulary), quota)
    report_family(judge.summary())
    assert judge.clean, judge.explain()


# --- the detectors themselves, and the known attacks ------------------------------------------

def test_detectors_see_the_engine_reach_out(world: World, tmp_path: Path) -> None:
    """Unguarded, the engine does connect to the listener, a worker's open of a canary file
    is counted and a segmentation fault is a crash: the invariants can fail."""
    hits, opens = world.listener.hits, world.canary.opens
    service = world.pool.control("query", f"SELECT * {{ SERVICE <{world.listener.origin}/> {{}} }}")
    load = world.pool.control("update", f"LOAD <{world.listener.origin}/data.ttl>")
    assert (service.status, load.status) == ("error", "error"), (service, load)
    assert world.listener.hits == hits + 2
    world.pool.control("open", str(world.canary.directory / "canary.ttl"))
    world.canary.settle()
    assert world.canary.opens == opens + 1
    assert world.pool.control("crash").status == "crash"
    assert world.pool.control("query", "ASK {}").status == "answer"  # the worker was replaced


def admit_everything(*_args: object, **_kwargs: object) -> None:
    """A policy that admits every text: what the judge sees when nothing guards the engine."""


def test_the_judge_catches_what_an_open_policy_lets_through(world: World) -> None:
    """Without the guard, SERVICE and LOAD reach the listener, deep nesting crashes a worker
    and a planted FROM is reported: each invariant can fail, and names its input."""
    origin, canary = world.listener.origin, world.canary.iris[0]
    judge = Judge(world, "open policy", admit_everything)
    judge("query", f"SELECT * {{ SERVICE <{origin}/open> {{ }} }}")
    judge("update", f"LOAD <{origin}/open.ttl>")
    judge("query", "SELECT * WHERE " + "{" * 5000 + "}" * 5000)
    judge("query", f"SELECT * FROM <{canary}> WHERE {{ }}", f"FROM <{canary}>")
    judge("query", "SELECT * WHERE { ?s ?p ?o }")
    judge.finish()
    assert (judge.hits, judge.outcomes.get("crash")) == (2, 1), judge.explain()
    assert sorted(f.what.split(" (")[0].split(" <")[0] for f in judge.failures) == [
        "admitted 'FROM", "engine crash", "the engine connected to the listener",
        "the engine connected to the listener"], judge.explain()


def test_the_generators_write_attacks_that_work(world: World, vocabulary: Vocabulary) -> None:
    """Generated queries and updates, run without the guard, do reach the listener and do
    plant clauses the engine parses: the fuzz families test something."""
    for family in ("queries", "updates"):
        judge = run_family(world, f"open {family}", BUILDERS[family](vocabulary), 150,
                           admit_everything)
        planted = [f for f in judge.failures if f.what.startswith("admitted")]
        assert judge.hits > 10 and len(planted) > 10, judge.explain()


def known_attacks(origin: str) -> dict[str, tuple[Kind, str, str]]:
    """name: (kind, text, clause planted in a real position)."""
    ns = f"PREFIX ex: <{origin}/ns/> "
    service = f"SERVICE <{origin}/hidden> {{ }}"
    attacks: dict[str, tuple[Kind, str, str]] = {
        f"name-{name}": ("query", f"{ns}SELECT * WHERE {{ {{ ?s ?p ex:{name}\\' }} UNION "
                                  f"{{ {service} }} #'\n}}", service)
        for name in ("\u00c0", "\u00c0\u00b7", "a\u00b7", "\u00c0\u0300", "\u00c0\u203f",
                     "\u00c0\u3001", "\u00c0\u1680", "\u00c0\u200c", "\u00c0\ufdfc")}
    nest = "{" * 5000 + "}" * 5000
    attacks.update({
        "nesting-5000-\u00c0": ("query", f"{ns}SELECT * WHERE {{ ?s ?p ex:\u00c0\\' . {nest} }}"
                                         " #'\n", ""),
        "nesting-5000-\u00c0\u00b7": ("query", f"{ns}SELECT * WHERE {{ ?s ?p ex:\u00c0\u00b7\\' ."
                                               f" {nest} }} #'\n", ""),
        "base-relative": ("query", f"BASE <{origin}/x/> SELECT * {{ SERVICE <../y> {{}} }}",
                          "SERVICE <../y>"),
        "string-codepoint-quote": ("query", f"SELECT * {{ {{ BIND('a\\u0027' AS ?x) }} UNION "
                                            f"{{ {service} }} #'\n}}", service),
        "update-name-load": ("update", f"{ns}INSERT DATA {{ ex:s ex:p ex:a\u00b7\\' }} ; "
                                       f"LOAD <{origin}/data.ttl> #'\n", ""),
    })
    return attacks


ATTACK_NAMES = list(known_attacks("http://127.0.0.1:1"))


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_known_attack(world: World, name: str) -> None:
    kind, text, planted = known_attacks(world.listener.origin)[name]
    judge = Judge(world, f"known {name}")
    judge(kind, text, planted)
    judge.finish()
    assert judge.clean, judge.explain()


def test_the_worker_data_matches_the_policy_store(world: World) -> None:
    """FROM/USING of the one graph both hold is admitted and answered, so an admitted
    dataset clause reaches the engine as it would in the service."""
    graph = world.listener.origin + "/ns/graph/one"
    judge = Judge(world, "own graph")
    judge("query", f"SELECT * FROM <{graph}> WHERE {{ ?s ?p ?o }}")
    judge.finish()
    assert (judge.admitted, judge.outcomes) == (1, {"answer": 1}), judge.explain()
    assert any(str(q.graph_name) == f"<{graph}>" for q in base_quads(world.listener.origin
                                                                     + "/ns/"))
