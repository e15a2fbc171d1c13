"""The tracker's counters and its log-once helper, both safe to use from any thread."""

from __future__ import annotations

import logging
import threading

__all__ = ["COUNTERS", "Counters", "LogOnce", "logger"]

logger = logging.getLogger("mlpilot.sdk")

# sent: records the server holds (stored now or before); spooled: records written to the spool;
# dropped: records lost (queue full, invalid, refused by the server with 4xx, spool over its
# bound, not writable); rejected: records the server named as bad in a 2xx reply; retries:
# failed posts that will be tried again; invalid: the part of dropped refused before sending.
COUNTERS = ("sent", "spooled", "dropped", "rejected", "retries", "invalid")


class Counters:
    """Running totals since the tracker started."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values = dict.fromkeys(COUNTERS, 0)

    def add(self, **amounts: int) -> None:
        with self._lock:
            for name, amount in amounts.items():
                self._values[name] += amount

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._values)

    def reset_lock(self) -> None:
        """A fresh lock after fork: the parent's may have been held by a thread the child lost."""
        self._lock = threading.Lock()


class LogOnce:
    """Log a message the first time its key is seen, so a broken setup does not flood logs."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, key: str, level: int, message: str, *args: object) -> None:
        with self._lock:
            if key in self._seen:
                return
            self._seen.add(key)
        logger.log(level, message + " (logged once)", *args)

    def reset_lock(self) -> None:
        self._lock = threading.Lock()
