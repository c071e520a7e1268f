"""SPARQL Update on the embedded store, over exactly the dataset its queries see.

The engine's own update is not used for clients' texts, for two reasons. Its WHERE clauses
see the engine's dataset, in which the union default graph is a bag and which ignores the
store's merge (``graph.store.union``); the old remedy, ``USING`` lists naming the graphs of
the moment, missed the store's own default graph and every graph an earlier operation of
the same request created. And the merge must follow every change, which the engine does
not report. So an update runs here, one operation after another, under the store's write
lock:

* the engine parses the whole text first, so a syntax error is the engine's, located;
* ``DELETE``/``INSERT`` ... ``WHERE`` evaluates its WHERE as a ``SELECT`` through the
  store's own query path — the dataset a query gets at that moment, earlier operations of
  the request included — and instantiates its templates per solution as SPARQL 1.1 Update
  prescribes: a quad with an unbound variable or a literal subject is skipped, a template
  blank node is fresh per solution, deletions go before insertions;
* ``INSERT DATA``/``DELETE DATA``, ``CLEAR``/``DROP``/``CREATE``/``ADD``/``MOVE``/``COPY``
  become the quads they remove and add; ``LOAD`` fetches into a scratch store (the policy
  and the sandbox decide whether it may) and then adds;
* each operation's effective changes — the quads that really appear or disappear, and the
  merge's with them — are applied and remembered; a failure undoes the request's changes,
  so an update is all or nothing. On disk they go to a journal first (``Journal``), so a
  process killed in the middle of a request is rolled back when the store next opens.

Templates are read by the engine's TriG parser, with each variable replaced by an IRI no
client can write. A text this module cannot take apart so (RDF-star quoted triples, a
literal in a template's subject) is run by the engine as it is, and the merge is then
rebuilt from the graphs: correct, only slower.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QuerySolutions,
    RdfFormat,
    parse,
)
from pyoxigraph import Store as Engine

from graph.errors import BadRequest, Forbidden, syntax_error
from graph.sparql.lexer import Token, lex

from . import union as ug

#: evaluates a SELECT over the store's dataset (the store's own query path)
Select = Callable[..., QuerySolutions]

_PARSE_ONLY = " CREATE GRAPH <urn:borderkg:parse> ; CREATE GRAPH <urn:borderkg:parse> ; "
_AT = re.compile(r"at (\d+):(\d+)")


class Unsupported(Exception):
    """A text the engine accepts that this module does not take apart (run by the engine)."""


# -- syntax ------------------------------------------------------------------------------

def check_syntax(text: str, base_iri: str | None) -> None:
    """Raise the engine's ``QuerySyntaxError`` (400) when it cannot parse the update ``text``.

    The engine has no parse-only call, but it parses an update whole before running its
    first operation. So ``text`` runs with two operations in front, of which the second
    always fails, on an empty scratch store: a syntax error anywhere in ``text`` is
    raised by the parser, and otherwise the second ``CREATE`` fails and none of
    ``text``'s own operations (a ``LOAD``, a ``SERVICE``) ever runs. They go after the
    text's leading ``PREFIX``/``BASE`` declarations, where the engine reads a prologue
    (it reads none after a ``;``), on the same line, and the error's column is moved back
    over them.
    """
    at = prologue_end(lex(text))
    try:
        Engine().update(text[:at] + _PARSE_ONLY + text[at:], base_iri=base_iri)
    except SyntaxError as exc:
        message = _AT.sub(lambda m: _located(text, at, int(m[1]), int(m[2])), str(exc), count=1)
        raise syntax_error(SyntaxError(message), "update") from None
    except (RuntimeError, ValueError, OSError):
        return  # parsed; the failure is the second CREATE's (or the base IRI's)


def prologue_end(toks: Sequence[Token]) -> int:
    """The offset just after the ``PREFIX``/``BASE``/``VERSION`` declarations a text starts
    with (0 when it starts with none)."""
    return _prologue(toks)[1]


def _prologue(toks: Sequence[Token]) -> tuple[int, int, list[tuple[int, int]]]:
    """Index of the first token after the prologue, its end offset, and the spans of its
    ``PREFIX``/``BASE`` declarations (``VERSION`` ones are left out)."""
    i, end, spans = 0, 0, []
    while i < len(toks):
        word, following = toks[i].upper, toks[i + 1:i + 3]
        kinds = [t.kind for t in following]
        size = 3 if word == "PREFIX" and kinds == ["pname", "iri"] else \
            2 if (word, kinds[:1]) in (("BASE", ["iri"]), ("VERSION", ["string"])) else 0
        if not size:
            break
        last = toks[i + size - 1]
        if word != "VERSION":
            spans.append((toks[i].start, last.start + len(last.text)))
        i, end = i + size, last.start + len(last.text)
    return i, end, spans


def _located(text: str, at: int, line: int, column: int) -> str:
    """``at line:column`` of the engine's error, moved from the text it parsed (``text``
    with ``_PARSE_ONLY`` inserted at offset ``at``) back to ``text``."""
    insert_line = text.count("\n", 0, at) + 1
    insert_column = at - (text.rfind("\n", 0, at) + 1) + 1
    if line == insert_line and column > insert_column:
        column = max(insert_column, column - len(_PARSE_ONLY))
    return f"at {line}:{column}"


# -- operations --------------------------------------------------------------------------

@dataclass
class Operation:
    """One operation of an update request, as token indices into the request's tokens."""

    kind: str  # LOAD CLEAR DROP CREATE ADD MOVE COPY "INSERT DATA" "DELETE DATA" ...
    start: int  # offset of its first character
    end: int  # offset after its last character
    silent: bool = False
    #: graph references: ("DEFAULT" | "NAMED" | "ALL" | "GRAPH", IRI token or None)
    refs: list[tuple[str, Token | None]] = field(default_factory=list)
    source: Token | None = None  # LOAD's document
    with_graph: Token | None = None
    delete: tuple[int, int] | None = None  # token indices of a template's braces
    insert: tuple[int, int] | None = None
    where: tuple[int, int] | None = None
    using: list[tuple[bool, Token]] = field(default_factory=list)  # (NAMED?, IRI)

    def iri_tokens(self) -> list[Token]:
        refs = [t for _, t in self.refs if t is not None]
        return [*refs, *([self.source] if self.source else []),
                *([self.with_graph] if self.with_graph else []), *(t for _, t in self.using)]


