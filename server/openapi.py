"""``/openapi.json`` and ``/api``: the HTTP API described as OpenAPI 3, and a page for it.

The named-query operations are generated from the queries' headers, so the document
cannot drift from the library; operations other blueprints provide (SPARQL, Graph Store,
analyses) are described only when the app actually serves them. ``/api`` renders the
same document server-side — no JavaScript, no CDN — so it works offline.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template

from graph.formats import GRAPH_FORMATS
from queries import NamedQuery, Param, list_queries, load_query

from .app import service
from .linked_data import has_route, public_base

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
        "SearchResults": {"type": "object", "required": ["query", "results"], "properties": {
            "query": {"type": "string"}, "results": {"type": "array", "items": {
                "type": "object", "required": ["iri", "label", "kind", "match"],
                "properties": {"iri": {"type": "string"}, "label": {"type": "string"},
                               "kind": {"type": "string", "enum": ["label", "sentence"]},
                               "match": {"type": "string"}, "url": {"type": "string"},
                               "text": {"type": "string"},
                               "types": {"type": "array", "items": {"type": "string"}}}}}}},
        "AnalysisResult": {"type": "object"},
    },
    "responses": {"Error": {"description": "An error, in the one error shape of the service.",
                            "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}},
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


def _linked_data_paths() -> dict[str, Any]:
    path = _param("path", "Path of the IRI under the IRI base (id/country/CHN).",
                  {"type": "string", "pattern": "^[a-z]"}, True, "country/CHN", "path")
    return {
        "/id/{path}": {"get": {"summary": "Dereference an entity IRI", "tags": ["linked data"],
                               "parameters": [path],
                               "responses": {"303": {"description": "See Other: the document."},
                                             "default": ERROR}}},
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
            _param("format", "json or html.", {"type": "string", "enum": ["json", "html"]})],
            {JSON: {"schema": {"$ref": "#/components/schemas/SearchResults"}}, **HTML_TEXT}),
        "/queries": _simple("The named-query library", "named queries", [
            _param("format", "json or html.", {"type": "string", "enum": ["json", "html"]})],
            {JSON: {"schema": {"type": "object", "required": ["queries"], "properties": {
                "queries": {"type": "array",
                            "items": {"$ref": "#/components/schemas/NamedQuery"}}}}},
             **HTML_TEXT}),
    }


ANALYSES: dict[str, tuple[str, list[tuple[str, bool, str | None]]]] = {
    "path": ("Shortest paths between two entities", [("from", True, "China"),
                                                     ("to", True, "U.S. Border Patrol"),
                                                     ("k", False, None),
                                                     ("max_length", False, None)]),
    "neighbours": ("Entities within a few hops", [("entity", True, "China"), ("hops", False, None),
                                                  ("max_nodes", False, None)]),
    "centrality": ("Most central entities", [("measure", False, "pagerank"),
                                             ("limit", False, None)]),
    "communities": ("Communities of entities", [("algorithm", False, "louvain"),
                                                ("seed", False, None)]),
    "connectors": ("Entities that connect communities", []),
    "similar": ("Entities similar to one", [("entity", True, "China")]),
}
INTEGER_PARAMS = {"k", "max_length", "hops", "max_nodes", "limit", "seed"}


def _analysis_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for name, (summary, params) in ANALYSES.items():
        specs = [_param(p, p.replace("_", " "), {"type": "integer", "minimum": 1, "maximum": 4}
                        if p in INTEGER_PARAMS else {"type": "string", "minLength": 1},
                        required, example) for p, required, example in params]
        for suffix, content in (("", {JSON: {"schema": {
                "$ref": "#/components/schemas/AnalysisResult"}}}),
                (".svg", {"image/svg+xml": {"schema": {"type": "string"}}})):
            path = f"/analyses/{name}{suffix}"
            if has_route(path):
                paths[path] = _simple(summary, "analyses", specs, content)
    return paths


def _protocol_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    if has_route("/sparql"):
        paths["/sparql"] = _simple("SPARQL 1.1 query (GET)", "sparql", [
            _param("query", "The SPARQL query.", {"type": "string"}, True,
                   "SELECT * WHERE { ?s ?p ?o } LIMIT 1")],
            {"application/sparql-results+json": {"schema": {
                "$ref": "#/components/schemas/SparqlResults"}},
             "application/sparql-results+xml": {"schema": {"type": "string"}},
             "text/csv": {"schema": {"type": "string"}},
             "text/tab-separated-values": {"schema": {"type": "string"}}, **ALL_RDF_CONTENT})
    if has_route("/graph-store"):
        target = [_param("graph", "IRI of the named graph.", {"type": "string", "format": "iri"}),
                  _param("default", "Address the default graph instead (empty value).",
                         {"type": "string", "enum": [""]})]
        body = {"content": ALL_RDF_CONTENT}
        write = {"security": [{"bearer": []}], "parameters": target, "tags": ["graph store"],
                 "responses": {"200": {"description": "Done."}, "201": {"description": "Created."},
                               "204": {"description": "Done."}, "default": ERROR}}
        paths["/graph-store"] = {
            "get": {"summary": "Read a graph", "tags": ["graph store"], "parameters": target,
                    "responses": {"200": {"description": "The graph.", "content": ALL_RDF_CONTENT},
                                  "default": ERROR}},
            "head": {"summary": "Whether a graph exists", "tags": ["graph store"],
                     "parameters": target, "responses": {"200": {"description": "It exists."},
                                                         "default": ERROR}},
            "put": {**write, "summary": "Replace a graph", "requestBody": body},
            "post": {**write, "summary": "Add to a graph", "requestBody": body},
            "delete": {**write, "summary": "Delete a graph"}}
    if has_route("/reconciliation"):
        paths["/reconciliation"] = _simple(
            "The article's figures checked against official data", "reconciliation",
            [_param("status", "Keep one outcome.", {"type": "string", "enum": [
                "consistent", "inconsistent", "unverifiable"]})],
            {JSON: {"schema": {"type": "object", "required": ["results", "summary"]}}})
    return paths


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.0 document of this app (routes it does not serve are left out)."""
    max_rows = service().settings.max_rows
    paths = {**_search_paths(), **_linked_data_paths(), **_protocol_paths(),
             **_analysis_paths()}
    for name in list_queries():
        paths[f"/queries/{name}"] = _query_operation(load_query(name), max_rows)
    return {"openapi": "3.0.3",
            "info": {"title": "BorderKG", "version": "0.1.0", "description":
                     "Linked data, named queries, search and analyses over the BorderKG "
                     "knowledge graph. Errors share one JSON shape."},
            "servers": [{"url": public_base().rstrip("/")}],
            "paths": dict(sorted(paths.items())), "components": COMPONENTS}


@bp.get("/openapi.json")
def openapi_json() -> Any:
    """The OpenAPI document."""
    return jsonify(openapi_document())


@bp.get("/api")
def api_page() -> Any:
    """The OpenAPI document rendered as a page (no scripts)."""
    return render_template("api.html", doc=openapi_document())
