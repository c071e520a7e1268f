"""Online backups: ``borderkg backup``/``restore`` beside a real ``borderkg serve``.

The server is killed with SIGKILL in the middle of a backup, backups are taken while
writes of ten triples each run, and every backup is judged by what a restore gives
back: the same quads as the original (N-Quads, sorted), or a count that is a multiple
of ten and within what the writer had done around the backup.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pyoxigraph import RdfFormat, Store

from graph.store.union import HIDDEN
from tests.conftest import ARTICLE, TOKEN, LiveServer

GRAPH = "https://w3id.org/borderkg/graph/backup-writes"
COUNT = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH}> {{ ?s ?p ?o }} }}"


def borderkg(*args: str, token: str | None = TOKEN, timeout: float = 120
             ) -> subprocess.CompletedProcess[str]:
    """The real command in a subprocess, with no BORDERKG_* from the caller's environment."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")}
    environ["BORDERKG_ARTICLE"] = str(ARTICLE)
    if token:
        environ["BORDERKG_UPDATE_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "server.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=timeout)


def one_error_line(result: subprocess.CompletedProcess[str], *words: str) -> str:
    """The command failed with exit 1 and one ``borderkg: error:`` line naming ``words``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert len(lines) == 1 and lines[0].startswith("borderkg: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def sorted_nquads(store_dir: Path, attempts: int = 100) -> list[str]:
    """Every data quad of the disk store at ``store_dir`` as sorted N-Quads lines (waits for a
    killed server's processes to let go of the store)."""
    for attempt in range(attempts):
        try:
            store = Store(str(store_dir))
            break
        except OSError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.1)
    text = store.dump(format=RdfFormat.N_QUADS) or b""
    del store
    hidden = tuple(f"<{g}> ." for g in HIDDEN)  # the store's own merge, not data
    return sorted(line for line in text.decode("utf-8").splitlines()
                  if not line.endswith(hidden))


def manifest(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "manifest.json").read_text()))


def big_nquads(path: Path, quads: int) -> Path:
    """A file of ``quads`` N-Quads in three graphs: enough that a backup's manifest
    phase (the quads are counted in the checkpoint) takes long enough to interrupt."""
    with open(path, "w", encoding="utf-8") as out:
        for i in range(quads):
            out.write(f"<https://w3id.org/borderkg/id/test/s{i}> "
                      f"<https://w3id.org/borderkg/def/p{i % 7}> \"value {i}\" "
                      f"<https://w3id.org/borderkg/graph/test{i % 3}> .\n")
    return path


