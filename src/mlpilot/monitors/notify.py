"""Notifiers: tell people when an alert opens or resolves, without ever holding up monitoring.

A log line always; a webhook when one is configured (``MLPILOT_ALERT_WEBHOOK``). The webhook
posts JSON from a background thread through a bounded queue: ``notify`` never waits on the
network, a full queue drops (and counts) instead of blocking, and each post has a timeout and a
few retries with exponential backoff. A URL whose host is (or resolves to) a loopback,
link-local, private or otherwise non-public address is refused unless explicitly allowed
(``MLPILOT_ALERT_WEBHOOK_ALLOW_PRIVATE=1``), so a monitor cannot be turned against the network
it runs in; the address is checked again before every post, as DNS can change.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import queue
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from mlpilot.domain.alerts import Alert
from mlpilot.errors import ValidationError

__all__ = [
    "LogNotifier",
    "Notifier",
    "WebhookNotifier",
    "check_webhook_url",
    "describe",
    "webhook_from_env",
]

LOG = logging.getLogger("mlpilot.alerts")
_STOP = object()


class Notifier(Protocol):
    """Something told about each alert that opens (``event="opened"``) or resolves."""

    def notify(self, event: str, alert: Alert) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...


class LogNotifier:
    """One log line per event on the ``mlpilot.alerts`` logger."""

    def notify(self, event: str, alert: Alert) -> None:
        LOG.warning("%s", describe(event, alert))

    def close(self, timeout: float = 5.0) -> None:
        return None


@dataclass
class Counters:
    """What a webhook notifier did with the events it was given."""

    sent: int = 0
    failed: int = 0
    dropped: int = 0


class WebhookNotifier:
    """POST ``{"event": …, "alert": {…}}`` as JSON to ``url``, in the background."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.5,
        allow_private: bool = False,
        queue_size: int = 1000,
    ) -> None:
        check_webhook_url(url, allow_private=allow_private)
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.allow_private = allow_private
        self.counters = Counters()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlpilot-webhook", daemon=True)
        self._thread.start()

    def notify(self, event: str, alert: Alert) -> None:
        """Queue the event; never blocks (a full queue drops it and counts the drop)."""
        body = json.dumps({"event": event, "alert": alert.to_dict()}).encode()
        try:
            self._queue.put_nowait(body)
        except queue.Full:
            self.counters.dropped += 1

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued for at most ``timeout`` seconds, then stop."""
        deadline = time.monotonic() + timeout
        with suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()  # cut short any retry wait still running
        while True:  # whatever is left was not sent in time
            try:
                if self._queue.get_nowait() is not _STOP:
                    self.counters.dropped += 1
            except queue.Empty:
                break

    def _run(self) -> None:
        while (body := self._queue.get()) is not _STOP:
            assert isinstance(body, bytes)
            if self._post(body):
                self.counters.sent += 1
            else:
                self.counters.failed += 1

    def _post(self, body: bytes) -> bool:
        for attempt in range(self.retries + 1):
            if attempt and self._stopping.wait(self.backoff * 2 ** (attempt - 1)):
                return False
            try:
                check_webhook_url(self.url, allow_private=self.allow_private)
                request = urllib.request.Request(
                    self.url,
                    data=body,
                    headers={"Content-Type": "application/json", "User-Agent": "mlpilot"},
                    method="POST",
                )
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    if 200 <= response.status < 300:
                        return True
            except (OSError, ValidationError, urllib.error.URLError) as exc:
                LOG.warning("webhook %s, attempt %d: %s", self.url, attempt + 1, exc)
        return False


def describe(event: str, alert: Alert) -> str:
    """One line: ``alert opened: churn model ticket — roc_auc >= 0.8, observed 0.71; plan: …``."""
    c = alert.condition
    observed = "n/a" if c.observed is None else f"{c.observed:.4g}"
    unit, summary = c.details.get("unit"), c.details.get("summary")  # a service SLO's labels
    observed += f" {unit}" if unit and c.observed is not None else ""
    plan = (f"; {summary}" if summary else "") + (f"; plan: {c.plan}" if c.plan else "")
    return (
        f"alert {event}: {alert.initiative} {c.group.value} {c.severity.value} — "
        f"{c.criterion}, observed {observed}{plan}"
    )


def check_webhook_url(url: str, *, allow_private: bool = False) -> None:
    """Refuse a URL that is not http(s), or whose host is not a public address (unless allowed)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(f"webhook URL {url!r} must be http:// or https:// with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise ValidationError(f"webhook host {parts.hostname!r} does not resolve: {exc}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise ValidationError(
                f"webhook URL {url!r} points to {address}, a loopback, link-local or private "
                "address; allow it explicitly (MLPILOT_ALERT_WEBHOOK_ALLOW_PRIVATE=1) if meant"
            )


def webhook_from_env(environ: Mapping[str, str]) -> WebhookNotifier | None:
    """The webhook named by ``MLPILOT_ALERT_WEBHOOK``, if set."""
    url = environ.get("MLPILOT_ALERT_WEBHOOK", "").strip()
    if not url:
        return None
    allow = environ.get("MLPILOT_ALERT_WEBHOOK_ALLOW_PRIVATE", "").lower() in ("1", "true")
    return WebhookNotifier(url, allow_private=allow)
