"""Analysis results as RDF: scores and communities in a derived named graph, with PROV.

``write_analyses`` replaces ``https://w3id.org/borderkg/graph/analyses`` in one SPARQL
update (all or nothing, on every backend) with: the vocabulary of
``ontology/analysis.ttl`` (the seed build loads only ``borderkg.ttl``, so the graph carries
its own terms), one ``bkg:AnalysisRun`` (a ``prov:Activity``: measures, parameters as
JSON, start and end times, ``prov:used`` each projected graph), a score triple per entity
and measure (``?e bkg:pageRank ?r``, ``xsd:double``) and a ``bkg:community`` per entity.
The analyses graph is itself never projected, so writing results cannot change them.

Computing (:func:`compute_analyses`, over the projection only) and writing
(:func:`store_analyses`, one update) are separate steps, so the computation can run in a
killable child process (:mod:`.bounded`) while the write happens in the process that owns
the store.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyoxigraph import Literal, NamedNode, RdfFormat, parse

import ontology
from graph import ids
from graph.errors import BadParameter
from graph.namespace import bkg_analysis
from graph.store.base import Store

from . import vocab as v
from .centrality import MEASURES, check_scores, scores
from .communities import Communities, check_communities, communities
from .projection import Projection

__all__ = ["GRAPH", "MEASURE_TERMS", "Computed", "WriteReport", "check_measures",
           "compute_analyses", "store_analyses", "write_analyses"]

GRAPH = v.GRAPH_ANALYSES
MEASURE_TERMS = {"pagerank": bkg_analysis.pageRank,
                 "betweenness": bkg_analysis.betweennessCentrality,
                 "degree": bkg_analysis.degreeCentrality,
                 "eigenvector": bkg_analysis.eigenvectorCentrality,
                 "closeness": bkg_analysis.closenessCentrality}
DOUBLE = NamedNode(v.XSD + "double")
DATETIME = NamedNode(v.XSD + "dateTime")


@dataclass(frozen=True)
class WriteReport:
    """What was written: the run's IRI, the graph, and how many triples."""

    run: str
    graph: str
    triples: int
    measures: tuple[str, ...]
    communities: int

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "graph": self.graph, "triples": self.triples,
                "measures": list(self.measures), "communities": self.communities}


@dataclass(frozen=True)
class Computed:
    """What one run computed: ``measure -> (backend, parameters, scores)``, communities."""

    results: dict[str, tuple[str, dict[str, Any], dict[str, float]]]
    communities: Communities
    started: datetime


def write_analyses(store: Store, projection: Projection,
                   measures: Iterable[str] = ("pagerank", "betweenness", "degree"),
                   community_seed: int = 0, seed: int = 0, k: int | None = None,
                   backend: str = "auto") -> WriteReport:
    """Compute ``measures`` and Louvain communities, and replace the analyses graph.

    Examples
    --------
    >>> from graph.analysis.testing import tiny_store
    >>> from graph.analysis.projection import project
    >>> store = tiny_store()
    >>> report = write_analyses(store, project(store), measures=["pagerank"])
    >>> rows = store.query(
    ...     "SELECT ?e WHERE { GRAPH <https://w3id.org/borderkg/graph/analyses> "
    ...     "{ ?e <https://w3id.org/borderkg/def/pageRank> ?r } } ORDER BY DESC(?r) LIMIT 1")
    >>> [r["e"].value for r in rows]
    ['https://example.org/usa']
    """
    computed = compute_analyses(projection, measures, community_seed, seed, k, backend)
    return store_analyses(store, projection, computed)


def check_measures(projection: Projection, measures: Iterable[str], k: int | None = None,
                   backend: str = "auto") -> tuple[str, ...]:
    """The distinct measures asked for, after the caps of every one (no work yet)."""
    chosen = tuple(dict.fromkeys(measures))
    unknown = [m for m in chosen if m not in MEASURES]
    if unknown:
        raise BadParameter(f"unknown measure(s) {', '.join(unknown)}; expected "
                           f"{', '.join(MEASURES)}", parameter="measure")
    for measure in chosen:
        check_scores(projection, measure, backend, k)
    check_communities(projection, backend=backend)
    return chosen


