"""IRI reference resolution exactly as the engine (Oxigraph 0.5, through oxiri) does it.

The query-safety policy decides on the IRI a ``SERVICE``/``FROM``/``USING``/``WITH``/``LOAD``
clause will reach, so it must resolve relative references against ``BASE`` the way the
engine will. Python's ``urljoin`` is not that: it follows its own list of schemes
(``urljoin("foo:a/", "b")`` is ``"b"``) and normalises differently. This module implements
RFC 3986 section 5.2 reference resolution with the engine's departures from the RFC, all
seen by evaluating ``SELECT (<ref> AS ?x) {}`` with a base:

* the directory part of the base path is kept verbatim, dot segments and all
  (``http://a/b/../c`` + ``x`` is ``http://a/b/../x``); only the reference's own segments
  go through ``remove_dot_segments``, and a ``..`` there removes the last segment written,
  even one copied from the base;
* absolute references and network-path references (``//host/...``) are taken as they are,
  without dot-segment removal.

Without an authority (``urn:a:b``, ``foo:/x``) a ``..`` that climbs above the start of
the path also takes the next segment's slash away (``foo:/bar`` + ``../a`` is ``foo:a``),
and a rootless base gives the merge no slash at all (``foo:bar`` + ``x`` is ``foo:x``).
Those IRIs name no host, so this only matters for ``FROM``/``WITH`` graph names.

Every function is linear in its input: a megabyte of ``/./`` costs a megabyte of work.
"""
from __future__ import annotations

import re

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def is_absolute(iri: str) -> bool:
    """Whether ``iri`` starts with a scheme (and so is resolved against nothing)."""
    return _SCHEME.match(iri) is not None


def resolve(base: str | None, reference: str) -> str:
    """``reference`` resolved against ``base`` as the engine resolves it.

    Without an absolute base the reference is returned unchanged: the engine refuses a
    relative IRI then, and the policy sees the text the client wrote.
    """
    if base is None or is_absolute(reference) or not is_absolute(base):
        return reference
    scheme_end, authority_end, path_end, query_end = _positions(base)
    if reference.startswith("//"):
        return base[:scheme_end] + reference
    if reference == "" or reference[0] == "#":
        return base[:query_end] + reference
    if reference[0] == "?":
        return base[:path_end] + reference
    path, rest = _split_path(reference)
    hierarchical = authority_end > scheme_end
    if path.startswith("/"):
        return base[:authority_end] + _remove_dot_segments("", path, hierarchical) + rest
    base_path = base[authority_end:path_end]
    directory = base_path[:max(base_path.rfind("/"), 0)]
    merged = _remove_dot_segments(directory, "/" + path, hierarchical,
                                  drop=not hierarchical and not base_path.startswith("/")
                                  and not directory)
    return base[:authority_end] + merged + rest


def _positions(iri: str) -> tuple[int, int, int, int]:
    """Ends of the scheme (after ``:``), authority, path and query of an absolute IRI."""
    scheme_end = iri.index(":") + 1
    authority_end = scheme_end
    if iri.startswith("//", scheme_end):
        authority_end = _first_of(iri, "/?#", scheme_end + 2)
    path_end = _first_of(iri, "?#", authority_end)
    query_end = _first_of(iri, "#", path_end)
    return scheme_end, authority_end, path_end, query_end


def _first_of(text: str, characters: str, start: int) -> int:
    found = [i for i in (text.find(c, start) for c in characters) if i >= 0]
    return min(found) if found else len(text)


def _split_path(reference: str) -> tuple[str, str]:
    end = _first_of(reference, "?#", 0)
    return reference[:end], reference[end:]


def _remove_dot_segments(output: str, path: str, hierarchical: bool, drop: bool = False) -> str:
    """RFC 3986 section 5.2.4 with the output buffer starting as ``output``.

    The output is kept as chunks (``/segment``, the first possibly without its slash),
    so removing the last segment is a ``pop`` and the whole run stays linear. Without an
    authority the engine also drops the slash of the next segment after a ``..`` that
    had nothing left to remove (or removed the slash-less first segment): ``drop``.
    """
    chunks = _chunks(output)
    i, n = 0, len(path)

    def pop() -> None:
        nonlocal drop
        removed = chunks.pop() if chunks else None
        if not hierarchical and (removed is None or not removed.startswith("/")):
            drop = True

    def write(chunk: str) -> None:
        nonlocal drop
        if drop and chunk.startswith("/"):
            chunk, drop = chunk[1:], False
        chunks.append(chunk)

    while i < n:
        if path.startswith("../", i):
            i += 3
        elif path.startswith("./", i) or path.startswith("/./", i):
            i += 2
        elif path.startswith("/../", i):
            i += 3
            pop()
        elif n - i == 2 and path.startswith("/.", i):
            write("/")
            i = n
        elif n - i == 3 and path.startswith("/..", i):
            pop()
            write("/")
            i = n
        elif n - i <= 2 and path[i:] in (".", ".."):
            i = n
        else:
            end = path.find("/", i + 1)
            end = n if end < 0 else end
            write(path[i:end])
            i = end
    return "".join(chunks)


def _chunks(output: str) -> list[str]:
    if not output:
        return []
    head, *tail = output.split("/")
    return ([head] if head else []) + ["/" + segment for segment in tail]
