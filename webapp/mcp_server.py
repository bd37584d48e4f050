"""The MCP server: trialsearch's query API as tools for AI agents (official SDK, 2.x).

    python -m webapp.mcp_server                      (stdio; `trialsearch mcp`)
    python -m webapp.mcp_server --http --port 8001   (Streamable HTTP at /mcp)

Every tool is a thin call of the same query API as the JSON endpoint: the tools'
arguments are generated from the one parameter table (`PARAMS`) and read by the
same `parse_params`, so a bad argument is the same typed error (code, parameter,
allowed values) as the API's 400. Results are typed models, so the SDK publishes
an output schema and structured content. The index is a `SearchIndex` like a web
worker's: it follows a new generation the same way.
"""

from __future__ import annotations

import argparse
import inspect
import json
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer  # noqa: I001 - the SDK after our own imports
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import Field

from indexer.search.query import (
    FACETS,
    PARAMS,
    Param,
    ParamError,
    SearchIndex,
    TrialsearchError,
    parse_params,
    study_markdown,
)
from indexer.settings import load_settings

from .mcp_models import (
    CountResult,
    Explanation,
    FacetValues,
    Hit,
    PatientHit,
    PatientMatches,
    Reading,
    SearchResult,
    Trial,
)

COMPACT_FIELDS = ["title", "overall_status", "phases", "conditions", "sponsor", "countries",
                  "canonical_url", "snippet"]  # fmt: skip
MCP_FACET_LIMIT = 10
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False, destructive_hint=False)
FacetName = Literal[tuple(spec.name for spec in FACETS)]  # type: ignore[valid-type]


def _lean_argument(schema: dict[str, Any]) -> None:
    """An argument's schema without what costs bytes and tells a model nothing: the
    title repeating its name, and `null` (leaving an argument out means the same)."""
    schema.pop("title", None)
    schema.pop("default", None)
    kinds = [k for k in schema.get("anyOf", []) if k != {"type": "null"}]
    if "anyOf" in schema:
        del schema["anyOf"]
        if len(kinds) == 1:
            schema.update(kinds[0])
        else:
            schema["anyOf"] = kinds


def _annotation(param: Param) -> Any:
    """A tool argument's type. Loose on purpose: the one request parser checks every
    value, so a bad one is the API's typed error (code, param, allowed), not the
    SDK's validation text. Numbers and true/false may also come as text."""
    one: Any = {"boolean": bool | str, "integer": int | str, "decimal": float | str}.get(
        param.kind, str
    )
    return list[str] | str | None if param.repeatable else one | None


def _arguments(names: list[str], described: bool = True) -> list[Any]:
    """inspect.Parameters for the named PARAMS. `described`: with each description and
    vocabulary (search_trials); the other tools say "as search_trials" instead, so the
    catalog an agent pays for in every conversation stays small."""
    by_name = {param.name: param for param in PARAMS}
    out = []
    for name in names:
        param = by_name[name]
        text = param.description if described else "As in search_trials."
        if described and param.kind == "facet" and param.values:
            # a site's status takes the study statuses: listed once, under status
            listed = "those of status" if param.name == "site_status" else ", ".join(param.values)
            text += f" One of: {listed}."
        out.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[
                    _annotation(param), Field(description=text, json_schema_extra=_lean_argument)
                ],
            )
        )
    return out


def _with_signature(func: Any, parameters: list[Any], returns: Any) -> Any:
    func.__signature__ = inspect.Signature(parameters, return_annotation=returns)
    return func


def _raw(arguments: dict[str, Any]) -> dict[str, list[str]]:
    """Tool arguments as URL-style parameters, for the one request parser."""
    raw: dict[str, list[str]] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        raw[name] = ["true" if v is True else "false" if v is False else str(v) for v in values]
    return raw


def _criteria(query: dict[str, Any]) -> dict[str, Any]:
    """The request as understood, without the parameters left at nothing."""
    return {k: v for k, v in query.items() if v not in (None, "", [], {}) and k != "format"}


def _tool_error(exc: TrialsearchError) -> ToolError:
    """The API's error shape as the tool error's text: code, message, param, allowed."""
    return ToolError(json.dumps({"error": exc.to_dict()}, ensure_ascii=False))


PATIENT_ONLY = ("mode", "eligible_only")  # match_patient's, not the other tools'
FILTERS = [
    p.name
    for p in PARAMS
    if p.group in ("query", "facet", "place", "range") and p.name not in PATIENT_ONLY
]
SEARCH_ARGS = [*FILTERS, "sort", "order", "page", "per_page", "fields", "facets", "facet_limit"]
# match_patient: the patient's own age and sex replace the filters of those names
PATIENT_FILTERS = ["status", "phase", "study_type", "country", "site_status", "near", "radius"]
PATIENT_FIELDS = ["title", "overall_status", "phases", "conditions", "canonical_url",
                  "nearest_site"]  # fmt: skip
