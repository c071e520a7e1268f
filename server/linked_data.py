"""Dereferenceable IRIs: ``/id/``, ``/def/`` and ``/graph/`` answer 303 to their documents.

Every IRI the project mints lives under the ``iri_base`` setting
(``https://w3id.org/borderkg/`` by default). This server is reached at ``public_base``
(or whatever host the request came to), which may differ — behind a proxy, or in local
testing — so the mapping is one rule in both directions::

    {iri_base}{path}  <->  {public_base}{path}   --303-->  {public_base}doc/{path}

The document (``/doc/{path}``) is HTML for browsers and Turtle, N-Triples, JSON-LD or
RDF/XML by ``Accept`` or by a ``.ttl``/``.nt``/``.jsonld``/``.rdf`` suffix (``format=``
also works). Its content is ``graph.documents.resources.describe``: outgoing and incoming triples
and the claims about the resource with their sentences. Links on pages point to this
server for project IRIs and to the IRI itself for foreign ones.

Also here: the helpers the other page-rendering blueprints share (negotiation, term
rendering, the layout's context).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import IO, Any, cast
from urllib.parse import quote

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
)
from markupsafe import Markup, escape
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat
from werkzeug.wrappers import Response as WerkzeugResponse

from graph import formats, namespace
from graph.documents import charts, resources
from graph.errors import NotFound
from graph.sparql.results import graph_chunks, pushed, started

from . import negotiation
from .compression import GzipWriter
from .context import public_root, service

bp = Blueprint("linked_data", __name__)

HTML = negotiation.HTML
DOCUMENT_FORMATS = tuple(f for f in formats.GRAPH_FORMATS
                         if f.name in ("turtle", "ntriples", "jsonld", "rdfxml"))
SUFFIXES = {f.extensions[0]: f for f in DOCUMENT_FORMATS} | {"html": None}
#: the project's prefix table (``graph.namespace``): Turtle documents, compact names on
#: pages, and the query page's prologue and prefix autocompletion all use it
PREFIXES = namespace.PREFIXES


# -- shared helpers ------------------------------------------------------------------------
def iri_base() -> str:
    return service().settings.iri_base


def local_path(iri: str) -> str | None:
    """The path of ``iri`` under ``iri_base`` (``id/country/CHN``), or None if foreign."""
    base = iri_base()
    return iri[len(base):] if iri.startswith(base) else None


def local_url(iri: str) -> str:
    """Where a page links for ``iri``: its document here if ours, else the IRI itself."""
    path = local_path(iri)
    return iri if path is None else public_root() + "doc/" + quote(path, safe="/:@-._~!$&'()*+,;=")


def compact(iri: str) -> str:
    """``bkg:Claim`` for an IRI in a known namespace, else the IRI."""
    for prefix, space in PREFIXES.items():
        if iri.startswith(space) and "/" not in iri[len(space):]:
            return f"{prefix}:{iri[len(space):]}"
    return iri


def short_name(iri: str) -> str:
    """Link text for an IRI without a label: ``bkg:Claim``, ``claim/2106d4ced5c114bf`` for
    one of ours (the path says what kind of thing it is), else the IRI itself."""
    prefixed = compact(iri)
    if prefixed != iri:
        return prefixed
    path = local_path(iri)
    return path.removeprefix("id/") if path else iri


def term_html(term: Any, names: dict[str, str] | None = None) -> Markup:
    """One RDF term as HTML: a linked label for IRIs, the value (and language) for literals."""
    if isinstance(term, NamedNode):
        iri = term.value
        text = (names or {}).get(iri) or short_name(iri)
        return Markup('<a href="{}" title="{}">{}</a>').format(local_url(iri), iri, text)
    if isinstance(term, BlankNode):
        return Markup("<span class=bnode>_:{}</span>").format(term.value)
    if isinstance(term, Literal):
        extra = term.language or compact(term.datatype.value).removeprefix("xsd:")
        shown = "" if extra in ("string",) else extra
        return Markup('{}<span class="dt">{}</span>').format(term.value, f" @{shown}" if
                                                             term.language else
                                                             (f" ({shown})" if shown else ""))
    return escape(str(term))


def negotiate(offers: Sequence[str], fmt: str | None = None,
              aliases: dict[str, str] | None = None) -> str:
    """The media type to answer with: ``format=`` (a name or media type) wins over Accept.

    ``server.negotiation`` reads the Accept header, as for every other route: without one
    the first offer is used; with one that matches none of the offers, 406.
    """
    return negotiation.negotiate_media(offers, request.headers.get("Accept"), fmt, aliases)


def has_route(path: str) -> bool:
    """Whether the app serves ``path`` (other blueprints register theirs independently)."""
    return any(rule.rule == path for rule in current_app.url_map.iter_rules())


@bp.app_context_processor
def _layout_context() -> dict[str, Any]:
    return {"nav_links": [(label, path) for label, path in (
        ("Named queries", "/queries"), ("Search", "/search"), ("SPARQL", "/sparql"),
        ("Ontology", "/doc/def"), ("API", "/api"), ("Reconciliation", "/reconciliation"))
        if has_route(path) or path == "/doc/def"]}


# -- IRIs answer 303 -----------------------------------------------------------------------
def _see_other(path: str) -> WerkzeugResponse:
    response = redirect(public_root() + "doc/" + quote(path, safe="/:@-._~!$&'()*+,;="), 303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/id/<path:rest>")
def thing(rest: str) -> WerkzeugResponse:
    """A thing's IRI: 303 See Other to the document describing it."""
    return _see_other("id/" + rest)


