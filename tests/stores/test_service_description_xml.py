"""A remote endpoint's Service Description in RDF/XML is untrusted XML: it passes the upload
checks before the engine's RDF/XML parser (which expands internal entities) reads it."""
from __future__ import annotations

import time

from graph.store.remote_dataset import declares_union_default
from graph.store.upload_safety import MAX_DEPTH

RDF_XML = "application/rdf+xml"
DESCRIPTION = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:sd="http://www.w3.org/ns/sparql-service-description#">
  <sd:Service rdf:about="http://example.org/sparql">
    <sd:feature rdf:resource="http://www.w3.org/ns/sparql-service-description#UnionDefaultGraph"/>
  </sd:Service>
</rdf:RDF>
"""
#: entities nine levels deep: 10^9 characters once expanded
LAUGHS = (b'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [\n<!ENTITY l0 "lol">\n'
          + b"".join(b'<!ENTITY l%d "%s">\n' % (i, b"".join(b"&l%d;" % (i - 1)
                                                             for _ in range(10)))
                     for i in range(1, 10))
          + b"]>\n" + DESCRIPTION.split(b"\n", 1)[1].replace(
              b"<sd:Service ", b"<sd:Service sd:name=\"&l9;\" "))


def test_a_plain_description_is_read() -> None:
    assert declares_union_default(DESCRIPTION, RDF_XML + "; charset=utf-8")


def test_a_description_with_entities_declares_nothing_and_is_not_expanded() -> None:
    started = time.perf_counter()
    assert not declares_union_default(LAUGHS, RDF_XML)
    assert time.perf_counter() - started < 1


def test_a_description_nested_without_bound_declares_nothing() -> None:
    depth = MAX_DEPTH + 1
    nested = DESCRIPTION.replace(b"</sd:Service>", b"<sd:x>" * depth + b"</sd:x>" * depth
                                 + b"</sd:Service>")
    assert not declares_union_default(nested, RDF_XML)
