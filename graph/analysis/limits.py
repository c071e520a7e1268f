"""What one analysis request may ask for: caps checked before any work starts.

An analysis runs over the whole projection, and with the CBP table imported and
observations included that is ~42,700 nodes and ~213,000 links. Some parameters make the
work grow faster than the graph: exact betweenness and closeness cost O(n·m) (exact
betweenness on that graph took 282 s in python-igraph), Yen's k shortest paths one search
per hop of every path found, a ranking as long as ``limit`` one row per entity. Each such
parameter has a cap here, checked before anything is computed, and a request beyond it
is a 400 that names the parameter and the cap (``parameter``, ``limit``), so a client
learns what it may ask instead of waiting for a time-out. Work that stays linear in the
graph is bounded by the analysis time limit instead (:mod:`.bounded`).

The measured costs behind the caps (this 2-core machine, random graphs of mean degree
8): networkx exact betweenness 3.7 s on 1,000 nodes and 16 s on 2,000; python-igraph's
3.2 s on 5,000 and 20 s on 10,000; networkx closeness 1.2 s on 1,000 nodes, 2.9 s on
2,000; networkx sampled betweenness ~1.4 million source-links per second, python-igraph's
~40 million.
"""
from __future__ import annotations

from graph.errors import BadParameter

__all__ = ["CAPS", "MAX_HOPS", "MAX_LENGTH", "MAX_LIMIT", "MAX_MEMBERS", "MAX_NODES",
           "MAX_PATHS", "MAX_RESOLUTION", "MAX_SAMPLES", "MAX_SIMILAR_CANDIDATES",
           "check_range"]

#: most rows of a ranking or list (centrality, communities, components, connectors, similar)
MAX_LIMIT = 1_000
#: most members shown per community or component
MAX_MEMBERS = 1_000
#: most betweenness source nodes sampled (``k``): the work is k breadth-first searches
MAX_SAMPLES = 256
#: most paths asked for (``k`` of ``/analyses/path``); Yen's algorithm searches once per hop
MAX_PATHS = 50
#: longest path searched, in hops
MAX_LENGTH = 8
#: widest neighbourhood, in hops, and most nodes it returns
MAX_HOPS = 4
MAX_NODES = 2_000
#: most neighbour-of-neighbour links ``similar`` examines (the sum of the degrees of the
#: entity's neighbours); a hub beyond it would have every entity as a candidate
MAX_SIMILAR_CANDIDATES = 1_000_000
#: largest community resolution (beyond it every entity is its own community anyway)
MAX_RESOLUTION = 100.0
#: node counts up to which betweenness is exact; above, it is sampled (``centrality``)
EXACT_BETWEENNESS_MAX = {"networkx": 1_000, "igraph": 5_000}
#: node count above which closeness (networkx only, O(n·m)) is refused
CLOSENESS_MAX = 2_000

#: every cap by name, for documentation (the routes' and the OpenAPI text)
CAPS = {"limit": MAX_LIMIT, "members": MAX_MEMBERS, "betweenness k": MAX_SAMPLES,
        "path k": MAX_PATHS, "max_length": MAX_LENGTH, "hops": MAX_HOPS,
        "max_nodes": MAX_NODES, "similar candidates": MAX_SIMILAR_CANDIDATES,
        "resolution": MAX_RESOLUTION, "exact betweenness nodes (networkx)":
        EXACT_BETWEENNESS_MAX["networkx"], "exact betweenness nodes (igraph)":
        EXACT_BETWEENNESS_MAX["igraph"], "closeness nodes": CLOSENESS_MAX}


def check_range(value: int, low: int, high: int, name: str, what: str = "") -> None:
    """Refuse ``value`` outside ``low..high`` with a 400 naming ``name`` and the cap.

    Examples
    --------
    >>> check_range(20, 1, MAX_LIMIT, "limit")
    >>> check_range(5000, 1, MAX_LIMIT, "limit", "rows of the ranking")
    Traceback (most recent call last):
    ...
    graph.errors.BadParameter: limit must be between 1 and 1000 (rows of the ranking), got 5000
    """
    if not low <= value <= high:
        why = f" ({what})" if what else ""
        raise BadParameter(f"{name} must be between {low} and {high}{why}, got {value}",
                           parameter=name, limit=high)
