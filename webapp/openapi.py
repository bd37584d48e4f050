"""The OpenAPI 3.1 document, built from the same constants the request parser uses.

Tests validate real responses against these schemas, so the document cannot drift
from what the server does.
"""

from __future__ import annotations

from typing import Any

from indexer.search.query import FACETS, PARAMS

_NULL_STR = {"type": ["string", "null"]}
_NULL_INT = {"type": ["integer", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _body_schema() -> dict[str, Any]:
    """POST /api/search's body: the same parameters, as JSON values (a list for
    repeated ones; numbers and true/false as themselves or as text)."""
    properties: dict[str, Any] = {}
    for param in PARAMS:
        one = param.json_schema()
        if param.repeatable:
            one = {"anyOf": [one["items"], one]}
        elif param.kind in ("integer", "decimal"):
            one = {"anyOf": [one, {"type": "string"}]}
        elif param.kind == "boolean":
            one = {"anyOf": [one, {"type": "boolean"}]}
        properties[param.name] = {"description": param.description, **one}
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "example": {"q": "asthma", "status": ["RECRUITING"], "age": 40},
    }


def _search_parameters() -> list[dict[str, Any]]:
    """Every search parameter as the one table (`PARAMS`) defines it."""
    described = []
    for param in PARAMS:
        item = {
            "name": param.name,
            "in": "query",
            "required": False,
            "description": param.description,
            "schema": param.json_schema(),
            "example": [param.example] if param.repeatable else param.example,
        }
        if param.repeatable:
            item.update(style="form", explode=True)
        described.append(item)
    return described


def _schemas() -> dict[str, Any]:
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
            "score": {"type": ["number", "null"]},
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
                    "lower weight (none with exact=true)."
                ),
                "items": {
                    "type": "object",
                    "required": ["text", "alternatives", "kind"],
                    "properties": {
                        "text": {"type": "string", "description": "The words as typed."},
                        "alternatives": {"type": "array", "items": {"type": "string"}},
                        "kind": {"type": "string", "enum": ["synonym", "abbreviation"]},
                    },
                    "additionalProperties": False,
                },
            },
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
        "Error": error,
        "Study": record,
        "Health": health,
    }


_INDEX_HEADERS = {
    "X-Index-Generation": {
        "description": "Index generation that answered",
        "schema": {"type": "integer"},
    },
    "X-Index-Documents": {
        "description": "Studies in that generation",
        "schema": {"type": "integer"},
    },
    "X-Index-Built-At": {"description": "When it was built (UTC)", "schema": {"type": "string"}},
    "X-Index-Newest-Last-Seen-At": {
        "description": "Newest last_seen_at of the data",
        "schema": {"type": "string"},
    },
}


_NCT_PATH_PARAM = {
    "name": "nct_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": r"^[Nn][Cc][Tt]\d{8}$"},
}


def _json(ref: str, description: str, markdown: bool = False) -> dict[str, Any]:
    content: dict[str, Any] = {
        "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
    }
    if markdown:
        content["text/markdown"] = {"schema": {"type": "string"}}
    return {"description": description, "headers": _INDEX_HEADERS, "content": content}


def openapi_document(server_url: str = "") -> dict[str, Any]:
    error_400 = _json("Error", "Bad parameter: the error names it and lists allowed values.")
    error_503 = _json("Error", "No index can be opened right now.")
    search_responses = {
        "200": _json("SearchResponse", "Results and facets (Markdown with format=md).", True),
        "400": error_400,
        "414": _json("Error", "The URL is too long for a GET: use POST /api/search."),
        "431": _json("Error", "The headers are larger than the server takes."),
        "503": error_503,
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "trialsearch",
            "version": "1",
            "description": "Faceted full-text search over mirrored ClinicalTrials.gov studies. "
            'Every error is JSON: {"error": {code, message, param}}.',
        },
        "servers": [{"url": server_url or "/"}],
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "search",
                    "summary": "Search studies, with facet counts, snippets and paging",
                    "parameters": _search_parameters(),
                    "responses": search_responses,
                },
                "post": {
                    "operationId": "searchPost",
                    "summary": "The same search, its parameters in a JSON body (long queries)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _body_schema()}},
                    },
                    "responses": {
                        **search_responses,
                        "413": _json("Error", "The body is over 1 MiB."),
                    },
                },
            },
            "/api/search.{format}": {
                "get": {
                    "operationId": "export",
                    "summary": "Every matching study (at most 50,000) as CSV, JSON Lines or RIS",
                    "parameters": [
                        {
                            "name": "format",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string", "enum": ["csv", "jsonl", "ris"]},
                        },
                        *_search_parameters(),
                    ],
                    "responses": {
                        "200": {
                            "description": "The studies in the search's order, streamed; "
                            "CSV is UTF-8 with a byte-order mark, formula cells defused.",
                            "headers": _INDEX_HEADERS,
                            "content": {
                                kind: {"schema": {"type": "string"}}
                                for kind in (
                                    "text/csv",
                                    "application/x-ndjson",
                                    "application/x-research-info-systems",
                                )
                            },
                        },
                        "400": error_400,
                        "404": _json("Error", "No such export format."),
                        "414": search_responses["414"],
                        "503": error_503,
                    },
                }
            },
            "/api/trials/{nct_id}": {
                "get": {
                    "operationId": "getTrial",
                    "summary": "One study, fully parsed",
                    "parameters": [_NCT_PATH_PARAM],
                    "responses": {
                        "200": _json("Study", "The study record."),
                        "400": error_400,
                        "404": _json("Error", "No such study in the index."),
                        "503": error_503,
                    },
                }
            },
            "/api/trials/{nct_id}.md": {
                "get": {
                    "operationId": "getTrialMarkdown",
                    "summary": "One study as a Markdown page",
                    "parameters": [_NCT_PATH_PARAM],
                    "responses": {
                        "200": {
                            "description": "The study as a mirror page.",
                            "headers": _INDEX_HEADERS,
                            "content": {"text/markdown": {"schema": {"type": "string"}}},
                        },
                        "400": error_400,
                        "404": _json("Error", "No such study in the index."),
                        "503": error_503,
                    },
                }
            },
            "/llms.txt": {
                "get": {
                    "operationId": "llmsTxt",
                    "summary": "This service explained for language models (llmstxt.org)",
                    "responses": {
                        "200": {
                            "description": "Markdown",
                            "content": {"text/markdown": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Whether an index is open, and which",
                    "responses": {
                        "200": _json("Health", "Serving."),
                        "503": _json("Health", "No index can be opened."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document",
                            "content": {"application/json": {}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": _schemas()},
    }
