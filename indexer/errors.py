"""The one exception tree: what went wrong, and how each surface reports it.

Every error trialsearch raises on purpose derives from `TrialsearchError`, which
carries the HTTP status the web layer answers with, the CLI's exit code, and a
machine-readable `code`. So `webapp/errors.py` has one handler, the CLI maps exit
codes in one place (`exit_code`), and a new surface (an MCP server) reads the same
three attributes. It owns no behaviour beyond that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Exit codes of `trialsearch` (each command's --help lists those it can return).
EXIT_OK = 0
EXIT_SKIPPED = 1  # --strict: some pages were skipped or failed
EXIT_USAGE = 2  # a bad option, parameter, setting or pages folder: nothing touched
EXIT_GUARD = 3  # the reindex would remove too many studies
EXIT_LOCKED = 4  # another reindex holds the lock
EXIT_INDEX = 5  # the index could not be read or written
EXIT_SYNC = 6  # the mirror's page list could not be had
EXIT_TIMEOUT = 7  # a search ran past its time budget
EXIT_PULL = 8  # a replica's pull failed: it keeps serving what it served


class TrialsearchError(Exception):
    """Base of every deliberate error: a message for people plus how to report it."""

    http_status = 500
    exit_code = EXIT_INDEX
    code = "error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message

    def public_message(self) -> str:
        """What a client may be told (no paths of this machine)."""
        return self.message

    def operator_message(self) -> str:
        """What the CLI prints: the whole story, paths of this machine included."""
        return self.message or self.public_message()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.public_message(), "param": None}


class ParamError(TrialsearchError, ValueError):
    """A request parameter that cannot be honoured."""

    http_status = 400
    exit_code = EXIT_USAGE

    def __init__(
        self,
        code: str,
        message: str,
        param: str | None = None,
        allowed: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.param = param
        self.allowed = list(allowed) if allowed is not None else None

    def operator_message(self) -> str:
        if self.allowed:
            return f"{self.message} (allowed: {', '.join(self.allowed)})"
        return self.message

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message, "param": self.param}
        if self.allowed is not None:
            data["allowed"] = self.allowed
        return data


class StudyNotFound(TrialsearchError):
    """No study with that NCT ID in the live index."""

    http_status = 404
    exit_code = EXIT_USAGE
    code = "not_found"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "param": "nct_id"}


class SettingError(TrialsearchError, ValueError):
    """An environment variable holds a value its setting cannot take."""

    exit_code = EXIT_USAGE
    code = "bad_setting"


class IndexUnavailable(TrialsearchError):
    """No usable index: never built, or unreadable. The message says which."""

    http_status = 503
    exit_code = EXIT_INDEX
    code = "index_unavailable"

    def public_message(self) -> str:
        return "The search index is not available right now. Please try again shortly."


class SearchTimeout(TrialsearchError):
    """The request ran past its time budget and was stopped."""

    http_status = 503
    exit_code = EXIT_TIMEOUT
    code = "timeout"

    def public_message(self) -> str:
        return f"The search was stopped: {self.message}. Narrow it (fewer words, more filters)."

    def operator_message(self) -> str:
        return self.public_message()


class PageError(TrialsearchError):
    """A page that cannot be indexed; the message is the reason reported for it."""

    exit_code = EXIT_SKIPPED
    code = "bad_page"


class PagesDirError(TrialsearchError):
    """The pages folder is missing, unreadable or empty: nothing was touched."""

    exit_code = EXIT_USAGE
    code = "pages_dir"


class GuardError(TrialsearchError):
    """The reindex would lose too much of the live index: nothing was changed."""

    exit_code = EXIT_GUARD
    code = "removal_guard"


class ReindexLocked(TrialsearchError):
    """Another reindex holds the lock."""

    exit_code = EXIT_LOCKED
    code = "reindex_locked"


class SyncError(TrialsearchError):
    """The page list could not be had: nothing was fetched or changed."""

    exit_code = EXIT_SYNC
    code = "sync_failed"


class ReplicationError(TrialsearchError):
    """A pull could not make the source's generation live here; nothing changed."""

    exit_code = EXIT_PULL
    code = "pull_failed"


# Every code a client can meet (JSON API, MCP), and what to do about it: llms.txt and
# the README list them from here; tests/test_llms.py checks that every code raised is.
API_ERROR_CODES: dict[str, str] = {
    "unknown_parameter": "a parameter the API does not take; `allowed` lists them",
    "repeated_parameter": "a parameter given twice that takes one value",
    "query_too_long": "the text is over its length limit (keywords: 500 characters; a "
    "patient description, mode=patient: 4,000)",
    "too_many_terms": "more than 32 words in keyword mode (repeats count): shorten the "
    "text, or send a description with mode=patient",
    "wildcard_too_broad": "a prefix* of fewer than 3 letters",
    "slop_too_large": "a phrase window above ~20",
    "query_too_costly": "words that most studies hold, so many that the query would "
    "read too much; the message names the commonest to drop",
    "phrase_too_costly": "a wide phrase window over words most studies hold; the message "
    "says the widest window allowed",
    "boost_too_large": "a weight above ^100",
    "invalid_boolean": "a true/false parameter got something else",
    "invalid_integer": "a whole-number parameter got something else",
    "invalid_date": "a date that is not YYYY-MM-DD or YYYY-MM, or not a real day",
    "invalid_age": "age is not a plain number of years 0-150",
    "invalid_order": "order is not asc or desc",
    "invalid_mode": "mode is not auto, keywords or patient",
    "invalid_format": "format is not json or md",
    "out_of_range": "a number outside its limits (the message says them)",
    "page_too_deep": "page × per_page over 10,000: narrow the search instead",
    "too_many_values": "more than 50 values for one filter",
    "unknown_value": "a value no study has, or not in the parameter's vocabulary; "
    "`allowed` lists the vocabulary or the close values",
    "unknown_place": "near= names no place the offline gazetteer knows; `allowed` lists "
    "the closest known places, or the forms near= takes",
    "ambiguous_place": "near= names several well-known places (Portland); `allowed` lists "
    "them: add a state or country",
    "invalid_radius": "radius is not a distance above 0 and up to 500 mi (50mi, 80km)",
    "near_required": "radius= or sort=distance without near=",
    "unknown_sort": "a sort field that does not exist; `allowed` lists them",
    "missing_prefix": "/api/suggest without `prefix` (the text typed so far)",
    "missing_description": "MCP match_patient without a description, age, sex or conditions",
    "export_too_large": "an export of more than 50,000 studies: add filters",
    "invalid_body": "a POST body that is not a JSON object",
    "invalid_value": "a POST body value that is not a string, number, true/false or list",
    "invalid_nct_id": "not NCT followed by 8 digits",
    "not_found": "no such study in the index",
    "uri_too_long": "the URL is too long for a GET: send the same parameters to POST /api/search",
    "headers_too_large": "the request's headers are too large",
    "timeout": "the search ran past its time budget (HTTP 503): narrow it",
    "index_unavailable": "no index can be read right now (HTTP 503): retry shortly",
    "unauthorized": "/replication/ without the shared token (HTTP 401): for replicas only",
    "not_published": "/replication/: the live generation has no file list yet (HTTP 503)",
    "rate_limited": "too many requests from this client (HTTP 429): wait `Retry-After` seconds",
    "internal_error": "a bug on the server (HTTP 500): it was logged",
}
