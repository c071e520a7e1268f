"""``/openapi.json`` and ``/api``: the HTTP API described as OpenAPI 3, and a page for it.

The named-query operations are generated from the queries' headers, so the document
cannot drift from the library; operations other blueprints provide (SPARQL, Graph Store,
analyses) are described only when the app actually serves them. ``/api`` renders the
same document server-side — no JavaScript, no CDN — so it works offline.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from graph.analysis import limits
from graph.analysis.backend import BACKENDS
from graph.analysis.centrality import MEASURES
from graph.analysis.communities import ALGORITHMS
from graph.analysis.projection import INCLUDE_CHOICES
from graph.formats import GRAPH_FORMATS
from queries import NamedQuery, Param, list_queries, load_query

from .context import public_root, service
from .linked_data import has_route
from .observability import RESPONSE_HEADERS

bp = Blueprint("openapi", __name__)

ERROR = {"$ref": "#/components/responses/Error"}
JSON = "application/json"
RESULTS_SCHEMA = {"$ref": "#/components/schemas/SparqlResults"}
HTML_TEXT = {"text/html": {"schema": {"type": "string"}}}
PARAM_SCHEMAS: dict[str, dict[str, Any]] = {
    "iri": {"type": "string", "format": "iri"},
    "string": {"type": "string"},
    "integer": {"type": "string", "pattern": r"^[+-]?\d+$"},
    "decimal": {"type": "string", "pattern": r"^[+-]?(\d+(\.\d*)?|\.\d+)$"},
    "date": {"type": "string", "format": "date"},
    "gYear": {"type": "string", "pattern": r"^\d{4}$"},
    "boolean": {"type": "string", "enum": ["true", "false"]},
}
COMPONENTS: dict[str, Any] = {
    "schemas": {
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["status", "code", "message"],
            "properties": {"status": {"type": "integer"}, "code": {"type": "string"},
                           "message": {"type": "string"}}}}},
        "SparqlResults": {"type": "object", "required": ["head"], "properties": {
            "head": {"type": "object"}, "results": {"type": "object", "required": ["bindings"],
                                                   "properties": {"bindings": {"type": "array"}}},
            "boolean": {"type": "boolean"}}},
        "NamedQuery": {"type": "object", "required": ["name", "title", "params"], "properties": {
            "name": {"type": "string"}, "title": {"type": "string"},
            "description": {"type": "string"}, "url": {"type": "string"},
            "params": {"type": "array", "items": {"type": "object"}}}},
        "SearchResults": {"type": "object", "required": ["query", "results", "facets"],
                          "properties": {
            "query": {"type": "string"}, "total": {"type": "integer"},
            "corrections": {"type": "object", "additionalProperties": {
                "type": "array", "items": {"type": "string"}}},
            "facets": {"type": "object", "properties": {
                name: {"type": "array", "items": {"type": "object", "properties": {
                    "value": {"type": "string"}, "count": {"type": "integer"}}}}
                for name in ("type", "graph")}},
            "results": {"type": "array", "items": {
                "type": "object", "required": ["iri", "label", "kind", "match", "score"],
                "properties": {"iri": {"type": "string"}, "label": {"type": "string"},
                               "kind": {"type": "string",
                                        "enum": ["label", "alt-label", "sentence"]},
                               "match": {"type": "string",
                                         "enum": ["exact", "words", "fuzzy"]},
                               "score": {"type": "number"}, "graph": {"type": "string"},
                               "url": {"type": "string"}, "text": {"type": "string"},
                               "types": {"type": "array", "items": {"type": "string"}}}}}}},
        "AnalysisResult": {"type": "object"},
    },
    "responses": {"Error": {"description": "An error, in the one error shape of the service.",
                            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}},
    "headers": {name: {"description": text, "schema": {"type": "string"}}
                for name, text in RESPONSE_HEADERS.items()},
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                   "description": "The update token (setting update_token)."}},
}


def _param(name: str, description: str, schema: dict[str, Any], required: bool = False,
           example: Any = None, where: str = "query") -> dict[str, Any]:
    out = {"name": name, "in": where, "required": required, "description": description,
           "schema": schema}
    if example is not None:
        out["example"] = example
    return out


def _example(param: Param) -> str | None:
    value = param.example or param.default
    return value[1:-1] if value and value.startswith("<") and value.endswith(">") else value


def _query_operation(query: NamedQuery, max_rows: int) -> dict[str, Any]:
    params = [_param(p.name, f"{p.description} ({p.type}"
                     + (f", default {p.default})" if p.default else ")"),
                     PARAM_SCHEMAS[p.type], p.required, _example(p)) for p in query.params]
    params += [
        _param("limit", "Rows per page (default 100).",
               {"type": "integer", "minimum": 1, "maximum": max_rows}),
        _param("offset", "Rows to skip.", {"type": "integer", "minimum": 0}),
        _param("format", "Result format, overriding Accept.",
               {"type": "string", "enum": ["json", "csv", "tsv", "xml", "html"]})]
    return {"get": {
        "operationId": f"query_{query.name.replace('-', '_')}", "tags": ["named queries"],
        "summary": query.title, "description": query.description, "parameters": params,
        "responses": {"200": {"description": "The rows.", "content": {
            "application/sparql-results+json": {"schema": RESULTS_SCHEMA},
            "text/csv": {"schema": {"type": "string"}},
            "text/tab-separated-values": {"schema": {"type": "string"}},
            "application/sparql-results+xml": {"schema": {"type": "string"}}, **HTML_TEXT}},
            "default": ERROR}}}


def _simple(summary: str, tag: str, params: list[dict[str, Any]],
            content: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {"get": {"summary": summary, "description": description or summary, "tags": [tag],
                    "parameters": params,
                    "responses": {"200": {"description": "OK", "content": content},
                                  "default": ERROR}}}


RDF_CONTENT = {m: {"schema": {"type": "string"}} for m in (
    "text/turtle", "application/n-triples", "application/rdf+xml")} | {
    "application/ld+json": {"schema": {}}}
#: what the SPARQL endpoint and the Graph Store may answer: every graph and dataset format
ALL_RDF_CONTENT: dict[str, Any] = {f.media_type: {"schema": {}} for f in GRAPH_FORMATS}


def _see_other(summary: str, path: dict[str, Any], example: str) -> dict[str, Any]:
    """A path whose GET is a 303 to the document (the ``path`` parameter's example set)."""
    return {"get": {"summary": summary, "tags": ["linked data"],
                    "parameters": [{**path, "example": example}],
                    "responses": {"303": {"description": "See Other: the document."},
                                  "default": ERROR}}}


def _linked_data_paths() -> dict[str, Any]:
    path = _param("path", "Path of the IRI under the IRI base (id/country/CHN).",
                  {"type": "string", "pattern": "^[a-z]"}, True, "country/CHN", "path")
    term = {**path, "description": "Path under the term or graph namespace.",
            "schema": {"type": "string", "minLength": 1}}
    return {
        "/id/{path}": _see_other("Dereference an entity IRI", path, "country/CHN"),
        "/def": {"get": {"summary": "Dereference the ontology's IRI", "tags": ["linked data"],
                         "responses": {"303": {"description": "See Other: the document."},
                                       "default": ERROR}}},
        "/def/{path}": _see_other("Dereference an ontology term's IRI", term, "Claim"),
        "/graph/{path}": _see_other("Dereference a named graph's IRI", term,
                                    "article/000_e1eaba6903481a9d"),
        "/doc/{path}": _simple("Document describing a resource", "linked data",
                               [{**path, "example": "id/country/CHN"}],
                               {**HTML_TEXT, **RDF_CONTENT},
                               "HTML or RDF by Accept, or by a .ttl/.nt/.jsonld/.rdf suffix."),
        "/.well-known/void": _simple("VoID description of the dataset", "linked data", [],
                                     RDF_CONTENT),
        "/dump.nq.gz": _simple("The whole dataset as gzipped N-Quads", "linked data", [],
                               {"application/gzip": {"schema": {"type": "string",
                                                                "format": "binary"}},
                                "application/n-quads": {"schema": {"type": "string"}}}),
    }


def _search_paths() -> dict[str, Any]:
    return {
        "/search": _simple("Search labels and sentences", "search", [
            _param("q", "Words to look for (case and accents ignored).",
                   {"type": "string", "maxLength": 200}, example="beijing"),
            _param("limit", "Most results.", {"type": "integer", "minimum": 1, "maximum": 100}),
            _param("type", "Only resources of this type (IRI or prefixed name); repeatable.",
                   {"type": "string"}),
            _param("graph", "Only resources matched in this graph (IRI); repeatable.",
                   {"type": "string"}),
            _param("format", "json or html.", {"type": "string", "enum": ["json", "html"]})],
            {JSON: {"schema": {"$ref": "#/components/schemas/SearchResults"}}, **HTML_TEXT}),
        "/queries": _simple("The named-query library", "named queries", [
            _param("format", "json or html.", {"type": "string", "enum": ["json", "html"]})],
            {JSON: {"schema": {"type": "object", "required": ["queries"], "properties": {
                "queries": {"type": "array",
                            "items": {"$ref": "#/components/schemas/NamedQuery"}}}}},
             **HTML_TEXT}),
    }


def _integer(low: int, high: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": low}
    return schema if high is None else {**schema, "maximum": high}


def _choice(values: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}


TEXT = {"type": "string", "minLength": 1}
LIMIT = ("limit", "Rows listed.", _integer(1, limits.MAX_LIMIT), False, None)
MEMBERS = ("members", "Members listed per group.", _integer(1, limits.MAX_MEMBERS), False,
           None)
SEED = ("seed", "Random seed.", _integer(0, 2**32 - 1), False, None)
BACKEND = ("backend", "Graph library.", _choice(BACKENDS), False, None)
FORMAT = _param("format", "json, or html for the page a browser gets by Accept.",
                _choice(("json", "html")))
#: the parameters every analysis takes: which part of the graph it projects
PROJECTION = [
    _param("graph", "Named graphs to project (IRIs or short names; all by default).", TEXT),
    _param("predicate", "Only links with these predicates (comma-separated IRIs).", TEXT),
    _param("class", "Only entities of these classes (comma-separated IRIs).", TEXT),
    _param("include", "Kinds of node left out by default to include (comma-separated).",
           _choice(INCLUDE_CHOICES)),
    _param("collapse_observations", "Fold statistical observations into their dimensions.",
           _choice(("true", "false", "1", "0", "yes", "no")))]
#: per analysis: summary and parameters (name, description, schema, required, example);
#: every maximum is the cap of ``graph.analysis.limits`` the analysis enforces
ANALYSES: dict[str, tuple[str, list[tuple[str, str, dict[str, Any], bool, Any]]]] = {
    "path": ("Shortest paths between two entities", [
        ("from", "Start entity (IRI or label).", TEXT, True, "China"),
        ("to", "End entity (IRI or label).", TEXT, True, "U.S. Border Patrol"),
        ("k", "Paths returned.", _integer(1, limits.MAX_PATHS), False, None),
        ("max_length", "Hops per path.", _integer(1, limits.MAX_LENGTH), False, None)]),
    "neighbours": ("Entities within a few hops", [
        ("entity", "Centre (IRI or label).", TEXT, True, "China"),
        ("hops", "Steps from the entity.", _integer(1, limits.MAX_HOPS), False, None),
        ("max_nodes", "Nodes returned (a picture draws at most 150).",
         _integer(1, limits.MAX_NODES), False, None)]),
    "centrality": ("Most central entities", [
        ("measure", "Centrality measure.", _choice(MEASURES), False, "pagerank"), LIMIT,
        ("k", "Betweenness source nodes sampled.", _integer(1, limits.MAX_SAMPLES), False,
         None), SEED, BACKEND]),
    "communities": ("Communities of entities", [
        ("algorithm", "Community detection algorithm.", _choice(ALGORITHMS), False,
         "louvain"), SEED,
        ("resolution", "Louvain resolution (above 0).", {
            "type": "number", "minimum": 0, "exclusiveMinimum": True,
            "maximum": limits.MAX_RESOLUTION}, False, None), LIMIT, MEMBERS, BACKEND]),
    "components": ("Connected components, largest first", [LIMIT, MEMBERS]),
    "connectors": ("Entities that connect communities", [LIMIT]),
    "similar": ("Entities similar to one", [
        ("entity", "The entity (IRI or label).", TEXT, True, "China"), LIMIT]),
}


def _analysis_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, (summary, params) in ANALYSES.items():
        specs = [_param(p, text, schema, required, example)
                 for p, text, schema, required, example in params] + PROJECTION
        for suffix, content, extra in (
                ("", {JSON: {"schema": {"$ref": "#/components/schemas/AnalysisResult"}},
                      **HTML_TEXT}, [FORMAT]),
                (".svg", {"image/svg+xml": {"schema": {"type": "string"}}}, [])):
            path = f"/analyses/{name}{suffix}"
            if has_route(path):
                paths[path] = _simple(summary, "analyses", specs + extra, content)
    if has_route("/analyses/write"):
        write_params = [_param("measure", "Measures to write (comma-separated).",
                               _choice(MEASURES)),
                        _param("k", "Betweenness source nodes sampled.",
                               _integer(1, limits.MAX_SAMPLES)),
                        *(_param(n, t, sc) for n, t, sc, _, _ in (SEED, BACKEND)), *PROJECTION]
        paths["/analyses/write"] = {"post": {
            "summary": "Write scores and communities into the analyses graph",
            "tags": ["analyses"], "security": [{"bearer": []}], "parameters": write_params,
            "responses": {"200": {"description": "What was written.", "content": {
                JSON: {"schema": {"$ref": "#/components/schemas/AnalysisResult"}}}},
                "default": ERROR}}}
    return paths


RESULT_CONTENT: dict[str, Any] = {
    "application/sparql-results+json": {"schema": RESULTS_SCHEMA},
    "application/sparql-results+xml": {"schema": {"type": "string"}},
    "text/csv": {"schema": {"type": "string"}},
    "text/tab-separated-values": {"schema": {"type": "string"}}}
#: what a query's answer may carry besides its body
QUERY_HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in (
    "X-BorderKG-Truncated", "X-BorderKG-Row-Limit", "X-BorderKG-Cache",
    "X-BorderKG-Service-Skipped")}
DATASET = [_param(name, text, {"type": "string", "format": "iri"}) for name, text in (
    ("default-graph-uri", "A graph of the query's default graph (overrides FROM)."),
    ("named-graph-uri", "A named graph of the query's dataset (overrides FROM NAMED)."))]
SPARQL_FORM = {"type": "object", "properties": {
    "query": {"type": "string"}, "update": {"type": "string"},
    "default-graph-uri": {"type": "string"}, "named-graph-uri": {"type": "string"},
    "using-graph-uri": {"type": "string"}, "using-named-graph-uri": {"type": "string"},
    "format": {"type": "string"}}}


def _sparql_paths() -> dict[str, Any]:
    answer = {"description": "The answer: results, a graph, or (without a query) the "
                             "service description, or the query page for a browser.",
              "headers": QUERY_HEADERS,
              "content": {**RESULT_CONTENT, **ALL_RDF_CONTENT, **HTML_TEXT}}
    get = {"summary": "SPARQL 1.1 query (GET), or the service description", "tags": ["sparql"],
           "parameters": [
               _param("query", "The SPARQL query; without it, the service description.",
                      {"type": "string"}, False, "SELECT * WHERE { ?s ?p ?o } LIMIT 1"),
               *DATASET, _param("format", "Answer format, overriding Accept (json, csv, "
                                          "turtle...).", {"type": "string"})],
           "responses": {"200": answer, "default": ERROR}}
    post = {"summary": "SPARQL 1.1 query or update (POST)", "tags": ["sparql"],
            "description": "A query as a form or application/sparql-query; an update as a "
                           "form (update=) or application/sparql-update, with the token.",
            "security": [{}, {"bearer": []}],
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": SPARQL_FORM},
                "application/sparql-query": {"schema": {"type": "string"}},
                "application/sparql-update": {"schema": {"type": "string"}}}},
            "responses": {"200": answer, "204": {
                "description": "The update was applied.",
                "headers": {n: {"$ref": f"#/components/headers/{n}"} for n in (
                    "X-BorderKG-Service-Skipped", "X-BorderKG-Load-Skipped")}},
                "default": ERROR}}
    return {"/sparql": {"get": get, "post": post}} if has_route("/sparql") else {}


