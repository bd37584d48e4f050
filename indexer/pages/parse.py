"""Turn one mirror page into one StudyRecord: with sections.py, the only code that reads Markdown.

A page from outside is untrusted: every problem becomes a PageError with a reason a
person can act on, never an exception that stops a reindex.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from ..errors import PageError
from .record import (
    Arm,
    Intervention,
    StudyRecord,
)
from .sections import (
    enum_value,
    read_changes,
    read_described,
    read_eligibility,
    read_facts,
    read_locations,
    read_outcomes,
    read_prose,
)
from .values import (
    NCT_ID,
    as_list,
    as_text,
    normalize_date,
    parse_int,
    split_phases,
    unescape_markdown,
)

KNOWN_KEYS = {
    "title",
    "nct_id",
    "overall_status",
    "phase",
    "sponsor",
    "study_type",
    "primary_condition",
    "countries",
    "canonical_url",
    "clinicaltrials_gov",
    "ct_last_update_post_date",
    "last_seen_at",
    "source",
}

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NCT_IN_BODY = re.compile(r"\*\*NCT ID:\*\*\s*\[?(NCT\d{8})")
_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)(?![\w-])")


MAX_YAML_DEPTH = 20


class _Handler(frontmatter.YAMLHandler):
    """Safe YAML that also refuses aliases (an alias bomb) and deep nesting.

    Without a `*` there can be no alias, and the data is a tree whose depth is read
    from the result; otherwise the events are scanned before anything is built.
    """

    def load(self, fm: str, **kwargs: Any) -> Any:
        if "*" not in fm:
            data = yaml.load(fm, Loader=_SafeLoader)  # noqa: S506 - the C or Python SafeLoader
            if _depth(data) > MAX_YAML_DEPTH:
                raise yaml.YAMLError(f"frontmatter nested deeper than {MAX_YAML_DEPTH} levels")
            return data
        depth = 0
        for event in yaml.parse(fm, Loader=_SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise yaml.YAMLError("YAML aliases are not allowed in page frontmatter")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise yaml.YAMLError(f"frontmatter nested deeper than {MAX_YAML_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.load(fm, Loader=_SafeLoader)  # noqa: S506 - the C or Python SafeLoader


_HANDLER = _Handler()


def _depth(data: Any) -> int:
    """How many collections deep a loaded YAML value is (a scalar: 0)."""
    if isinstance(data, dict):
        return 1 + max((_depth(v) for v in data.values()), default=0)
    if isinstance(data, list | tuple | set):
        return 1 + max((_depth(v) for v in data), default=0)
    return 0


# Words that start the tail of one condition name rather than a new name ("…, in Relapse").
_CONTINUATIONS = frozenset(
    "in with without and or of not due nos unspecified except other including excluding".split()
)


@lru_cache(maxsize=1)
def _comma_conditions() -> frozenset[str]:
    path = Path(__file__).with_name("data") / "comma_conditions.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


# control characters (C0 but tab and newline, DEL, C1) read as spaces: in a facet value
# or a title they are invisible, break terminals and CSV, and split one value in two
_CONTROLS = {c: " " for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))}
_CONTROLS.pop(0x0D)  # carriage returns are line ends, handled above


def decode_page(data: bytes) -> str:
    """Bytes to text: UTF-8 with or without BOM; binary or mis-encoded pages are refused."""
    if b"\x00" in data:
        raise PageError("file contains NUL bytes (binary, not a Markdown page)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PageError(f"not valid UTF-8 (byte {exc.start})") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n").translate(_CONTROLS)


def parse_page(text: str, expected_id: str | None = None) -> StudyRecord:
    """Parse page text; `expected_id` (the file name's stem) is checked against the page's ID."""
    if not text.strip():
        raise PageError("page is empty")
    meta, body = _split_frontmatter(text)
    sections, head = _sections(body)

    nct_raw = meta.get("nct_id")
    nct_id = (as_text(nct_raw) or "").upper() if nct_raw is not None else ""
    if not nct_id:
        match = _NCT_IN_BODY.search(body)
        if not match:
            reason = "no nct_id in the frontmatter" if meta else "no frontmatter and no NCT ID"
            raise PageError(reason)
        nct_id = match.group(1)
    if not NCT_ID.fullmatch(nct_id):
        raise PageError(f"invalid nct_id {nct_raw!r} (expected NCT followed by 8 digits)")
    if expected_id and NCT_ID.fullmatch(expected_id.upper()) and expected_id.upper() != nct_id:
        raise PageError(f"file name says {expected_id} but the page's nct_id is {nct_id}")

    facts = read_facts(sections.get("key facts", []))
    title = as_text(meta.get("title")) or head.get("title") or nct_id
    record = StudyRecord(nct_id=nct_id, title=title)
    record.extra = {k: _plain(v) for k, v in meta.items() if k not in KNOWN_KEYS}
    record.official_title = head.get("official_title")
    record.overall_status = enum_value(meta.get("overall_status")) or enum_value(
        facts.get("status")
    )
    record.phases = split_phases(meta.get("phase") if "phase" in meta else facts.get("phase"))
    record.study_type = enum_value(meta.get("study_type")) or enum_value(facts.get("study type"))
    record.sponsor = as_text(meta.get("sponsor")) or facts.get("lead sponsor")
    record.primary_condition = as_text(meta.get("primary_condition"))
    record.conditions = split_conditions(facts.get("conditions"), record.primary_condition)
    if not record.primary_condition and record.conditions:
        record.primary_condition = record.conditions[0]
    record.countries = as_list(meta.get("countries"))
    record.enrollment = parse_int(facts.get("target enrollment"))
    record.start_date = normalize_date(facts.get("start date"))
    record.completion_date = normalize_date(facts.get("completion date"))
    record.last_update = normalize_date(meta.get("ct_last_update_post_date")) or normalize_date(
        facts.get("ct.gov last update")
    )
    record.last_seen_at = as_text(meta.get("last_seen_at"))
    record.canonical_url = _web_url(meta, "canonical_url", record.extra)
    record.clinicaltrials_gov = _web_url(meta, "clinicaltrials_gov", record.extra)
    record.source = as_text(meta.get("source"))

    record.brief_summary = read_prose(sections.get("brief summary"))
    record.detailed_description = read_prose(sections.get("detailed description"))
    record.eligibility = read_eligibility(sections.get("eligibility", []))
    record.arms = [Arm(n, t, d) for n, t, d in read_described(sections.get("arms", []))]
    record.interventions = [
        Intervention(n, t, d) for n, t, d in read_described(sections.get("interventions", []))
    ]
    record.primary_outcomes = read_outcomes(sections.get("primary outcomes", []))
    record.locations, record.locations_more = read_locations(
        sections.get("locations", []), record.countries
    )
    record.locations_total = head.get("locations_total")
    record.field_changes = read_changes(sections.get("recent field changes", []))
    record.acronyms = find_acronyms(record.title, record.official_title)
    return record


def _split_frontmatter(text: str) -> tuple[dict[str, Any], str]:
    if not text.lstrip("\ufeff").startswith("---"):
        return {}, text
    try:
        meta, body = frontmatter.parse(text, handler=_HANDLER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PageError(f"broken YAML frontmatter{where}: {problem}") from exc
    except RecursionError as exc:
        raise PageError("YAML frontmatter is nested too deeply") from exc
    except ValueError as exc:
        raise PageError(f"unreadable frontmatter: {exc}") from exc
    if not isinstance(meta, dict):
        raise PageError("frontmatter is not a mapping of keys to values")
    return meta, body


def _sections(body: str) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Split the body into '## ' sections (lower-cased names) and the header facts."""
    sections: dict[str, list[str]] = {}
    head: dict[str, Any] = {}
    current: list[str] | None = None
    in_fence = False
    for line in body.split("\n"):
        if line.startswith("```"):
            in_fence = not in_fence
        if not in_fence:
            if line.startswith("## "):
                name = line[3:].strip()
                match = re.match(r"^(.*?)\s*\((\d+)\)\s*$", name)
                if match and match.group(1).lower() == "locations":
                    head["locations_total"] = int(match.group(2))
                key = re.sub(r"\s*\(.*\)\s*$", "", name).lower()
                current = sections.setdefault(key, [])
                continue
            if line.strip() == "---" and current is not None:
                current = None  # the footer starts
                continue
            if current is None:
                if line.startswith("# ") and "title" not in head:
                    head["title"] = unescape_markdown(line[2:].strip()) or None
                elif line.startswith("**Official Title:**"):
                    head["official_title"] = unescape_markdown(line.split(":**", 1)[1].strip())
                continue
        if current is not None:
            current.append(line)
    return sections, head


def _web_url(meta: dict[str, Any], key: str, extra: dict[str, Any]) -> str | None:
    """Keep only http(s) URLs: a `javascript:` or `data:` link must never reach a page.

    A refused value is kept in `extra` as `<key>_refused`, so nothing is silently lost.
    """
    url = as_text(meta.get(key))
    if url and not re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE):
        extra[f"{key}_refused"] = url
        return None
    return url


