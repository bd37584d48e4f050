"""Studies by what they list: the conditions a synonym group names, under any name.

A search for a MeSH entry term ("germinoblastic sarcoma") is expanded to six of its
group's terms, searched as phrases; but the studies *of* that concept list it under
dozens of names ("Lymphoma", "Malignant Lymphoma", "Lymphomas", …) and a text match
cannot tell a study about lymphoma from one that names it in its eligibility
criteria. The condition facet holds what each study lists: each
value is looked up once per generation in the synonym lists, and a query's
expansion then finds every study listing one of its group's exact terms (heading
and true synonyms, not the narrower subconcepts) — all of them, not six — and
ranks them above studies that only mention the words.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable
from math import log
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh import query
from whoosh.matching import ListMatcher

from .synonyms import Expansion, _Lookups, normalise_phrase

if TYPE_CHECKING:
    from .reader import Snapshot

# A study listing the concept scores as a rare word would in a field weighted 5:
# measured on the real corpus's lay-term queries (docs/relevance.md), 3 ranked too few
# of them first (P@10 0.80), 8 began to push known items down (title MRR 0.967 → 0.963).
CONCEPT_WEIGHT = 5.0
# Conditions only: the same for listed interventions moved title and acronym known
# items down ("Radiation Antiandrogen Prostate", "Biomarkers") and helped no set.
FACET = "condition"
# the sets of groups whose studies are remembered (an LRU: a set's array is at most
# the studies of its condition, 0.5 MB for COVID-19 at 560,000)
REMEMBERED_SETS = 256


class ListedConcepts:
    """For one generation and one set of synonym lists: which condition values name
    which groups. Built on first use (0.1 s for the real corpus's 14,000 names), then
    kept with the snapshot."""

    def __init__(self, snap: Snapshot, table: _Lookups) -> None:
        self._by_group: dict[Hashable, list[int]] = defaultdict(list)
        self._studies: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self._column = column = snap.columns.facets.get(FACET)
        self.size = snap.columns.size
        exact_terms: dict[Hashable, frozenset[str]] = {}
        for code, value in enumerate(column.values if column is not None else ()):
            key = normalise_phrase(value)
            for group in table.phrase_groups(key) if key else ():
                if table.names_treatment(group):
                    continue
                terms = exact_terms.get(group)
                if terms is None:
                    terms = frozenset(normalise_phrase(t) for t in table.terms(group))
                    exact_terms[group] = terms
                if key in terms:  # the heading or a true synonym, not a narrower term
                    self._by_group[group].append(code)

    def studies(self, groups: Iterable[Hashable]) -> np.ndarray:
        """The documents listing a term of any of these groups, sorted, distinct.
        Remembered per set of groups: COVID-19's 64,000 studies at 560,000 took 8 ms
        to gather, on every request naming it."""
        key = tuple(groups)
        with self._lock:
            found = self._studies.get(key)
            if found is not None:
                self._studies.move_to_end(key)
                return found
        listed = np.zeros(self.size, dtype=bool)
        starts, docs = self._column.value_starts, self._column.value_docs
        for group in key:
            for code in self._by_group.get(group, ()):
                listed[docs[int(starts[code]) : int(starts[code + 1])]] = True
        found = np.flatnonzero(listed)
        found.flags.writeable = False  # shared by every request naming these groups
        with self._lock:
            self._studies[key] = found
            while len(self._studies) > REMEMBERED_SETS:
                self._studies.popitem(last=False)
        return found


_LOCK = threading.Lock()


def listed_concepts(snap: Snapshot, table: _Lookups) -> ListedConcepts:
    """The generation's concept table for these lists, built once."""
    cache = snap.listed_concepts
    found = cache.get(id(table))
    if found is None:
        with _LOCK:
            found = cache.get(id(table))
            if found is None:
                found = cache[id(table)] = ListedConcepts(snap, table)
    return found


class ListedStudies(query.Query):
    """A leaf matching given studies, each with one score: what the index's lists
    say (a listed condition), joined into a text query. The numpy scorer reads
    `docs` and `score`; Whoosh gets a matcher over the same, so both agree."""

    fieldname = None  # of no field: Whoosh's normalising asks every leaf

    def __init__(self, docs: np.ndarray, score: float, label: str) -> None:
        self.docs = docs
        self.score = float(score)
        self.label = label
        self.boost = 1.0

    def is_leaf(self) -> bool:
        return True

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, ListedStudies)
            and other.label == self.label
            and other.score == self.score
            and np.array_equal(other.docs, self.docs)
        )

    def __hash__(self) -> int:
        return hash((self.label, self.score, len(self.docs)))

    def __repr__(self) -> str:
        return f"ListedStudies({self.label!r}, {len(self.docs)} studies, {self.score:.3g})"

    def __str__(self) -> str:
        return f"listed:({self.label})"

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docs)

    def matcher(self, searcher: Any, context: Any = None) -> Any:
        ids = self.docs.tolist()
        if not ids:
            return query.NullQuery.matcher(searcher)
        return ListMatcher(ids, all_weights=self.score)


def concept_leaf(snap: Snapshot, table: _Lookups, expansion: Expansion) -> ListedStudies | None:
    """The studies listing the concept an expanded phrase names, each scored as a rare
    word in a heavy field (idf × CONCEPT_WEIGHT); None when none does or the phrase
    is an abbreviation (it may name several headings: the text alone decides)."""
    if expansion.kind != "synonym" or not expansion.groups:
        return None
    concepts = listed_concepts(snap, table)
    docs = concepts.studies(expansion.groups)
    if not len(docs):
        return None
    idf = log(concepts.size / (len(docs) + 1)) + 1
    return ListedStudies(docs, idf * CONCEPT_WEIGHT, expansion.text)
