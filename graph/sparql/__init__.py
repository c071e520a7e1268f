"""SPARQL texts: what they are, what they may touch, and how they are evaluated.

* :mod:`.lexer`, :mod:`.text`, :mod:`.text_cache`, :mod:`.iri` -- a text read exactly
  as the engine reads it: tokens, form, dataset clauses, SERVICE and LOAD targets;
* :mod:`.policy`, :mod:`.outbound`, :mod:`.silent`, :mod:`.sandbox` -- the query-safety
  policy, the calls the engine makes on a request's behalf, and evaluation with no network;
* :mod:`.executor`, :mod:`.fork_pool`, :mod:`.admission`, :mod:`.cache` -- evaluation
  under the service's limits: worker pools, who may hold them, the result cache;
* :mod:`.results`, :mod:`.output` -- streaming serialisers, and the CLI's formats;
* :mod:`.named_queries`, :mod:`.cube_index` -- the named-query library with bound
  parameters, and the observations' side index that answers the Data Cube ones.
"""
