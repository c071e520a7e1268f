"""What the service says about its resources and about itself.

* :mod:`.resources` -- the bounded description of one resource behind a linked-data page;
* :mod:`.description` -- the SPARQL Service Description and the VoID description;
* :mod:`.search`, :mod:`.search_index` -- ranked, typo-tolerant full-text search;
* :mod:`.charts` -- small SVG charts of statistics over periods.
"""