class _Reader:
    """A cursor over a request's tokens."""

    def __init__(self, toks: Sequence[Token], at: int) -> None:
        self.toks, self.i = toks, at

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def word(self, *words: str) -> str | None:
        """The next token's keyword if it is one of ``words`` (then consumed)."""
        tok = self.peek()
        if tok is not None and tok.upper in words:
            self.i += 1
            return tok.upper
        return None

    def iri(self) -> Token:
        tok = self.peek()
        if tok is None or tok.kind not in ("iri", "pname"):
            raise Unsupported("an IRI was expected")
        self.i += 1
        return tok

    def block(self, openers: tuple[str, ...] = ("{",)) -> tuple[int, int]:
        """Indices of a ``{ ... }`` block's braces, or of the brackets of one of
        ``openers`` (consumed)."""
        if (tok := self.peek()) is None or tok.kind != "punct" or tok.text not in openers:
            raise Unsupported("a block was expected")
        depth, j = 0, self.i
        while j < len(self.toks):
            text = self.toks[j].text if self.toks[j].kind == "punct" else ""
            depth += text in ("{", "[", "(") or 0
            depth -= text in ("}", "]", ")") or 0
            if depth == 0:
                start, self.i = self.i, j + 1
                return start, j
            j += 1
        raise Unsupported("an unclosed block")

    def end_offset(self) -> int:
        last = self.toks[self.i - 1]
        return last.start + len(last.text)


