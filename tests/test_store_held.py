"""Beside a running server on the same disk store, ``borderkg import``/``load``/
``reconcile`` say in one line which server holds the store and what to do instead; the
way out they name for ``load`` (the server's Graph Store protocol) works as written."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from graph.service import open_store_explained
from graph.settings import load_settings
from graph.store.lock import StoreHeld, lock_holder
from graph.store.oxigraph import OxigraphStore
from tests.conftest import TOKEN

DATA = Path(__file__).parent / "imports" / "data"
HELD = re.compile(r"^borderkg: error: the store at (?P<store>\S+) is open in a running "
                  r"borderkg serve \(pid (?P<pid>\d+), (?P<url>http://[\d.]+:\d+)\); ")


def borderkg(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    return subprocess.run([sys.executable, "-m", "server.cli", *args, "--data-dir",
                           str(data_dir)], env=env, capture_output=True, text=True,
                          timeout=300)


def held_line(result: subprocess.CompletedProcess[str], server: Any,
              data_dir: Path) -> tuple[re.Match[str], str]:
    """The one error line, checked to name this server's store, process and address."""
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    assert "Traceback" not in result.stderr and "LOCK" not in line
    match = HELD.match(line)
    assert match, line
    assert match["store"] == str(data_dir / "store")
    assert os.getpgid(int(match["pid"])) == server.process.pid  # a process of that server
    assert match["url"] == server.url
    return match, line[match.end():]


@pytest.fixture
def running(start_server: Any, tmp_path: Path) -> tuple[Any, Path]:
    data_dir = tmp_path / "data"
    return start_server(store="disk", data_dir=data_dir), data_dir


def test_import_beside_a_running_server_is_one_line_naming_it(
        running: tuple[Any, Path]) -> None:
    server, data_dir = running
    table = str(DATA / "cbp-aor-sample.csv")
    _, remedy = held_line(borderkg("import", "cbp-encounters", table, data_dir=data_dir),
                          server, data_dir)
    assert remedy == "stop it, run this import, and start it again"
    _, remedy = held_line(borderkg("reconcile", data_dir=data_dir), server, data_dir)
    assert remedy.endswith(f"ask the server: {server.url}/reconciliation")
    assert requests.get(server.url + "/reconciliation", timeout=30).status_code == 200
    server.stop()
    done = borderkg("import", "cbp-encounters", table, data_dir=data_dir)
    assert done.returncode == 0 and "(imported)" in done.stdout, done.stderr


def test_load_beside_a_running_server_names_a_request_that_works(
        running: tuple[Any, Path], tmp_path: Path) -> None:
    server, data_dir = running
    triples = tmp_path / "extra.nt"
    triples.write_text('<http://example.org/held/s> <http://example.org/held/p> "1" .\n')
    graph = "http://example.org/held/graph"
    _, remedy = held_line(borderkg("load", str(triples), "--graph", graph, data_dir=data_dir),
                          server, data_dir)
    command = re.search(r"curl --data-binary @(\S+) -X POST -H \"Authorization: Bearer "
                        r"\$BORDERKG_UPDATE_TOKEN\" -H 'Content-Type: ([^']+)' '([^']+)'$",
                        remedy)
    assert command, remedy
    path, media, url = command.groups()
    assert (path, media) == (str(triples), "application/n-triples")
    sent = requests.post(url, data=Path(path).read_bytes(), timeout=30,
                         headers={"Content-Type": media, "Authorization": f"Bearer {TOKEN}"})
    assert sent.status_code in (201, 204), sent.text
    ask = requests.get(server.url + "/sparql", timeout=30, params={
        "query": f"ASK {{ GRAPH <{graph}> {{ <http://example.org/held/s> ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"})
    assert ask.json()["boolean"] is True


def test_the_holder_is_told_from_the_lock_table(tmp_path: Path) -> None:
    store = OxigraphStore(tmp_path / "store")
    try:
        assert lock_holder(tmp_path / "store") == os.getpid()
        settings = load_settings({"store": "disk", "data_dir": str(tmp_path)}, environ={})
        with pytest.raises(StoreHeld) as info:
            open_store_explained(settings)
        assert info.value.message == f"the store at {tmp_path / 'store'} is already open " \
                                     "in this process"
    finally:
        store.close()
    assert lock_holder(tmp_path / "store") is None
    open_store_explained(load_settings({"store": "disk", "data_dir": str(tmp_path)},
                                       environ={})).close()
