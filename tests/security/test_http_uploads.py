"""Unsafe RDF through the Graph Store protocol: refused with 400, nothing written, even
with a valid token."""
from __future__ import annotations

import pytest
import requests

from tests.conftest import TOKEN

from .conftest import Endpoint, error_of
from .test_rdf_safety import UNSAFE

SCRATCH = "https://w3id.org/borderkg/graph/upload-scratch"


@pytest.mark.parametrize("method", ["PUT", "POST"])
@pytest.mark.parametrize(("data", "fmt", "why"), UNSAFE,
                         ids=[f"{f.name}-{why}-{i}" for i, (_, f, why) in enumerate(UNSAFE)])
def test_unsafe_upload_refused(endpoint: Endpoint, data: bytes, fmt: object, why: str,
                               method: str) -> None:
    url = endpoint.graph_store()
    media = "application/rdf+xml" if "XML" in str(fmt) else "application/ld+json"
    with endpoint.intact():
        response = requests.request(method, url, params={"graph": SCRATCH}, data=data,
                                    timeout=30, headers={"Content-Type": media,
                                                         "Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 400, response.text[:300]
        assert why.split()[0].lower() in error_of(response)["message"].lower()
