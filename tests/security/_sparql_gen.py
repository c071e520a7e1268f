"""Generators of hostile SPARQL text for the policy fuzzer (``test_policy_fuzz.py``).

``Gen`` writes one query or update at a time around a single decided *attack*: a
``SERVICE``, ``LOAD`` or dataset clause in a real position, hidden behind a trick (a name
whose escaped quote a naive lexer takes for a string start, a long string, a quote written
as a codepoint escape, ``<`` read as an IRI or as an operator), or inert in a string or
comment. Every IRI it writes is on the fuzzer's loopback listener or a canary file.
"""
from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from graph.sparql.text import Kind

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
#: pieces of expressions around ``<``: operands, operators, calls, IRIs holding a quote
EXPRESSION_PIECES = ("?a", "?b", "1", "true", "false", "ns:x", "ns:f(", "<f>(", "STR(", "(",
                     ")", "'s'", "'s'@en", "<x>", "<x'>", "<'", "'>", "<", ">", "<=", ">=",
                     "=", "!=", "&&", "||", "+", "-", "!", "IN (", ",", "<<", ">>", "EXISTS {",
                     "}", "?a<?b", "?c>?d", "<?a", "?d>", "'", '"', "<x\"", "^^<x>", "a")
TAILS = ("", "", " LIMIT 5", " ORDER BY ?s", " OFFSET 1 LIMIT 2", " VALUES ?z { 1 }")


@dataclass(frozen=True)
class Vocabulary:
    """The IRIs the generators may write: the listener's, the canary's, the store's."""

    origin: str        # http://127.0.0.1:PORT, the listener
    canaries: tuple[str, ...]
    canary_dir: str    # file:///.../canary/

    @property
    def port(self) -> str:
        return self.origin.rsplit(":", 1)[1]

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
        return str(self.pick(("1", "-2.5e3", "true", "[]", "_:b", "_:SERVICE", "[ ns:p 1 ]",
                              "<< ?s ?p ?o >>", "<<( ?s ns:p 1 )>>", "<< ?s ?p ?o ~ ?r >>"),
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

    def joint(self) -> str:
        """What separates a keyword from what follows it: spacing, a comment, or nothing
        (the engine matches keywords without a word boundary: ``SERVICElo:x``)."""
        return "" if self.chance(20) else self.ws()

    def clause(self, *words: str) -> str:
        """Keywords (each sometimes run together with the next) and a target after them.

        The clause is *planted* when it must be refused wherever it is real: every SERVICE
        and LOAD (their targets are the listener or a canary, neither allowed), and a
        dataset clause naming a ``file:`` IRI. (A dataset clause naming an ``http`` IRI
        may be allowed: Oxigraph only names a graph with it, it fetches nothing.)
        """
        head = "".join(self.keyword(word) + self.joint() for word in words)
        target = self.target(words[0].lower())
        if words[0] in ("SERVICE", "LOAD") or target.startswith(("<file:", "fs:")):
            return self.plant(head + target)
        return head + target

    def service(self) -> str:
        words = ("SERVICE", "SILENT") if self.chance(40, detail=True) else ("SERVICE",)
        inner = self.pick(("{ }", "{ ?s ?p ?o }", "{}", "{ SELECT * { } }"), detail=True)
        return f"{self.clause(*words)}{self.ws()}{inner}"

    def real_pattern(self) -> str:
        """A group-pattern element in which the engine calls SERVICE."""
        s = self.service()
        return str(self.pick((s, f"{{ }} UNION {{ {s} }}", f"OPTIONAL {{ {s} }}",
                              f"MINUS {{ {s} }}", f"FILTER EXISTS {{ {s} }}",
                              f"FILTER NOT EXISTS {{ {s} }}", f"{{ SELECT * WHERE {{ {s} }} }}",
                              f"GRAPH ?g {{ {s} }}", f"BIND(EXISTS {{ {s} }} AS ?e)",
                              # a boolean object run together with it: ``trueSERVICEx:a``
                              f"?s ?p {self.pick(('true', 'false', 'TrUe'))}{s}")))

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
            annotation = self.pick(("", "", "", " {| ns:q 1 |}", " ~ ?r"), detail=True)
            return f"{self.term()} {predicate} {self.term()}{annotation} ."
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
        # the wrapper first, then only the groups it uses: a group drawn and then dropped
        # could leave ``planted`` naming a clause the text does not hold
        wrapper = str(self.pick(("{}", "{} UNION {}", "OPTIONAL {}", "MINUS {}", "GRAPH ?g {}"),
                                detail=True))
        return wrapper.format(*(self.group(depth + 1) for _ in range(wrapper.count("{}"))))

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
        how = self.number(0, 4)
        if how == 0:
            return self.real_pattern()
        if how == 1:
            return self.hidden(self.real_pattern())
        if how == 2:
            return self.expression()
        if how == 3:
            return f"?s ?p {self.string(self.dangerous())} ."
        return self.comment(self.dangerous())

    def expression(self) -> str:
        """An expression where ``<`` may open an IRI or be the less-than operator and a
        quote may sit inside what one reading takes for an IRI, then a SERVICE that a
        comment ends: a reader that places ``<`` differently from the engine sees a string
        where the engine sees the SERVICE, or the other way round."""
        self.dirty = True
        pieces = [str(self.pick(EXPRESSION_PIECES)) for _ in range(self.number(1, 6))]
        expression = "".join(piece + self.pick(("", " "), detail=True) for piece in pieces)
        form = str(self.pick(("FILTER({})", "BIND({} AS ?e)", "FILTER(?a IN ({}))",
                              "FILTER ns:f({})", "?s ?p ?o FILTER({})")))
        quote = self.pick(("'", '"'))
        return (f"{{ {form.format(expression)} }} UNION {{ {self.real_pattern()} }} "
                f"#{quote}\n")

    # whole texts
    def query(self) -> str:
        with self.decisions():
            self.choose_base()
            dataset = ""
            if self.chance(25):
                words = ("FROM", "NAMED") if self.chance(40, detail=True) else ("FROM",)
                own = f"{self.keyword('FROM')} <{self.v.graph}>"
                dataset = " " + (self.clause(*words) if self.chance(60) else own)
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
            words = ("LOAD", "SILENT") if self.chance(40, detail=True) else ("LOAD",)
            into = f" INTO GRAPH <{self.v.new_graph}>" if self.chance(40, detail=True) else ""
            return self.clause(*words) + into
        if how == 1:
            return f"INSERT {{ ns:s ns:p 3 }} WHERE {{ {self.real_pattern()} }}"
        if how == 2:
            return f"{self.clause('WITH')} INSERT {{ ns:s ns:p 4 }} WHERE {{ }}"
        words = ("USING", "NAMED") if self.chance(50, detail=True) else ("USING",)
        return f"INSERT {{ ns:s ns:p 5 }} {self.clause(*words)} WHERE {{ ?s ?p ?o }}"

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
