"""Relationship analyses over the knowledge graph projected into networkx.

The projection (:mod:`.projection`) turns the store's RDF into entities and labelled,
directed relationships, each carrying the sentences that state it. The analyses are plain
functions over a projection: paths between two entities with their evidence
(:mod:`.paths`), neighbourhoods (:mod:`.neighbourhood`), centrality (:mod:`.centrality`),
communities, components, key connectors and similar entities (:mod:`.communities`);
pictures (:mod:`.render`) and results written back as RDF (:mod:`.rdf`). The CLI
(``borderkg analyze``) and the HTTP API (``/analyses/...``) are thin layers over these.
"""
from __future__ import annotations

from .backend import IGRAPH_THRESHOLD, choose_backend
from .centrality import MEASURES, CentralityResult, centrality, pagerank, scores
from .communities import Communities, communities, components, connectors, similar
from .neighbourhood import Neighbourhood, neighbourhood
from .paths import Path, PathResult, k_shortest_paths, shortest_path
from .projection import Edge, Projection, ProjectionOptions, Sentence, project
from .resolve import AmbiguousEntity, UnknownEntity, resolve

__all__ = [
    "IGRAPH_THRESHOLD",
    "MEASURES",
    "AmbiguousEntity",
    "CentralityResult",
    "Communities",
    "Edge",
    "Neighbourhood",
    "Path",
    "PathResult",
    "Projection",
    "ProjectionOptions",
    "Sentence",
    "UnknownEntity",
    "centrality",
    "choose_backend",
    "communities",
    "components",
    "connectors",
    "k_shortest_paths",
    "neighbourhood",
    "pagerank",
    "project",
    "resolve",
    "scores",
    "shortest_path",
    "similar",
]