def operations(toks: Sequence[Token]) -> tuple[int, list[Operation]]:
    """The request's operations (and the index of its first token after the prologue)."""
    first, _, _ = _prologue(toks)
    reader, ops = _Reader(toks, first), []
    while reader.peek() is not None:
        ops.append(_operation(reader))
        if reader.peek() is not None and not (reader.peek().text == ";"  # type: ignore[union-attr]
                                              and reader.peek().kind == "punct"):  # type: ignore[union-attr]
            raise Unsupported("operations must be separated by ';'")
        reader.i += 1
    return first, ops


def _operation(r: _Reader) -> Operation:
    tok = r.peek()
    assert tok is not None
    start, word = tok.start, r.word("LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY",
                                    "INSERT", "DELETE", "WITH")
    if word is None:
        raise Unsupported(f"unexpected {tok.text!r}")
    op = Operation(word, start, start)
    if word in ("LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY"):
        op.silent = r.word("SILENT") is not None
        _graph_operation(r, op)
    else:
        _data_or_modify(r, op, word)
    op.end = r.end_offset()
    return op


def _graph_operation(r: _Reader, op: Operation) -> None:
    if op.kind == "LOAD":
        op.source = r.iri()
        if r.word("INTO"):
            if not r.word("GRAPH"):
                raise Unsupported("INTO without GRAPH")
            op.refs.append(("GRAPH", r.iri()))
    elif op.kind in ("CLEAR", "DROP"):
        target = r.word("GRAPH", "DEFAULT", "NAMED", "ALL")
        if target is None:
            raise Unsupported("a graph reference was expected")
        op.refs.append((target, r.iri() if target == "GRAPH" else None))
    elif op.kind == "CREATE":
        if not r.word("GRAPH"):
            raise Unsupported("CREATE without GRAPH")
        op.refs.append(("GRAPH", r.iri()))
    else:
        op.refs.append(_graph_or_default(r))
        if not r.word("TO"):
            raise Unsupported(f"{op.kind} without TO")
        op.refs.append(_graph_or_default(r))


def _graph_or_default(r: _Reader) -> tuple[str, Token | None]:
    if r.word("DEFAULT"):
        return ("DEFAULT", None)
    r.word("GRAPH")
    return ("GRAPH", r.iri())


def _data_or_modify(r: _Reader, op: Operation, word: str) -> None:
    if word in ("INSERT", "DELETE") and r.word("DATA"):
        op.kind = f"{word} DATA"
        block = r.block()
        op.insert, op.delete = (block, None) if word == "INSERT" else (None, block)
        return
    if word == "DELETE" and r.word("WHERE"):
        op.kind = "DELETE WHERE"
        op.delete = op.where = r.block()
        return
    op.kind = "MODIFY"
    if word == "WITH":
        op.with_graph = r.iri()
        word = r.word("INSERT", "DELETE") or ""
        if not word:
            raise Unsupported("WITH without DELETE or INSERT")
    if word == "DELETE":
        op.delete = r.block()
        word = r.word("INSERT") or ""
    if word == "INSERT":
        op.insert = r.block()
    while r.word("USING"):
        named = r.word("NAMED") is not None
        op.using.append((named, r.iri()))
    if not r.word("WHERE"):
        raise Unsupported("WHERE was expected")
    op.where = r.block()


# -- the request --------------------------------------------------------------------------

@dataclass
class Request:
    """An update request taken apart: its prologue, operations and IRIs."""

    text: str
    toks: Sequence[Token]
    base_iri: str | None
    prologue: str
    trig_prologue: str
    ops: list[Operation]
    iris: dict[int, NamedNode]  # token offset -> resolved IRI

    def iri(self, tok: Token | None) -> NamedNode | None:
        return None if tok is None else self.iris[tok.start]

    def span(self, lo: int, hi: int) -> str:
        """The text from token ``lo`` to token ``hi`` (both included)."""
        return self.text[self.toks[lo].start:self.toks[hi].start + len(self.toks[hi].text)]


