"""``borderkg analyze``: each subcommand on a fresh in-memory store built from the seed."""
from __future__ import annotations

import json

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


@pytest.mark.parametrize("args,expected", [
    (["centrality", "--measure", "degree", "--limit", "3"], "U.S. Department of Homeland"),
    (["neighbours", "Laken Riley Act"], "advanced by U.S. lawmakers [sentence 17]"),
    (["communities", "--seed", "1"], "modularity"),
    (["components"], "components"),
    (["connectors", "--limit", "2"], "articulation points"),
    (["similar", "ICE", "--limit", "2"], "jaccard"),
    (["write", "--measure", "pagerank"], "written to https://w3id.org/borderkg/graph/analyses"),
])
def test_subcommands(args: list[str], expected: str) -> None:
    assert expected in run(*args)


def test_unknown_entity_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    from server.cli import main

    assert main(["analyze", "similar", "Chinna", *STORE]) == 1
    assert "no entity named 'Chinna'" in capsys.readouterr().err
