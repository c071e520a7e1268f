"""Quad stores behind one interface, and what keeps their contents right.

* :mod:`.base` -- ``Store``, the interface the rest of BorderKG talks to;
* :mod:`.oxigraph` -- the embedded Oxigraph store, in memory or on disk;
* :mod:`.remote`, :mod:`.remote_dataset`, :mod:`.remote_sparql` -- any SPARQL 1.1
  endpoint as a store, with each engine's dataset dialect;
* :mod:`.union` -- the union default graph kept as a set (the merge of every graph);
* :mod:`.updates` -- clients' SPARQL updates over exactly the dataset queries see;
* :mod:`.mirror` -- the disk store with an in-memory copy of its union default graph,
  which the queries reading only that graph read;
* :mod:`.loading`, :mod:`.upload_safety` -- RDF files into a store, checked before parsing;
* :mod:`.backup`, :mod:`.lock` -- backups and restores; who holds a disk store.

Opening the configured store is the service's job (:func:`graph.service.open_store`), so
this package never needs to know every backend at once.
"""
