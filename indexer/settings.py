"""The one table of settings: name, environment variable, type, default, help.

Operators configure trialsearch through the environment only. Every variable is
declared here once; `load_settings` reads them all (once, at start) into a frozen
`Settings` that is passed to whatever needs it — the app factory, the CLI, the
gunicorn config. The README's settings table is checked against this one by a
test, so the two cannot drift. A value that does not parse is a `SettingError`
naming the variable, never a traceback deep inside a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, make_dataclass
from pathlib import Path
from typing import Any

from .errors import SettingError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024


def _bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/0, true/false, yes/no or on/off")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("expected a whole number, 0 or more")
    return value


def _rate(text: str) -> str:
    """COUNT/PERIOD (webapp/ratelimit.py reads it), checked here so a typo stops the
    start with the variable's name."""
    if text.strip().lower() in ("", "off", "0"):
        return ""
    if not re.fullmatch(r"[1-9][0-9]{0,8}\s*/\s*(second|minute|hour|day)s?", text.strip().lower()):
        raise ValueError("expected COUNT/PERIOD, e.g. 60/minute (second, minute, hour, day)")
    return text.strip().lower()


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("expected a number of seconds, 0 or more")
    return value


def _path(text: str) -> Path:
    return Path(text)


def _default_workers() -> int:
    return max(2, os.cpu_count() or 1)


@dataclass(frozen=True)
class Setting:
    """One setting; `default` is a value, or a function for defaults that depend on the
    machine (the number of cores)."""

    name: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    shown_default: str  # the default as the README's table shows it

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