def take_apart(text: str, base_iri: str | None) -> Request:
    """``text`` as operations; raises ``Unsupported`` for what the module cannot run."""
    toks = lex(text)
    if any(t.text in ("<<", ">>", "<<(", ")>>") for t in toks if t.kind == "punct"):
        raise Unsupported("RDF-star quoted triples")
    first, ops = operations(toks)
    _, end, spans = _prologue(toks)
    prologue = text[:end]
    trig_prologue = "\n".join(text[a:b] for a, b in spans)
    iris = _resolve(prologue, [t for op in ops for t in op.iri_tokens()], base_iri)
    return Request(text, toks, base_iri, prologue, trig_prologue, ops, iris)


def _resolve(prologue: str, toks: list[Token], base_iri: str | None) -> dict[int, NamedNode]:
    """Each IRI token's absolute IRI, as the engine resolves it (asked of the engine)."""
    if not toks:
        return {}
    names = " ".join(f"?i{n}" for n in range(len(toks)))
    values = " ".join(t.text for t in toks)
    query = f"{prologue}\nSELECT * WHERE {{ VALUES ({names}) {{ ({values}) }} }}"
    try:
        row = next(iter(cast(QuerySolutions, Engine().query(query, base_iri=base_iri))))
    except (SyntaxError, ValueError, StopIteration) as exc:
        raise Unsupported(f"cannot resolve the IRIs: {exc}") from None
    return {t.start: row[f"i{n}"] for n, t in enumerate(toks)}


# -- templates ----------------------------------------------------------------------------

class Template:
    """A quad pattern: quads whose terms may be variables (IRIs under ``marker``)."""

    def __init__(self, quads: list[Quad], marker: str) -> None:
        self.quads, self.marker = quads, marker
        self.variables = sorted({t.value[len(marker):] for q in quads for t in _terms(q)
                                 if isinstance(t, NamedNode) and t.value.startswith(marker)})

    def instances(self, solutions: Iterable[dict[str, Any]], default: NamedNode | DefaultGraph,
                  fresh_blank_nodes: bool) -> Iterator[Quad]:
        """The quads of each solution (SPARQL 1.1 Update section 3.1.3): a quad with an
        unbound variable or a term where RDF allows none is left out."""
        marker = self.marker
        for solution in solutions:
            blank: dict[str, BlankNode] = {}

            def term(t: Any, solution: dict[str, Any] = solution,
                     blank: dict[str, BlankNode] = blank) -> Any:
                if isinstance(t, NamedNode) and t.value.startswith(marker):
                    return solution.get(t.value[len(marker):])
                if isinstance(t, BlankNode) and fresh_blank_nodes:
                    return blank.setdefault(t.value, BlankNode())
                return t

            for q in self.quads:
                graph = default if isinstance(q.graph_name, DefaultGraph) else term(q.graph_name)
                quad = _quad(term(q.subject), term(q.predicate), term(q.object), graph)
                if quad is not None:
                    yield quad


def _terms(quad: Quad) -> tuple[Any, ...]:
    return (quad.subject, quad.predicate, quad.object, quad.graph_name)


def _quad(s: Any, p: Any, o: Any, g: Any) -> Quad | None:
    """The quad, or None when a position holds what RDF does not allow there."""
    if not isinstance(s, NamedNode | BlankNode) or not isinstance(p, NamedNode) or o is None:
        return None
    if not isinstance(g, NamedNode | DefaultGraph):
        return None
    if isinstance(g, NamedNode) and ug.is_hidden(g):
        raise Forbidden(f"the graph <{g.value}> is kept by BorderKG itself and cannot be "
                        "written", graph=g.value)
    return Quad(s, p, o, g)


def template(request: Request, braces: tuple[int, int]) -> Template:
    """The quad pattern between ``braces``, read by the engine's TriG parser."""
    marker = f"urn:x-borderkg:variable:{uuid.uuid4().hex}:"
    body = _as_trig(request, braces[0] + 1, braces[1] - 1, marker)
    document = f"{request.trig_prologue}\n{body}\n"
    try:
        quads = list(parse(document.encode("utf-8"), RdfFormat.TRIG,
                           base_iri=request.base_iri))
    except (SyntaxError, ValueError) as exc:
        raise Unsupported(f"template: {exc}") from None
    for quad in quads:
        if isinstance(quad, Quad) and isinstance(quad.graph_name, NamedNode):
            _writable(quad.graph_name)  # refused whatever the WHERE finds
    return Template([q for q in quads if isinstance(q, Quad)], marker)


