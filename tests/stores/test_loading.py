"""``borderkg load``: formats, gzip, located syntax errors, all-or-nothing per file."""
from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from pyoxigraph import RdfFormat, parse, serialize

from graph.errors import BadParameter, BadRequest
from graph.store import loading
from graph.store.loading import load_file, load_files
from graph.store.oxigraph import OxigraphStore

EX = "http://example.org/"
TURTLE = f'@prefix ex: <{EX}> .\nex:a ex:p "один" ; ex:q 1 .\nex:b ex:p ex:a .\n'


def write(path: Path, text: str, compress: bool = False) -> Path:
    data = text.encode()
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@pytest.mark.parametrize("fmt", [RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.RDF_XML,
                                 RdfFormat.JSON_LD], ids=lambda f: f.name)
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_formats_by_extension(tmp_path: Path, fmt: RdfFormat, compress: bool) -> None:
    text = serialize(parse(TURTLE.encode(), RdfFormat.TURTLE), format=fmt).decode()
    name = f"data.{fmt.file_extension}" + (".gz" if compress else "")
    store = OxigraphStore(None)
    report = load_file(store, write(tmp_path / name, text, compress), graph=EX + "g",
                       progress=False)
    assert report.triples == 3 and store.count(EX + "g") == 3


def test_dataset_format_and_graph_option_conflict(tmp_path: Path) -> None:
    trig = write(tmp_path / "d.trig", f"<{EX}g> {{ <{EX}a> <{EX}p> <{EX}b> }}")
    store = OxigraphStore(None)
    assert load_file(store, trig, progress=False).triples == 1
    assert store.named_graphs() == [EX + "g"]
    with pytest.raises(BadParameter):
        load_file(store, trig, graph=EX + "other", progress=False)


def test_syntax_error_names_file_line_column_and_loads_nothing(tmp_path: Path) -> None:
    lines = [f"<{EX}s{i}> <{EX}p> <{EX}o> ." for i in range(1000)]
    lines[700] = f"<{EX}s> <{EX}p> ."
    bad = write(tmp_path / "bad.nt.gz", "\n".join(lines) + "\n", compress=True)
    store = OxigraphStore(tmp_path / "db")
    with pytest.raises(BadRequest) as info:
        load_file(store, bad, progress=False)
    error = info.value
    assert error.details["line"] == 701 and error.details["column"] > 0
    assert "bad.nt.gz" in error.message and "line 701" in error.message
    assert store.count(None) == 0


def test_earlier_files_stay_loaded(tmp_path: Path) -> None:
    good = write(tmp_path / "good.ttl", TURTLE)
    bad = write(tmp_path / "bad.ttl", "@prefix ex: <http://e/> .\nex:a ex:b .\n")
    store = OxigraphStore(None)
    with pytest.raises(BadRequest):
        load_files(store, [good, bad], progress=False)
    assert store.count("") == 3


def test_unknown_extension_needs_format(tmp_path: Path) -> None:
    path = write(tmp_path / "data.txt", TURTLE)
    with pytest.raises(BadParameter):
        load_file(OxigraphStore(None), path, progress=False)
    assert load_file(OxigraphStore(None), path, fmt="turtle", progress=False).triples == 3


def test_bulk_load(tmp_path: Path) -> None:
    path = write(tmp_path / "many.nt", "".join(f"<{EX}s{i}> <{EX}p> \"{i}\" .\n"
                                               for i in range(20_000)))
    store = OxigraphStore(tmp_path / "db")
    assert load_file(store, path, bulk=True, progress=False).triples == 20_000
    assert store.count(None) == 20_000


