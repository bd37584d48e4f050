"""The response schemas of the OpenAPI document (its `components`).

Kept apart from the paths (openapi.py) so each stays readable; tests validate real
responses against them, so they cannot drift from what the server sends.
"""

from __future__ import annotations

from typing import Any

from indexer.search.query import FACETS

_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}


def component_schemas() -> dict[str, Any]:
    facet_value = {
        "type": "object",
        "required": ["value", "count", "selected"],
        "properties": {
            "value": {"type": "string"},
            "count": {"type": "integer", "minimum": 0},
            "selected": {"type": "boolean"},
        },
        "additionalProperties": False,
    }
    index_info = {
        "type": "object",
        "required": ["generation", "documents", "built_at", "newest_last_seen_at"],
        "properties": {
            "generation": {"type": "integer"},
            "documents": {"type": "integer"},
            "built_at": {"type": "string"},
            "newest_last_seen_at": _NULL_STR,
        },
    }
    hit = {
        "type": "object",
        "description": "With fields=, only nct_id and the fields asked for.",
        "required": ["nct_id"],
        "properties": {
            "nct_id": {"type": "string", "pattern": r"^NCT\d{8}$"},
            "title": {"type": "string"},
            "overall_status": _NULL_STR,
            "phases": _STR_LIST,
            "study_type": _NULL_STR,
            "sponsor": _NULL_STR,
            "conditions": _STR_LIST,
            "countries": _STR_LIST,
            "enrollment": _NULL_INT,
            "start_date": _NULL_STR,
            "last_update": _NULL_STR,
            "canonical_url": _NULL_STR,
            "clinicaltrials_gov": _NULL_STR,
            "first_indexed": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When the study first entered this index (UTC); null "
                "when the index predates history.",
            },
            "changed_at": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "When a reindex last found the study new or changed (UTC).",
            },
            "recent_changes": {
                "type": "array",
                "description": "The mirror page's Recent Field Changes (its last 30 days).",
                "items": {
                    "type": "object",
                    "required": ["field"],
                    "properties": {
                        "field": {"type": "string"},
                        "change": _NULL_STR,
                        "date": _NULL_STR,
                    },
                    "additionalProperties": False,
                },
            },
            "nearest_site": {
                "description": "With near=: the nearest of the study's sites that pass every "
                "site condition (radius, site_status, state, city, country), by great-circle "
                "distance; null without near=.",
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Site"}],
            },
            "sites_in_radius": {
                "type": ["integer", "null"],
                "minimum": 1,
                "description": "With near=: how many of the study's sites pass them.",
            },
            "sites_truncated": {
                "type": "boolean",
                "description": 'The page listed only its first 100 sites ("… and N more"): '
                "distances and site filters know only those.",
            },
            "score": {"type": ["number", "null"]},
            "missing": {
                **_STR_LIST,
                "description": "In `partial` results only: the query's words this study lacks.",
            },
            "why": {
                "type": "object",
                "description": "Patient mode only: the study's age and sex bounds against "
                "the patient's as read (null: not read from the description), and the "
                "description's concepts the study holds.",
                "required": ["age_ok", "sex_ok", "concepts"],
                "properties": {
                    "age_ok": {"type": ["boolean", "null"]},
                    "sex_ok": {"type": ["boolean", "null"]},
                    "concepts": _STR_LIST,
                },
                "additionalProperties": False,
            },
            "snippet": {
                "type": "string",
                "description": "HTML-escaped text; only <mark> tags are markup.",
            },
        },
        "additionalProperties": False,
    }
    search_response = {
        "type": "object",
        "required": [
            "query",
            "total",
            "page",
            "per_page",
            "results",
            "facets",
            "suggestion",
            "index",
            "took_ms",
            "pinned",
            "expansions",
            "truncated_facets",
            "mode",
            "patient",
            "partial",
            "near",
        ],
        "properties": {
            "query": {"type": "object", "description": "The request as understood."},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {
                "type": "object",
                "description": "Every facet, or those asked for with facets=.",
                "properties": {
                    spec.name: {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/FacetValue"},
                    }
                    for spec in FACETS
                },
                "additionalProperties": False,
            },
            "truncated_facets": {
                "type": "array",
                "items": {"type": "string", "enum": [spec.name for spec in FACETS]},
                "description": "Facets that have more values than facet_limit listed.",
            },
            "suggestion": _NULL_STR,
            "index": {"$ref": "#/components/schemas/IndexInfo"},
            "took_ms": {"type": "number"},
            "pinned": {
                "type": "array",
                "items": {"type": "string"},
                "description": "NCT IDs from the query put first.",
            },
            "expansions": {
                "type": "array",
                "description": (
                    "Phrases of the query that were also searched as their synonyms, at a "
                    "lower weight, and as the studies listing their concept as a "
                    "condition under any of its names, ranked first (none with exact=true)."
                ),
                "items": {
                    "type": "object",
                    "required": ["text", "alternatives", "kind", "listed"],
                    "properties": {
                        "text": {"type": "string", "description": "The words as typed."},
                        "alternatives": {"type": "array", "items": {"type": "string"}},
                        "kind": {"type": "string", "enum": ["synonym", "abbreviation"]},
                        "listed": {
                            "type": "integer",
                            "minimum": 0,
                            "description": (
                                "Studies listing a condition that is the heading or a "
                                "true synonym of the phrase's MeSH group (found even "
                                "when no searched word is in their text)."
                            ),
                        },
                    },
                    "additionalProperties": False,
                },
            },
            "mode": {
                "type": "string",
                "enum": ["keywords", "patient"],
                "description": "How q was read (mode=auto picks one).",
            },
            "partial": {
                "description": "A keyword search that no study fully matches (total 0, first "
                "page): the studies with the most of its words, each with the words it lacks "
                "(`missing`); null otherwise.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["words", "of", "total", "dropped", "results"],
                        "properties": {
                            "words": {"type": "integer", "description": "Words the best hold"},
                            "of": {"type": "integer", "description": "Words in the query"},
                            "total": {"type": "integer", "description": "Studies with that many"},
                            "dropped": {**_STR_LIST, "description": "What the first one lacks"},
                            "results": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Hit"},
                            },
                        },
                        "additionalProperties": False,
                    },
                ],
            },
            "patient": {
                "description": "Patient mode: what was read from the description, so it can "
                "be checked and corrected (null in keyword mode).",
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/PatientReading"}],
            },
            "near": {
                "description": "How near= was read (null without it), and the radius.",
                "oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Origin"}],
            },
        },
        "additionalProperties": False,
    }
    site = {
        "type": "object",
        "required": [
            "facility",
            "city",
            "state",
            "country",
            "status",
            "distance_km",
            "distance_mi",
        ],  # fmt: skip
        "properties": {
            "facility": _NULL_STR,
            "city": _NULL_STR,
            "state": _NULL_STR,
            "country": _NULL_STR,
            "status": _NULL_STR,
            "distance_km": {"type": "number", "minimum": 0},
            "distance_mi": {"type": "number", "minimum": 0},
        },
        "additionalProperties": False,
    }
    origin = {
        "type": "object",
        "required": [
            "query",
            "name",
            "region",
            "country",
            "lat",
            "lon",
            "precision",
            "radius_km",
            "radius_mi",
        ],  # fmt: skip
        "properties": {
            "query": {"type": "string", "description": "near= as given."},
            "name": _NULL_STR,
            "region": _NULL_STR,
            "country": _NULL_STR,
            "lat": {"type": "number", "minimum": -90, "maximum": 90},
            "lon": {"type": "number", "minimum": -180, "maximum": 180},
            "precision": {
                "type": "string",
                "enum": ["city", "postal_code", "coordinates"],
                "description": "What the place was read as: a gazetteer city, a US ZIP "
                "code's centre, or coordinates as given.",
            },
            "radius_km": {"type": "number"},
            "radius_mi": {"type": "number"},
        },
        "additionalProperties": False,
    }
    patient_reading = {
        "type": "object",
        "required": ["age", "age_text", "sex", "sex_text", "concepts", "words", "negated"],
        "properties": {
            "age": {"type": ["number", "null"], "description": "Years (a 3-month-old: 0.25)."},
            "age_text": _NULL_STR,
            "sex": {"type": ["string", "null"], "enum": ["FEMALE", "MALE", None]},
            "sex_text": _NULL_STR,
            "concepts": {
                "type": "array",
                "description": "Conditions, findings and treatments named, weighed most.",
                "items": {
                    "type": "object",
                    "required": ["text", "kind", "source", "synonyms"],
                    "properties": {
                        "text": {"type": "string"},
                        "kind": {"type": "string", "enum": ["condition", "treatment"]},
                        "source": {"type": "string", "enum": ["synonyms", "index"]},
                        "synonyms": _STR_LIST,
                    },
                    "additionalProperties": False,
                },
            },
            "words": {**_STR_LIST, "description": "Other words searched, at a low weight."},
            "negated": {**_STR_LIST, "description": "Denied text: not counted for a study."},
        },
        "additionalProperties": False,
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "param"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "param": _NULL_STR,
                    "allowed": _STR_LIST,
                },
            }
        },
    }
    record = {
        "type": "object",
        "required": [
            "nct_id",
            "title",
            "conditions",
            "countries",
            "phases",
            "eligibility",
            "interventions",
            "locations",
        ],
        "properties": {
            "nct_id": {"type": "string"},
            "title": {"type": "string"},
            "official_title": _NULL_STR,
            "overall_status": _NULL_STR,
            "phases": _STR_LIST,
            "study_type": _NULL_STR,
            "sponsor": _NULL_STR,
            "conditions": _STR_LIST,
            "countries": _STR_LIST,
            "enrollment": _NULL_INT,
            "eligibility": {"type": "object"},
            "interventions": {"type": "array", "items": {"type": "object"}},
            "locations": {"type": "array", "items": {"type": "object"}},
        },
    }
    health = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "index": {"$ref": "#/components/schemas/IndexInfo"},
            "reason": {"type": "string"},
        },
    }
    return {
        "FacetValue": facet_value,
        "IndexInfo": index_info,
        "Hit": hit,
        "SearchResponse": search_response,
        "PatientReading": patient_reading,
        "Site": site,
        "Origin": origin,
        "Error": error,
        "Study": record,
        "SuggestResponse": {
            "type": "object",
            "required": ["prefix", "fields", "suggestions", "index", "took_ms"],
            "properties": {
                "prefix": {"type": "string"},
                "fields": {"type": "array", "items": {"type": "string"}},
                "suggestions": {
                    "type": "array",
                    "description": "Per field in the order asked, most studies first.",
                    "items": {
                        "type": "object",
                        "required": ["field", "value", "count", "selected"],
                        "properties": {
                            "field": {"type": "string", "enum": [s.name for s in FACETS]},
                            "value": {"type": "string"},
                            "count": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "Studies the value gives under the other "
                                "filters: the facet's own count.",
                            },
                            "selected": {"type": "boolean"},
                        },
                        "additionalProperties": False,
                    },
                },
                "index": {"$ref": "#/components/schemas/IndexInfo"},
                "took_ms": {"type": "number"},
            },
            "additionalProperties": False,
        },
        "Health": health,
    }