def compute_analyses(projection: Projection,
                     measures: Iterable[str] = ("pagerank", "betweenness", "degree"),
                     community_seed: int = 0, seed: int = 0, k: int | None = None,
                     backend: str = "auto") -> Computed:
    """Every node's score for each measure, and Louvain communities; nothing written."""
    chosen = check_measures(projection, measures, k, backend)
    started = _now()
    results = {m: scores(projection, m, backend, k, seed) for m in chosen}
    return Computed(results, communities(projection, seed=community_seed, backend=backend),
                    started)


def store_analyses(store: Store, projection: Projection, computed: Computed) -> WriteReport:
    """Replace the analyses graph with ``computed``, in one update."""
    results, found, started = computed.results, computed.communities, computed.started
    chosen = tuple(results)
    parameters = {"measures": {m: {"backend": r[0], **r[1]} for m, r in results.items()},
                  "communities": {"algorithm": found.algorithm, "backend": found.backend,
                                  **found.parameters},
                  "projection": _options(projection), "store_version": projection.version}
    run = ids.thing("analysis-run", _digest(parameters, started))
    triples = [*_vocabulary(), *_run(run, projection, parameters, started, _now())]
    for measure, (_, _, values) in results.items():
        term = NamedNode(MEASURE_TERMS[measure])
        triples += [(NamedNode(n), term, Literal(repr(float(x)), datatype=DOUBLE))
                    for n, x in sorted(values.items())]
    triples += list(_communities(run, found.groups))
    body = "\n".join(f"{s} {p} {o} ." for s, p, o in triples)
    store.update(f"DROP SILENT GRAPH <{GRAPH}> ;\nINSERT DATA {{ GRAPH <{GRAPH}> {{\n{body}\n}} }}")
    return WriteReport(run, GRAPH, len(triples), chosen, len(found.groups))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _digest(parameters: dict[str, Any], started: datetime) -> str:
    text = json.dumps(parameters, sort_keys=True) + started.isoformat()
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def _options(projection: Projection) -> dict[str, Any]:
    o = projection.options
    return {"graphs": list(projection.graphs), "predicates": list(o.predicates or ()),
            "classes": list(o.classes or ()), "include": sorted(o.include),
            "collapse_observations": o.collapse_observations}


def _vocabulary() -> Iterator[tuple[Any, Any, Any]]:
    for t in parse(ontology.read_text("analysis.ttl").encode("utf-8"), RdfFormat.TURTLE):
        yield t.subject, t.predicate, t.object


def _run(run: str, projection: Projection, parameters: dict[str, Any], started: datetime,
         ended: datetime) -> Iterator[tuple[Any, Any, Any]]:
    node = NamedNode(run)
    measures = ", ".join(parameters["measures"])
    yield node, NamedNode(v.RDF_TYPE), NamedNode(bkg_analysis.AnalysisRun)
    yield node, NamedNode(v.RDF_TYPE), NamedNode(v.PROV + "Activity")
    yield node, NamedNode(v.RDFS_LABEL), Literal(f"analysis run: {measures}, communities",
                                                 language="en")
    yield node, NamedNode(v.PROV + "startedAtTime"), Literal(started.isoformat(),
                                                             datatype=DATETIME)
    yield node, NamedNode(v.PROV + "endedAtTime"), Literal(ended.isoformat(), datatype=DATETIME)
    yield node, NamedNode(bkg_analysis.analysisParameters), Literal(
        json.dumps(parameters, sort_keys=True))
    for graph in projection.graphs:
        if graph:
            yield node, NamedNode(v.PROV + "used"), NamedNode(graph)
    yield NamedNode(GRAPH), NamedNode(v.PROV + "wasGeneratedBy"), node
    yield NamedNode(GRAPH), NamedNode(v.RDF_TYPE), NamedNode(v.PROV + "Entity")


def _communities(run: str, groups: tuple[tuple[str, ...], ...]
                 ) -> Iterator[tuple[Any, Any, Any]]:
    for i, members in enumerate(groups, start=1):
        community = NamedNode(f"{run}/community/{i}")
        yield community, NamedNode(v.RDF_TYPE), NamedNode(bkg_analysis.Community)
        yield community, NamedNode(v.RDFS_LABEL), Literal(
            f"community {i} ({len(members)} members)", language="en")
        yield community, NamedNode(v.PROV + "wasGeneratedBy"), NamedNode(run)
        for member in members:
            yield NamedNode(member), NamedNode(bkg_analysis.community), community