@bp.get("/def")
@bp.get("/def/<path:rest>")
def term(rest: str | None = None) -> WerkzeugResponse:
    """The ontology and its terms: 303 to their documents."""
    return _see_other("def" + (f"/{rest}" if rest else ""))


@bp.get("/graph/<path:rest>")
def named_graph(rest: str) -> WerkzeugResponse:
    """A named graph's IRI: 303 to the document describing the graph."""
    return _see_other("graph/" + rest)


# -- documents -----------------------------------------------------------------------------
def _split_suffix(path: str) -> tuple[str, str | None]:
    stem, dot, ext = path.rpartition(".")
    if dot and ext in SUFFIXES and "/" not in ext:
        return stem, ext
    return path, None


@bp.get("/doc/<path:rest>")
def document(rest: str) -> Any:
    """The document of ``{iri_base}{rest}``: HTML or RDF, negotiated."""
    path, suffix = _split_suffix(rest)
    iri = iri_base() + path
    try:
        NamedNode(iri)
    except ValueError:
        raise NotFound(f"{iri!r} is not a valid IRI, so nothing is known about it") from None
    store = service().store
    description = resources.describe(store, iri)
    is_graph = path.startswith("graph/") and store.contains_graph(iri)
    if description.is_empty() and not is_graph:
        raise NotFound(f"nothing is known about {iri}", iri=iri)
    if suffix:
        fmt = SUFFIXES[suffix]
        media = fmt.media_type if fmt is not None else HTML
    else:
        fmt, media = document_format(request.args.get("format"))
    tag = f"{store.etag}-{_variant(fmt, media)}"
    etag = f'"{tag}"'
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers={"ETag": etag, "Vary": "Accept"})
    if fmt is None:
        response = Response(_page(store, description, is_graph), mimetype=HTML)
    else:
        body = graph_chunks(description.triples(), cast(RdfFormat, fmt.engine),
                            namespace.prefixes())
        response = Response(body, content_type=negotiation.content_type(media))
    response.headers["Vary"] = "Accept"
    response.headers["ETag"] = etag
    response.headers["Link"] = ", ".join(
        f'<{public_root()}doc/{path}.{ext}>; rel="alternate"; type="{f.media_type}"'
        for ext, f in SUFFIXES.items() if f is not None)
    return response


def document_format(format_param: str | None) -> tuple[formats.Format | None, str]:
    """The format (None for the HTML page) and media type a document is answered in.

    The negotiator of ``/sparql`` over the document formats, every alias included, and
    the page: the same Accept gets the same syntax from both (``text/plain, */*``, what
    rdflib sends for N-Triples, is N-Triples; ``text/n3`` is Turtle; parameters such as
    ``charset`` do not stop a match), and a browser's Accept, or none, gets the page.
    """
    return negotiation.negotiate_page(DOCUMENT_FORMATS, request.headers.get("Accept"),
                                      format_param, HTML, page_first=True)