def _plain(value: Any) -> Any:
    """Frontmatter extras as JSON-safe values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def split_conditions(joined: str | None, primary: str | None) -> list[str]:
    """Split the comma-joined Key Facts conditions, keeping names that contain commas whole.

    The join is lossy ("Lymphoma, B-Cell" reads like two names), so the first name
    comes from the frontmatter's primary_condition and known comma names stay whole.
    """
    if not joined:
        return [primary] if primary else []
    out: list[str] = []
    rest = joined
    if primary and (joined == primary or joined.startswith(primary + ", ")):
        out.append(primary)
        rest = joined[len(primary) + 2 :]
    if not rest:
        return out
    parts = rest.split(", ")
    known = _comma_conditions()
    i = 0
    while i < len(parts):
        for j in range(len(parts), i + 1, -1):
            candidate = ", ".join(parts[i:j])
            if candidate in known:
                out.append(candidate)
                i = j
                break
        else:
            part = parts[i]
            if out and part.split(" ", 1)[0] in _CONTINUATIONS:
                out[-1] = out[-1] + ", " + part
            else:
                out.append(part)
            i += 1
    return [c for c in out if c]


def find_acronyms(*titles: str | None) -> list[str]:
    """Acronym-like words of a title (KEYNOTE-189, DAPA-HF, SPRINT): boosted when searched."""
    found: list[str] = []
    for title in titles:
        for match in _ACRONYM.finditer(title or ""):
            word = match.group(1)
            upper = sum(ch.isupper() for ch in word)
            if (
                upper >= 2
                and (upper >= len(word.replace("-", "")) * 0.6 or any(ch.isdigit() for ch in word))
                and len(word) >= 3
                and word not in found
            ):
                found.append(word)
    return found
