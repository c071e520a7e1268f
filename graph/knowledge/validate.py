"""SHACL validation of the seed dataset against ``ontology/shapes.ttl``.

Validation runs over the union of the seed graphs, the ontology included, so that
``sh:class`` follows ``rdfs:subClassOf`` (a ``bkg:GovernmentAgency`` is an
``org:Organization``) without a reasoner: ``inference="none"`` keeps it to a fraction of a
second on the seed, where RDFS inference would add time and entailed triples that the shapes
do not need.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyshacl
from rdflib import Dataset, Graph

import ontology
from graph import ids

__all__ = ["ValidationResult", "load_shapes", "union_graph", "validate", "validate_graph"]

SEED_GRAPHS = (ids.GRAPH_ONTOLOGY, ids.GRAPH_BACKGROUND, ids.GRAPH_REFERENCE,
               ids.GRAPH_ARTICLE)


@dataclass(frozen=True)
class ValidationResult:
    """Whether the data conforms, the human-readable report, and the report as a graph."""

    conforms: bool
    report: str
    report_graph: Graph


def union_graph(dataset: Dataset, graphs: tuple[str, ...] = SEED_GRAPHS) -> Graph:
    """The triples of ``graphs`` of ``dataset`` in one graph."""
    union = Graph()
    for name in graphs:
        for triple in dataset.graph(name):
            union.add(triple)
    return union


def load_shapes() -> Graph:
    """The SHACL shapes graph."""
    return Graph().parse(ontology.shapes_path(), format="turtle")


def validate_graph(data: Graph, shapes: Graph | None = None) -> ValidationResult:
    """Validate one graph (which should include the ontology) against ``shapes``.

    Pass the shapes graph to relate report results (``sh:sourceShape``) to its blank nodes.
    """
    shapes = load_shapes() if shapes is None else shapes
    conforms, report_graph, report = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=False
    )
    return ValidationResult(bool(conforms), str(report), report_graph)


def validate(dataset: Dataset) -> ValidationResult:
    """Validate the union of the seed graphs of ``dataset``."""
    return validate_graph(union_graph(dataset))
