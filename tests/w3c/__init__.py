"""The W3C SPARQL 1.1 test suite, run over HTTP against ``borderkg serve`` and, in the same
run, ``oxigraph serve`` as the reference (``-m w3c``; see docs/w3c.md)."""
