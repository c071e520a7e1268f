"""Which engine a remote SPARQL endpoint is, and the dataset parameters each one needs.

The SPARQL 1.1 Protocol has one way to choose a query's dataset: ``default-graph-uri``
and ``named-graph-uri``. Naming *any* of them replaces the whole dataset, so a request
that lists the graphs of the default graph but no named graph leaves ``GRAPH ?g`` with
nothing to match. What an engine does when *no* parameter is sent differs, and that is
what this module settles:

* **Oxigraph server** keeps a separate default graph and offers its own
  ``union-default-graph`` parameter (which may not be combined with the protocol's).
* **Virtuoso**'s default graph is always the union of all graphs; it has no separate
  default graph.
* **Any other engine** (Fuseki, GraphDB, QLever, another BorderKG...) is ``generic``. Its
  Service Description says whether its default graph is already the union
  (``sd:feature sd:UnionDefaultGraph``, as BorderKG and Virtuoso declare); if so, sending
  nothing is the union. Otherwise the union is emulated by naming every named graph both
  as a default graph and as a named graph.

The engine is recognised from the ``Server`` header's product tokens (``Oxigraph/0.5``,
``Virtuoso/07.20``), never from a substring anywhere in it: BorderKG embeds Oxigraph but
is not ``oxigraph serve`` (its ``Server`` is the HTTP server's, e.g. ``granian``), and it
must not get a parameter only ``oxigraph serve`` understands.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from pyoxigraph import NamedNode, RdfFormat, parse

from graph.errors import BadParameter, BadRequest

from .upload_safety import check_upload

#: an IRI that names no graph: the "default graph only" of an engine without one
EMPTY_DEFAULT = "urn:x-borderkg:no-default-graph"
SD = "http://www.w3.org/ns/sparql-service-description#"
#: what a Service Description may be sent as, most preferred first
DESCRIPTION_ACCEPT = "text/turtle, application/n-triples;q=0.9, application/rdf+xml;q=0.8"
_DESCRIPTION_FORMATS = {"text/turtle": RdfFormat.TURTLE,
                        "application/n-triples": RdfFormat.N_TRIPLES,
                        "application/rdf+xml": RdfFormat.RDF_XML}
#: product tokens of the engines with a dialect of their own
_PRODUCTS = {"oxigraph": "oxigraph", "virtuoso": "virtuoso"}
_PRODUCT = re.compile(r"([A-Za-z][\w.-]*)(?:/\S*)?")

Params = list[tuple[str, str]]
Graphs = Callable[[], Sequence[str]]


@dataclass(frozen=True)
class Engine:
    """What a remote endpoint is: its dialect and whether its default graph is the union."""

    dialect: str  # "oxigraph", "virtuoso" or "generic"
    union_by_default: bool


def dialect_of(server_header: str) -> str:
    """``oxigraph`` or ``virtuoso`` when a product token of ``Server`` names that engine,
    else ``generic``.

    >>> dialect_of("Oxigraph/0.5.13"), dialect_of("Virtuoso/07.20.3229 (Linux) x86_64")
    ('oxigraph', 'virtuoso')
    >>> dialect_of("granian"), dialect_of("BorderKG (built on oxigraph)"), dialect_of("")
    ('generic', 'generic', 'generic')
    """
    without_comments = re.sub(r"\([^)]*\)", " ", server_header)
    for token in without_comments.split():
        match = _PRODUCT.fullmatch(token)
        if match and match.group(1).lower() in _PRODUCTS:
            return _PRODUCTS[match.group(1).lower()]
    return "generic"


def declares_union_default(body: bytes, content_type: str) -> bool:
    """Whether a Service Description states ``sd:feature sd:UnionDefaultGraph``.

    Anything that is not a readable description (an HTML page, an error, an unknown
    format) declares nothing, so the engine is taken to keep a default graph of its own.
    RDF/XML from the endpoint first passes the checks an uploaded document does: the
    engine's RDF/XML parser expands internal entities and recurses on nesting, so a
    description with a DOCTYPE or nested without bound declares nothing either.
    """
    fmt = _DESCRIPTION_FORMATS.get(content_type.split(";")[0].strip().lower())
    if fmt is None:
        return False
    try:
        check_upload(body, fmt)
    except BadRequest:
        return False
    feature, union = NamedNode(SD + "feature"), NamedNode(SD + "UnionDefaultGraph")
    try:
        return any(t.predicate == feature and t.object == union for t in parse(body, fmt))
    except (SyntaxError, ValueError):
        return False


def engine_of(dialect: str, description: tuple[bytes, str] | None) -> Engine:
    """The ``Engine`` for ``dialect``; a generic one reads its Service Description."""
    if dialect == "oxigraph":
        return Engine(dialect, union_by_default=False)
    if dialect == "virtuoso":
        return Engine(dialect, union_by_default=True)
    union = description is not None and declares_union_default(*description)
    return Engine("generic", union_by_default=union)


def dataset_params(engine: Engine, *, union: bool, default_graphs: Sequence[str] | None,
                   named_graphs: Sequence[str] | None, clauses: AbstractSet[str],
                   graphs: Graphs) -> Params:
    """The protocol parameters that give a query the dataset the embedded store would.

    ``default_graphs``/``named_graphs`` are the caller's explicit dataset (``None``: not
    given); ``clauses`` are the query's own ``FROM``/``FROM NAMED`` keywords, which then
    define the dataset alone. ``graphs`` lists the store's named graphs, called only when
    needed (it costs a round trip).
    """
    if default_graphs is None and named_graphs is None:
        if clauses:
            return own_dataset(engine, clauses)
        return implicit_dataset(engine, union, graphs)
    if default_graphs is not None and "" in default_graphs:
        raise BadParameter("a remote store cannot name its default graph in "
                           "default-graph-uri; name graphs by IRI")
    defaults = (_defaults(default_graphs) if default_graphs is not None
                else _replaced_default(engine, union, graphs))
    # as in the embedded store, naming only the default graphs keeps every named graph
    named = named_graphs if named_graphs is not None else graphs()
    return defaults + _named(named)


def own_dataset(engine: Engine, clauses: AbstractSet[str]) -> Params:
    """Nothing for a query with its own FROM/FROM NAMED, except on Virtuoso: there a query
    with FROM but no FROM NAMED still reaches every graph with GRAPH ?g, and naming a
    graph that does not exist as the only named graph gives SPARQL's empty set."""
    if engine.dialect == "virtuoso" and "FROM NAMED" not in clauses:
        return _named([EMPTY_DEFAULT])
    return []


