"""The SPARQL lexer: where every token begins and ends, exactly where the engine sees it.

The query-safety policy (``graph.sparql.policy``) decides from this token stream whether a text
reaches outside the store (``SERVICE``, ``LOAD``, dataset clauses) and whether it nests
deep enough to crash the engine's recursive parser. A token boundary placed differently
from the engine's is an attack: a name ended one character early once let ``\\'`` open
a "string" that hid a ``SERVICE`` call and 5,000 nested braces from the policy while the
engine saw them all. So the terminals are the SPARQL 1.1 grammar's (section 19.8),
written as explicit code point classes (never ``\\w``, ``\\d`` or ``\\s``), and where
Oxigraph 0.5's parser departs from the grammar the lexer follows the parser, each
departure found by running the engine on the text (``tests/test_lexer_oracle.py``):

* names (prefixes, local names, variables, blank nodes) take no character from the
  grammar's last range U+10000-U+EFFFF: the engine refuses them there;
* a local name has at most one run of inner dots: ``p:a.b.c`` is ``p:a.b``, ``.``, ``c``;
* ``\\uXXXX``/``\\UXXXXXXXX`` escapes are decoded inside IRIs and strings only, never in
  the text as a whole: ``'a\\u0027b'`` is one string, and ``\\u0053ERVICE`` is no keyword
  but a syntax error, for the engine and so here;
* the engine is a parser, not a tokenizer: ``<`` after an operand inside an expression is
  the less-than operator even when an IRI could follow (``FILTER(?a<?b&&?c>?d)``), and is
  an IRI everywhere else. The lexer tracks which brackets open expressions to decide it;
* keywords are matched without a word boundary, so ``SERVICE:a`` is ``SERVICE`` and
  ``:a`` when ``:`` is declared. ``graph.sparql.text`` reports such readings; here a bare
  word must be a SPARQL keyword (``SERVICESILENT`` is refused), and ``FILTERx:f(`` opens
  an expression.

Whatever cannot be lexed with certainty is refused with a ``QuerySyntaxError`` carrying
line and column: a stray backslash, an unterminated string, a ``<`` that is neither an IRI
nor an operator, a ``\\u`` escape naming no character, a character allowed nowhere.

Strings, comments and IRIs are matched by unrolled, possessive expressions, so lexing is
linear: a one-megabyte literal takes a few milliseconds, ten megabytes well under a second.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from graph.errors import QuerySyntaxError

from .text_cache import TextCache, digest_bytes

# -- code point classes (SPARQL 1.1 section 19.8) ----------------------------------------
#: PN_CHARS_BASE without U+10000-U+EFFFF, which the engine refuses in names
PN_CHARS_BASE = (r"A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
                 r"\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF"
                 r"\uFDF0-\uFFFD")
PN_CHARS_U = PN_CHARS_BASE + "_"
_NAME_EXTRA = r"0-9\u00B7\u0300-\u036F\u203F-\u2040"
PN_CHARS = PN_CHARS_U + r"\-" + _NAME_EXTRA

_HEX = "[0-9A-Fa-f]"
_UCHAR = rf"u{_HEX}{{4}}|U{_HEX}{{8}}"
_ECHAR = r"[tbnrf\"'\\]"
_PLX = rf"%{_HEX}{{2}}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{PN_CHARS_BASE}][{PN_CHARS}]*+(?:\.++[{PN_CHARS}]++)*+"
_LOCAL = rf"[{PN_CHARS}:]|{_PLX}"
_PN_LOCAL = rf"(?:[{PN_CHARS_U}:0-9]|{_PLX})(?:{_LOCAL})*+(?:\.++(?:{_LOCAL})++)?+"
_ESC = rf"\\(?:{_ECHAR}|{_UCHAR})"
_IRI_CHAR = r"[^<>\"{}|^`\\\x00-\x20]"

_WS = r"(?:[ \t\r\n]++|#[^\r\n]*+)++"
_IRIREF_PATTERN = rf"<{_IRI_CHAR}*+(?:\\(?:{_UCHAR}){_IRI_CHAR}*+)*+>"
_PATTERNS = (
    ("string", rf"'''[^'\\]*+(?:(?:'(?!'')|{_ESC})[^'\\]*+)*+'''"
               rf"|'[^'\\\n\r]*+(?:{_ESC}[^'\\\n\r]*+)*+'"
               rf'|"""[^"\\]*+(?:(?:"(?!"")|{_ESC})[^"\\]*+)*+"""'
               rf'|"[^"\\\n\r]*+(?:{_ESC}[^"\\\n\r]*+)*+"'),
    ("number", r"[0-9]++\.[0-9]*+[eE][+\-]?[0-9]++|\.[0-9]++[eE][+\-]?[0-9]++"
               r"|[0-9]++[eE][+\-]?[0-9]++|[0-9]*+\.[0-9]++|[0-9]++"),
    ("var", rf"[?$][{PN_CHARS_U}0-9][{PN_CHARS_U}{_NAME_EXTRA}]*+"),
    ("bnode", rf"_:[{PN_CHARS_U}0-9][{PN_CHARS}]*+(?:\.++[{PN_CHARS}]++)*+"),
    ("pname", rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
    ("langtag", r"@[a-zA-Z]++(?:-[a-zA-Z0-9]++)*+(?:--[a-zA-Z]++)?+"),
    ("word", r"[A-Za-z][A-Za-z0-9]*+(?:_[A-Za-z0-9]++)*+"),
    ("punct", r"!=|&&|\|\||\^\^|[{}()\[\];,.+\-*/=!^|?~]"),
)
#: optional whitespace and comments, then one token (or ``<``/``>``, decided by context)
_TOKEN = re.compile(f"(?:{_WS})?+(?:" + "|".join(
    f"(?P<{name}>{pattern})" for name, pattern in (*_PATTERNS, ("iri", _IRIREF_PATTERN),
                                                    ("angle", "[<>]"))) + ")")
