"""Official statistics as RDF Data Cube observations, and their reconciliation with claims.

* :mod:`.cbp` -- CBP nationwide encounters; :mod:`.usbp` -- Border Patrol monthly
  encounters; :mod:`.ice` -- ICE removals by citizenship;
* :mod:`.common`, :mod:`.steps`, :mod:`.progress` -- what every importer shares: the
  dataset's provenance record, idempotent import into its own named graph, progress;
* :mod:`.reference` -- the reference graph: one home per background fact;
* :mod:`.reconcile` -- every figure a source states, checked against the imported data.
"""
