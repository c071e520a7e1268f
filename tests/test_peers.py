"""The peer servers' start-up (tests/peers.py): it waits for an answer, reports a failure with
the server's log, and stops what it started."""
from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
import requests

from tests.peers import PeerError, ServerProcess, free_port, start_oxigraph


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_a_server_that_exits_is_reported_with_its_log(tmp_path: Path) -> None:
    server = ServerProcess("doomed", [sys.executable, "-c",
                                      "print('cannot open the database', flush=True); "
                                      "raise SystemExit(3)"], tmp_path / "doomed.log")
    with pytest.raises(PeerError) as caught:
        server.wait_http(f"http://127.0.0.1:{free_port()}/", timeout=30, interval=0.05)
    assert "doomed exited with status 3" in str(caught.value)
    assert "cannot open the database" in str(caught.value)


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path: Path) -> None:
    server = ServerProcess("mute", [sys.executable, "-c",
                                    "import time; print('up, serving nothing', flush=True); "
                                    "time.sleep(600)"], tmp_path / "mute.log")
    try:
        with pytest.raises(PeerError) as caught:
            server.wait_http(f"http://127.0.0.1:{free_port()}/", timeout=1.5, interval=0.05)
        assert "mute did not answer" in str(caught.value)
        assert "up, serving nothing" in str(caught.value)
        assert server.running()
    finally:
        server.stop(grace=5)
    assert server.process.returncode == -15  # stopped by its own id with SIGTERM


def test_oxigraph_answers_when_started_and_is_gone_when_stopped(tmp_path: Path) -> None:
    peer = start_oxigraph(tmp_path / "oxigraph.log", location=tmp_path / "db")
    try:
        update = "INSERT DATA { <http://example.org/s> <http://example.org/p> 7 }"
        requests.post(peer.update, data={"update": update}, timeout=10).raise_for_status()
        answer = requests.get(peer.query, params={"query": "SELECT ?o { ?s ?p ?o }"},
                              headers={"Accept": "application/sparql-results+json"},
                              timeout=10)
        assert answer.status_code == 200
        assert [b["o"]["value"] for b in answer.json()["results"]["bindings"]] == ["7"]
    finally:
        peer.stop()
    assert not peer.server.running() and not listening(peer.port)