def _as_trig(request: Request, lo: int, hi: int, marker: str) -> str:
    """Tokens ``lo``..``hi`` of a quad pattern as TriG: runs of triples become default
    graph blocks ``{ ... }``, ``GRAPH x { ... }`` stays, a ``.`` after it goes."""
    toks, parts, i = request.toks, [], lo
    while i <= hi:
        tok = toks[i]
        if tok.upper == "GRAPH":
            close = _Reader(toks, i + 2).block()[1]
            parts.append(_render(request, i, close, marker))
            i = close + 1
            if i <= hi and toks[i].text == "." and toks[i].kind == "punct":
                i += 1
            continue
        j = i
        while j <= hi and toks[j].upper != "GRAPH":
            if toks[j].kind == "punct" and toks[j].text in ("[", "("):
                j = _Reader(toks, j).block(("[", "("))[1]
            j += 1
        parts.append("{ " + _render(request, i, j - 1, marker) + " }")
        i = j
    return "\n".join(parts)


def _render(request: Request, lo: int, hi: int, marker: str) -> str:
    """The text of tokens ``lo``..``hi`` with each variable replaced by its marker IRI."""
    text, toks, out = request.text, request.toks, []
    at = toks[lo].start
    for tok in toks[lo:hi + 1]:
        if tok.kind == "var":
            out.append(text[at:tok.start])
            out.append(f"<{marker}{tok.text[1:]}>")
            at = tok.start + len(tok.text)
    last = toks[hi]
    out.append(text[at:last.start + len(last.text)])
    return "".join(out)


# -- applying changes ------------------------------------------------------------------------

class Journal:
    """The changes of the request being applied, on disk before the store sees them.

    A line is ``+`` or ``-`` and an N-Quads statement (blank nodes keep their labels, so
    the line names the very node the store holds). The file exists only while a request
    is applied; found at start-up, it is a request that never finished, and its changes
    are undone in reverse order.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: Any = None

    def record(self, sign: str, quads: Sequence[Quad]) -> None:
        if not quads:
            return
        if self._file is None:
            self._file = open(self.path, "a", encoding="utf-8")  # kept open
        self._file.write("".join(f"{sign} {q} .\n" for q in quads))
        # handed to the operating system before the store sees the change: a killed
        # process leaves it whole (as RocksDB's own log, which is not synced per write)
        self._file.flush()

    def close(self) -> None:
        """The request is over (applied or undone): forget it."""
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)

    def recover(self, engine: Engine) -> int:
        """Undo the changes of a request that did not finish; the number undone."""
        if not self.path.exists():
            return 0
        lines = self.path.read_text(encoding="utf-8").splitlines()
        undone = 0
        for line in reversed(lines):
            sign, _, statement = line.partition(" ")
            try:
                quad = next(iter(parse(statement.encode("utf-8"), RdfFormat.N_QUADS)))
            except (SyntaxError, StopIteration):
                continue  # the line being written when the process stopped
            assert isinstance(quad, Quad)
            (engine.remove if sign == "+" else engine.add)(quad)
            undone += 1
        self.path.unlink()
        return undone


class Writer:
    """Applies changes with the merge kept in step, and can undo them all.

    ``engine`` is the one read to tell what a change really changes; ``targets`` are the
    engines the changes go to, in order (the durable one first; the read one among them).
    """

    def __init__(self, engine: Engine, journal: Journal | None,
                 targets: Sequence[Any] | None = None) -> None:
        self.engine, self.journal = engine, journal
        self.targets = list(targets) if targets is not None else [engine]
        self.done: list[tuple[str, Quad]] = []
        self.created: list[NamedNode] = []

    def change(self, removes: Iterable[Quad], adds: Iterable[Quad]) -> None:
        """Remove ``removes`` then add ``adds`` (a quad in both stays)."""
        engine, wanted = self.engine, dict.fromkeys(adds)
        gone = [q for q in dict.fromkeys(removes) if q not in wanted and q in engine]
        new = [q for q in wanted if q not in engine]
        twins = [t for t in dict.fromkeys(ug.twin(q) for q in new) if t not in engine]
        self.created.extend(g for g in dict.fromkeys(q.graph_name for q in new)
                            if isinstance(g, NamedNode) and not engine.contains_named_graph(g))
        self._note("-", gone)
        self._note("+", new + twins)
        for target in self.targets:
            for quad in gone:
                target.remove(quad)
            target.extend(new + twins)
        orphans = ug.orphans(engine, gone)
        self._note("-", orphans)
        for target in self.targets:
            for quad in orphans:
                target.remove(quad)

    def create(self, graph: NamedNode) -> None:
        for target in self.targets:
            target.add_graph(graph)
        self.created.append(graph)

    def forget_graph(self, graph: NamedNode) -> None:
        """Drop ``graph``'s record once its quads are gone (``DROP`` of an empty graph)."""
        if self.engine.contains_named_graph(graph):
            for target in self.targets:
                target.remove_graph(graph)

    def _note(self, sign: str, quads: list[Quad]) -> None:
        if self.journal is not None:
            self.journal.record(sign, quads)
        self.done.extend((sign, q) for q in quads)

    def undo(self) -> None:
        for target in self.targets:
            for sign, quad in reversed(self.done):
                (target.remove if sign == "+" else target.add)(quad)
        for graph in self.created:
            if next(iter(self.engine.quads_for_pattern(None, None, None, graph)), None) is None:
                for target in self.targets:
                    target.remove_graph(graph)
        self.done.clear()