# -- without a server ----------------------------------------------------------------------
def test_backup_without_server_restores_the_same_quads(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert borderkg("build", "--data-dir", str(data)).returncode == 0
    original = sorted_nquads(data / "store")
    made = borderkg("backup", str(tmp_path / "b1"), "--data-dir", str(data))
    assert made.returncode == 0, made.stderr
    assert "no server holds the store" in made.stdout
    recorded = manifest(tmp_path / "b1")
    assert recorded["quads"] == len(original) > 1000
    assert recorded["kind"] == "rocksdb" and recorded["store"] == "disk"
    assert recorded["borderkg"] and recorded["created"].endswith("+00:00")

    extra = tmp_path / "extra.nt"
    extra.write_text("<https://w3id.org/borderkg/id/x> <https://w3id.org/borderkg/def/y> "
                     "\"changed after the backup\" .\n")
    assert borderkg("load", str(extra), "--data-dir", str(data)).returncode == 0
    assert len(sorted_nquads(data / "store")) == len(original) + 1

    restored = borderkg("restore", str(tmp_path / "b1"), "--data-dir", str(data))
    assert restored.returncode == 0, restored.stderr
    assert f"restored {len(original):,} quads" in restored.stdout
    assert sorted_nquads(data / "store") == original
    assert not list(data.glob("store.*")), "the replaced store is removed after success"
    # the backup was not changed by being restored: it restores again
    assert borderkg("restore", str(tmp_path / "b1"), "--data-dir", str(data),
                    "--keep-previous").returncode == 0
    assert len(list(data.glob("store.previous-*"))) == 1


def test_restore_refuses_what_is_not_a_complete_backup(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert borderkg("build", "--data-dir", str(data)).returncode == 0
    original = sorted_nquads(data / "store")
    assert borderkg("backup", str(tmp_path / "good"), "--data-dir", str(data)).returncode == 0

    (tmp_path / "empty").mkdir()
    one_error_line(borderkg("restore", str(tmp_path / "empty"), "--data-dir", str(data)),
                   "not a complete BorderKG backup", "manifest.json")
    one_error_line(borderkg("restore", str(tmp_path / "nowhere"), "--data-dir", str(data)),
                   "no such directory")
    truncated = tmp_path / "truncated"
    subprocess.run(["cp", "-r", str(tmp_path / "good"), str(truncated)], check=True)
    table = max(truncated.glob("*.sst"), key=lambda p: p.stat().st_size)
    os.truncate(table, table.stat().st_size // 2)
    one_error_line(borderkg("restore", str(truncated), "--data-dir", str(data)),
                   table.name, "the manifest says")
    one_error_line(borderkg("backup", str(tmp_path / "good"), "--data-dir", str(data)),
                   "already exists")
    assert sorted_nquads(data / "store") == original


# -- the server killed during a backup -----------------------------------------------------
def kill_during_backup(server: LiveServer, backups: Path, target: Path,
                       ) -> tuple[Path | None, subprocess.CompletedProcess[str]]:
    """Start ``borderkg backup`` against ``server``; SIGKILL the server once its
    checkpoint is in place and before the manifest is. Returns that directory (None
    when the backup finished first) and the command's outcome."""
    before = set(backups.iterdir()) if backups.exists() else set()
    command = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "backup", str(target), "--data-dir",
         str(backups.parent), "--port", str(server.port)],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("BORDERKG_")},
             "BORDERKG_UPDATE_TOKEN": TOKEN},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    interrupted = None
    deadline = time.monotonic() + 60
    while interrupted is None and command.poll() is None and time.monotonic() < deadline:
        new = set(backups.iterdir()) - before if backups.exists() else set()
        for entry in new:
            # RocksDB writes the checkpoint as NAME.tmp and renames it whole: wait for NAME,
            # every data file there and only the manifest missing
            if entry.suffix != ".tmp" and not (entry / "manifest.json").exists():
                server.stop(9)
                interrupted = entry
        time.sleep(0.001)
    stdout, stderr = command.communicate(timeout=60)
    outcome = subprocess.CompletedProcess(command.args, command.returncode, stdout, stderr)
    if interrupted is not None and (interrupted / "manifest.json").exists():
        interrupted = None  # the manifest was written before the kill landed
    return interrupted, outcome