_SEX_WORDS = {"FEMALE": "woman", "MALE": "man"}


def patient_text(
    description: str | None, age: float | None, sex: str | None, conditions: list[str] | None
) -> str:
    """The description match_patient searches: the one given, after what the agent
    states outright (age, sex, conditions), which the reading then takes first."""
    stated = []
    if age is not None or sex:
        who = _SEX_WORDS.get((sex or "").upper(), "patient")
        stated.append(f"A {age:g}-year-old {who}" if age is not None else f"A {who}")
    if conditions:
        stated.append(("with " if stated else "With ") + ", ".join(conditions))
    head = " ".join(stated)
    return ". ".join(part for part in (head, (description or "").strip()) if part)


def build_server(index: SearchIndex) -> MCPServer:
    server = MCPServer(
        "trialsearch",
        instructions="Search mirrored ClinicalTrials.gov studies. Start with search_trials "
        "(or count_trials for 'how many'); get_trial for one study in full.",
    )

    def run(arguments: dict[str, Any], **fixed: list[str]) -> Any:
        try:
            req = parse_params({**_raw(arguments), **fixed})
            return req, index.search(req)
        except TrialsearchError as exc:
            raise _tool_error(exc) from exc

    def search_trials(**arguments: Any) -> SearchResult:
        if arguments.get("fields") is None:
            arguments["fields"] = COMPACT_FIELDS
        if arguments.get("facet_limit") is None:
            arguments["facet_limit"] = MCP_FACET_LIMIT
        req, resp = run(arguments)
        return SearchResult(
            total=resp.total,
            page=resp.page,
            per_page=resp.per_page,
            hits=[Hit(**hit) for hit in resp.results],
            facets=resp.facets,
            expansions=resp.expansions,
            suggestion=resp.suggestion,
            near=resp.near,
            criteria=_criteria(resp.query),
            index=resp.index,
        )

    def count_trials(**arguments: Any) -> CountResult:
        if arguments.get("facet_limit") is None:
            arguments["facet_limit"] = MCP_FACET_LIMIT
        req, resp = run(arguments, per_page=["1"], fields=["nct_id"])
        return CountResult(
            total=resp.total, facets=resp.facets, criteria=_criteria(resp.query), index=resp.index
        )

    def list_facet_values(facet: FacetName, prefix: str = "", limit: int = 50, **arguments: Any
                          ) -> FacetValues:  # fmt: skip
        arguments.update(facets=[facet], facet_prefix=prefix or None, facet_limit=limit)
        req, resp = run(arguments, per_page=["1"], fields=["nct_id"])
        return FacetValues(
            facet=facet, values=resp.facets[facet], truncated=facet in resp.truncated_facets
        )

    def get_trial(nct_id: str, format: Literal["json", "markdown"] = "json") -> Trial:  # noqa: A002
        """One study by NCT ID (any case, e.g. NCT04554719): the full record, or
        format "markdown" for the study as a page."""
        try:
            record = index.study(nct_id.strip())  # a model may pad it
        except TrialsearchError as exc:
            raise _tool_error(exc) from exc
        if format == "markdown":
            return Trial(nct_id=record["nct_id"], markdown=study_markdown(record))
        return Trial(nct_id=record["nct_id"], record=record)

    def explain_query(**arguments: Any) -> Explanation:
        req, resp = run(arguments, per_page=["1"], fields=["nct_id"], facets=["none"])
        explained = index.explain(req)
        return Explanation(
            text=req.q,
            pinned=resp.pinned,
            words=explained["words"],
            query=explained["query"],
            ignored=explained["ignored"],
            expansions=resp.expansions,
            filters=req.filters,
            criteria=_criteria(resp.query),
            total=resp.total,
        )

    def match_patient(
        description: str | None = None,
        age: float | None = None,
        sex: Literal["FEMALE", "MALE"] | None = None,
        conditions: list[str] | None = None,
        **arguments: Any,
    ) -> PatientMatches:
        text = patient_text(description, age, sex, conditions)
        if not text:
            raise _tool_error(
                ParamError(
                    "missing_description",
                    "give a description, or the patient's age, sex and conditions",
                    "description",
                )
            )
        arguments.update(q=text, mode="patient", fields=PATIENT_FIELDS, facets="none")
        req, resp = run(arguments)
        return PatientMatches(
            total=resp.total,
            page=resp.page,
            per_page=resp.per_page,
            read=Reading(
                **{k: v for k, v in resp.patient.items() if k not in ("concepts", "words")},
                concepts=[concept["text"] for concept in resp.patient["concepts"]],
            ),
            near=resp.near,
            hits=[PatientHit(**hit) for hit in resp.results],
            criteria=_criteria(resp.query),
            index=resp.index,
        )

    def add(func: Any, description: str, parameters: list[Any], returns: Any) -> None:
        _with_signature(func, parameters, returns)
        server.add_tool(func, name=func.__name__, description=description, annotations=READ_ONLY)
        _drop_argument_titles(server, func.__name__)

    add(
        search_trials,
        'Search studies: words (AND-ed), "phrases", OR, -word; filters are ORed within '
        "one, ANDed across. Returns total, compact hits (choose `fields`), facet counts "
        '(top 10) and the criteria applied. E.g. {"q": "pembrolizumab", "status": '
        '["RECRUITING"], "phase": ["PHASE3"], "country": ["Germany"]}; near a place: '
        '{"q": "breast cancer", "near": "Boston, MA", "radius": "50mi", "site_status": '
        '["RECRUITING"], "sort": "distance"}.',
        _arguments(SEARCH_ARGS),
        SearchResult,
    )
    add(
        count_trials,
        "How many studies match, with facet counts; no hits (cheap). Same filters as "
        'search_trials. E.g. {"q": "asthma", "age": 8}.',
        _arguments([*FILTERS, "facets", "facet_limit"], described=False),
        CountResult,
    )
    add(
        list_facet_values,
        "Values of one facet with their counts under the given filters, largest first; "
        '`prefix` keeps those starting with it. E.g. {"facet": "sponsor", "prefix": '
        '"Merck"}.',
        [
            inspect.Parameter("facet", inspect.Parameter.KEYWORD_ONLY, annotation=FacetName),
            inspect.Parameter(
                "prefix",
                inspect.Parameter.KEYWORD_ONLY,
                default="",
                annotation=Annotated[str, Field(max_length=100)],
            ),  # fmt: skip
            inspect.Parameter(
                "limit",
                inspect.Parameter.KEYWORD_ONLY,
                default=50,
                annotation=Annotated[int, Field(ge=1, le=500)],
            ),  # fmt: skip
            *_arguments(FILTERS, described=False),
        ],
        FacetValues,
    )
    add(
        match_patient,
        "Trials for a patient, from a description (up to 4,000 characters) and/or age, "
        "sex, conditions (these win). Denied findings do not count; studies excluding the "
        "patient's age or sex come last (eligible_only: none); near/radius keep studies "
        "with a site close to the patient. Returns what was read and, per hit, why (age_ok, "
        'sex_ok, concepts) and the nearest site. E.g. {"description": "A 45-year-old man '
        'with glioma, s/p radiation; no diabetes.", "near": "Boston, MA"}.',
        [
            _keyword("description", Annotated[str | None, Field(max_length=4000)], None),
            _keyword("age", Annotated[float | None, Field(ge=0, le=150)], None),
            _keyword("sex", Literal["FEMALE", "MALE"] | None, None),
            _keyword("conditions", list[str] | None, None),
            *_arguments(["eligible_only"]),
            *_arguments([*PATIENT_FILTERS, "page", "per_page"], described=False),
        ],
        PatientMatches,
    )
    server.add_tool(get_trial, description=get_trial.__doc__, annotations=READ_ONLY)
    add(
        explain_query,
        "How a text is read: NCT IDs pinned first, the words searched (stemmed), "
        'synonym expansions, and the total. E.g. {"q": "heart attack NCT04554719"}.',
        _arguments(["q", "exact"], described=False),
        Explanation,
    )
    return server