# -- running ----------------------------------------------------------------------------------

def run(engine: Engine, targets: Sequence[Any], select: Select, request: Request,
        union: bool, journal: Journal | None) -> None:
    """Run the update ``request`` (taken apart by ``take_apart``, its text parse-checked
    by ``check_syntax``): read ``engine``, write ``targets`` (see the module docstring)."""
    writer = Writer(engine, journal, targets)
    try:
        for op in request.ops:
            _run_operation(request, op, writer, select, union)
    except BaseException:
        writer.undo()
        raise
    finally:
        if journal is not None:
            journal.close()


def _run_operation(request: Request, op: Operation, writer: Writer, select: Select,
                   union: bool) -> None:
    if op.kind in ("MODIFY", "DELETE WHERE"):
        _modify(request, op, writer, select, union)
    elif op.kind in ("INSERT DATA", "DELETE DATA"):
        braces = op.insert or op.delete
        assert braces is not None
        quads = list(template(request, braces).instances([{}], DefaultGraph(),
                                                         fresh_blank_nodes=True))
        writer.change([], quads) if op.kind == "INSERT DATA" else writer.change(quads, [])
    elif op.kind == "LOAD":
        _load(request, op, writer)
    else:
        _graph_management(request, op, writer)


def _modify(request: Request, op: Operation, writer: Writer, select: Select,
            union: bool) -> None:
    assert op.where is not None
    where = f"{request.prologue}\nSELECT * WHERE {request.span(*op.where)}"
    with_graph = request.iri(op.with_graph)
    if op.using:
        kwargs: dict[str, Any] = {
            "default_graphs": [request.iris[t.start].value for named, t in op.using
                               if not named],
            "named_graphs": [request.iris[t.start].value for named, t in op.using if named]}
    elif with_graph is not None:
        kwargs = {"default_graphs": [with_graph.value]}
    else:
        kwargs = {"union_default": union}
    result = select(where, base_iri=request.base_iri, **kwargs)
    names = [v.value for v in result.variables]
    rows = [{n: row[n] for n in names if row[n] is not None} for row in result]
    target: NamedNode | DefaultGraph = with_graph if with_graph is not None else DefaultGraph()
    removes = list(template(request, op.delete).instances(rows, target, False)) \
        if op.delete else []
    adds = list(template(request, op.insert).instances(rows, target, True)) \
        if op.insert and op.kind == "MODIFY" else []
    writer.change(removes, adds)