def _variant(fmt: formats.Format | None, media: str) -> str:
    """The ETag's suffix: one per body and Content-Type the document is sent with."""
    if fmt is None:
        return "html"
    return fmt.name if media == fmt.media_type else f"{fmt.name}-{media.rsplit('/', 1)[-1]}"


def _group(triples: Iterable[Any], key: str) -> list[tuple[str, list[Any]]]:
    grouped: dict[str, list[Any]] = {}
    for triple in triples:
        value = triple.object if key == "object" else triple.subject
        grouped.setdefault(triple.predicate.value, []).append(value)
    return sorted(grouped.items(), key=lambda item: compact(item[0]))


def by_sentence(claims: Sequence[resources.ClaimSource]) -> list[dict[str, Any]]:
    """The claims grouped under the sentence stating them, each sentence once, in the
    order of the text; claims without a sentence come last, in a group without one.

    One sentence usually states many claims about a thing (the flight page's twelve come
    from its first sentence): quoting it under each claim repeated it twelve times.
    """
    groups: dict[str | None, dict[str, Any]] = {}
    for claim in claims:
        stated: list[dict[str, Any] | None] = list(claim.sentences) or [None]
        for sentence in stated:
            key = sentence["iri"] if sentence else None
            groups.setdefault(key, {"sentence": sentence, "claims": []})["claims"].append(claim)

    def order(group: dict[str, Any]) -> tuple[int, Any, str]:
        sentence = group["sentence"]
        if sentence is None:
            return (2, 0, "")
        number = sentence.get("number")
        return (0, number, sentence["iri"]) if number is not None else (1, 0, sentence["iri"])

    return sorted(groups.values(), key=order)


def _without_claim_links(incoming: Iterable[Any],
                         claims: Sequence[resources.ClaimSource]) -> list[Any]:
    """Incoming triples less the claims' ``rdf:subject``/``rdf:object``, which the page
    shows as the claims themselves (a list of claim hashes says nothing)."""
    ids = {c.claim for c in claims}
    reified = {resources.RDF + "subject", resources.RDF + "object"}
    return [t for t in incoming
            if not (t.subject.value in ids and t.predicate.value in reified)]


def _title(iri: str, description: resources.Description, names: dict[str, str]) -> str:
    """The page's heading: the label, else for a claim what it claims, else a short name."""
    if iri in names:
        return names[iri]
    title = next((getattr(t.object, "value", None) for t in description.outgoing
                  if t.predicate.value == resources.DCTERMS + "title"), None)
    if title:
        return str(title)
    if namespace.bkg.Claim in description.types:
        parts = {t.predicate.value: t.object for t in description.outgoing}
        terms = [parts.get(resources.RDF + p) for p in ("subject", "predicate", "object")]
        if all(terms):
            return "Claim: " + " · ".join(_plain(t, names) for t in terms)
    return short_name(iri)


def _plain(term: Any, names: dict[str, str]) -> str:
    if isinstance(term, NamedNode):
        return names.get(term.value) or short_name(term.value)
    return str(getattr(term, "value", term))


VANN_NAMESPACE = "http://purl.org/vocab/vann/preferredNamespaceUri"


def _vocabulary(store: Any, description: resources.Description) -> list[resources.Term]:
    """For an ontology's document, the classes and properties under its namespace."""
    if resources.OWL + "Ontology" not in description.types:
        return []
    namespace = next((getattr(t.object, "value", None) for t in description.outgoing
                      if t.predicate.value == VANN_NAMESPACE), None) or description.iri + "/"
    return resources.vocabulary(store, str(namespace))


