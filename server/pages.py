"""The human face of the endpoint: ``/`` and the SPARQL query page.

Browsers asking ``/sparql`` for ``text/html`` (and ``/``) get YASGUI (``static/yasgui/``,
served from here so the page works offline): tabs, history, share links, paged result
tables and the raw response, with the project's prefix table as the prologue and for
prefix autocompletion, and example queries over the seed graph. The page talks to this
app's own ``/sparql`` with the SPARQL protocol; the address comes from the request (or
``public_base``), never from a constant.
"""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template

from graph import namespace

from .context import endpoint_url, service

bp = Blueprint("pages", __name__)

#: shown on every page while the seed lacks the article's sentences
ARTICLE_NOTICE = (
    "The founding article's file was not found when this graph was built: the article's "
    "claims are served without the sentences that state them. Start the service with "
    "--article naming the file (setting article, BORDERKG_ARTICLE) to add them.")

#: (title, description, query without its prologue) over the seed graph
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("Agencies and hierarchy", "Every government agency with the organisation it is part of.",
     """SELECT ?agency ?label ?parent ?parentLabel
WHERE {
  ?agency a bkg:GovernmentAgency ;
          rdfs:label ?label .
  OPTIONAL {
    ?agency org:subOrganizationOf ?parent .
    OPTIONAL { ?parent rdfs:label ?parentLabel }
  }
}
ORDER BY ?label"""),
    ("Claims with source sentences", "What the article claims, with the sentence stating it.",
     """SELECT ?sentenceNumber ?subject ?predicate ?object ?text
WHERE {
  ?claim a bkg:Claim ;
         rdf:subject ?subject ;
         rdf:predicate ?predicate ;
         rdf:object ?object ;
         prov:wasDerivedFrom ?sentence .
  ?sentence bkg:text ?text .
  OPTIONAL { ?sentence bkg:sentenceNumber ?sentenceNumber }
}
ORDER BY ?sentenceNumber ?claim
LIMIT 100"""),
    ("Removal flights", "Removal operations and flights: destination, agencies, ordinal.",
     """SELECT DISTINCT ?flight ?label ?ordinal ?destination ?conductedBy ?assistedBy
WHERE {
  { ?flight a bkg:RemovalFlight } UNION { ?flight a bkg:RemovalOperation }
  ?flight bkg:destination ?destination .
  OPTIONAL { ?flight rdfs:label ?label }
  OPTIONAL { ?flight bkg:ordinal ?ordinal }
  OPTIONAL { ?flight bkg:conductedBy ?conductedBy }
  OPTIONAL { ?flight bkg:assistedBy ?assistedBy }
}
ORDER BY ?ordinal ?flight"""),
    ("Named graphs", "The named graphs of the store and their sizes.",
     """SELECT ?graph (COUNT(*) AS ?triples)
WHERE { GRAPH ?graph { ?s ?p ?o } }
GROUP BY ?graph
ORDER BY DESC(?triples)"""),
    ("Describe ICE (graph)", "A CONSTRUCT: everything said about ICE, as Turtle.",
     """CONSTRUCT { <https://w3id.org/borderkg/id/org/ice> ?p ?o }
WHERE { <https://w3id.org/borderkg/id/org/ice> ?p ?o }"""),
)


def prologue() -> str:
    """The PREFIX lines of the project's prefix table, which example queries start with."""
    return namespace.prologue()


def page_data(endpoint: str, iri_base: str) -> str:
    """What ``static/query.js`` needs, as JSON safe inside a ``<script>`` element."""
    examples = [{"title": t, "description": d, "query": q} for t, d, q in EXAMPLES]
    data = {"endpoint": endpoint, "iriBase": iri_base, "prefixes": namespace.prefixes(),
            "prologue": prologue(), "examples": examples}
    # "</" is escaped so no string can close the element
    return json.dumps(data).replace("</", "<\\/")


def query_page() -> Response:
    """The query page (also what ``/sparql`` gives a browser)."""
    endpoint = endpoint_url()
    html = render_template("query.html", endpoint=endpoint, prefixes=prologue(),
                           page_data=page_data(endpoint, service().settings.iri_base))
    return Response(html, content_type="text/html; charset=utf-8")


@bp.get("/")
def index() -> Any:
    return query_page()


@bp.app_context_processor
def _article_notice() -> dict[str, Any]:
    """``article_notice`` for the layout: the notice while the seed lacks the sentences."""
    store = service().store
    missing = seed_state(store, store.etag) == "article missing"
    return {"article_notice": ARTICLE_NOTICE if missing else None}


def seed_state(store: Any, etag: str) -> str:
    """:func:`graph.knowledge.build.seed_state`, asked once per store version (kept in the
    service's ``caches.seed`` under ``etag``, the store's, read before asking): pages ask on
    every render, and a remote store answers over HTTP."""
    from graph.knowledge.build import seed_state as state

    svc = service()
    if store is not svc.store:  # the cache follows the service's store only
        return state(store)
    return svc.caches.seed.get_or_build("seed", lambda: state(store), etag=etag)