_WS_ONLY = re.compile(f"(?:{_WS})?+")
_TRAILING_WS = re.compile(f"(?:{_WS})?+\\Z")
_ESC_RE = re.compile(_ESC)
_ESCAPES = re.compile(rf"\\(?:u({_HEX}{{4}})|U({_HEX}{{8}})|(.))", re.DOTALL)
_PREFIX_START = re.compile(rf"[{PN_CHARS_BASE}]")
_UCHAR_SUSPECT = re.compile(r"\\(?:u[dD][89a-fA-F]|U)")

#: every word the engine reads as a keyword or built-in name (compared upper-cased)
KEYWORDS = frozenset("""
    BASE PREFIX VERSION SELECT DISTINCT REDUCED AS CONSTRUCT WHERE DESCRIBE ASK FROM NAMED
    GROUP BY HAVING ORDER ASC DESC LIMIT OFFSET VALUES LOAD SILENT INTO CLEAR DROP CREATE
    ADD TO MOVE COPY INSERT DATA DELETE WITH USING DEFAULT GRAPH ALL OPTIONAL SERVICE BIND
    UNDEF MINUS UNION FILTER IN NOT EXISTS SEPARATOR LATERAL A TRUE FALSE
    STR LANG LANGMATCHES LANGDIR DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND
    CONCAT STRLEN UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE STRAFTER
    YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 SHA256
    SHA384 SHA512 COALESCE IF STRLANG STRLANGDIR STRDT SAMETERM ISIRI ISURI ISBLANK
    ISLITERAL ISNUMERIC ISTRIPLE HASLANG HASLANGDIR REGEX SUBSTR REPLACE COUNT SUM MIN MAX
    AVG SAMPLE GROUP_CONCAT TRIPLE SUBJECT PREDICATE OBJECT ADJUST
""".split())
#: words after which ``(`` in a pattern opens a list (collection, VALUES variables), not a call
_LIST_WORDS = frozenset({"A", "VALUES", "UNDEF", "TRUE", "FALSE"})
_OPERAND_KINDS = frozenset({"var", "iri", "pname", "string", "number", "langtag", "bnode"})
_OPERAND_PUNCT = frozenset({")", "]", "}", ">>"})
_BRACKETS = frozenset({"{", "(", "[", "}", ")", "]"})
OPENERS = frozenset({"{", "(", "[", "<<"})
CLOSERS = frozenset({"}", ")", "]", ">>"})