def test_sigkill_during_backup_leaves_a_refused_directory_and_the_last_backup_restores(
        start_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    data = tmp_path / "data"
    loaded = borderkg("load", str(big_nquads(tmp_path / "big.nq", 150_000)), "--bulk",
                      "--data-dir", str(data))
    assert loaded.returncode == 0, loaded.stderr
    interrupted = None
    for attempt in range(5):
        server = start_server(store="disk", data_dir=data)
        complete = tmp_path / f"complete-{attempt}"
        made = borderkg("backup", str(complete), "--data-dir", str(data),
                        "--port", str(server.port))
        assert made.returncode == 0, made.stderr
        assert f"made by the server at http://127.0.0.1:{server.port}" in made.stdout
        # while the server holds the store, restore refuses and changes nothing
        one_error_line(borderkg("restore", str(complete), "--data-dir", str(data)),
                       "open in another process", "stop it before restoring")
        interrupted, outcome = kill_during_backup(server, data / "backups",
                                                  tmp_path / f"never-{attempt}")
        if interrupted is not None:
            break
        server.stop(9)
    assert interrupted is not None, "no kill landed inside a backup in 5 attempts"
    one_error_line(outcome, "no BorderKG server answers")  # the command saw the server die
    assert not (tmp_path / f"never-{attempt}").exists()

    original = sorted_nquads(data / "store")
    assert manifest(complete)["quads"] == len(original) > 150_000
    assert (interrupted / "CURRENT").is_file(), "the checkpoint itself was complete"
    one_error_line(borderkg("restore", str(interrupted), "--data-dir", str(data)),
                   "not a complete BorderKG backup", "has no manifest.json")
    assert sorted_nquads(data / "store") == original, "a refused restore changed the store"

    restored = borderkg("restore", str(complete), "--data-dir", str(data))
    assert restored.returncode == 0, restored.stderr
    assert sorted_nquads(data / "store") == original


# -- backups while writes run --------------------------------------------------------------
class Writer(threading.Thread):
    """Sequential SPARQL updates of ten triples each; ``done`` counts the answered ones."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.done, self.stop, self.failures = url, 0, threading.Event(), []

    def run(self) -> None:
        session = requests.Session()
        while not self.stop.is_set():
            n = self.done
            triples = " ".join(f"<https://w3id.org/borderkg/id/w/{n}-{k}> "
                               f"<https://w3id.org/borderkg/def/k> {k} ." for k in range(10))
            response = session.post(self.url + "/sparql", timeout=30,
                                    data=f"INSERT DATA {{ GRAPH <{GRAPH}> {{ {triples} }} }}",
                                    headers={"Content-Type": "application/sparql-update",
                                             "Authorization": f"Bearer {TOKEN}"})
            if response.status_code != 204:
                self.failures.append(response.text)
                return
            self.done += 1


def graph_count(store_dir: Path) -> int:
    store = Store(str(store_dir))
    row = next(iter(store.query(COUNT)))
    count = int(row["n"].value)
    del store
    return count


@pytest.mark.parametrize("kind", ["disk", "memory"])
def test_backups_while_writing_hold_whole_updates(
        kind: str, start_server: Callable[..., LiveServer], tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(store=kind, data_dir=data)
    writer = Writer(server.url)
    writer.start()
    taken: list[tuple[Path, int, int]] = []
    try:
        while writer.done < 20:
            time.sleep(0.05)
        for i in range(4):
            before = writer.done
            made = borderkg("backup", str(tmp_path / f"b{i}"), "--store", kind,
                            "--data-dir", str(data), "--port", str(server.port))
            assert made.returncode == 0, made.stderr
            taken.append((tmp_path / f"b{i}", before, writer.done))
    finally:
        writer.stop.set()
        writer.join(30)
    assert not writer.failures, writer.failures[:1]
    assert any(after > before for _, before, after in taken), "no write ran during a backup"
    assert not list((data / "backups").iterdir()), "the command moved each backup out"
    for directory, before, after in taken:
        restored = borderkg("restore", str(directory), "--data-dir", str(tmp_path / directory.name))
        assert restored.returncode == 0, restored.stderr
        count = graph_count(tmp_path / directory.name / "store")
        assert count % 10 == 0, f"{directory.name}: {count} triples, half an update"
        assert 10 * before <= count <= 10 * (after + 1), (directory.name, before, count, after)
        quads = len(sorted_nquads(tmp_path / directory.name / "store"))
        assert manifest(directory)["quads"] == quads


def test_memory_backup_is_the_servers_dataset(start_server: Callable[..., LiveServer],
                                               tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server(store="memory", data_dir=data)
    made = borderkg("backup", str(tmp_path / "b"), "--store", "memory", "--data-dir",
                    str(data), "--port", str(server.port))
    assert made.returncode == 0, made.stderr
    assert "N-Quads dump" in made.stdout
    served = requests.get(server.url + "/graph-store", headers={"Accept": "application/n-quads"})
    assert served.status_code == 200
    dumped = (tmp_path / "b" / "dataset.nq").read_text(encoding="utf-8")
    assert sorted(dumped.splitlines()) == sorted(served.text.splitlines())
    assert manifest(tmp_path / "b")["kind"] == "nquads"

    one_error_line(borderkg("backup", str(tmp_path / "c"), "--store", "memory", "--data-dir",
                            str(tmp_path / "elsewhere"), "--port", str(server.port)),
                   "is not the one of this data directory")
    one_error_line(borderkg("backup", str(tmp_path / "d"), "--store", "memory", "--data-dir",
                            str(data), "--port", str(server.port), token=None),
                   "needs the update token")
    one_error_line(borderkg("restore", str(tmp_path / "b"), "--store", "memory",
                            "--data-dir", str(data)), "--load")
    server.stop()
    one_error_line(borderkg("backup", str(tmp_path / "e"), "--store", "memory", "--data-dir",
                            str(data), "--port", str(server.port)),
                   "no BorderKG server answers", "memory store")


# -- the endpoint --------------------------------------------------------------------------
def test_backup_endpoint_needs_the_token_itself(client: Any, app: Any, tmp_path: Path) -> None:
    assert client.post("/admin/backup").status_code == 401
    wrong = client.post("/admin/backup", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "unauthorized"
    assert not (tmp_path / "backups").exists()
    made = client.post("/admin/backup", headers={"Authorization": f"Bearer {TOKEN}"})
    assert made.status_code == 201
    body = made.get_json()["backup"]
    path = Path(body["path"])
    assert path.is_absolute() and path.parent == tmp_path / "backups"
    assert body["quads"] == app.extensions["borderkg"].store.count() > 1000
    assert manifest(path)["quads"] == body["quads"]


def test_anonymous_writes_do_not_open_backups(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(token=None, extra=["--allow-anonymous-writes"])
    refused = requests.post(server.url + "/admin/backup")
    assert refused.status_code == 403
    assert "update token" in refused.json()["error"]["message"]
