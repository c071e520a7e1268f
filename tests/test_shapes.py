"""SHACL: the built seed conforms, and every node shape rejects its broken example."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat
from rdflib import Dataset, Graph, URIRef
from rdflib.namespace import RDF, SH

import ontology
from graph.knowledge.build import build
from graph.knowledge.validate import validate, validate_graph
from graph.store.oxigraph import OxigraphStore
from tests._paths import ARTICLE_PATH, DATA, seed_dataset

SHAPES = Graph().parse(ontology.shapes_path(), format="turtle")
NODE_SHAPES = sorted(str(s) for s in SHAPES.subjects(RDF.type, SH.NodeShape))
EXAMPLES = DATA / "shapes"


def test_seed_conforms_quickly() -> None:
    ds = seed_dataset()
    started = time.perf_counter()
    result = validate(ds)
    elapsed = time.perf_counter() - started
    assert result.conforms, result.report
    assert elapsed < 5


def test_there_are_shapes_and_examples() -> None:
    assert len(NODE_SHAPES) >= 15
    names = {s.rsplit("#", 1)[1] for s in NODE_SHAPES}
    assert {p.stem for p in EXAMPLES.glob("*.ttl")} == names


def _violated_node_shapes(report: Graph) -> set[str]:
    parents = {ps: ns for ns, ps in SHAPES.subject_objects(SH.property)}
    found = set()
    for result in report.subjects(RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        found.add(str(parents.get(source, source)))
    return found


@pytest.mark.parametrize("shape", NODE_SHAPES, ids=lambda s: s.rsplit("#", 1)[1])
def test_shape_rejects_its_broken_example(shape: str) -> None:
    example: Path = EXAMPLES / f"{shape.rsplit('#', 1)[1]}.ttl"
    assert example.is_file(), f"no broken example for {shape}"
    data = Graph().parse(example, format="turtle")
    data += Graph().parse(ontology.ontology_path(), format="turtle")
    result = validate_graph(data, SHAPES)
    assert not result.conforms
    assert shape in _violated_node_shapes(result.report_graph), result.report


def built_dataset() -> Dataset:
    """Every graph a build writes, as an rdflib dataset."""
    store = OxigraphStore(None)
    build(store, ARTICLE_PATH)
    out = io.BytesIO()
    store.dump(out, RdfFormat.N_QUADS)
    dataset = Dataset()
    dataset.parse(data=out.getvalue(), format="nquads")
    return dataset


def test_every_node_shape_targets_something_in_the_seed() -> None:
    """A shape whose target never occurs in a fresh build (the seed and the checks the
    build writes into the reconciliation graph) would pass vacuously."""
    from graph.knowledge.validate import union_graph

    built = built_dataset()
    union = union_graph(built, tuple(str(g.identifier) for g in built.graphs()))
    for shape in NODE_SHAPES:
        target = SHAPES.value(URIRef(shape), SH.targetClass)
        subclasses = set(
            union.transitive_subjects(
                URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"), target
            )
        )
        assert any((None, RDF.type, c) in union for c in subclasses), shape