SETTINGS: tuple[Setting, ...] = (
    Setting("pages_dir", "TRIALSEARCH_PAGES_DIR", _path, None,
            "the mirror's folder of `NCT*.md` pages", "none (sample corpus)"),
    Setting("index_dir", "TRIALSEARCH_INDEX_DIR", _path, PROJECT_ROOT / "index_data",
            "where index generations live", "`index_data/`"),
    Setting("max_page_bytes", "TRIALSEARCH_MAX_PAGE_BYTES", _positive_int, 4 * MIB,
            "larger pages are skipped", "4 MiB"),
    Setting("synonyms", "TRIALSEARCH_SYNONYMS", str, "",
            "synonym lists (TSV `preferred, synonym, source, id`, or `.tsv.gz`), joined "
            "with `:`, instead of the built-in ones; `none` turns expansion off",
            "the built-in lists: the project's lay terms and MeSH 2024 "
            "(`indexer/search/data/`)"),
    Setting("cache_dir", "TRIALSEARCH_CACHE_DIR", _path, None,
            "where synonym lists and the gazetteer are compiled once for all processes "
            "(memory-mapped arrays)", "`$XDG_CACHE_HOME/trialsearch` or `~/.cache/trialsearch`"),
    Setting("public_url", "TRIALSEARCH_PUBLIC_URL", str, "",
            "the service's URL as clients see it, for the OpenAPI `servers` entry; unset: "
            "the relative `/` (never the request's Host header)", "none"),
    Setting("request_budget", "TRIALSEARCH_REQUEST_BUDGET", _seconds, 10.0,
            "seconds a search may run before it is stopped: HTTP 503, `trialsearch search` "
            "exit 7 (`--budget`); 0: no budget", "10"),
    Setting("warm", "TRIALSEARCH_WARM", _bool, True,
            "`0`: workers do not warm their caches when they open a generation "
            "(`indexer/search/warmup.py`)", "1"),
    Setting("warm_wait", "TRIALSEARCH_WARM_WAIT", _seconds, 60.0,
            "seconds a starting gunicorn worker may spend warming its caches before it "
            "takes requests (it goes on warming in the background after); 0: take them "
            "at once", "60"),
    Setting("warm_switch", "TRIALSEARCH_WARM_SWITCH", _seconds, 30.0,
            "seconds a worker keeps answering from the generation before while a newly "
            "published one is opened and warmed in the background; 0: switch at once, "
            "cold", "30"),
    Setting("workers", "WEB_CONCURRENCY", _positive_int, _default_workers,
            "gunicorn workers (each warms its own caches: more than the cores is slower, "
            "`bench/README.md`)", "one per core, at least 2"),
    Setting("bind", "TRIALSEARCH_BIND", str, "127.0.0.1:8000",
            "where gunicorn listens (`make run`, `trialsearch serve` unless given "
            "`--host`/`--port`, the Procfile)", "`127.0.0.1:8000`"),
    Setting("worker_timeout", "TRIALSEARCH_WORKER_TIMEOUT", _positive_int, 30,
            "seconds before gunicorn kills a silent worker (keep it above the request "
            "budget)", "30"),
    Setting("max_requests", "TRIALSEARCH_MAX_REQUESTS", _positive_int, 5000,
            "requests before a worker is recycled (closed Whoosh searchers keep file "
            "descriptors)", "5000"),
    Setting("access_log", "TRIALSEARCH_ACCESS_LOG", str, "-",
            "where the JSON access log goes, a line per request (`-`: standard output, "
            "`off`: nowhere, else a file)", "`-`"),
    Setting("log_queries", "TRIALSEARCH_LOG_QUERIES", _bool, False,
            "`1`: access-log lines carry the query string (by default only the "
            "parameters' names: searches can be personal)", "0"),
    Setting("metrics", "TRIALSEARCH_METRICS", _bool, True,
            "`0`: no `/metrics` (Prometheus text format; keep it off the public path "
            "at the proxy otherwise)", "1"),
    Setting("log_level", "TRIALSEARCH_LOG_LEVEL", str, "info",
            "gunicorn's log level", "`info`"),
    Setting("replication_token", "TRIALSEARCH_REPLICATION_TOKEN", str, "",
            "a shared secret: when set, replicas may pull generations from this server's "
            "`/replication/` routes with it (`trialsearch pull`); unset: the routes do "
            "not exist", "none (off)"),
    Setting("rate_limit", "TRIALSEARCH_RATE_LIMIT", _rate, "",
            "per-client limit for the API, the page and feeds, across all workers, e.g. "
            "`60/minute` (that many at once, then one per period ÷ count); 429 with "
            "`Retry-After` past it", "none (off)"),
    Setting("rate_limit_loopback", "TRIALSEARCH_RATE_LIMIT_LOOPBACK", _bool, False,
            "`1`: limit loopback clients too (by default they are not: health checks, "
            "a local proxy)", "0"),
    Setting("proxies", "TRIALSEARCH_PROXIES", _count, 0,
            "trusted proxies in front: the client is the address they name in "
            "`X-Forwarded-For` (and the scheme and host theirs), for rate limits, logs "
            "and feed links", "0"),
    Setting("mcp_allowed_hosts", "TRIALSEARCH_MCP_ALLOWED_HOSTS", str, "",
            "`Host` values the MCP server's Streamable HTTP accepts, comma-separated "
            "(`search.example.org`, `*:*` for any port; `*` turns the check off, e.g. "
            "behind a proxy that checks it)", "loopback only"),
)  # fmt: skip
SETTINGS_BY_NAME = {setting.name: setting for setting in SETTINGS}

Settings = make_dataclass(
    "Settings",
    [(setting.name, Any) for setting in SETTINGS],
    frozen=True,
    namespace={"__doc__": "Every setting's value, read once from the environment."},
)


def read_setting(name: str, env: Mapping[str, str] | None = None) -> Any:
    """One setting's value from `env` (the process environment by default)."""
    setting = SETTINGS_BY_NAME[name]
    env = os.environ if env is None else env
    text = env.get(setting.env)
    if text is None or not text.strip():
        return setting.default_value()
    try:
        return setting.parse(text.strip())
    except ValueError as exc:
        raise SettingError(f"{setting.env}={text!r} is not valid: {exc}") from exc


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Any:
    """Every setting from the environment; keyword arguments override single values."""
    values = {s.name: read_setting(s.name, env) for s in SETTINGS}
    unknown = set(overrides) - set(values)
    if unknown:
        raise TypeError(f"unknown settings: {', '.join(sorted(unknown))}")
    values.update(overrides)
    return Settings(**values)


def settings_table() -> str:
    """The README's settings table, made from this one (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{s.env}` | {s.shown_default} | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)


def cache_root() -> Path:
    """Where data compiled once per machine lives (synonym lists, the gazetteer):
    TRIALSEARCH_CACHE_DIR, else the user's cache folder."""
    configured = read_setting("cache_dir")
    if configured is not None:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trialsearch"
