"""One HTTP connection to the ingest endpoint, kept alive between batches (stdlib only).

``post`` never raises: a connection error or timeout is a reply with status 0, so the sender
decides what to do from one value. A kept-alive connection the server closed while idle is
retried once at once on a fresh connection; that is safe because records carry their ids.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from mlpilot.errors import ValidationError
from mlpilot.sdk.backoff import parse_retry_after

__all__ = ["RETRYABLE", "Reply", "Transport", "events_url"]

# Statuses worth sending again: the server is busy or failed; 0 means no reply at all.
RETRYABLE = frozenset((0, 408, 425, 429, 500, 502, 503, 504))


@dataclass(frozen=True)
class Reply:
    """What the server said about one batch."""

    status: int  # 0: no HTTP reply (refused, reset, timed out)
    error: str = ""  # for the log: the connection error or the start of the reply body
    retry_after: float | None = None
    accepted: int = 0  # -1: a 2xx without a readable reply; the whole batch counts as taken
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def events_url(uri: str, initiative: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path) of the ingest endpoint under ``uri``."""
    parts = urlsplit(uri.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"server URI {uri!r} must look like http://host:port")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise ValidationError(f"server URI {uri!r} has an invalid port") from None
    path = f"{parts.path.rstrip('/')}/api/v1/initiatives/{quote(initiative)}/events"
    return parts.scheme, parts.hostname, port, path


class Transport:
    """Posts gzip'd JSON batches to ``{uri}/api/v1/initiatives/{initiative}/events``."""

    def __init__(self, uri: str, token: str | None, initiative: str, timeout: float) -> None:
        self.scheme, self.host, self.port, self.path = events_url(uri, initiative)
        self.timeout = timeout
        self._headers = {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "User-Agent": "mlpilot-sdk",
        }
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, timeout: float | None = None) -> Reply:
        """Send one gzip'd body; ``timeout`` (seconds) caps this request, e.g. at exit."""
        wait = self.timeout if timeout is None else max(0.001, min(timeout, self.timeout))
        reused = self._connection is not None
        reply = self._attempt(body, wait)
        if reply.status == 0 and reused:  # the server closed an idle kept-alive connection
            reply = self._attempt(body, wait)
        return reply

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _attempt(self, body: bytes, timeout: float) -> Reply:
        try:
            connection = self._connect(timeout)
            connection.request("POST", self.path, body=body, headers=self._headers)
            response = connection.getresponse()
            payload = response.read()
            retry_after = parse_retry_after(response.getheader("Retry-After"))
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException) as exc:  # timeouts are OSErrors
            self.close()
            return Reply(0, error=f"{type(exc).__name__}: {exc}".strip(": "))
        return _reply(response.status, payload, retry_after)

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            https = self.scheme == "https"
            kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
            self._connection = kind(self.host, self.port, timeout=timeout)
        connection = self._connection
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection


def _reply(status: int, payload: bytes, retry_after: float | None) -> Reply:
    if not 200 <= status < 300:
        text = payload[:200].decode("utf-8", "replace").strip()
        return Reply(status, error=text, retry_after=retry_after)
    try:
        answer = json.loads(payload)
        rejected = [r for r in answer.get("rejected", []) if isinstance(r, dict)]
        return Reply(
            status,
            accepted=int(answer.get("accepted", 0)),
            duplicates=int(answer.get("duplicates", 0)),
            rejected=rejected,
        )
    except (ValueError, TypeError, AttributeError):  # a 2xx without our reply: count as taken
        return Reply(status, accepted=-1)
