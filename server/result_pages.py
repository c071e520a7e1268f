"""JSON answers as HTML for browsers: analyses and the reconciliation as readable pages.

The analyses answer JSON of a few recurring shapes: entities (``{"iri", "label",
"types"}``), links (``subject``/``predicate``/``object`` with their ``*_label`` and the
sentences stating them), and lists of either. A page shows the answer's scalars as facts
and each list as a table, entities and links by their labels, linked to their documents,
so that every analysis has a page without a template of its own. JSON stays the answer
for anything but a browser: HTML only when Accept prefers it (or ``format=html``).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import request
from markupsafe import Markup, escape

from . import negotiation
from .linked_data import HTML, local_url, short_name

JSON = "application/json"
#: most items of a list shown in one cell (a community's members, a path's hops)
MAX_IN_CELL = 50


def wants_html() -> bool:
    """Whether to answer with a page: ``format=html``, or an Accept preferring HTML."""
    fmt = (request.args.get("format") or "").strip().lower()
    if fmt in ("html", "json"):
        return fmt == "html"
    return negotiation.choose([JSON, HTML], request.headers.get("Accept")) == HTML


def _link(iri: str, label: str | None = None) -> Markup:
    return Markup('<a href="{}" title="{}">{}</a>').format(local_url(iri), iri,
                                                           label or short_name(iri))


def _is_iri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _edge(edge: dict[str, Any]) -> Markup:
    """A link: subject · predicate · object, and the sentences stating it."""
    parts = [_link(edge[k], edge.get(f"{k}_label")) if _is_iri(edge.get(k)) else
             escape(str(edge.get(k, ""))) for k in ("subject", "predicate", "object")]
    cited = [_link(s["iri"], f"sentence {s.get('number', '')}".strip())
             for s in edge.get("sentences") or [] if isinstance(s, dict) and "iri" in s]
    tail = Markup(" [{}]").format(Markup(", ").join(cited)) if cited else Markup("")
    return Markup(" · ").join(parts) + tail


def cell(value: Any, label: str | None = None) -> Markup:
    """One value of an answer as HTML."""
    if isinstance(value, dict):
        if "iri" in value:
            return _link(value["iri"], value.get("label"))
        if {"subject", "predicate", "object"} <= set(value):
            return _edge(value)
        return Markup("; ").join(Markup("{}: {}").format(k, cell(v)) for k, v in value.items())
    if isinstance(value, list):
        shown = [cell(v) for v in value[:MAX_IN_CELL]]
        more = f" … ({len(value) - MAX_IN_CELL} more)" if len(value) > MAX_IN_CELL else ""
        glue = Markup("<br>") if any(isinstance(v, (dict, list)) for v in value) else ", "
        return Markup(glue).join(shown) + more
    if _is_iri(value):
        return _link(value, label)
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    return escape("" if value is None else str(value))


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    """The rows' keys in order, less ``iri`` (the label links to it) and ``*_label``."""
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
    return [k for k in keys if k != "iri" and not k.endswith("_label")
            and not ("label" in keys and k == "types")]


def table(rows: list[Any]) -> dict[str, Any]:
    """A list of the answer as a table: one column per key, or one column of values."""
    if not all(isinstance(r, dict) for r in rows):
        return {"columns": ["value"], "rows": [[cell(r)] for r in rows]}
    columns = _columns(rows)
    body = []
    for row in rows:
        body.append([_link(row["iri"], row.get(c)) if c == "label" and "iri" in row else
                     cell(row.get(c), row.get(f"{c}_label")) for c in columns])
    return {"columns": columns, "rows": body}


def sections(body: dict[str, Any]) -> tuple[list[tuple[str, Markup]], list[dict[str, Any]]]:
    """The answer's facts (scalars, entities, small objects) and its tables (lists)."""
    facts, tables = [], []
    for key, value in body.items():
        if isinstance(value, list) and value and isinstance(value[0], (dict, list)):
            tables.append({"title": key.replace("_", " "), "count": len(value),
                           **table(value)})
        else:
            facts.append((key.replace("_", " "), cell(value)))
    return facts, tables


def link_list(items: Iterable[tuple[str, str]]) -> Markup:
    """``<a>`` elements for (text, href) pairs, comma-separated."""
    return Markup(", ").join(Markup('<a href="{}">{}</a>').format(href, text)
                             for text, href in items)
