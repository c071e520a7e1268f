"""Query-safety policy: what a SPARQL request may touch, decided before the engine runs.

Oxigraph evaluates ``SERVICE`` with its own HTTP client, inside Rust, where no Python
hook can see it (FACTS.md); remote backends may dereference ``FROM`` or ``LOAD`` IRIs.
So the policy is a static check of the request text, failing closed:

* ``SERVICE``: refused unless the target is an ``http``/``https`` IRI whose host is, by
  exact (case-insensitive) match, in the ``allowed_service_hosts`` setting. The list is
  empty by default, so SERVICE is refused by default. A variable (``SERVICE ?x``) or an
  unresolvable name is always refused; IRIs with user information (``http://a@b/``) are
  refused because hosts and user names are easily confused by eye. Loopback and private
  addresses get no special treatment: they are refused like any host unless an operator
  lists that exact host, which is then the operator's explicit decision.
* ``LOAD``: always refused. BorderKG never fetches data on a client's behalf; bulk data
  goes through the Graph Store protocol or ``borderkg load``. (A future allow-list could
  open it; none exists today.)
* ``FROM``/``FROM NAMED``/``USING``/``USING NAMED``/``WITH`` and the protocol's
  ``default-graph-uri``/``named-graph-uri``: allowed only for graphs that exist in the
  store. Any other IRI (``file:``, ``http:`` elsewhere) is refused with 403, because a
  dataset clause is where engines fetch from. ``WITH`` may also name a not-yet-existing
  graph under the project's own ``iri_base`` — that is how an update creates a graph.
* Shape limits (400): Oxigraph's parser and optimiser recurse, and crash the whole
  process (a segmentation fault, not an exception) on roughly 3,000 nested groups or
  10,000 patterns/operators. ``check_shape`` refuses texts deeper than ``MAX_NESTING``
  brackets or with more than ``MAX_ELEMENTS`` pattern and operator tokens (``VALUES`` and
  ``INSERT DATA``/``DELETE DATA`` blocks are not counted: they are flat lists).

All checks work on ``graph.sparql_text.analyse`` output and are cached per text, so a
repeated query costs a dictionary lookup.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from .errors import BadRequest, Forbidden, PayloadTooLarge
from .sparql_text import Kind, SparqlText, Token, analyse, tokens, unescape_codepoints

#: deepest bracket nesting accepted ({ ( [); the engine crashed at ~3,000
MAX_NESTING = 100
#: most pattern/operator tokens accepted; the engine crashed at ~10,000
MAX_ELEMENTS = 2_000

_STRUCTURAL_PUNCT = set("{.;|&+-*/!^=<>")
_STRUCTURAL_WORDS = {"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE",
                     "EXISTS"}
_OPEN, _CLOSE = "{([", "})]"


def admit(text: str, kind: Kind, settings: Any, store: Any, *,
          base_iri: str | None = None,
          dataset_params: Mapping[str, Sequence[str]] | None = None) -> SparqlText:
    """The one policy decision for a client's SPARQL text: what it is, if it may run.

    Every entry point (``/sparql``, ``borderkg query``, named queries given as text) asks
    this function and only this one. ``base_iri`` is the base the engine will be given, so
    relative IRIs are resolved as the engine resolves them. ``dataset_params`` are the
    protocol's ``default-graph-uri``/``named-graph-uri``/``using-*`` parameters.
    Raises ``PayloadTooLarge`` (413), ``BadRequest`` (400) or ``Forbidden`` (403).
    """
    limit = int(settings.get("max_query_bytes") or 0)
    if limit and len(text) > limit // 4 and len(text.encode("utf-8")) > limit:
        raise PayloadTooLarge(f"the {kind} text is over the max_query_bytes limit of "
                              f"{limit:,} bytes; send bulk data through the Graph Store "
                              "protocol", limit_bytes=limit)
    info = analyse(text, kind, base_iri)
    check = check_query if kind == "query" else check_update
    check(info, settings, store, text)
    for name, iris in (dataset_params or {}).items():
        check_graph_iris(name, iris, settings, store)
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
    if info.loads:
        raise Forbidden(f"LOAD <{info.loads[0]}> refused: BorderKG never fetches data on a "
                        "request's behalf; upload RDF with the Graph Store protocol instead",
                        iri=info.loads[0])
    refusal = _service_refusal(info.services, tuple(_hosts(settings)))
    if refusal:
        raise Forbidden(refusal, setting="allowed_service_hosts")
    for keyword, iri in info.dataset:
        _check_dataset_iri(keyword, iri, settings, store)


def check_graph_iris(parameter: str, iris: Iterable[str], settings: Any, store: Any) -> None:
    """The protocol's dataset parameters (``default-graph-uri``, ``named-graph-uri``,
    ``using-graph-uri``, ``using-named-graph-uri``) follow the same rule as ``FROM``."""
    for iri in iris:
        _check_dataset_iri(parameter, iri, settings, store)


def _hosts(settings: Any) -> list[str]:
    return [h.strip().lower() for h in (settings.get("allowed_service_hosts") or []) if h.strip()]


def _check_dataset_iri(keyword: str, iri: str, settings: Any, store: Any) -> None:
    if iri and store.contains_graph(iri):
        return
    base = settings.get("iri_base") or ""
    if keyword == "WITH" and base and iri.startswith(base) and "://" in base:
        return  # an update creating one of the project's own graphs
    shown = f"<{iri}>" if iri else "a variable or undeclared prefix"
    raise Forbidden(f"{keyword} {shown} refused: it is not a graph in this store, and "
                    "BorderKG never fetches data from elsewhere (file:, http:, ...)",
                    iri=iri or None)


@lru_cache(maxsize=4096)
def _service_refusal(services: tuple[str | None, ...], allowed: tuple[str, ...]) -> str | None:
    """Why the first disallowed SERVICE target is refused, or None when all are allowed."""
    for target in services:
        if target is None:
            return "SERVICE with a variable endpoint is refused: endpoints must be fixed IRIs"
        problem = _endpoint_problem(target, allowed)
        if problem:
            return f"SERVICE <{target}> refused: {problem}"
    return None


def _endpoint_problem(target: str, allowed: tuple[str, ...]) -> str | None:
    try:
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
    except ValueError:
        return "not a valid IRI"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https endpoints can be allowed"
    if "@" in parts.netloc:
        return "endpoints with user information are never allowed"
    if not allowed:
        return "SERVICE is disabled (the allowed_service_hosts setting is empty)"
    if host not in allowed:
        return f"host {host or '(none)'!r} is not in allowed_service_hosts"
    return None


@lru_cache(maxsize=4096)
def check_shape(text: str) -> None:
    """Raise ``BadRequest`` when ``text`` would overrun the engine's recursion.

    Cached: a text that passed once passes again for free (a failure raises, and
    ``lru_cache`` does not cache exceptions, which only costs the lexer again).
    """
    depth = elements = 0
    stack: list[str] = []
    skip_depth: int | None = None  # stack size at which a VALUES/DATA block opened
    pending_skip = False
    previous = ""
    source = unescape_codepoints(text)
    for token in tokens(source):
        if token.kind == "punct" and token.text in _OPEN:
            stack.append(token.text)
            depth = max(depth, len(stack))
            if depth > MAX_NESTING:
                raise _too_complex(f"brackets nested deeper than {MAX_NESTING}", token, source)
            if pending_skip and token.text == "{" and skip_depth is None:
                skip_depth, pending_skip = len(stack), False
            continue
        if token.kind == "punct" and token.text in _CLOSE:
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
                                   token, source)


def _is_structural(token: Token, stack: list[str]) -> bool:
    if token.kind == "word":
        return token.upper in _STRUCTURAL_WORDS
    if token.kind != "punct":
        return False
    if token.text == ",":
        return bool(stack) and stack[-1] != "("  # object lists, not function arguments
    return token.text in _STRUCTURAL_PUNCT


def _too_complex(what: str, token: Token, text: str) -> BadRequest:
    line = text.count("\n", 0, token.start) + 1
    column = token.start - text.rfind("\n", 0, token.start)
    return BadRequest(f"SPARQL text too complex: {what}; simplify or split the request",
                      line=line, column=column, limit_nesting=MAX_NESTING,
                      limit_elements=MAX_ELEMENTS)