def _load(request: Request, op: Operation, writer: Writer) -> None:
    target = request.iri(op.refs[0][1]) if op.refs else None
    if target is not None:
        _writable(target)
    scratch = Engine()
    scratch.update(f"{request.prologue}\n{request.text[op.start:op.end]}",
                   base_iri=request.base_iri)
    writer.change([], list(scratch))


def _graph_management(request: Request, op: Operation, writer: Writer) -> None:
    engine = writer.engine
    graphs = [_ref_graphs(engine, ref, request.iri(tok)) for ref, tok in op.refs]
    for group in graphs:
        for graph in group:
            if isinstance(graph, NamedNode):
                _writable(graph)
    if op.kind in ("CLEAR", "DROP"):
        for graph in graphs[0]:
            writer.change(_quads_of(engine, graph), [])
            if op.kind == "DROP" and isinstance(graph, NamedNode):
                writer.forget_graph(graph)
        return
    if op.kind == "CREATE":
        graph = graphs[0][0]
        assert isinstance(graph, NamedNode)
        if engine.contains_named_graph(graph):
            if not op.silent:
                raise BadRequest(f"update failed: the graph <{graph.value}> already exists")
            return
        writer.create(graph)
        return
    # a graph without triples is an empty graph: ADD of it changes nothing, COPY of it
    # (and MOVE SILENT) empty the target; a MOVE of a graph the store has no record of
    # fails, as in the engine
    (source,), (target,) = graphs
    if source == target:
        return
    if op.kind == "MOVE" and not op.silent and isinstance(source, NamedNode) \
            and not engine.contains_named_graph(source):
        raise BadRequest(f"update failed: the graph <{source.value}> does not exist")
    moved = [Quad(q.subject, q.predicate, q.object, target) for q in _quads_of(engine, source)]
    if op.kind == "ADD":
        writer.change([], moved)
        return
    removes = _quads_of(engine, target)
    if op.kind == "MOVE":
        removes += _quads_of(engine, source)
    writer.change(removes, [])
    if isinstance(target, NamedNode):
        writer.forget_graph(target)
    writer.change([], moved)
    if op.kind == "MOVE" and isinstance(source, NamedNode):
        writer.forget_graph(source)


def _ref_graphs(engine: Engine, ref: str, iri: NamedNode | None
                ) -> list[NamedNode | DefaultGraph]:
    if ref == "GRAPH":
        assert iri is not None
        return [iri]
    if ref == "DEFAULT":
        return [DefaultGraph()]
    named: list[NamedNode | DefaultGraph] = list(ug.real_named_graphs(engine))
    return named if ref == "NAMED" else [DefaultGraph(), *named]


def _quads_of(engine: Engine, graph: NamedNode | DefaultGraph) -> list[Quad]:
    return list(engine.quads_for_pattern(None, None, None, graph))


def _writable(graph: NamedNode) -> None:
    if ug.is_hidden(graph):
        raise Forbidden(f"the graph <{graph.value}> is kept by BorderKG itself and cannot be "
                        "written", graph=graph.value)


def single_graph_drop(request: Request) -> tuple[str, NamedNode | DefaultGraph] | None:
    """``(keyword, graph)`` when the request is one ``CLEAR``/``DROP`` of one graph (run as
    one engine transaction, however large the graph), else None."""
    if len(request.ops) != 1 or request.ops[0].kind not in ("CLEAR", "DROP"):
        return None
    ref, tok = request.ops[0].refs[0]
    if ref == "DEFAULT":
        return request.ops[0].kind, DefaultGraph()
    if ref == "GRAPH":
        iri = request.iri(tok)
        assert iri is not None
        return request.ops[0].kind, iri
    return None


__all__ = ["Journal", "Operation", "Request", "Unsupported",
           "Writer", "check_syntax", "operations", "prologue_end", "run", "take_apart"]
