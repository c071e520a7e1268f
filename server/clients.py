"""Who is asking: the client address the per-client limits count by.

Directly connected clients are their socket's address. Behind a reverse proxy every
request comes from the proxy, so the limits would hold all clients together; the
``trusted_proxies`` setting names the proxies whose ``X-Forwarded-For`` is believed.
The header is read from the right (each proxy appends the address it saw), skipping
trusted proxies, so a client cannot choose its own identity by sending the header
itself: the first untrusted hop is the client.
"""
from __future__ import annotations

from flask import request

from .context import service


def client_address() -> str:
    """The address the current request counts against."""
    peer = request.remote_addr or ""
    trusted = service().settings.trusted_proxies
    if not trusted or peer not in trusted:
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted:
            return hop
    return peer
