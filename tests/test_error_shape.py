"""One JSON error shape for every error, whatever raised it."""
from __future__ import annotations

from typing import Any

import pytest

from graph import errors


@pytest.mark.parametrize("cls, status", [
    (errors.BadRequest, 400), (errors.QuerySyntaxError, 400), (errors.BadParameter, 400),
    (errors.Unauthorized, 401), (errors.Forbidden, 403), (errors.NotFound, 404),
    (errors.NotAcceptable, 406), (errors.PayloadTooLarge, 413),
    (errors.UnsupportedMediaType, 415), (errors.QueryTimeout, 503),
])
def test_error_carries_status_and_shape(cls: type[errors.BorderKGError], status: int) -> None:
    body = cls("what went wrong", parameter="x").to_dict()
    assert body == {"error": {"status": status, "code": cls.code, "message": "what went wrong",
                              "parameter": "x"}}


def test_app_renders_our_errors_and_werkzeugs_in_the_same_shape(client: Any) -> None:
    missing = client.get("/no-such-route")
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) >= {"status", "code", "message"}
    assert missing.get_json()["error"]["status"] == 404
