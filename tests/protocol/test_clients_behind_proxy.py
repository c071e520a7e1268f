"""Which address the per-client limits count: the socket's, or the client a trusted
proxy names in X-Forwarded-For."""
from __future__ import annotations

from typing import Any

import pytest

from graph.service import Service
from graph.settings import load_settings
from graph.store.oxigraph import OxigraphStore
from server.app import create_app
from server.clients import client_address


@pytest.fixture(params=[[], ["127.0.0.1"]], ids=["direct", "behind-proxy"])
def app(request: Any) -> Any:
    settings = load_settings(overrides={"store": "memory",
                                        "trusted_proxies": ",".join(request.param)})
    return create_app(settings, Service(settings, OxigraphStore(), None))


def address(app: Any, peer: str, forwarded: str | None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    with app.test_request_context("/sparql", headers=headers,
                                  environ_base={"REMOTE_ADDR": peer}):
        return client_address()


def test_the_header_counts_only_from_a_trusted_proxy(app: Any) -> None:
    trusted = bool(app.extensions["borderkg"].settings.trusted_proxies)
    assert address(app, "127.0.0.1", "203.0.113.9") == ("203.0.113.9" if trusted
                                                         else "127.0.0.1")
    assert address(app, "198.51.100.4", "203.0.113.9") == "198.51.100.4"  # not the proxy
    assert address(app, "127.0.0.1", None) == "127.0.0.1"


def test_a_client_cannot_choose_its_own_identity() -> None:
    """A client-sent header is appended to by the proxy: only the proxy's hop counts."""
    settings = load_settings(overrides={"store": "memory", "trusted_proxies": "127.0.0.1"})
    app = create_app(settings, Service(settings, OxigraphStore(), None))
    assert address(app, "127.0.0.1", "10.9.9.9, 203.0.113.9") == "203.0.113.9"
    assert address(app, "127.0.0.1", "203.0.113.9, 127.0.0.1") == "203.0.113.9"