# Bracket modes: what the engine parses inside the innermost open bracket.
_TOP, _PATTERN, _EXPRESSION, _QUOTED = "T", "P", "E", "Q"


class Token(NamedTuple):
    """A lexical token: its kind, text and offset in the source."""

    kind: str
    text: str
    start: int

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def glued_keywords(pname: str) -> list[tuple[str, str]]:
    """``(keyword, rest)`` for each keyword the engine may read at the start of ``pname``.

    The engine matches keywords without a word boundary, so ``SERVICEx:a`` can be
    ``SERVICE`` followed by the prefixed name ``x:a`` (and ``FROM:a`` is ``FROM :a``).
    ``rest`` is that following prefixed name; it must start a prefix (or be ``:...``).
    In an object's place ``true``/``false`` are read first the same way, so
    ``falseSERVICEx:a`` is ``false SERVICE x:a``: its readings are included.
    """
    readings = _keyword_readings(pname)
    head = pname[:5].upper()
    for boolean in ("TRUE", "FALSE"):
        if head.startswith(boolean) and pname.index(":") > len(boolean):
            readings += _keyword_readings(pname[len(boolean):])
    return readings


def _keyword_readings(pname: str) -> list[tuple[str, str]]:
    """``glued_keywords`` without a boolean first."""
    prefix = pname[:pname.index(":")]
    readings = []
    for keyword in GLUE_KEYWORDS:
        head = prefix[:len(keyword)]
        if len(prefix) >= len(keyword) and head.isascii() and head.upper() == keyword:
            rest = pname[len(keyword):]
            if rest[0] == ":" or _PREFIX_START.match(rest):
                readings.append((keyword, rest))
    return readings


#: keywords whose run-together reading changes what the policy or the lexer must see
GLUE_KEYWORDS = ("SERVICE", "SILENT", "LOAD", "FROM", "NAMED", "USING", "WITH", "PREFIX",
                 "FILTER")

_LEXED: TextCache[tuple[Token, ...]] = TextCache(max_bytes=16 << 20, max_item_bytes=1 << 20)


def lex(text: str) -> tuple[Token, ...]:
    """The significant tokens of ``text`` (whitespace and comments dropped).

    Raises ``QuerySyntaxError`` for whatever the engine would not tokenise the same way.
    Small results are cached (by a digest of the text, bounded in bytes), so the policy,
    the executor and the store share one lexing of a request.
    """
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate: no character the engine takes
        raise syntax_error(text, error.start, "a lone UTF-16 surrogate code point") from None
    key = digest_bytes(data)
    cached = _LEXED.get(key)
    if cached is not None:
        return cached
    result = tuple(_Lexer(text).run())
    _LEXED.put(key, result, sum(120 + len(t.text) for t in result))
    return result


def tokens(text: str) -> Iterator[Token]:
    """Significant tokens of ``text`` (whitespace and comments dropped)."""
    return iter(lex(text))


