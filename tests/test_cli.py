"""The ``borderkg`` command: real runs in subprocesses, user mistakes as one clear line."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ARTICLE


def borderkg(*args: str, data_dir: Path, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_DATA_DIR"] = str(data_dir)
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("cli")
    result = borderkg("build", "--article", str(ARTICLE), data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    return data_dir


def test_help_lists_every_command(tmp_path: Path) -> None:
    out = borderkg("--help", data_dir=tmp_path).stdout
    for command in ("build", "validate", "query", "serve", "load", "import", "reconcile",
                    "analyze"):
        assert f"  {command}" in out


@pytest.mark.parametrize("command", ["build", "validate", "query", "serve"])
def test_each_command_has_help(command: str, tmp_path: Path) -> None:
    result = borderkg(command, "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "--data-dir" in result.stdout


def test_build_reports_quads_per_graph_and_is_idempotent(built: Path) -> None:
    again = borderkg("build", "--article", str(ARTICLE), data_dir=built)
    assert again.returncode == 0, again.stderr
    count = borderkg("query", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                     "--format", "json", data_dir=built)
    first_total = int(again.stdout.strip().splitlines()[-1].split()[0])
    n = json.loads(count.stdout)["results"]["bindings"][0]["n"]["value"]
    assert int(n) == first_total


def test_query_table_output(built: Path) -> None:
    result = borderkg("query", "SELECT ?g WHERE { GRAPH ?g {} } ORDER BY ?g", data_dir=built)
    assert result.returncode == 0, result.stderr
    assert "https://w3id.org/borderkg/graph/article/000_e1eaba6903481a9d" in result.stdout
    assert result.stdout.splitlines()[0].strip() == "g"


def test_query_from_file_as_csv(built: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("ASK { ?s ?p ?o }")
    result = borderkg("query", "--file", str(query), "--format", "json", data_dir=built)
    assert json.loads(result.stdout)["boolean"] is True


def test_validate_passes_on_the_built_graph(built: Path) -> None:
    result = borderkg("validate", data_dir=built)
    assert result.returncode == 0, result.stdout + result.stderr


def test_syntax_error_is_one_line_with_position(built: Path) -> None:
    result = borderkg("query", "SELECT * WHERE { ?s ?p", data_dir=built)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("borderkg: error: SPARQL query syntax error")
    assert "1:" in lines[0]


@pytest.mark.parametrize("args, message", [
    (("query",), "give a query string or --file"),
    (("query", "ASK {}", "--file", "/etc/hostname"), "give a query string or --file"),
    (("query", "--file", "/no/such/file.rq"), "does not exist"),
    (("build", "--article", "/no/such/article.txt"), "article not found"),
    (("query", "ASK {}", "--store", "postgres"), "expected one of disk, memory, remote"),
])
def test_user_mistakes_exit_non_zero_without_traceback(args: tuple[str, ...], message: str,
                                                       tmp_path: Path) -> None:
    result = borderkg(*args, data_dir=tmp_path)
    assert result.returncode != 0
    [line] = result.stderr.splitlines()
    assert line.startswith("borderkg: error: ") and message in line


@pytest.mark.parametrize("query, message", [
    ("SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * FROM <file:///etc/passwd> { ?s ?p ?o }", "file:///etc/passwd"),
    ("SELECT * " + "{" * 3000 + "}" * 3000, "nest"),
])
def test_query_command_applies_the_query_policy(built: Path, query: str, message: str) -> None:
    result = borderkg("query", query, data_dir=built)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_environment_value_is_reported(tmp_path: Path) -> None:
    result = borderkg("query", "ASK {}", data_dir=tmp_path,
                      env={"BORDERKG_QUERY_TIMEOUT": "soon"})
    assert result.returncode == 1
    assert "setting query_timeout from environment BORDERKG_QUERY_TIMEOUT" in result.stderr
