"""Running the named-query library (``queries/``) with typed, bound parameters.

A parameter's value arrives as text (a URL query string, a CLI option, a notebook call);
it is checked against the type the query's header declares and turned into an RDF term,
which is then *bound* to the query variable through the store's ``substitutions`` — the
query text is never edited with values, so a value cannot change what the query means.
The only text added is paging (``LIMIT``/``OFFSET``, integers we produced ourselves),
which is why library queries must not carry their own.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from pyoxigraph import Literal, NamedNode, Variable

from graph.caching import EtagCache
from graph.errors import BadParameter, NotFound
from graph.store.base import QueryResult, Store
from queries import NamedQuery, Param, load_query

if TYPE_CHECKING:  # the index module loads numpy: imported when a query first needs it
    from .cube_index import CubeIndex

__all__ = ["DEFAULT_LIMIT", "bind_params", "get_query", "paged_text", "prepare", "run_named",
           "to_term"]

XSD = "http://www.w3.org/2001/XMLSchema#"
DEFAULT_LIMIT = 100
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_GYEAR = re.compile(r"^-?\d{4,}$")


def get_query(name: str) -> NamedQuery:
    """The named query ``name`` or a 404 naming it."""
    try:
        return load_query(name)
    except KeyError:
        raise NotFound(f"no named query {name!r}; GET /queries lists them", query=name) from None


def _iri(text: str) -> Any:
    value = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    if not _IRI.match(value):
        raise ValueError("expected an absolute IRI such as https://w3id.org/borderkg/id/...")
    return NamedNode(value)


def _typed(datatype: str, check: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        return Literal(str(check(text.strip())), datatype=NamedNode(XSD + datatype))
    return convert


def _integer(text: str) -> int:
    if not _INTEGER.match(text):
        raise ValueError("expected an integer")
    return int(text)


def _decimal(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError("expected a decimal number such as 12.5") from None
    if not value.is_finite() or "e" in text.lower():
        raise ValueError("expected a decimal number such as 12.5")
    return text


def _date(text: str) -> str:
    if len(text) != 10:
        raise ValueError("expected a date YYYY-MM-DD")
    return date.fromisoformat(text).isoformat()


def _gyear(text: str) -> str:
    if not _GYEAR.match(text):
        raise ValueError("expected a year YYYY")
    return text


def _boolean(text: str) -> str:
    lowered = text.lower()
    if lowered not in ("true", "false", "1", "0"):
        raise ValueError("expected true or false")
    return "true" if lowered in ("true", "1") else "false"


CONVERTERS: dict[str, Callable[[str], Any]] = {
    "iri": _iri,
    "string": lambda text: Literal(text),
    "integer": _typed("integer", _integer),
    "decimal": _typed("decimal", _decimal),
    "date": _typed("date", _date),
    "gYear": _typed("gYear", _gyear),
    "boolean": _typed("boolean", _boolean),
}


def to_term(param: Param, text: str) -> Any:
    """The RDF term for ``text`` as a value of ``param``; 400 naming the parameter if not."""
    try:
        return CONVERTERS[param.type](text)
    except ValueError as exc:
        message = str(exc) if param.type != "date" else "expected a date YYYY-MM-DD"
        raise BadParameter(f"parameter {param.name!r} ({param.type}): {message}; got {text!r}",
                           parameter=param.name) from None


def bind_params(query: NamedQuery, values: Mapping[str, str]) -> dict[Variable, Any]:
    """Substitutions for ``query`` from raw ``values``: defaults applied, types checked.

    Unknown names are refused so a misspelt parameter cannot silently be ignored.
    """
    unknown = sorted(set(values) - {p.name for p in query.params})
    if unknown:
        known = ", ".join(p.name for p in query.params) or "none"
        raise BadParameter(f"unknown parameter {unknown[0]!r} for query {query.name!r} "
                           f"(parameters: {known})", parameter=unknown[0])
    bound: dict[Variable, Any] = {}
    for param in query.params:
        text = values.get(param.name, param.default)
        if text is None or (text == "" and param.type != "string"):
            if param.required:
                raise BadParameter(f"parameter {param.name!r} ({param.type}) is required",
                                   parameter=param.name)
            continue
        bound[Variable(param.name)] = to_term(param, text)
    return bound


def check_paging(limit: int | None, offset: int | None, max_rows: int) -> tuple[int, int]:
    """Limit and offset as validated integers (400 naming the bad one)."""
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= max_rows:
        raise BadParameter(f"limit must be between 1 and {max_rows}", parameter="limit")
    if offset < 0:
        raise BadParameter("offset must not be negative", parameter="offset")
    return limit, offset


def paged_text(query: NamedQuery, limit: int, offset: int) -> str:
    """The query text with paging appended (the library's queries have none of their own)."""
    text = query.text.rstrip()
    return f"{text}\nLIMIT {int(limit)}" + (f" OFFSET {int(offset)}" if offset else "") + "\n"


def prepare(name: str, values: Mapping[str, str], limit: int | None = None,
            offset: int | None = None,
            max_rows: int = 100_000) -> tuple[NamedQuery, str, dict[Variable, Any]]:
    """The query, its paged text and its substitutions, everything checked."""
    query = get_query(name)
    substitutions = bind_params(query, values)
    limit, offset = check_paging(limit, offset, max_rows)
    return query, paged_text(query, limit, offset), substitutions


def run_named(store: Store, name: str, params: Mapping[str, str] | None = None,
              limit: int | None = None, offset: int | None = None,
              cache: EtagCache[CubeIndex] | None = None) -> QueryResult:
    """Evaluate the named query ``name`` on ``store`` with ``params`` bound; ``cache``
    keeps the observations' index between calls (``graph.sparql.cube_index.index_for``).

    >>> from graph.store.oxigraph import OxigraphStore
    >>> [row["triples"].value for row in run_named(OxigraphStore(None), "graphs-overview")]
    []
    """
    query, text, substitutions = prepare(name, params or {}, limit, offset)
    # the Data Cube queries are answered from the observations' columnar index when it
    # can give exactly the SPARQL answer (graph.sparql.cube_index); otherwise SPARQL runs
    from .cube_index import answer

    paging = check_paging(limit, offset, 100_000)
    fast = answer(store, query, substitutions, *paging, cache=cache)
    if fast is not None:
        return fast
    return store.query(text, substitutions=substitutions)