class _Lexer:
    """One pass over a text: the master expression, plus the bracket stack that says
    whether ``<`` and ``>`` compare or delimit."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.opened: list[str] = []
        self.modes: list[str] = []
        self.out: list[Token] = []

    def run(self) -> list[Token]:
        text, out, modes, match = self.text, self.out, self.modes, _TOKEN.match
        append, brackets = out.append, _BRACKETS
        pos, n = 0, len(text)
        while pos < n:
            found = match(text, pos)
            if found is None:
                if _TRAILING_WS.match(text, pos):
                    break
                raise _unlexable(text, _skip_ws(text, pos))
            kind = found.lastgroup or "angle"
            start = found.start(kind)
            if kind == "iri" or kind == "angle":
                if modes and modes[-1] == _EXPRESSION and self._after_operand():
                    token = self._comparison(start)
                elif kind == "iri":
                    token = Token("iri", found.group(kind), start)
                    if "\\" in token.text:
                        check_codepoints(token.text, start, text)
                else:
                    token = self._angle(start)
            else:
                token = Token(kind, found.group(kind), start)
                if kind == "punct":
                    if token.text in brackets:
                        self._bracket(token.text)
                elif kind == "word" or kind == "string":
                    self._check(token)
            append(token)
            pos = start + len(token.text)
        return out

    @property
    def mode(self) -> str:
        return self.modes[-1] if self.modes else _TOP

    def _after_operand(self) -> bool:
        """Whether the last token ends an operand (so ``<``/``>`` compare, in expressions)."""
        if not self.out:
            return False
        last = self.out[-1]
        return (last.kind in _OPERAND_KINDS or last.kind == "punct" and last.text in
                _OPERAND_PUNCT or last.kind == "word" and last.upper in ("TRUE", "FALSE"))

    def _comparison(self, pos: int) -> Token:
        two = self.text.startswith(("<=", ">="), pos)
        return Token("punct", self.text[pos:pos + 2] if two else self.text[pos], pos)

    def _angle(self, pos: int) -> Token:
        """``<``/``>`` that start no IRI and compare nothing: ``<<``, ``>>`` or refused."""
        text = self.text
        if text[pos] == "<":
            if text.startswith("<<", pos):
                self._open("<<", _QUOTED)
                return Token("punct", "<<", pos)
            raise syntax_error(text, pos, "'<' here is neither an IRI <...> nor an operator",
                               expected="an IRI: '<' then no space, '<', '>', '\"', '{', "
                                        "'}', '|', '^', '`' or '\\' before '>'")
        if text.startswith(">>", pos) and self.opened and self.opened[-1] == "<<":
            self._close()
            return Token("punct", ">>", pos)
        raise syntax_error(text, pos, "'>' here neither compares nor closes '<<'")

    def _check(self, token: Token) -> None:
        if token.kind == "word":
            word = token.upper
            if word not in KEYWORDS:
                raise syntax_error(self.text, token.start, f"unknown keyword {token.text!r}",
                                   expected="a SPARQL keyword, or a space between keywords")
            if word == "SELECT" and self.opened[-1:] == ["{"] and self.mode == _PATTERN:
                self.modes[-1] = _TOP  # a subquery: its clauses, then solution modifiers
        elif token.kind == "string" and "\\" in token.text:
            check_codepoints(token.text, token.start, self.text)

    def _bracket(self, text: str) -> None:
        if text == "{" or text == "[":
            self._open(text, _PATTERN)
        elif text == "(":
            self._open(text, self._paren_mode())
        elif text in CLOSERS:
            self._close()

    def _paren_mode(self) -> str:
        """Whether ``(`` opens an expression (call, bracketed expression) or a list."""
        out, mode = self.out, self.mode
        last = out[-1] if out else None
        if mode == _EXPRESSION:
            return _EXPRESSION
        if mode == _TOP:
            return _PATTERN if last is not None and last.upper == "VALUES" else _EXPRESSION
        if last is None:
            return _PATTERN
        if last.kind == "word":
            return _PATTERN if last.upper in _LIST_WORDS else _EXPRESSION
        if last.kind in ("iri", "pname") and len(out) > 1 and out[-2].upper == "FILTER":
            return _EXPRESSION  # FILTER <fn>(...)
        if last.kind == "pname" and any(k == "FILTER" for k, _ in glued_keywords(last.text)):
            return _EXPRESSION  # FILTERx:fn(...), read by the engine as FILTER x:fn(...)
        return _PATTERN

    def _open(self, bracket: str, mode: str) -> None:
        self.opened.append(bracket)
        self.modes.append(mode)

    def _close(self) -> None:
        if self.opened:
            self.opened.pop()
            self.modes.pop()


# -- escapes and errors ------------------------------------------------------------------
def check_codepoints(token_text: str, start: int, text: str) -> None:
    """Refuse a ``\\u``/``\\U`` escape naming no character (a surrogate, past U+10FFFF).

    Only the escapes that can be wrong are looked at (``\\uD8..``-``\\uDF..``, ``\\U``),
    and each is an escape only when an even number of backslashes precede it, since
    ``\\\\`` is the only escape that ends in a backslash.
    """
    for suspect in _UCHAR_SUSPECT.finditer(token_text):
        at = before = suspect.start()
        while before > 0 and token_text[before - 1] == "\\":
            before -= 1
        escape = _ESCAPES.match(token_text, at)
        if (at - before) % 2 == 0 and escape is not None and escape.group(1, 2) != (None, None):
            code = int(escape.group(1) or escape.group(2), 16)
            if not _is_scalar(code):
                raise syntax_error(text, start + at,
                                   f"escape {escape.group()!r} names no Unicode character")


def _is_scalar(code: int) -> bool:
    return code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF


def unescape_codepoints(text: str) -> str:
    """Decode the ``\\uXXXX``/``\\UXXXXXXXX`` escapes of an IRI or string body, as the
    engine does there (and only there); an escape naming no character is an error."""
    if "\\" not in text:
        return text

    def replace(escape: re.Match[str]) -> str:
        code = escape.group(1) or escape.group(2)
        if not code:
            return escape.group()
        if not _is_scalar(int(code, 16)):
            raise syntax_error(text, escape.start(), f"escape {escape.group()!r} names no "
                               "Unicode character")
        return chr(int(code, 16))

    return _ESCAPES.sub(replace, text)


_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
           "\\": "\\"}


def string_value(token_text: str) -> str:
    """The characters a string token stands for (quotes removed, escapes decoded)."""
    quotes = 3 if token_text[:3] in ("'''", '"""') and len(token_text) >= 6 else 1
    body = token_text[quotes:-quotes]

    def replace(escape: re.Match[str]) -> str:
        code = escape.group(1) or escape.group(2)
        return chr(int(code, 16)) if code else _ECHARS[escape.group(3)]

    return _ESCAPES.sub(replace, body)


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset`` (lines end at ``\\n``, as the engine counts)."""
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)


def syntax_error(text: str, offset: int, what: str, expected: str | None = None
                 ) -> QuerySyntaxError:
    line, column = position(text, offset)
    details = {"line": line, "column": column}
    return QuerySyntaxError(f"SPARQL syntax error at line {line}, column {column}: {what}",
                            **details, **({"expected": expected} if expected else {}))


def _skip_ws(text: str, pos: int) -> int:
    skipped = _WS_ONLY.match(text, pos)
    return skipped.end() if skipped else pos


def _unlexable(text: str, pos: int) -> QuerySyntaxError:
    """Why no token starts at ``pos``."""
    char = text[pos]
    if char in "'\"":
        return _string_error(text, pos)
    if char == "\\":
        return syntax_error(text, pos, "a backslash outside a string or IRI that does not "
                            "escape a name character", expected="a name character escape "
                            "such as \\' or \\. (\\u escapes only inside strings and IRIs)")
    if char == "$":
        return syntax_error(text, pos, "'$' without a variable name")
    if char == "_":
        return syntax_error(text, pos, "'_' that does not start a blank node label _:name")
    if char == "@":
        return syntax_error(text, pos, "'@' that does not start a language tag")
    if char == "&":
        return syntax_error(text, pos, "a single '&'", expected="'&&'")
    return syntax_error(text, pos, f"character {char!r} (U+{ord(char):04X}) is not allowed "
                        "here")


def _string_error(text: str, pos: int) -> QuerySyntaxError:
    """An unterminated string, or the first escape in it that is not a SPARQL escape."""
    quote = text[pos]
    long = text.startswith(quote * 3, pos)
    i = pos + (3 if long else 1)
    while i < len(text):
        char = text[i]
        if char == "\\":
            escape = _ESC_RE.match(text, i)
            if escape is None:
                return syntax_error(text, i, f"invalid escape {text[i:i + 2]!r} in a string",
                                    expected="one of \\t \\b \\n \\r \\f \\\" \\' \\\\ "
                                             "\\uXXXX \\UXXXXXXXX")
            i = escape.end()
            continue
        if not long and char in "\r\n":
            break
        i += 1
    line, column = position(text, pos)
    return syntax_error(text, pos, f"unterminated string starting at line {line}, column "
                        f"{column}", expected="a closing quote")
