"""The published query mix of the benchmark: 132 requests, the same for every engine
(120 until trials near a place joined it; the peers answer the same 90 as before).

Each entry is API parameters (name -> list of values) plus a label; `peer` says
whether the peers can answer it too (they have no age, date or enrollment ranges).
Facet values come from the corpus's own commonest values, so the mix fits any size.
"""

from __future__ import annotations

from typing import Any

COMMON = ["cancer", "diabetes", "pain", "breast cancer", "heart failure", "depression", "hiv",
          "covid", "asthma", "stroke", "obesity", "surgery"]  # fmt: skip
RARE = ["pralatrexate", "sarcoidosis", "achalasia", "hidradenitis", "vitiligo", "narcolepsy",
        "keratoconus", "amyloidosis", "pemphigus", "mesothelioma", "bronchiolitis",
        "toxoplasmosis"]  # fmt: skip
PHRASES = ['"heart failure"', '"type 2 diabetes"', '"breast cancer"', '"quality of life"',
           '"blood pressure"', '"chronic pain"', '"healthy volunteers"', '"prostate cancer"',
           '"multiple sclerosis"', '"major depressive disorder"']  # fmt: skip


def build_mix(top: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The mix, given the commonest values of each facet (status, phase, country, …)."""

    def v(facet: str, i: int) -> str:
        values = top[facet]
        return values[i % len(values)]

    mix: list[dict[str, Any]] = []

    def add(label: str, peer: bool = True, **params: Any) -> None:
        mix.append(
            {
                "label": label,
                "peer": peer,
                "params": {
                    k: val if isinstance(val, list) else [str(val)] for k, val in params.items()
                },
            }
        )

    for w in COMMON:
        add("common word", q=w)
    for w in RARE:
        add("rare word", q=w)
    for p in PHRASES:
        add("phrase", q=p)
    for i, w in enumerate(COMMON):
        add("1 filter", q=w, status=v("status", i))
        add("2 filters", q=w, status=v("status", i + 1), phase=v("phase", i))
        add(
            "3 filters",
            q=w,
            status=v("status", i),
            phase=v("phase", i + 2),
            country=v("country", i),
        )
    for i in range(10):
        add(
            "multi-select",
            q=COMMON[i] if i % 2 else "",
            status=[v("status", i), v("status", i + 1)],
            phase=[v("phase", i), v("phase", i + 3)],
        )
    ranges = [
        {"age": "70"}, {"age": "8"}, {"start_date_from": "2018-01"},
        {"start_date_from": "2015-01", "start_date_to": "2019-12"},
        {"enrollment_min": "500"}, {"enrollment_max": "50"}, {"last_update_from": "2022-01"},
        {"age": "40", "enrollment_min": "100"}, {"last_update_to": "2015-12-31"},
        {"healthy_volunteers": "true"},
    ]  # fmt: skip
    for i, r in enumerate(ranges):
        add("range", peer=False, q=COMMON[i] if i % 2 else "", **r)
    for i, sort in enumerate(["last_update", "start_date", "enrollment", "-enrollment", "nct_id"]):
        add("sort", peer=sort.lstrip("-") != "nct_id", q=COMMON[i], sort=sort)
        add("sort", peer=sort.lstrip("-") != "nct_id", sort=sort, status=v("status", i))
    for i in range(10):
        add("deep page", q=COMMON[i % 4], page=str(20 + 10 * i))
    # trials near a place (issue 15): cities where the corpus's sites are, every radius,
    # with the recruiting-site filter, facets of the place and the nearest first
    radii = ["10mi", "25mi", "50mi", "100mi", "250mi", "500mi"]
    for i in range(12):
        near = {"near": v("city", i), "radius": radii[i % len(radii)]}
        if i % 2:
            near["site_status"] = "RECRUITING"
        if i % 3 == 0:
            near["sort"] = "distance"
        add("near", peer=False, q=COMMON[i] if i % 4 else "", **near)
    add(
        "browse all",
    )
    for i in range(9):
        facet = ["status", "phase", "country", "sponsor", "condition"][i % 5]
        add("browse all", **{facet: v(facet, i)})
    return mix


def peer_request(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry as the peers take it: q, filters on the five peer facets, sort, page."""
    p = entry["params"]
    filters = {f: p[f] for f in ("status", "phase", "sponsor", "country", "condition") if f in p}
    sort = (p.get("sort") or [""])[0].lstrip("-")
    return {
        "q": (p.get("q") or [""])[0],
        "filters": filters,
        "sort": sort or None,
        "page": int((p.get("page") or ["1"])[0]),
    }
