"""``borderkg analyze``: each subcommand on a fresh in-memory store built from the seed."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest
from click.testing import CliRunner

from graph import ids
from server.cli import cli
from tests.conftest import ARTICLE

STORE = ["--store", "memory", "--article", str(ARTICLE)]


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, ["analyze", *args, *STORE], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_path_as_json() -> None:
    body = json.loads(run("path", "ICE", "China", "-k", "1", "--format", "json"))
    assert [n["iri"] for n in body["paths"][0]["nodes"]] == [
        ids.thing("org", "ice"), ids.thing("flight", "chn-removal-5"),
        ids.thing("country", "CHN")]


def test_path_as_text_cites_sentences() -> None:
    text = run("path", "ICE", "China", "-k", "1")
    assert "2 hops" in text and "destination China [sentence 1]" in text


TIMEOUT = 120.0


@pytest.fixture(scope="module")
def projection() -> Any:
    """The projection the commands analyse, made here from a store built the same way
    (memory store, seed from the article, every graph, nothing put back)."""
    from graph.analysis import ProjectionOptions, project
    from graph.knowledge.build import ensure_seed
    from graph.store.oxigraph import OxigraphStore

    store = OxigraphStore(None)
    ensure_seed(store, str(ARTICLE))
    return project(store, ProjectionOptions(graphs="all"))


def table(lines: list[str]) -> list[list[str]]:
    """The rows of an ``analyze`` table (header first): cells are two or more spaces apart."""
    return [re.split(r" {2,}", line.strip()) for line in lines]


def test_centrality_lists_the_ranking(projection: Any) -> None:
    from graph.analysis.bounded import centrality

    lines = run("centrality", "--measure", "degree", "--limit", "3").splitlines()
    ranking = centrality(projection, "degree", limit=3, timeout=TIMEOUT).ranking
    assert len(ranking) == 3
    assert table(lines) == [["rank", "degree", "label", "iri"], *(
        [str(i), f"{score:.6f}", projection.label(node), node]
        for i, (node, score) in enumerate(ranking, 1))]
    assert lines[1].split()[2:] == ["U.S.", "Department", "of", "Homeland", "Security",
                                    ids.thing("org", "dhs")]


def test_neighbours_lists_each_entity_and_relationship(projection: Any) -> None:
    from graph.analysis.bounded import neighbourhood

    text = run("neighbours", "Laken Riley Act")
    found = neighbourhood(projection, "Laken Riley Act", timeout=TIMEOUT)
    rows, edges = text.split("\n\n", 1)
    assert table(rows.splitlines()) == [["hops", "label", "iri"], *(
        [str(d), projection.label(n), n] for n, d in found.distances.items())]
    assert edges.splitlines() == [edge.sentence_text() for edge in found.edges]
    assert "advanced by U.S. lawmakers [sentence 17]" in edges


def test_communities_lists_each_group_and_the_modularity(projection: Any) -> None:
    from graph.analysis.bounded import communities

    lines = run("communities", "--seed", "1").splitlines()
    found = communities(projection, "louvain", seed=1, timeout=TIMEOUT)
    assert len(found.groups) > 1
    assert lines[0] == f"{len(found.groups)} communities, modularity {found.modularity:.4f}"
    assert lines[1:] == [
        f"{i}. ({len(group)}) {', '.join(projection.label(n) for n in group[:10])}"
        f"{' …' if len(group) > 10 else ''}" for i, group in enumerate(found.groups, 1)]


def test_components_lists_each_component(projection: Any) -> None:
    from graph.analysis.bounded import components

    lines = run("components").splitlines()
    found = components(projection, timeout=TIMEOUT)
    assert lines[0] == f"{len(found)} components"
    assert table(lines[1:]) == [["id", "size", "first member"], *(
        [str(i), str(len(c)), projection.label(c[0])] for i, c in enumerate(found, 1))]
    assert sum(len(c) for c in found) == projection.graph.number_of_nodes()


def test_connectors_lists_articulation_points_and_bridges(projection: Any) -> None:
    from graph.analysis.bounded import connectors

    text = run("connectors", "--limit", "2")
    found = connectors(projection, limit=2, timeout=TIMEOUT)
    points, bridges = text.split("\n\nbridges:\n", 1)
    head, *rows = points.splitlines()
    assert head == "articulation points:"
    assert table(rows) == [["degree", "label", "iri"], *(
        [str(d), projection.label(n), n] for n, d in found.articulation_points)]
    assert bridges.splitlines() == [
        "  " + "; ".join(e.sentence_text() for e in edges) for edges in found.bridges]
    assert found.articulation_points and found.bridges


def test_similar_lists_the_scores(projection: Any) -> None:
    from graph.analysis.bounded import similar

    lines = run("similar", "ICE", "--limit", "2").splitlines()
    found = similar(projection, "ICE", limit=2, timeout=TIMEOUT)
    assert len(found) == 2
    assert table(lines) == [["jaccard", "label", "iri"], *(
        [f"{score:.3f}", projection.label(n), n] for n, score in found)]


def test_write_reports_the_triples_it_wrote() -> None:
    line = run("write", "--measure", "pagerank").strip()
    match = re.fullmatch(r"(\d+) triples written to (\S+) by (\S+)", line)
    assert match, line
    assert int(match.group(1)) > 0
    assert match.group(2) == "https://w3id.org/borderkg/graph/analyses"
    assert match.group(3).startswith(ids.thing("analysis-run", ""))


def test_unknown_entity_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    assert main(["analyze", "similar", "Chinna", *STORE]) == 1
    assert "no entity named 'Chinna'" in capsys.readouterr().err
