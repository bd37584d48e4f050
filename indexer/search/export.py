"""Every study a search matches, in the search's order, as CSV, JSON Lines or RIS.

For people who take a result set elsewhere: a spreadsheet (CSV with the column names
ClinicalTrials.gov's own export uses), a script (JSON Lines, the full records) or a
reference manager (RIS, what systematic reviewers import). Rows are produced as they
are written, from one pinned generation, so memory stays flat and the first row
comes at once. At most MAX_EXPORT studies: beyond that the request is refused with
how to narrow it, before anything is sent.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import Any

from ..errors import ParamError
from .matching import match
from .ordering import page_of_hits
from .request import SearchRequest
from .text import parse_text

MAX_EXPORT = 50_000
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson",
           "ris": "application/x-research-info-systems"}  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def export_order(snap: Any, req: SearchRequest, limit: int | None = None) -> list[int]:
    """The documents of every match, in the search's order (pinned IDs first)."""
    limit = MAX_EXPORT if limit is None else limit
    text = parse_text(snap, req.q, req.exact, req.mode)
    matches = match(snap, req, text)
    if matches.total > limit:
        raise ParamError(
            "export_too_large",
            f"the search matches {matches.total:,} studies; an export holds at most "
            f"{limit:,}: add filters (status, phase, country, dates) to narrow it",
            None,
        )
    has_query = text is not None and text.query is not None
    everything = replace(req, page=1, per_page=max(matches.total, 1))
    docs, _ = page_of_hits(snap.columns, matches, everything, has_query)
    return docs


def _joined(values: Iterable[str | None]) -> str:
    return "; ".join(v for v in values if v)


CSV_COLUMNS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("NCT Number", lambda r: r["nct_id"]),
    ("Study Title", lambda r: r.get("title")),
    ("Study URL", lambda r: r.get("canonical_url") or r.get("clinicaltrials_gov")),
    ("Study Status", lambda r: r.get("overall_status")),
    ("Conditions", lambda r: _joined(r.get("conditions") or [])),
    (
        "Interventions",
        lambda r: _joined(
            f"{i.get('type')}: {i.get('name')}" if i.get("type") else i.get("name")
            for i in r.get("interventions") or []
        ),
    ),  # fmt: skip
    ("Sponsor", lambda r: r.get("sponsor")),
    ("Phases", lambda r: _joined(r.get("phases") or [])),
    ("Enrollment", lambda r: r.get("enrollment")),
    ("Study Type", lambda r: r.get("study_type")),
    ("Start Date", lambda r: r.get("start_date")),
    ("Completion Date", lambda r: r.get("completion_date")),
    ("Last Update", lambda r: r.get("last_update")),
    ("Locations", lambda r: _joined(loc.get("text") for loc in r.get("locations") or [])),
]


def defused(value: Any) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ would be run as
    a formula ("formula injection"), so it gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """UTF-8 with a byte-order mark (so Excel reads the accents), a header, one row a
    study; values joined with '; '."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([name for name, _ in CSV_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    for record in records:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([defused(get(record)) for _, get in CSV_COLUMNS])
        yield buffer.getvalue()


def jsonl_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False) + "\n"


def ris_lines(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """RIS records of type DBASE (a database entry), as reference managers import."""
    for r in records:
        lines = ["TY  - DBASE", f"ID  - {r['nct_id']}", f"TI  - {r.get('title') or ''}"]
        if r.get("official_title"):
            lines.append(f"T2  - {r['official_title']}")
        if r.get("sponsor"):
            lines.append(f"AU  - {r['sponsor']}")
        if r.get("start_date"):
            lines.append(f"PY  - {r['start_date'][:4]}")
            lines.append(f"DA  - {r['start_date'].replace('-', '/')}")
        lines += [f"KW  - {c}" for c in r.get("conditions") or []]
        if r.get("brief_summary"):
            lines.append(f"AB  - {' '.join(r['brief_summary'].split())}")
        lines.append("DB  - ClinicalTrials.gov")
        lines.append(f"AN  - {r['nct_id']}")
        url = r.get("clinicaltrials_gov") or r.get("canonical_url")
        if url:
            lines.append(f"UR  - {url}")
        lines.append("ER  - ")
        yield "\r\n".join(lines) + "\r\n\r\n"


WRITERS = {"csv": csv_lines, "jsonl": jsonl_lines, "ris": ris_lines}


def exported_lines(
    kind: str, req: SearchRequest, records: Iterable[dict[str, Any]]
) -> Iterator[str]:
    """The export's text; JSON Lines keeps only `fields=` (and nct_id) when given."""
    if kind == "jsonl" and req.fields is not None:
        keep = ["nct_id", *(f for f in req.fields if f not in ("score", "snippet"))]
        records = ({k: r.get(k) for k in keep} for r in records)
    return WRITERS[kind](records)
