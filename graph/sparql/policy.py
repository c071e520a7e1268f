"""Query-safety policy: what a SPARQL request may touch, decided before the engine runs.

Oxigraph evaluates ``SERVICE`` with its own HTTP client, inside Rust, where no Python
hook can see it; remote backends may dereference ``FROM`` or ``LOAD`` IRIs.
So the policy is a static check of the request text, failing closed:

* ``SERVICE``: refused unless the target is an ``http``/``https`` IRI whose host is, by
  exact (case-insensitive) match, in the ``allowed_service_hosts`` setting. The list is
  empty by default, so SERVICE is refused by default. A variable (``SERVICE ?x``) or an
  unresolvable name is always refused; IRIs with user information (``http://a@b/``) are
  refused because hosts and user names are easily confused by eye. Loopback and private
  addresses get no special treatment: they are refused like any host unless an operator
  lists that exact host, which is then the operator's explicit decision.
* ``LOAD``: refused unless its source is an ``http``/``https`` IRI whose host is, by the
  same exact match, in ``allowed_load_hosts`` (empty by default: BorderKG fetches no data
  on a client's behalf; bulk data goes through the Graph Store protocol or
  ``borderkg load``).
* ``SILENT``: a ``SERVICE SILENT`` or ``LOAD SILENT`` call the rules above would refuse is
  skipped instead (``admit_request``, ``graph.sparql.silent``): the engine sees the call pointed
  at an IRI no HTTP client can reach, fails it before any I/O, and SILENT makes that
  failure the empty solution or a no-op, as SPARQL prescribes for a failed call.
* ``FROM``/``FROM NAMED``/``USING``/``USING NAMED``/``WITH`` and the protocol's
  ``default-graph-uri``/``named-graph-uri``: on the embedded stores any absolute IRI but
  a ``file:`` one. Oxigraph never dereferences a dataset IRI, it only names a graph, and
  a graph without triples is an empty graph (``WITH <new> INSERT`` creates it). ``file:``
  stays refused (403) unless the store holds that graph, because the sandbox keeps the
  engine from sockets, not from files. The remote store's engine may fetch what a dataset
  clause names, so there only graphs the store holds are allowed, and ``WITH`` may also
  name a new graph under the project's own ``iri_base``; anything else is a 403. A name
  that is no absolute IRI (relative without a base, ``\\u`` escapes decoding to ``>``) is
  a 400: the engine cannot parse it either.
* A refused update is parsed by the engine first (``graph.store.updates.check_syntax``): a text the
  engine cannot parse is a 400 whatever it would reach, as for any other syntax error.
* Shape limits (400): Oxigraph's parser and optimiser recurse, and crash the whole
  process (a segmentation fault, not an exception) on roughly 3,000 nested groups or
  10,000 patterns/operators. ``check_shape`` refuses texts deeper than ``MAX_NESTING``
  brackets or with more than ``MAX_ELEMENTS`` pattern and operator tokens (``VALUES`` and
  ``INSERT DATA``/``DELETE DATA`` blocks are not counted: they are flat lists).

All checks work on one lexing of the text (``graph.sparql.lexer``, which places every
token boundary where the engine does): the shape limits and the SERVICE/LOAD/dataset report
come from the same token stream. Verdicts are cached by a digest of the text, in caches
bounded in bytes, so a repeated query costs a hash and a dictionary lookup.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pyoxigraph import NamedNode

from graph.errors import BadRequest, Forbidden, PayloadTooLarge
from graph.store.updates import check_syntax

from .lexer import CLOSERS, OPENERS, position
from .silent import SKIPPED, SilentCall, silent_calls, skipping
from .text import Kind, SparqlText, Token, analyse_tokens, lex
from .text_cache import TextCache, digest

#: deepest bracket nesting accepted ({ ( [); the engine crashed at ~3,000
MAX_NESTING = 100
#: most pattern/operator tokens accepted; the engine crashed at ~10,000
MAX_ELEMENTS = 2_000

_STRUCTURAL_PUNCT = {".", ";", "|", "||", "&&", "+", "-", "*", "/", "!", "!=", "^", "=", "<",
                     ">", "<=", ">=", "~"}
_STRUCTURAL_WORDS = {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE",
                     "EXISTS", "LATERAL"}

#: texts whose shape passed (a digest each: a few dozen bytes whatever the text's size)
_SHAPE_OK: TextCache[bool] = TextCache(max_bytes=1 << 20)
#: the admitted report of each (text, kind, base IRI): shape checked, report made
_ADMITTED: TextCache[SparqlText] = TextCache()


#: SPARQL's codepoint escapes, which some engines decode before parsing the whole text
_CODEPOINT_ESCAPE = re.compile(r"\\[uU]")


@dataclass(frozen=True)
class Admitted:
    """A text the policy admitted, as the engine must run it."""

    #: the report on ``text``
    info: SparqlText
    #: what the engine runs: the request's text, its skipped SILENT calls pointed away
    text: str
    #: targets of the ``SERVICE SILENT`` and ``LOAD SILENT`` calls that were skipped
    skipped_services: tuple[str, ...] = ()
    skipped_loads: tuple[str, ...] = ()

    @property
    def network(self) -> bool:
        """Whether ``text`` calls an allowed host (it must then run outside the sandbox)."""
        return any(iri != SKIPPED for iri in (*self.info.services, *self.info.loads))


def admit(text: str, kind: Kind, settings: Any, store: Any, *,
          base_iri: str | None = None,
          dataset_params: Mapping[str, Sequence[str]] | None = None) -> SparqlText:
    """The policy decision for a client's SPARQL text run exactly as written.

    Every entry point that runs the client's own text (``borderkg query``, named queries
    given as text) asks this function; ``/sparql`` asks ``admit_request``, which may
    rewrite the text and then asks this one. ``base_iri`` is the base the engine will be
    given, so relative IRIs are resolved as the engine resolves them. ``dataset_params``
    are the protocol's ``default-graph-uri``/``named-graph-uri``/``using-*`` parameters.
    Raises ``PayloadTooLarge`` (413), ``BadRequest`` (400) or ``Forbidden`` (403).
    """
    _check_text(text, kind, settings, store)
    info = _lexed_and_shaped(text, kind, base_iri)
    _decide(text, info, settings, store, base_iri, dataset_params)
    return info


def admit_request(text: str, kind: Kind, settings: Any, store: Any, *,
                  base_iri: str | None = None,
                  dataset_params: Mapping[str, Sequence[str]] | None = None) -> Admitted:
    """``admit``, after skipping the SILENT calls the policy would refuse.

    A ``SERVICE SILENT``/``LOAD SILENT`` call to a host that is not allowed is pointed at
    ``urn:borderkg:skipped`` (``graph.sparql.silent``), and the text the engine must run is
    returned with the skipped targets; the rewritten text passes the whole policy again.
    Raises what ``admit`` raises.
    """
    _check_text(text, kind, settings, store)
    info = _lexed_and_shaped(text, kind, base_iri)
    calls = [c for c in silent_calls(lex(text), kind, base_iri) if _skipped(c, settings)] \
        if info.services or info.loads else []
    if calls:
        if kind == "update":
            check_syntax(text, base_iri)  # located in the text as the client wrote it
        text = skipping(text, calls)
        info = _lexed_and_shaped(text, kind, base_iri)
    _decide(text, info, settings, store, base_iri, dataset_params)
    return Admitted(info, text,
                    tuple(c.iri for c in calls if c.keyword == "SERVICE"),
                    tuple(c.iri for c in calls if c.keyword == "LOAD"))


def _skipped(call: SilentCall, settings: Any) -> bool:
    """Whether the policy would refuse ``call`` (so SILENT lets it be skipped)."""
    if call.iri == SKIPPED or not _is_iri(call.iri):
        return False  # a relative IRI without a base is the engine's syntax error
    setting = "allowed_service_hosts" if call.keyword == "SERVICE" else "allowed_load_hosts"
    return _endpoint_problem(call.iri, tuple(_hosts(settings, setting)), setting) is not None


def _check_text(text: str, kind: Kind, settings: Any, store: Any) -> None:
    """The checks made on the raw text, before it is lexed: size, and on the remote store
    codepoint escapes."""
    limit = int(settings.get("max_query_bytes") or 0)
    if limit and len(text) > limit // 4 and len(text.encode("utf-8", "surrogatepass")) > limit:
        raise PayloadTooLarge(f"the {kind} text is over the max_query_bytes limit of "
                              f"{limit:,} bytes; send bulk data through the Graph Store "
                              "protocol", limit_bytes=limit)
    if getattr(store, "backend", "") == "remote" and _CODEPOINT_ESCAPE.search(text):
        raise BadRequest(f"\\u and \\U escapes are refused in a {kind} for the remote "
                         "store: its engine may decode them anywhere in the text and read "
                         "it differently from the policy; write the characters themselves")


def _decide(text: str, info: SparqlText, settings: Any, store: Any, base_iri: str | None,
            dataset_params: Mapping[str, Sequence[str]] | None) -> None:
    """What the text reaches (SERVICE, LOAD, dataset), refused with 403 when not allowed;
    a refused update the engine cannot parse is a 400 instead."""
    try:
        (check_query if info.kind == "query" else check_update)(info, settings, store)
        for name, iris in (dataset_params or {}).items():
            check_graph_iris(name, iris, settings, store)
    except Forbidden:
        if info.kind == "update":
            check_syntax(text, base_iri)
        raise


#: two operations that make any update stop, after it was parsed, before it changes a thing
def _lexed_and_shaped(text: str, kind: Kind, base_iri: str | None) -> SparqlText:
    """The report on ``text``, its shape checked, from one lexing (or from the cache)."""
    key = digest(text)
    info = _ADMITTED.get((key, kind, base_iri))
    if info is None:
        toks = lex(text)
        _check_tokens(toks, text)
        _SHAPE_OK.put(key, True, 0)
        info = analyse_tokens(toks, kind, base_iri)
        _ADMITTED.put((key, kind, base_iri), info, info.size_estimate() + len(base_iri or ""))
    return info


def check_query(info: SparqlText, settings: Any, store: Any, text: str | None = None) -> None:
    """Raise ``Forbidden`` (403) when a query would reach outside the store; with
    ``text``, also ``BadRequest`` (400) when it is too deeply nested or too large."""
    _check_common(info, settings, store, text)


def check_update(info: SparqlText, settings: Any, store: Any, text: str | None = None) -> None:
    """Raise ``Forbidden`` (403) when an update would reach outside the store; with
    ``text``, also ``BadRequest`` (400) when it is too deeply nested or too large."""
    _check_common(info, settings, store, text)


def _check_common(info: SparqlText, settings: Any, store: Any, text: str | None) -> None:
    if text is not None:
        check_shape(text)
    load_hosts = tuple(_hosts(settings, "allowed_load_hosts"))
    for source in info.loads:
        problem = _endpoint_problem(source, load_hosts, "allowed_load_hosts")
        if problem:
            raise Forbidden(f"LOAD <{source}> refused: {problem}; upload RDF with the "
                            "Graph Store protocol instead", iri=source,
                            setting="allowed_load_hosts")
    refusal = _service_refusal(info.services, tuple(_hosts(settings, "allowed_service_hosts")))
    if refusal:
        raise Forbidden(refusal, setting="allowed_service_hosts")
    for keyword, iri in info.dataset:
        _check_dataset_iri(keyword, iri, settings, store)


def check_graph_iris(parameter: str, iris: Iterable[str], settings: Any, store: Any) -> None:
    """The protocol's dataset parameters (``default-graph-uri``, ``named-graph-uri``,
    ``using-graph-uri``, ``using-named-graph-uri``) follow the same rule as ``FROM``."""
    for iri in iris:
        _check_dataset_iri(parameter, iri, settings, store)


def _hosts(settings: Any, setting: str) -> list[str]:
    return [h.strip().lower() for h in (settings.get(setting) or []) if h.strip()]


def _is_iri(iri: str) -> bool:
    """Whether the engine takes ``iri`` as an absolute IRI (a relative one, or one whose
    ``\\u`` escapes decoded to ``>`` or a space, names nothing a store could hold)."""
    try:
        NamedNode(iri)
    except ValueError:
        return False
    return True


def _check_dataset_iri(keyword: str, iri: str, settings: Any, store: Any) -> None:
    """A dataset IRI names a graph: any absolute IRI on the embedded stores (a graph
    without triples is an empty one), but never ``file:``, and on the remote store only a
    graph it holds (its engine may fetch the rest)."""
    if not iri or not _is_iri(iri):
        shown = f"<{iri}>" if iri else "a variable or an undeclared prefix"
        raise BadRequest(f"{keyword} {shown} names no graph: a graph name must be an "
                         "absolute IRI (give a BASE, or write the whole IRI)", iri=iri or None)
    if store.contains_graph(iri):
        return
    if iri[:5].lower() == "file:":
        raise Forbidden(f"{keyword} <{iri}> refused: it is not a graph in this store, and a "
                        "file: IRI is never taken as a new graph's name (BorderKG never "
                        "reads files on a request's behalf)", iri=iri)
    if getattr(store, "backend", "") != "remote":
        return  # the engine only names graphs; it never dereferences them
    base = settings.get("iri_base") or ""
    if keyword == "WITH" and base and iri.startswith(base) and "://" in base:
        return  # an update creating one of the project's own graphs
    raise Forbidden(f"{keyword} <{iri}> refused: it is not a graph in the remote store, "
                    "whose engine may fetch what a dataset clause names; BorderKG never "
                    "fetches data from elsewhere", iri=iri)


def _service_refusal(services: tuple[str | None, ...], allowed: tuple[str, ...]) -> str | None:
    """Why the first disallowed SERVICE target is refused, or None when all are allowed."""
    for target in services:
        if target is None:
            return "SERVICE with a variable endpoint is refused: endpoints must be fixed IRIs"
        problem = _endpoint_problem(target, allowed, "allowed_service_hosts")
        if problem:
            return f"SERVICE <{target}> refused: {problem}"
    return None


def _endpoint_problem(target: str, allowed: tuple[str, ...], setting: str) -> str | None:
    """Why a SERVICE endpoint or LOAD source may not be called, or None when it may.

    ``urn:borderkg:skipped`` (a skipped SILENT call) may: it has no host to reach.
    """
    if target == SKIPPED:
        return None
    if not _is_iri(target):
        return "not a valid absolute IRI"
    try:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "not a valid IRI"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https endpoints can be allowed"
    if "@" in parts.netloc:
        return "endpoints with user information are never allowed"
    keyword = "SERVICE" if setting == "allowed_service_hosts" else "LOAD"
    if not allowed:
        return f"{keyword} is disabled (the {setting} setting is empty)"
    if host not in allowed:
        return f"host {host or '(none)'!r} is not in {setting}"
    return None


def check_shape(text: str) -> None:
    """Raise ``BadRequest`` when ``text`` would overrun the engine's recursion.

    A text that passed once passes again for the price of its digest (a failure raises
    and is not remembered, which only costs the lexer again).
    """
    key = digest(text)
    if _SHAPE_OK.get(key):
        return
    _check_tokens(lex(text), text)
    _SHAPE_OK.put(key, True, 0)


def _check_tokens(toks: Sequence[Token], text: str) -> None:
    """The shape limits on a lexed text: bracket depth and structural token count.

    ``<<``/``>>`` (quoted triples) nest like brackets; ``VALUES`` and ``INSERT DATA``/
    ``DELETE DATA`` blocks are flat lists and their tokens are not counted.
    """
    depth = elements = 0
    stack: list[str] = []
    skip_depth: int | None = None  # stack size at which a VALUES/DATA block opened
    pending_skip = False
    previous = ""
    for token in toks:
        if token.kind == "punct" and token.text in OPENERS:
            stack.append(token.text)
            depth = max(depth, len(stack))
            if depth > MAX_NESTING:
                raise _too_complex(f"brackets nested deeper than {MAX_NESTING}", token, text)
            if pending_skip and token.text == "{" and skip_depth is None:
                skip_depth, pending_skip = len(stack), False
            continue
        if token.kind == "punct" and token.text in CLOSERS:
            if skip_depth is not None and len(stack) == skip_depth:
                skip_depth = None
            if stack:
                stack.pop()
            continue
        word = token.upper
        if word == "VALUES" or (word == "DATA" and previous in ("INSERT", "DELETE")):
            pending_skip = True
        previous = word
        if skip_depth is None and _is_structural(token, stack):
            elements += 1
            if elements > MAX_ELEMENTS:
                raise _too_complex(f"more than {MAX_ELEMENTS} patterns and operators",
                                   token, text)


def _is_structural(token: Token, stack: list[str]) -> bool:
    if token.kind == "word":
        return token.upper in _STRUCTURAL_WORDS
    if token.kind != "punct":
        return False
    if token.text == ",":
        return bool(stack) and stack[-1] != "("  # object lists, not function arguments
    return token.text in _STRUCTURAL_PUNCT


def _too_complex(what: str, token: Token, text: str) -> BadRequest:
    line, column = position(text, token.start)
    return BadRequest(f"SPARQL text too complex: {what}; simplify or split the request",
                      line=line, column=column, limit_nesting=MAX_NESTING,
                      limit_elements=MAX_ELEMENTS)
