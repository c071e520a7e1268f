"""Pictures without Graphviz: a force-directed layout (networkx) drawn as SVG in Python.

``dot`` draws better pictures, but it is a system package a fresh checkout may lack; a
page must not show a broken image then. networkx's spring layout (numpy only, no scipy)
places the nodes; each is a rounded box with its wrapped label, each edge a line with an
arrowhead and its label at the middle. Full labels and IRIs are in ``<title>`` tooltips,
as in the Graphviz picture.
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .projection import Edge

__all__ = ["Labels", "layout_svg"]



class Labels(Protocol):
    """What drawing needs of a projection: a display label per node."""

    def label(self, iri: str) -> str: ...


WRAP = 22
LONGEST = 60
CHAR_WIDTH = 6.2  # of the 10 px sans-serif used, on average
LINE_HEIGHT = 13
PAD = 8
#: space given to each node: the layout's unit square is scaled by this times sqrt(n)
SPREAD = 190


def _lines(text: str) -> list[str]:
    text = text if len(text) <= LONGEST else text[:LONGEST - 1] + "…"
    return textwrap.wrap(text, WRAP) or [text]


def _positions(nodes: list[str], edges: list[Edge]) -> dict[str, tuple[float, float]]:
    """Node centres in pixels, seeded so the same neighbourhood is drawn the same way."""
    graph = nx.Graph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from((e.subject, e.object) for e in edges)
    if len(nodes) == 1:
        return {nodes[0]: (0.0, 0.0)}
    placed = nx.spring_layout(graph, seed=7, k=1.6 / math.sqrt(len(nodes)), iterations=200)
    scale = SPREAD * math.sqrt(len(nodes))
    return {n: (float(x) * scale, float(y) * scale * 0.75) for n, (x, y) in placed.items()}


def _box(lines: list[str]) -> tuple[float, float]:
    return (max(len(line) for line in lines) * CHAR_WIDTH + 2 * PAD,
            len(lines) * LINE_HEIGHT + 2 * PAD - 4)


def _border_point(centre: tuple[float, float], size: tuple[float, float],
                  towards: tuple[float, float]) -> tuple[float, float]:
    """Where the line from ``centre`` to ``towards`` leaves the box, so arrows touch it."""
    (x, y), (w, h) = centre, size
    dx, dy = towards[0] - x, towards[1] - y
    if dx == 0 and dy == 0:
        return centre
    t = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
    return x + dx * t, y + dy * t


def layout_svg(projection: Labels, nodes: Iterable[str], edges: Iterable[Edge],
               highlight: Iterable[str] = ()) -> bytes:
    """SVG bytes of ``nodes`` and the ``edges`` among them, ``highlight`` filled.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> p = project(tiny_store())
    >>> layout_svg(p, ["https://example.org/ice"], []).startswith(b"<svg")
    True
    """
    names = sorted(set(nodes))
    kept = [e for e in edges if e.subject in set(names) and e.object in set(names)
            and e.subject != e.object]
    marked = set(highlight)
    centres = _positions(names, kept)
    texts = {n: _lines(projection.label(n)) for n in names}
    sizes = {n: _box(texts[n]) for n in names}
    left = min(centres[n][0] - sizes[n][0] / 2 for n in names) - 20
    top = min(centres[n][1] - sizes[n][1] / 2 for n in names) - 20
    width = max(centres[n][0] + sizes[n][0] / 2 for n in names) - left + 20
    height = max(centres[n][1] + sizes[n][1] / 2 for n in names) - top + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
             f'height="{height:.0f}" viewBox="{left:.1f} {top:.1f} {width:.1f} {height:.1f}" '
             'font-family="Helvetica, Arial, sans-serif" font-size="10">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>']
    parts.extend(_edge(e, centres, sizes) for e in kept)
    parts.extend(_node(projection, n, centres[n], sizes[n], texts[n], n in marked)
                 for n in names)
    parts.append("</svg>")
    return "\n".join(parts).encode("utf-8")


def _edge(edge: Edge, centres: dict[str, tuple[float, float]],
          sizes: dict[str, tuple[float, float]]) -> str:
    start = _border_point(centres[edge.subject], sizes[edge.subject], centres[edge.object])
    end = _border_point(centres[edge.object], sizes[edge.object], centres[edge.subject])
    label = edge.predicate_label + (" " + edge.citation() if edge.sentences else "")
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    short = _lines(label)[0]
    return (f'<g class="edge"><title>{escape(edge.predicate)}</title>'
            f'<line x1="{start[0]:.1f}" y1="{start[1]:.1f}" x2="{end[0]:.1f}" '
            f'y2="{end[1]:.1f}" stroke="#555555" marker-end="url(#arrow)"/>'
            f'<text x="{mid[0]:.1f}" y="{mid[1] - 3:.1f}" text-anchor="middle" font-size="9" '
            f'fill="#333333" paint-order="stroke" stroke="#ffffff" stroke-width="3">'
            f"{escape(short)}</text></g>")


def _node(projection: Labels, iri: str, centre: tuple[float, float],
          size: tuple[float, float], lines: list[str], marked: bool) -> str:
    (x, y), (w, h) = centre, size
    fill = "#ffd37a" if marked else "#f4f4f4"
    tooltip = f"{projection.label(iri)} <{iri}>"
    first = y - (len(lines) - 1) * LINE_HEIGHT / 2 + 3.5
    spans = "".join(f'<tspan x="{x:.1f}" y="{first + i * LINE_HEIGHT:.1f}">{escape(line)}'
                    "</tspan>" for i, line in enumerate(lines))
    return (f'<g class="node"><title>{escape(tooltip)}</title>'
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            f'rx="5" fill={quoteattr(fill)} stroke="#333333"/>'
            f'<text text-anchor="middle">{spans}</text></g>')