def _graph_store_item(target: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"content": ALL_RDF_CONTENT}
    write = {"security": [{"bearer": []}], "parameters": target, "tags": ["graph store"],
             "responses": {"200": {"description": "Done."}, "201": {"description": "Created."},
                           "204": {"description": "Done."}, "default": ERROR}}
    return {
        "get": {"summary": "Read a graph", "tags": ["graph store"], "parameters": target,
                "responses": {"200": {"description": "The graph.", "content": ALL_RDF_CONTENT},
                              "default": ERROR}},
        "head": {"summary": "Whether a graph exists", "tags": ["graph store"],
                 "parameters": target, "responses": {"200": {"description": "It exists."},
                                                     "default": ERROR}},
        "put": {**write, "summary": "Replace a graph", "requestBody": body},
        "post": {**write, "summary": "Add to a graph", "requestBody": body},
        "delete": {**write, "summary": "Delete a graph"}}


def _graph_store_paths() -> dict[str, Any]:
    if not has_route("/graph-store"):
        return {}
    indirect = [_param("graph", "IRI of the named graph.", {"type": "string", "format": "iri"}),
                _param("default", "Address the default graph instead (empty value).",
                       {"type": "string", "enum": [""]})]
    direct = [_param("path", "The graph {iri_base}graph/{path}.", {"type": "string"}, True,
                     "article/000_e1eaba6903481a9d", "path")]
    return {"/graph-store": _graph_store_item(indirect),
            "/graph-store/{path}": _graph_store_item(direct)}


