"""The age-group facet, derived from a study's age bounds as ClinicalTrials.gov does.

CHILD is 0–17, ADULT 18–64, OLDER_ADULT 65 and over; a study is in every group its
age range overlaps, and a bound not given is open (no minimum: from birth). The
groups are computed from the generation's age columns when it is opened, not
indexed: they follow from numbers the index already has, so adding the facet needed
no new field and no rebuild.
"""

from __future__ import annotations

import numpy as np

# (value, first year, last year) — a year counts up to the next birthday (17.9 is CHILD)
AGE_GROUPS: tuple[tuple[str, float, float], ...] = (
    ("CHILD", 0.0, 18.0),
    ("ADULT", 18.0, 65.0),
    ("OLDER_ADULT", 65.0, float("inf")),
)
AGE_GROUP_VALUES = tuple(name for name, _, _ in AGE_GROUPS)
AGE_GROUP_LABELS = {
    "CHILD": "Child (0–17)",
    "ADULT": "Adult (18–64)",
    "OLDER_ADULT": "Older adult (65+)",
}


def age_groups(min_years: float | None, max_years: float | None) -> list[str]:
    """The groups a study with these bounds admits (one record: what the tests check)."""
    low = 0.0 if min_years is None else min_years
    high = float("inf") if max_years is None else max_years
    return [name for name, start, end in AGE_GROUPS if low < end and high >= start]


def age_group_pairs(
    low: np.ndarray, high: np.ndarray, present: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(documents, group codes) for every document, ascending: `low` and `high` are
    the bounds in years (NaN: not given), `present` the documents to include."""
    low = np.where(np.isnan(low), 0.0, low)
    high = np.where(np.isnan(high), np.inf, high)
    docs, codes = [], []
    for code, (_, start, end) in enumerate(AGE_GROUPS):
        members = np.flatnonzero(present & (low < end) & (high >= start))
        docs.append(members)
        codes.append(np.full(len(members), code, dtype=np.int32))
    all_docs = np.concatenate(docs).astype(np.int32)
    all_codes = np.concatenate(codes)
    order = np.lexsort((all_codes, all_docs))
    return all_docs[order], all_codes[order]
