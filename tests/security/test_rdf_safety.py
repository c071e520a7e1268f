"""Unsafe RDF uploads are refused before any parser sees them (called directly and through
``borderkg load``)."""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat

from graph.errors import BadRequest
from graph.formats import GRAPH_FORMATS, by_name
from graph.store.upload_safety import MAX_DEPTH, check_path, check_upload
from server.cli import main

RDF = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://example.org/"'
BODY = f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://example.org/s"><e:p>{{}}</e:p>' \
       '</rdf:Description></rdf:RDF>'


def billion_laughs() -> bytes:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
    return f'<?xml version="1.0"?><!DOCTYPE r [{entities}]>{BODY.format("&i;")}'.encode()


def external_entity() -> bytes:
    return ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
            + BODY.format("&e;")).encode()


UNSAFE = [
    (billion_laughs(), RdfFormat.RDF_XML, "DOCTYPE"),
    (external_entity(), RdfFormat.RDF_XML, "DOCTYPE"),
    (external_entity().decode().replace('"1.0"', '"1.0" encoding="UTF-16"').encode("utf-16"),
     RdfFormat.RDF_XML, "DOCTYPE"),
    (('<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd">'
      + BODY.format("x")).encode(), RdfFormat.RDF_XML, "DOCTYPE"),
    (f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://s">'.encode()
     + b"<e:p><rdf:Description>" * 1000 + b"</rdf:Description></e:p>" * 1000
     + b"</rdf:Description></rdf:RDF>", RdfFormat.RDF_XML, "nested"),
    (b'{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://s"}',
     RdfFormat.JSON_LD, "remote context"),
    (b'{"@context": [{"@vocab": "http://e/"}, "file:///etc/passwd"], "@id": "http://s"}',
     RdfFormat.JSON_LD, "remote context"),
    (b'{"@context": {"@import": "http://127.0.0.1:9/"}, "@id": "http://s"}',
     RdfFormat.JSON_LD, "remote context"),
    (b'{"@graph": [{"@context": "http://127.0.0.1:9/", "@id": "http://s"}]}',
     RdfFormat.JSON_LD, "remote context"),
    (b'{"@context": {"p": {"@id": "http://p", "@context": "http://127.0.0.1:9/"}}}',
     RdfFormat.JSON_LD, "remote context"),
    (b'{"@id": "http://s", "http://p": ' + b'{"http://p": ' * 5000 + b'"x"' + b"}" * 5001,
     RdfFormat.JSON_LD, "nested"),
]


@pytest.mark.parametrize(("data", "fmt", "why"), UNSAFE)
def test_unsafe_uploads_refused(data: bytes, fmt: RdfFormat, why: str) -> None:
    started = time.monotonic()
    with pytest.raises(BadRequest, match=why) as caught:
        check_upload(data, fmt)
    assert caught.value.status == 400 and caught.value.code == "unsafe-rdf"
    assert time.monotonic() - started < 5  # refused before any expansion (generous bound)


def test_safe_uploads_pass() -> None:
    check_upload(BODY.format("plain").encode(), RdfFormat.RDF_XML)
    check_upload(b'{"@context": {"@vocab": "http://e/"}, "@id": "http://s", "name": '
                 b'"@context http://x/"}', by_name(GRAPH_FORMATS, "jsonld"))
    check_upload(b"<http://s> <http://p> <http://o> .", RdfFormat.TURTLE)
    nested = f'<rdf:RDF {RDF}><rdf:Description rdf:about="http://s">'.encode() + \
        b"<e:p><rdf:Description>" * (MAX_DEPTH // 2 - 2) + \
        b"</rdf:Description></e:p>" * (MAX_DEPTH // 2 - 2) + b"</rdf:Description></rdf:RDF>"
    check_upload(nested, RdfFormat.RDF_XML)


def test_malformed_input_is_a_clear_400() -> None:
    with pytest.raises(BadRequest, match="not well-formed"):
        check_upload(b"<a><b></a>", RdfFormat.RDF_XML)
    with pytest.raises(BadRequest, match="not valid JSON"):
        check_upload(b"{bad", RdfFormat.JSON_LD)


def test_gzipped_file_checked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.rdf.gz"
    path.write_bytes(gzip.compress(billion_laughs()))
    with pytest.raises(BadRequest, match="DOCTYPE"):
        check_path(path, RdfFormat.RDF_XML)


def test_borderkg_load_refuses_a_bomb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bomb.rdf"
    path.write_bytes(billion_laughs())
    code = main(["load", "--store", "disk", "--data-dir", str(tmp_path / "data"), str(path)])
    assert code == 1
    assert "DOCTYPE" in capsys.readouterr().err
    jsonld = tmp_path / "remote.jsonld"
    jsonld.write_bytes(UNSAFE[5][0])
    code = main(["load", "--store", "disk", "--data-dir", str(tmp_path / "data"), str(jsonld)])
    assert code == 1
    assert "remote context" in capsys.readouterr().err