def _protocol_paths() -> dict[str, Any]:
    paths = {**_sparql_paths(), **_graph_store_paths()}
    if has_route("/reconciliation"):
        paths["/reconciliation"] = _simple(
            "The article's figures checked against official data", "reconciliation",
            [_param("status", "Keep one outcome.", {"type": "string", "enum": [
                "consistent", "inconsistent", "unverifiable"]}), FORMAT],
            {JSON: {"schema": {"type": "object", "required": ["results", "summary"]}},
             **HTML_TEXT})
    if has_route("/admin/backup"):
        paths["/admin/backup"] = {"post": {
            "summary": "Back the store up under the data directory", "tags": ["admin"],
            "security": [{"bearer": []}], "responses": {
                "201": {"description": "Where the backup is, and its manifest.",
                        "content": {JSON: {"schema": {"type": "object",
                                                      "required": ["backup"]}}}},
                "default": ERROR}}}
    return paths


def _service_paths() -> dict[str, Any]:
    """The pages, this document, and what operators watch."""
    paths = {
        "/": _simple("The query page", "pages", [], HTML_TEXT),
        "/api": _simple("This document as a page", "pages", [], HTML_TEXT),
        "/openapi.json": _simple("This document", "pages", [],
                                 {JSON: {"schema": {"type": "object"}}}),
        "/healthz": _simple("Liveness, the store's backend and version", "operations", [],
                            {JSON: {"schema": {"type": "object", "required": ["status"]}}}),
        "/metrics": _simple("Prometheus metrics", "operations", [],
                            {"text/plain": {"schema": {"type": "string"}}}),
        "/static/{filename}": _simple("Scripts, styles and the editor of the pages", "pages", [
            _param("filename", "File under static/.", {"type": "string"}, True, "query.js",
                   "path")], {"*/*": {"schema": {"type": "string", "format": "binary"}}}),
    }
    return {path: item for path, item in paths.items()
            if has_route(path.replace("{filename}", "<path:filename>"))}


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of this app (routes it does not serve are left out)."""
    max_rows = service().settings.max_rows
    paths = {**_search_paths(), **_linked_data_paths(), **_protocol_paths(),
             **_analysis_paths(), **_service_paths()}
    for name in list_queries():
        paths[f"/queries/{name}"] = _query_operation(load_query(name), max_rows)
    return {"openapi": "3.0.3",
            "info": {"title": "BorderKG", "version": "0.1.0", "description":
                     "Linked data, named queries, search and analyses over the BorderKG "
                     "knowledge graph. Errors share one JSON shape."},
            "servers": [{"url": public_root().rstrip("/")}],
            "paths": dict(sorted(paths.items())), "components": COMPONENTS}


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI document."""
    return jsonify(openapi_document())


@bp.get("/api")
def api_page() -> Any:
    """The OpenAPI document rendered as a page (no scripts)."""
    return render_template("api.html", doc=openapi_document())
