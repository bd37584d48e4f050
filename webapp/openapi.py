"""The OpenAPI 3.1 document, built from the same constants the request parser uses.

Tests validate real responses against these schemas, so the document cannot drift
from what the server does.
"""

from __future__ import annotations

from typing import Any

from indexer.search.query import FEED_ENTRIES, FEED_IGNORES, PARAMS, SUGGEST_PARAMS

from .openapi_schemas import component_schemas


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


def _search_parameters(table: tuple[Any, ...] = PARAMS) -> list[dict[str, Any]]:
    """Every search parameter as the one table (`PARAMS`) defines it."""
    described = []
    for param in table:
        item = {
            "name": param.name,
            "in": "query",
            "required": param.name == "prefix",
            "description": param.description,
            "schema": param.json_schema(),
            "example": [param.example] if param.repeatable else param.example,
        }
        if param.repeatable:
            item.update(style="form", explode=True)
        described.append(item)
    return described


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
    document = {
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
            "/api/suggest": {
                "get": {
                    "operationId": "suggest",
                    "summary": "Autocomplete: facet values with a word starting with the "
                    "typed text, and the studies each gives under the other filters",
                    "parameters": [
                        *_search_parameters(SUGGEST_PARAMS),
                        *_search_parameters(),
                    ],
                    "responses": {
                        "200": _json("SuggestResponse", "The suggestions."),
                        "400": error_400,
                        "503": error_503,
                    },
                }
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
            "/search.atom": {
                "get": {
                    "operationId": "searchFeed",
                    "summary": f"The search as an Atom feed: its {FEED_ENTRIES} most recently "
                    "new or changed studies, newest first",
                    "description": "Takes the search's words and filters; its order, paging "
                    f"and response parameters ({', '.join(FEED_IGNORES)}) are ignored. Send "
                    "If-None-Match or If-Modified-Since to get 304 when nothing changed.",
                    "parameters": [
                        p for p in _search_parameters() if p["name"] not in FEED_IGNORES
                    ],
                    "responses": {
                        "200": {
                            "description": "An Atom 1.0 feed (RFC 4287), with ETag and "
                            "Last-Modified.",
                            "headers": _INDEX_HEADERS,
                            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
                        },
                        "304": {"description": "Not modified since the ETag or time sent."},
                        "400": error_400,
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
        "components": {"schemas": component_schemas()},
    }
    _limits_everywhere(document["paths"], search_responses)
    return document


def _limits_everywhere(paths: dict[str, Any], search_responses: dict[str, Any]) -> None:
    """gunicorn refuses an over-long request line (414) or headers (431) before any
    view runs, on every path: JSON under /api/ (webapp/gunicorn_worker.py), its own
    page elsewhere."""
    for path, operations in paths.items():
        for operation in operations.values():
            responses = operation["responses"]
            if path.startswith("/api/"):
                long_url = _json("Error", "The URL is longer than the server takes.")
                responses.setdefault("414", long_url)
                responses.setdefault("431", search_responses["431"])
            else:
                responses.setdefault("414", {"description": "The URL is too long (a page)."})
                responses.setdefault("431", {"description": "The headers are too large (a page)."})
