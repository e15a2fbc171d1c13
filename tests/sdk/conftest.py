"""Fixtures of the SDK tests: a receiver, and trackers with short delays aimed at it."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mlpilot import Tracker
from tests.sdk.receiver import Receiver, receiving


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def make_tracker(tmp_path) -> Iterator[Callable[..., Tracker]]:
    made: list[Tracker] = []

    def make(uri: str, **settings: Any) -> Tracker:
        options: dict[str, Any] = {
            "flush_interval": 0.05, "backoff_base": 0.01, "backoff_max": 0.2, "timeout": 5.0,
            "spool_dir": tmp_path / "spool", "max_retries": 3,
        }  # fmt: skip
        options.update(settings)
        tracker = Tracker(uri, "secret-token", "churn", **options)
        made.append(tracker)
        return tracker

    yield make
    for tracker in made:
        tracker.close(timeout=2)


def wait_for(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Wait for the sender thread to get somewhere; fails (does not time a speed) after limit."""
    end = time.monotonic() + limit
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