def implicit_dataset(engine: Engine, union: bool, graphs: Graphs) -> Params:
    """The parameters for a query without FROM and without an explicit dataset."""
    if engine.dialect == "oxigraph":
        return [("union-default-graph", "")] if union else []
    if engine.union_by_default:
        if union:
            # the engine's own default dataset already is the union (Virtuoso's includes
            # its system graph, see docs/backends.md)
            return []
        # an empty default graph, every graph still reachable with GRAPH: such engines
        # offer no way to name a default graph of their own
        empty = _defaults([EMPTY_DEFAULT]) if engine.dialect == "virtuoso" else []
        return empty + _named(graphs())
    if not union:
        return []
    named = graphs()
    return _defaults(named) + _named(named)


def _replaced_default(engine: Engine, union: bool, graphs: Graphs) -> Params:
    """The default graph when the caller names only the named graphs (the dataset is then
    replaced, so the union has to be spelt out, and ``union-default-graph`` may not be
    combined with ``named-graph-uri``)."""
    if union:
        return _defaults(graphs())
    return _defaults([EMPTY_DEFAULT]) if engine.dialect == "virtuoso" else []


def _defaults(graphs: Sequence[str]) -> Params:
    return [("default-graph-uri", g) for g in graphs]


def _named(graphs: Sequence[str]) -> Params:
    return [("named-graph-uri", g) for g in graphs]
