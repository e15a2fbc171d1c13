"""Notifiers: the log line, and a webhook that posts JSON from the background to a real local
HTTP server, retries, refuses private addresses unless allowed, and never blocks the caller."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from mlpilot import ValidationError
from mlpilot.domain.alerts import Alert, AlertCondition, MonitorGroup, Severity
from mlpilot.monitors.notify import (
    LogNotifier,
    WebhookNotifier,
    check_webhook_url,
    webhook_from_env,
)

T0 = datetime(2026, 3, 2, tzinfo=UTC)
ALERT = Alert(
    7,
    "churn",
    AlertCondition(
        "model:1", MonitorGroup.MODEL, "roc_auc >= 0.8", "roc_auc", Severity.TICKET, 0.71, 0.8,
        plan="use the rule",
    ),
    T0,
    T0,
    None,
)  # fmt: skip


class Receiver:
    """A local HTTP server that records POSTed JSON; it can fail the first requests, or hold
    every request until released."""

    def __init__(self, failures: int = 0, hold: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.failures = failures
        self.release = threading.Event()
        if not hold:
            self.release.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver.arrived.set()
                receiver.release.wait(10)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.bodies.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.stop()


def test_the_webhook_posts_the_alert_as_json(receiver):
    hook = WebhookNotifier(receiver.url, allow_private=True)
    hook.notify("opened", ALERT)
    hook.close(5)
    assert receiver.bodies == [{"event": "opened", "alert": ALERT.to_dict()}]
    assert (hook.counters.sent, hook.counters.failed, hook.counters.dropped) == (1, 0, 0)


def test_the_webhook_retries_a_failing_target():
    server = Receiver(failures=2)
    try:
        hook = WebhookNotifier(server.url, allow_private=True, backoff=0.01, retries=3)
        hook.notify("resolved", ALERT)
        hook.close(5)
        assert [b["event"] for b in server.bodies] == ["resolved"]
        assert hook.counters.sent == 1
    finally:
        server.stop()


def test_a_target_that_is_down_is_counted_as_failed():
    server = Receiver()
    url = server.url
    server.stop()  # nothing listens on the port any more
    hook = WebhookNotifier(url, allow_private=True, backoff=0.01, retries=1)
    hook.notify("opened", ALERT)
    hook.close(5)
    assert (hook.counters.sent, hook.counters.failed) == (0, 1)


def test_a_slow_target_does_not_hold_up_the_caller():
    server = Receiver(hold=True)  # the server answers nothing until released
    try:
        hook = WebhookNotifier(server.url, allow_private=True, queue_size=2)
        for _ in range(5):  # returns at once though the first post hangs, and drops the excess
            hook.notify("opened", ALERT)
        assert server.arrived.wait(5)
        assert server.bodies == []  # notify returned before anything was answered
        assert hook.counters.dropped >= 2
        server.release.set()
        hook.close(5)
        assert hook.counters.sent + hook.counters.dropped == 5
    finally:
        server.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_non_public_addresses_are_refused_unless_allowed(url):
    with pytest.raises(ValidationError, match="loopback, link-local or private"):
        check_webhook_url(url)
    check_webhook_url(url, allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "example.org/hook", "http:///nohost"])
def test_a_url_that_is_not_http_is_refused(url):
    with pytest.raises(ValidationError, match="must be http:// or https://"):
        check_webhook_url(url, allow_private=True)


def test_the_webhook_is_configured_from_the_environment(receiver):
    assert webhook_from_env({}) is None
    with pytest.raises(ValidationError, match="private"):
        webhook_from_env({"MLPILOT_ALERT_WEBHOOK": receiver.url})
    hook = webhook_from_env(
        {"MLPILOT_ALERT_WEBHOOK": receiver.url, "MLPILOT_ALERT_WEBHOOK_ALLOW_PRIVATE": "1"}
    )
    assert hook is not None
    hook.close(1)


def test_the_log_notifier_writes_one_line_with_the_plan(caplog):
    with caplog.at_level(logging.WARNING, logger="mlpilot.alerts"):
        LogNotifier().notify("opened", ALERT)
    assert caplog.messages == [
        "alert opened: churn model ticket — roc_auc >= 0.8, observed 0.71; plan: use the rule"
    ]
