"""BorderKG below the HTTP layer: sources become triples, triples a store, the store answers.

The packages follow the data flow, and never import Flask:

* :mod:`graph.knowledge` -- the founding article and authored background as RDF: the seed
  build, its consistency checks, SHACL validation, entailment, curated sources;
* :mod:`graph.imports` -- official statistics (CBP, USBP, ICE) as RDF Data Cube
  observations, and their reconciliation with the claims sources state;
* :mod:`graph.store` -- the quad stores (embedded Oxigraph, remote SPARQL endpoints), loading,
  the union default graph as a set, updates, the in-memory copy, backups;
* :mod:`graph.sparql` -- what a SPARQL text is (lexer), what it may touch (policy), and how it
  is evaluated (executors, worker pools, sandbox, result cache, serialisers, named queries);
* :mod:`graph.documents` -- what the service says about resources and itself: linked-data
  descriptions, the service description, search, charts;
* :mod:`graph.analysis` -- relationship analyses over a networkx projection.

The kernel beside them is shared by all: ``errors`` (typed errors with their HTTP status),
``settings`` (the one settings table), ``ids`` and ``namespace`` (minted IRIs, the
vocabulary and the one prefix table), ``intervals`` (OWL-Time periods), ``formats`` (media
types), ``caching`` (the one etag-keyed cache) and ``service`` (the running service:
settings, store, executor and caches, opened together).
"""