def _keyword(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _drop_argument_titles(server: MCPServer, name: str) -> None:
    """Pydantic titles every argument with its own name; the catalog is sent in every
    conversation, so they go. (The SDK keeps the schema on its tool record; if a later
    2.x moves it, the titles simply stay.)"""
    manager = getattr(server, "_tool_manager", None)
    tool = manager.get_tool(name) if manager is not None else None
    for prop in getattr(tool, "parameters", {}).get("properties", {}).values():
        prop.pop("title", None)
    if tool is not None:
        tool.parameters.pop("title", None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="trialsearch's MCP server")
    parser.add_argument("--http", action="store_true", help="Streamable HTTP, not stdio")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--index", default=None, help="index folder (TRIALSEARCH_INDEX_DIR)")
    args = parser.parse_args(argv)
    settings = load_settings()
    index = SearchIndex(args.index or settings.index_dir, warm=settings.warm and args.http)
    server = build_server(index)
    if not args.http:
        server.run("stdio")
        return
    hosts = [h.strip() for h in settings.mcp_allowed_hosts.split(",")]
    allowed = [h for h in hosts if h] or [f"{args.host}:*", "127.0.0.1:*", "localhost:*"]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection="*" not in allowed,
        allowed_hosts=allowed,
        allowed_origins=[f"http://{h}" for h in allowed] + [f"https://{h}" for h in allowed],
    )
    server.run(
        "streamable-http",
        host=args.host,
        port=args.port,
        streamable_http_path="/mcp",
        transport_security=security,
    )


if __name__ == "__main__":
    main()
