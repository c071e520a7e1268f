"""What one client may hold: the per-client and total bounds in front of the workers."""
from __future__ import annotations

import threading
import time

import pytest

from graph.errors import ServiceUnavailable, TooManyRequests
from graph.sparql.admission import ClientLimiter


def test_a_client_beyond_its_share_waits_then_gets_429() -> None:
    limiter = ClientLimiter(per_client=1, total=3)
    limiter.enter("a", wait=0)
    began = time.monotonic()
    with pytest.raises(TooManyRequests) as refused:
        limiter.enter("a", wait=0.2)
    assert time.monotonic() - began >= 0.2
    assert refused.value.details["retry_after"] == 1
    limiter.enter("b", wait=0)  # another client is not held up
    limiter.leave("a")
    limiter.enter("a", wait=0)  # its slot came back


def test_a_waiting_client_gets_the_slot_its_own_query_frees() -> None:
    limiter = ClientLimiter(per_client=1)
    limiter.enter("a", wait=0)
    threading.Timer(0.1, limiter.leave, args=("a",)).start()
    began = time.monotonic()
    limiter.enter("a", wait=2)
    assert 0.05 < time.monotonic() - began < 2


def test_the_service_wide_bound_refuses_at_once() -> None:
    limiter = ClientLimiter(per_client=2, total=2)
    limiter.enter("a", wait=0)
    limiter.enter("b", wait=0)
    began = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        limiter.enter("c", wait=5)
    assert time.monotonic() - began < 0.5
    with limiter.hold(None):  # unknown clients are not counted
        pass
