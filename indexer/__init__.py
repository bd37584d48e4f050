"""trialsearch's engine, in three packages and a few shared modules.

- `indexer.pages`  — the mirror's page format: parsing, the record, values, the
  sample corpus, sync. Knows nothing of Whoosh.
- `indexer.index`  — everything written to disk: analysis, schema, codec, segment
  writing, parallel builds, generations, columns, the reindex.
- `indexer.search` — answering: the request, the text query, matching, facets,
  ordering, hits, suggestions, and `SearchIndex`, the one entry point that the web
  layer, the CLI and future surfaces call.
- shared here: `settings` (the one settings table), `errors` (the one exception
  tree), `atomic` (the one atomic file writer), `failpoints` (crash tests), `cli`.

Whoosh pickles the classes of a schema and codec into every index's table of
contents, under the module paths they had when the index was written. Indexes
built before this layout name `indexer.schema`, `indexer.textnorm` and
`indexer.codec`; `_LegacyPaths` answers those names with today's modules, so every
existing index keeps opening. Never remove an entry.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Any

LEGACY_MODULES = {
    "indexer.schema": "indexer.index.schema",
    "indexer.textnorm": "indexer.index.textnorm",
    "indexer.codec": "indexer.index.codec",
}


class _LegacyPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import an old module path as the module that now holds its classes."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in LEGACY_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: Any) -> Any:
        return importlib.import_module(LEGACY_MODULES[spec.name])

    def exec_module(self, module: Any) -> None:
        """The real module ran when it was imported; nothing more to do."""


if not any(isinstance(finder, _LegacyPaths) for finder in sys.meta_path):
    sys.meta_path.append(_LegacyPaths())