def test_cli_load_into_disk_store(tmp_path: Path) -> None:
    data = write(tmp_path / "data.ttl.gz", TURTLE, compress=True)
    bad = write(tmp_path / "bad.nt", f"<{EX}a> <{EX}b> \"unterminated .\n")
    base = [sys.executable, "-m", "server.cli", "load", "--store", "disk",
            "--data-dir", str(tmp_path / "data")]
    done = subprocess.run([*base, str(data), "--graph", EX + "g"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "3 triples" in done.stdout
    failed = subprocess.run([*base, str(bad)], capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    assert "bad.nt: line 1, column" in failed.stderr
    store = OxigraphStore(tmp_path / "data" / "store")
    assert store.count(EX + "g") == 3 and store.count("") == 0


@pytest.mark.parametrize("backend", ["disk", "memory"])
def test_bulk_load_in_parts_matches_one_transaction(tmp_path: Path, backend: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A line-based file cut into parts loads the same quads as a transactional load."""
    monkeypatch.setattr(loading, "PART_BYTES", 4096)
    lines = [f"<{EX}s{i % 997}> <{EX}p{i % 7}> \"{i}\" <{EX}g{i % 3}> .\n" for i in range(5_000)]
    path = write(tmp_path / "many.nq", "".join(lines + lines[:100]))  # duplicates too
    assert len(loading.split_lines(path, RdfFormat.N_QUADS, 4)) == 4
    parts = OxigraphStore(tmp_path / "parts" if backend == "disk" else None)
    whole = OxigraphStore(None)
    assert load_file(parts, path, bulk=True, progress=False).triples == 5_000
    load_file(whole, path, progress=False)
    assert set(parts.quads()) == \
        set(whole.quads())


def test_bulk_load_keeps_blank_nodes_whole(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A file with blank nodes is not cut: a label names one node across the file."""
    monkeypatch.setattr(loading, "PART_BYTES", 1024)
    body = "".join(f"_:b <{EX}p> \"{i}\" .\n" for i in range(2_000))
    path = write(tmp_path / "blank.nt", body)
    assert loading.split_lines(path, RdfFormat.N_TRIPLES, 4) == []
    store = OxigraphStore(tmp_path / "db")
    load_file(store, path, bulk=True, progress=False)
    assert len({q.subject for q in store.quads()}) == 1


@pytest.mark.parametrize("backend", ["disk", "memory"])
def test_bulk_error_in_a_later_part_names_the_file_line(tmp_path: Path, backend: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "PART_BYTES", 2048)
    lines = [f"<{EX}s{i}> <{EX}p> \"{i}\" .\n" for i in range(3_000)]
    lines[2_500] = f"<{EX}s> <{EX}p> .\n"
    path = write(tmp_path / "bad.nt", "".join(lines))
    assert len(loading.split_lines(path, RdfFormat.N_TRIPLES, 2)) == 2
    store = OxigraphStore(tmp_path / "db" if backend == "disk" else None)
    with pytest.raises(BadRequest) as caught:
        load_file(store, path, bulk=True, progress=False)
    assert caught.value.details["line"] == 2_501
    if backend == "memory":  # parts in order, each a transaction: the ones before stay
        assert 0 < store.count(None) < 2_500
    assert "line 2501" in caught.value.message


def test_serve_load_fills_the_memory_store(start_server: Any, tmp_path: Path) -> None:
    """``serve --load`` answers from the files' quads at its first request (in parts)."""
    lines = [f"<{EX}s{i}> <{EX}p> \"{i}\" <{EX}g{i % 2}> .\n" for i in range(3_000)]
    path = write(tmp_path / "data.nq", "".join(lines))
    server = start_server(extra=["--empty", "--load", str(path)],
                          env={"BORDERKG_LOG_LEVEL": "info"})
    answer = requests.get(server.url + "/sparql", timeout=30, params={
        "query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.json()["results"]["bindings"][0]["n"]["value"] == "3000"
    assert f"loaded {path}" in server.log()


@pytest.mark.parametrize("extra,message", [
    (["--store", "disk"], "load it once with `borderkg load`"),
    (["--store", "memory"], "no such file"),
])
def test_serve_load_refuses_what_it_cannot_do(tmp_path: Path, extra: list[str],
                                              message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", *extra,
                           "--data-dir", str(tmp_path / "d"), "--port", "1",
                           "--load", str(tmp_path / "missing.nq")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr


def test_serve_load_syntax_error_stops_the_start_in_one_line(tmp_path: Path) -> None:
    from tests.conftest import free_port

    bad = write(tmp_path / "bad.nt", f"<{EX}a> <{EX}b> <{EX}c> .\n<{EX}a> <{EX}b> .\n")
    done = subprocess.run([sys.executable, "-m", "server.cli", "serve", "--store", "memory",
                           "--empty", "--data-dir", str(tmp_path / "d"),
                           "--port", str(free_port()), "--load", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"--load: {bad}: line 2, column" in done.stderr
    assert "the service does not start" in done.stderr and "Traceback" not in done.stderr
