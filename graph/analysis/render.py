"""Pictures of a neighbourhood or a path: Graphviz ``dot`` rendered to SVG.

Debian's graphviz is a system dependency (Makefile ``system-deps``); where ``dot`` is
missing, ``draw_svg`` lays the picture out in Python instead (``layout_svg``), so a page
never shows a broken picture. ``dot`` runs as a
subprocess with a time limit, on a bounded number of nodes, so a large request fails
fast with a clear error instead of tying up a worker. Labels are shortened and wrapped
so the picture reads at a glance; the full label and IRI are in each node's tooltip.
"""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from collections.abc import Iterable

from graph.errors import BadParameter, ServiceUnavailable

from .layout_svg import Labels, layout_svg
from .projection import Edge

__all__ = ["MAX_RENDER_NODES", "draw_svg", "render_svg", "to_dot"]

MAX_RENDER_NODES = 150
TIMEOUT = 15.0
WRAP = 22
LONGEST = 60


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _short(text: str) -> str:
    text = text if len(text) <= LONGEST else text[:LONGEST - 1] + "…"
    return "\n".join(textwrap.wrap(text, WRAP)) or text


def to_dot(projection: Labels, nodes: Iterable[str], edges: Iterable[Edge],
           highlight: Iterable[str] = ()) -> str:
    """DOT text: one box per node (highlighted ones filled), one labelled arrow per edge.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> p = project(tiny_store())
    >>> text = to_dot(p, ["https://example.org/ice"], [])
    >>> "U.S. Immigration" in text and text.startswith("digraph")
    True
    """
    names = {n: f"n{i}" for i, n in enumerate(sorted(set(nodes)))}
    if len(names) > MAX_RENDER_NODES:
        raise BadParameter(f"too many nodes to draw ({len(names)} > {MAX_RENDER_NODES}); "
                           "lower hops or max_nodes", parameter="max_nodes")
    marked = set(highlight)
    lines = ["digraph borderkg {", '  graph [rankdir=LR, fontname="Helvetica", fontsize=10];',
             '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", '
             'fontname="Helvetica", fontsize=10];',
             '  edge [fontname="Helvetica", fontsize=9, color="#555555"];']
    for iri, name in names.items():
        fill = ', fillcolor="#ffd37a"' if iri in marked else ""
        label = projection.label(iri)
        lines.append(f"  {name} [label={_quote(_short(label))}, "
                     f"tooltip={_quote(label + ' <' + iri + '>')}{fill}];")
    for e in edges:
        if e.subject in names and e.object in names:
            label = e.predicate_label + (" " + e.citation() if e.sentences else "")
            lines.append(f"  {names[e.subject]} -> {names[e.object]} "
                         f"[label={_quote(_short(label))}, tooltip={_quote(e.predicate)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_svg(dot_text: str, timeout: float = TIMEOUT) -> bytes:
    """SVG bytes for ``dot_text``; 503 when graphviz is missing or too slow."""
    dot = shutil.which("dot")
    if dot is None:
        raise ServiceUnavailable("graphviz 'dot' is not installed (Debian package graphviz)")
    try:
        done = subprocess.run([dot, "-Tsvg"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ServiceUnavailable(f"drawing took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise ServiceUnavailable("graphviz failed: " + done.stderr.decode("utf-8", "replace")[:300])
    return done.stdout


def draw_svg(projection: Labels, nodes: Iterable[str], edges: Iterable[Edge],
             highlight: Iterable[str] = ()) -> bytes:
    """SVG of a neighbourhood or path: Graphviz when ``dot`` is installed, else the
    Python layout. The node cap applies to both."""
    nodes, edges = list(nodes), list(edges)
    dot_text = to_dot(projection, nodes, edges, highlight)  # also checks the node cap
    if shutil.which("dot") is None:
        return layout_svg(projection, nodes, edges, highlight)
    return render_svg(dot_text)
