"""Places: an offline gazetteer, placing listed sites, reading `near=` and distances.

Depends on nothing of `pages`, `index` or `search`; both the reindex (placing sites)
and the search (reading a place a person typed) use it.
"""
