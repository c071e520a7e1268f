"""Bad input to every command: one line on stderr, a non-zero exit, never a traceback.

Each case runs the real ``borderkg`` command in a subprocess with its own data directory
(the memory store where the case allows it). The shape is pinned: stderr is exactly one
line, ``borderkg: error: <reason>``; a misused command line (click's usage errors, and
``serve``'s refusals) exits 2 and ends by pointing at the command's ``--help``, every
other mistake exits 1. Only a group called without a subcommand prints its help.
"""
from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import ARTICLE, LiveServer, free_port

MEMORY = ("--store", "memory")
CBP_HEADER = ("Fiscal Year,Month (abbv),Land Border Region,Demographic,Citizenship,"
              "Title of Authority,Encounter Count,State\n")


def borderkg(*args: str, data_dir: Path, env: dict[str, str] | None = None,
             timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_DATA_DIR"] = str(data_dir)
    environ["BORDERKG_ARTICLE"] = str(ARTICLE)
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=timeout)


def make_inputs(root: Path) -> None:
    """The bad (and a few good) files the cases name as ``{dir}/<name>``."""
    (root / "good.ttl").write_text("<http://example.org/s> <http://example.org/p> 1 .\n")
    whole = gzip.compress((root / "good.ttl").read_bytes())
    (root / "truncated.ttl.gz").write_bytes(whole[: len(whole) // 2])
    (root / "garbage.nt.gz").write_bytes(b"\x1f\x8b" + b"not deflate data at all")
    (root / "garbage.jsonld.gz").write_bytes(b"\x1f\x8b" + b"not deflate data at all")
    (root / "latin1.rq").write_bytes("SELECT * WHERE { ?s ?p \"café\" }".encode("latin-1"))
    (root / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (root / "latin1.csv").write_bytes(CBP_HEADER.encode() + "2023,JAN,Sé,x,y,z,1,TX\n"
                                      .encode("latin-1"))
    (root / "latin1.csv.gz").write_bytes(gzip.compress((root / "latin1.csv").read_bytes()))
    (root / "garbage.csv").write_bytes(b"\x1f\x8b" + b"not deflate data at all")
    huge = "a" * 200_000  # over the csv module's field limit
    (root / "huge-field.csv").write_text(CBP_HEADER + f'2023,JAN,x,y,z,t,5,"{huge}"\n')
    (root / "huge-field.psv").write_text(f'month|fy|cy|big_bend\n1|2020|2020|"{huge}"\n')
    (root / "empty.csv").write_bytes(b"")
    (root / "empty.rq").write_bytes(b"")
    (root / "binary.toml").write_bytes(bytes(range(128, 256)))
    (root / "bad.toml").write_text("port = \n")
    (root / "unknown.toml").write_text("colour = 'blue'\n")
    (root / "adir").mkdir()
    (root / "regular").write_text("a file, not a directory\n")


# (arguments, exit status, what the one line says); ``{dir}`` is the inputs' directory
CASES: list[tuple[tuple[str, ...], int, str]] = [
    # -- load ---------------------------------------------------------------------------
    (("load", "{dir}/good.ttl", "--graph", "default", *MEMORY), 1,
     "graph 'default' is not an absolute IRI"),
    (("load", "{dir}/good.ttl", "--graph", "foo", *MEMORY), 1,
     "graph 'foo' is not an absolute IRI"),
    (("load", "{dir}/good.ttl", "--graph", "foo", "--bulk", *MEMORY), 1,
     "graph 'foo' is not an absolute IRI"),
    (("load", "{dir}/good.ttl", "--base", "not an iri", *MEMORY), 1,
     "base 'not an iri' is not an absolute IRI"),
    (("load", "{dir}/truncated.ttl.gz", *MEMORY), 1,
     "truncated.ttl.gz: not a valid gzip file (Compressed file ended before the "
     "end-of-stream marker was reached); nothing of this file was loaded"),
    (("load", "{dir}/garbage.nt.gz", "--bulk", *MEMORY), 1,
     "garbage.nt.gz: not a valid gzip file"),
    (("load", "{dir}/garbage.jsonld.gz", *MEMORY), 1, "garbage.jsonld.gz: not a valid gzip file"),
    (("load", "{dir}/binary.csv", *MEMORY), 1, "cannot tell the format of binary.csv"),
    (("load", "{dir}/binary.csv", "--format", "turtle", *MEMORY), 1,
     "binary.csv: line 1, column 1"),
    (("load", "{dir}/good.ttl", "--format", "xyz", *MEMORY), 1, "unknown format 'xyz'"),
    (("load", "{dir}/good.ttl", "--format", "jsonld", *MEMORY), 1, "JSON-LD is not valid JSON"),
    (("load", "{dir}/good.ttl", "--format", "trig", "--graph", "http://example.org/g",
      *MEMORY), 1, "--graph applies to triple formats only"),
    (("load", "{dir}/adir", *MEMORY), 2, "File '{dir}/adir' is a directory"),
    (("load", "{dir}/missing.ttl", *MEMORY), 2, "File '{dir}/missing.ttl' does not exist"),
    (("load", *MEMORY), 2, "Missing argument 'FILES...'"),
    # -- query --------------------------------------------------------------------------
    (("query", "--file", "{dir}/latin1.rq", *MEMORY), 1,
     "latin1.rq: not UTF-8 text (byte 0xe9 at offset 27); SPARQL files must be UTF-8"),
    (("query", "--file", "{dir}/empty.rq", *MEMORY), 1, "SPARQL query syntax error"),
    (("query", "--file", "{dir}/adir", *MEMORY), 2, "is a directory"),
    (("query", "--file", "{dir}/missing.rq", *MEMORY), 2, "does not exist"),
    (("query", "SELECT * WHERE { ?s ?p", *MEMORY), 1, "SPARQL query syntax error: error at 1:"),
    (("query", "INSERT DATA { <http://a> <http://b> <http://c> }", *MEMORY), 1,
     "SPARQL query syntax error"),
    (("query", "SELECT * FROM <relative> { ?s ?p ?o }", *MEMORY), 1,
     "FROM <relative>: No scheme found in an absolute IRI; the command line has no base IRI"),
    (("query", "SELECT * FROM NAMED <rel> { GRAPH ?g { ?s ?p ?o } }", *MEMORY), 1,
     "FROM NAMED <rel>"),
    (("query", "ASK {}", "--format", "turtle", *MEMORY), 1,
     "format turtle is for graphs; an ASK answer is written as"),
    (("query", "SELECT * {}", "--format", "ntriples", *MEMORY), 1, "format ntriples is for graphs"),
    (("query", "CONSTRUCT WHERE { ?s ?p ?o }", "--format", "csv", *MEMORY), 1,
     "format csv is for SELECT results"),
    (("query", "ASK {}", "--format", "yaml", *MEMORY), 2,
     "Invalid value for '--format': 'yaml' is not one of"),
    (("query", *MEMORY), 2, "give a query string or --file"),
    (("query", "ASK {}", "--bogus", *MEMORY), 2, "No such option '--bogus'"),
    # -- settings, config, data directory (every command) -------------------------------
    (("query", "ASK {}", "--config", "{dir}/binary.toml", *MEMORY), 1,
     "config file {dir}/binary.toml is not UTF-8 text"),
    (("query", "ASK {}", "--config", "{dir}/bad.toml", *MEMORY), 1, "config file {dir}/bad.toml"),
    (("query", "ASK {}", "--config", "{dir}/unknown.toml", *MEMORY), 1, "unknown settings colour"),
    (("query", "ASK {}", "--config", "{dir}/adir", *MEMORY), 1, "cannot read config file"),
    (("query", "ASK {}", "--store", "postgres"), 1, "expected one of disk, memory, remote"),
    (("query", "ASK {}", "--data-dir", "/proc/self/borderkg"), 1,
     "cannot use data directory /proc/self/borderkg (--data-dir, BORDERKG_DATA_DIR)"),
    (("load", "{dir}/good.ttl", "--data-dir", "{dir}/regular"), 1,
     "cannot use data directory {dir}/regular (--data-dir, BORDERKG_DATA_DIR): cannot create "
     "{dir}/regular/store: a regular file is in the way"),
    (("build", "--data-dir", "{dir}/regular/below"), 1, "cannot use data directory"),
    (("import", "cbp-encounters", "{dir}/empty.csv", "--data-dir", "/proc/self/x"), 1,
     "cannot use data directory /proc/self/x"),
    (("reconcile", "--data-dir", "/proc/self/x"), 1, "cannot use data directory"),
    (("validate", "--data-dir", "{dir}/regular"), 1, "cannot use data directory"),
    # -- import -------------------------------------------------------------------------
    (("import", "cbp-encounters", "{dir}/binary.csv", *MEMORY), 1,
     "binary.csv: not UTF-8 text (byte 0x80 cannot start or continue a character)"),
    (("import", "usbp-monthly", "{dir}/binary.csv", *MEMORY), 1, "binary.csv: not UTF-8 text"),
    (("import", "cbp-encounters", "{dir}/latin1.csv", *MEMORY), 1,
     "latin1.csv: not UTF-8 text (byte 0xe9"),
    (("import", "cbp-encounters", "{dir}/latin1.csv.gz", *MEMORY), 1,
     "latin1.csv.gz: not UTF-8 text"),
    (("import", "usbp-monthly", "{dir}/latin1.csv", *MEMORY), 1, "latin1.csv: not UTF-8 text"),
    (("import", "cbp-encounters", "{dir}/garbage.csv", *MEMORY), 1,
     "garbage.csv: line 1: not a valid gzip file"),
    (("import", "usbp-monthly", "{dir}/garbage.csv", *MEMORY), 1,
     "garbage.csv: line 1: not a valid gzip file"),
    (("import", "cbp-encounters", "{dir}/huge-field.csv", *MEMORY), 1,
     "huge-field.csv: line 2: cannot be read as a table (field larger than field limit"),
    (("import", "usbp-monthly", "{dir}/huge-field.psv", *MEMORY), 1,
     "huge-field.psv: line 2: cannot be read as a table (field larger than field limit"),
    (("import", "cbp-encounters", "{dir}/empty.csv", *MEMORY), 1,
     "empty.csv: line 1: the file is empty; nothing was imported"),
    (("import", "usbp-monthly", "{dir}/empty.csv", *MEMORY), 1, "not a USBP monthly table"),
    (("import", "cbp-encounters", "{dir}/adir", *MEMORY), 2, "is a directory"),
    (("import", "usbp-monthly", "{dir}/missing.csv", *MEMORY), 2, "does not exist"),
    (("import", "cbp-encounters", "{dir}/empty.csv", "--format", "xml", *MEMORY), 2,
     "Invalid value for '--format'"),
    (("import", "nope", *MEMORY), 2, "No such command 'nope'"),
    # -- build, reconcile ---------------------------------------------------------------
    (("build", "--article", "{dir}/missing.txt", *MEMORY), 1, "article not found"),
    (("build", "--article", "{dir}/empty.csv", *MEMORY), 1, "is not the founding article"),
    (("reconcile", "--format", "xml", *MEMORY), 2, "Invalid value for '--format'"),
    # -- serve: refused before anything starts ------------------------------------------
    (("serve", "--port", "99999", *MEMORY), 2, "port 99999 is not a TCP port (1-65535)"),
    (("serve", "--port", "0", *MEMORY), 2, "port 0 is not a TCP port (1-65535)"),
    (("serve", "--port", "-1", *MEMORY), 2, "port -1 is not a TCP port (1-65535)"),
    (("serve", "--port", "http", *MEMORY), 1, "setting port from command line"),
    (("serve", "--host", "localhost", "--port", "{port}", *MEMORY), 2,
     "host 'localhost' is not an IP address"),
    (("serve", "--host", "203.0.113.7", "--port", "{port}", *MEMORY), 2,
     "cannot listen on 203.0.113.7:{port}: Cannot assign requested address"),
    (("serve", "--host", "no-such-host.invalid", "--http-server", "gunicorn", "--port",
      "{port}", *MEMORY), 2, "cannot listen on no-such-host.invalid:{port}"),
    (("serve", "--data-dir", "/proc/self/x", "--port", "{port}"), 1,
     "cannot use data directory /proc/self/x"),
    (("serve", "--workers", "2", "--store", "disk"), 2, "--workers > 1 needs --store remote"),
    # -- analyze ------------------------------------------------------------------------
    (("analyze", "components", "--limit", "-1", *MEMORY), 2,
     "Invalid value for '--limit': -1 is not in the range x>=1"),
    (("analyze", "communities", "--members", "0", *MEMORY), 2,
     "Invalid value for '--members': 0 is not in the range x>=1"),
    (("analyze", "centrality", "--predicate", "memberOf", *MEMORY), 2,
     "Invalid value for '--predicate': 'memberOf' is not an absolute IRI"),
    (("analyze", "centrality", "--class", "not an iri", *MEMORY), 2,
     "Invalid value for '--class': 'not an iri' is not an absolute IRI"),
    (("analyze", "path", "ICE", "DHS", "-k", "0", *MEMORY), 1, "k must be between 1 and 50"),
    (("analyze", "similar", "Nobody At All", *MEMORY), 1, "no entity named 'Nobody At All'"),
    (("analyze", "neighbours", "ICE", "--hops", "many", *MEMORY), 2, "is not a valid integer"),
]


def _ids() -> list[str]:
    return [" ".join(a for a in args if not a.startswith("--store") and a != "memory")
            for args, _, _ in CASES]


@pytest.mark.parametrize("args, status, message", CASES, ids=_ids())
def test_bad_input_is_one_line_and_a_non_zero_exit(tmp_path: Path, args: tuple[str, ...],
                                                   status: int, message: str) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    make_inputs(inputs)
    port = str(free_port())

    def fill(text: str) -> str:
        return text.replace("{dir}", str(inputs)).replace("{port}", port)

    result = borderkg(*map(fill, args), data_dir=tmp_path / "data")
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("borderkg: error: "), lines[0]
    assert fill(message) in lines[0]
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    if status == 2:  # a misused command line points at the command's help
        assert lines[0].endswith(" --help')")


def test_a_group_without_a_subcommand_prints_its_help(tmp_path: Path) -> None:
    from server.cli_data import import_group

    result = borderkg("import", data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: borderkg import [OPTIONS] COMMAND")
    assert "Traceback" not in result.stderr and result.stdout == ""
    # every importer, each with its summary, and nothing else
    section = result.stderr.split("\nCommands:\n", 1)[1]
    listed = dict(re.findall(r"^  (\S+) +(\S.*)$", section, re.M))
    width = 80 - 6 - max(map(len, import_group.commands))  # click's summary width at 80
    assert listed == {name: command.get_short_help_str(width)
                      for name, command in import_group.commands.items()}
    assert {"cbp-encounters", "usbp-monthly", "ice-removals"} <= set(listed)


def test_empty_rdf_file_is_an_empty_graph_not_an_error(tmp_path: Path) -> None:
    """A zero-byte Turtle file is a valid, empty document: loading it adds nothing."""
    empty = tmp_path / "empty.ttl"
    empty.write_bytes(b"")
    result = borderkg("load", str(empty), *MEMORY, data_dir=tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{empty}: 0 triples (Turtle)")


def test_a_taken_port_is_refused_and_the_first_server_keeps_answering(
        start_server: Any, tmp_path: Path) -> None:
    first: LiveServer = start_server(store="memory", extra=["--empty"])
    started = time.monotonic()
    second = borderkg("serve", *MEMORY, "--empty", "--port", str(first.port),
                      data_dir=tmp_path / "second", timeout=30)
    assert time.monotonic() - started < 15
    assert second.returncode == 2
    assert second.stderr.splitlines() == [
        f"borderkg: error: 127.0.0.1:{first.port} is already in use: another process listens "
        "there; stop it or choose another --port (see 'borderkg serve --help')"]
    assert requests.get(first.url + "/healthz", timeout=5).status_code == 200


def test_a_port_a_stopped_server_used_can_be_taken_again(tmp_path: Path) -> None:
    """The check must not mistake a closed server's lingering connections for a listener."""
    port = free_port()
    args = [sys.executable, "-m", "server.cli", "serve", *MEMORY, "--empty", "--port", str(port),
            "--data-dir", str(tmp_path / "data")]
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    for attempt in range(2):
        server = LiveServer(args, environ, port).start(tmp_path / f"server-{attempt}.log")
        try:
            assert requests.get(server.url + "/healthz", timeout=5).status_code == 200
        finally:
            server.stop()


def test_a_port_from_the_environment_is_checked_like_the_option(tmp_path: Path) -> None:
    result = borderkg("serve", *MEMORY, "--empty", data_dir=tmp_path,
                      env={"BORDERKG_PORT": "70000"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "borderkg: error: port 70000 is not a TCP port (1-65535) (see 'borderkg serve --help')"]
