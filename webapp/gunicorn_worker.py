"""gunicorn's sync worker, with JSON for the requests it refuses before Flask sees them.

gunicorn itself answers a request line over `limit_request_line` (414) or headers over
its limits (431), in HTML, before the app runs. An agent calling /api/ must get the
API's JSON error shape for those too, so this worker peeks at the first bytes of each
connection (without consuming them) to learn whether the request is for the API,
and answers such refusals there in JSON. Everything else is gunicorn's own.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.util import write_nonblock
from gunicorn.workers.sync import SyncWorker

# enough of the request line to see the path: "DELETE /api/" is the longest we read
PEEK_BYTES = 32
JSON_PREFIXES = (b"/api/", b"/healthz")
_REFUSALS: dict[type, tuple[int, str, str, str]] = {
    LimitRequestLine: (
        414,
        "URI Too Long",
        "uri_too_long",
        "The URL is too long for a GET: send the same parameters as a JSON object "
        "to POST /api/search.",
    ),
    LimitRequestHeaders: (
        431,
        "Request Header Fields Too Large",
        "headers_too_large",
        "The request's headers are larger than this server takes.",
    ),
}


def is_json_request(first_bytes: bytes) -> bool:
    """Whether a request line's start names an API path ("GET /api/search?q=…")."""
    _, _, rest = first_bytes.partition(b" ")
    return rest.startswith(JSON_PREFIXES)


def json_refusal(status: int, reason: str, code: str, message: str) -> bytes:
    """A whole HTTP response: the API's error shape, and the connection closed."""
    body = json.dumps({"error": {"code": code, "message": message, "param": None}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class JsonErrorWorker(SyncWorker):
    """One connection at a time, as the sync worker: `_json` is this connection's."""

    _json = False

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        self._json = False
        if not self.cfg.is_ssl:
            try:
                self._json = is_json_request(client.recv(PEEK_BYTES, socket.MSG_PEEK))
            except OSError:
                pass  # the parser meets the same error and reports it
        super().handle(listener, client, addr)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        refusal = next((r for kind, r in _REFUSALS.items() if isinstance(exc, kind)), None)
        if not self._json or refusal is None:
            super().handle_error(req, client, addr, exc)
            return
        ip = (addr or ("",))[0]
        self.log.warning("Invalid request from ip=%s: %s (answered in JSON)", ip, exc)
        try:
            write_nonblock(client, json_refusal(*refusal))
        except Exception:
            self.log.debug("Failed to send error message.")