def _page(store: Any, description: resources.Description, is_graph: bool) -> str:
    iri = description.iri
    shown = {iri, *description.types}
    for t in (*description.outgoing, *description.incoming):
        shown.update(x.value for x in (t.subject, t.predicate, t.object)
                     if isinstance(x, NamedNode))
    for claim in description.claims:
        shown.update(x.value for x in (claim.subject, claim.object) if isinstance(x, NamedNode))
        shown.add(claim.predicate)
    names = resources.labels(store, shown)
    outgoing = [t for t in description.outgoing if t.predicate.value != resources.RDF + "type"]
    incoming = _without_claim_links(description.incoming, description.claims)
    charts_svg = [Markup(charts.line_chart(s.points, s.title) if s.kind == "line"
                         else charts.bar_chart(s.points, s.title))
                  for s in resources.series(store, iri)]
    neighbours = (f"/analyses/neighbours.svg?entity={quote(iri, safe='')}&max_nodes=40"
                  if has_route("/analyses/neighbours.svg") and not is_graph else None)
    comment = next((getattr(t.object, "value", "") for t in description.outgoing
                    if t.predicate.value in (resources.RDFS + "comment",
                                             resources.DCTERMS + "description")), None)
    return render_template(
        "resource.html", iri=iri, label=_title(iri, description, names), names=names,
        comment=comment, types=description.types, outgoing=_group(outgoing, "object"),
        incoming=_group(incoming, "subject"),
        truncated=description.incoming_truncated, claim_groups=by_sentence(description.claims),
        facts=resources.term_facts(store, description), charts=charts_svg,
        neighbours=neighbours, graph_size=store.count(iri) if is_graph else None,
        vocabulary=_vocabulary(store, description),
        graph_store=has_route("/graph-store"), term=term_html, local_url=local_url,
        namenode=NamedNode,
        compact=compact, alternates=[(f.name, ext) for ext, f in SUFFIXES.items() if f],
        doc_path=public_root() + "doc/" + (local_path(iri) or ""))


# -- dataset-level documents ---------------------------------------------------------------
@bp.get("/.well-known/void")
def void() -> Response:
    """The VoID description (Turtle by default; any document format by Accept/format=)."""
    from graph.documents.description import void_description

    svc = service()
    fmt, media = negotiation.negotiate(DOCUMENT_FORMATS, request.headers.get("Accept"),
                                       request.args.get("format"))
    triples = void_description(svc.store, public_root(), iri_base(), cache=svc.caches.descriptions)
    return Response(graph_chunks(triples, cast(RdfFormat, fmt.engine), namespace.prefixes()),
                    content_type=negotiation.content_type(media),
                    headers={"Vary": "Accept"})


#: what ``/dump.nq.gz`` offers: the gzip file first, so ``*/*`` (browsers, curl, wget)
#: gets the file its name promises; N-Quads for RDF clients that ask for it, compressed
#: as a content coding by ``server.compression`` when they accept gzip
GZIP_FILE = "application/gzip"
NQUADS = "application/n-quads"
DUMP_TYPES = (GZIP_FILE, NQUADS)


def _dump_nquads(store: Any, output: IO[bytes]) -> None:
    store.dump(output, RdfFormat.N_QUADS)


def _dump_gzip(store: Any, output: IO[bytes]) -> None:
    """Write the whole dataset to ``output`` as one gzip member of N-Quads."""
    compressed = GzipWriter(output)
    store.dump(compressed, RdfFormat.N_QUADS)
    compressed.close()


@bp.get("/dump.nq.gz")
def dump() -> Response:
    """Every quad of the store, streamed: the gzip file, or N-Quads to RDF clients.

    ``Accept: application/n-quads`` (preferred over ``application/gzip``) answers
    ``application/n-quads``, gzipped as ``Content-Encoding`` when Accept-Encoding allows,
    which Jena, Comunica and rdflib read as they are; anything else gets the
    ``application/gzip`` file (an Accept that names neither is not refused: the file is
    this resource's own form). The store writes its quads on a thread of its own
    (``graph.sparql.results.pushed``), as fast as the client reads them. Always streamed (no
    Content-Length), so that a HEAD, which starts no dump, has the headers of the GET.
    """
    store = service().store
    media = negotiation.choose(DUMP_TYPES, request.headers.get("Accept")) or GZIP_FILE
    tag = f"{store.etag}-{'gz' if media == GZIP_FILE else 'nq'}"
    headers = {"ETag": f'"{tag}"', "Vary": "Accept"}
    if request.if_none_match.contains_weak(tag):
        return Response(status=304, headers=headers)
    if media == GZIP_FILE:
        headers["Content-Disposition"] = 'attachment; filename="borderkg.nq.gz"'
        headers["X-Content-Media-Type"] = NQUADS
    else:
        headers["Content-Disposition"] = 'inline; filename="borderkg.nq"'
    if request.method == "HEAD":  # the headers of the GET, without starting the dump
        return Response(iter(()), mimetype=media, headers=headers)
    write = _dump_gzip if media == GZIP_FILE else _dump_nquads
    chunks = pushed(lambda output: write(store, output), "borderkg-dump")
    return Response(started(chunks), mimetype=media, headers=headers)
