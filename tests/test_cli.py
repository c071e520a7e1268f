"""The ``borderkg`` command: real runs in subprocesses, user mistakes as one clear line."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def help_commands(out: str) -> dict[str, str]:
    """The ``Commands:`` section of a help text: each command and its one-line summary."""
    section = out.split("\nCommands:\n", 1)[1]
    return dict(re.findall(r"^  (\S+) +(\S.*)$", section, re.M))


def test_help_lists_every_command(tmp_path: Path) -> None:
    from server.cli import LAZY_COMMANDS, cli

    result = borderkg("--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    expected = {name: LAZY_COMMANDS[name][1] for name in LAZY_COMMANDS}
    expected.update({name: command.get_short_help_str(60)
                     for name, command in cli.commands.items()})
    assert help_commands(result.stdout) == expected
    for command in ("build", "validate", "query", "serve", "load", "import", "reconcile",
                    "analyze"):
        assert command in expected


@pytest.mark.parametrize("command", ["build", "validate", "query", "serve"])
def test_each_command_has_help(command: str, tmp_path: Path) -> None:
    result = borderkg(command, "--help", data_dir=tmp_path)
    assert result.returncode == 0
    assert "--data-dir" in result.stdout


def built_store(data_dir: Path) -> Any:
    """The disk store a command wrote under ``data_dir``, opened in this process (the
    command has exited and released it); close it before the next command runs."""
    from graph.store.oxigraph import OxigraphStore

    return OxigraphStore(data_dir / "store")


def store_rows(data_dir: Path, text: str) -> list[list[str]]:
    """``text`` answered by the store itself, each solution as the table renders it."""
    from graph.sparql.output import term_text
    from graph.store.base import solutions

    store = built_store(data_dir)
    try:
        result = solutions(store.query(text))
        names = [v.value for v in result.variables]
        return [[term_text(s[name]) for name in names] for s in result]
    finally:
        store.close()


def table_rows(out: str) -> tuple[list[str], list[list[str]]]:
    """The header and rows of ``query``'s table: columns are where the rule's dash runs are."""
    lines = out.splitlines()
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[1])]
    assert lines[1].strip() and set(lines[1]) <= {"-", " "}, lines[1]

    def cells(line: str) -> list[str]:
        return [line[start:end + 1].strip() if i + 1 < len(spans) else line[start:].strip()
                for i, (start, end) in enumerate(spans)]
    return cells(lines[0]), [cells(line) for line in lines[2:]]


GRAPH_COUNTS = ("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                "GROUP BY ?g ORDER BY ?g")


def test_build_reports_quads_per_graph_and_is_idempotent(built: Path) -> None:
    again = borderkg("build", "--article", str(ARTICLE), data_dir=built)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.strip().splitlines()
    *per_graph, total = [re.fullmatch(r"\s*(\d+) quads  (\S+)(.*)", line) for line in lines]
    assert all(per_graph) and total, again.stdout
    printed = {m.group(2): int(m.group(1)) for m in per_graph if m}
    counts = {g: int(n) for g, n in store_rows(built, GRAPH_COUNTS)}
    # every graph the build wrote, with the count the store holds, and nothing else
    assert printed == counts and len(printed) >= 5
    assert int(total.group(1)) == sum(counts.values())
    assert total.group(2, 3) == ("built", f" from {ARTICLE}")
    first = borderkg("build", "--article", str(ARTICLE), data_dir=built)
    assert first.stdout == again.stdout  # idempotent: a rebuild writes the same quads


def test_query_table_output(built: Path) -> None:
    text = "SELECT ?g WHERE { GRAPH ?g {} } ORDER BY ?g"
    result = borderkg("query", text, data_dir=built)
    assert result.returncode == 0, result.stderr
    header, rows = table_rows(result.stdout)
    assert header == ["g"]
    assert rows == store_rows(built, text)
    assert ["https://w3id.org/borderkg/graph/article/000_e1eaba6903481a9d"] in rows


def test_query_table_has_a_column_per_variable(built: Path) -> None:
    result = borderkg("query", GRAPH_COUNTS, data_dir=built)
    assert result.returncode == 0, result.stderr
    header, rows = table_rows(result.stdout)
    assert header == ["g", "n"]
    expected = store_rows(built, GRAPH_COUNTS)
    assert rows == expected and len(rows) >= 5 and all(int(n) > 0 for _, n in rows)


def test_query_from_file_as_csv(built: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text(GRAPH_COUNTS)
    result = borderkg("query", "--file", str(query), "--format", "csv", data_dir=built)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "g,n"
    assert [line.split(",") for line in lines[1:]] == store_rows(built, GRAPH_COUNTS)
    query.write_text("ASK { ?s ?p ?o }")
    result = borderkg("query", "--file", str(query), "--format", "json", data_dir=built)
    assert json.loads(result.stdout)["boolean"] is True


def test_validate_passes_on_the_built_graph(built: Path) -> None:
    result = borderkg("validate", data_dir=built)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[:2] == ["Validation Report", "Conforms: True"]
    assert "Constraint Violation" not in result.stdout


def test_validate_names_each_violation_and_exits_1(built: Path, tmp_path: Path) -> None:
    """A country without its ISO code in a seed graph: the report names the node and the
    constraint, and the command fails."""
    data_dir = tmp_path / "broken"
    shutil.copytree(built, data_dir)
    bad = tmp_path / "bad.ttl"
    country = "https://example.org/country/atlantis"
    bad.write_text(f"<{country}> a <https://w3id.org/borderkg/def/Country> ; "
                   "<http://www.w3.org/2000/01/rdf-schema#label> \"Atlantis\" .\n")
    loaded = borderkg("load", str(bad), "--graph", "https://w3id.org/borderkg/graph/reference",
                      data_dir=data_dir)
    assert loaded.returncode == 0, loaded.stderr
    result = borderkg("validate", data_dir=data_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Validation Report", "Conforms: False"]
    assert f"Focus Node: <{country}>" in result.stdout
    assert "Result Path: bkg:iso3166Alpha3" in result.stdout or \
        "iso3166Alpha3" in result.stdout
    assert result.stdout.count("Constraint Violation") == 1


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
