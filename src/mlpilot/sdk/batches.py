"""Queue entries and request bodies: what the host's calls queue, and how a batch of them
becomes gzip'd JSON bodies (bad records counted and left out)."""

from __future__ import annotations

import gzip
import logging
import queue
import threading
from typing import Any

from mlpilot.sdk.counters import Counters, LogOnce
from mlpilot.sdk.records import encode_record
from mlpilot.sdk.spool import Spool

__all__ = ["Item", "Marker", "encode_batch", "spool_leftovers"]

Item = tuple[str, dict[str, Any]]


class Marker:
    """Put on the queue by flush (and close, with ``stop``): set once what came before is sent."""

    __slots__ = ("done", "stop")

    def __init__(self, *, stop: bool = False) -> None:
        self.done = threading.Event()
        self.stop = stop


def encode_batch(
    items: list[Item], max_body_bytes: int, counters: Counters, once: LogOnce
) -> list[tuple[bytes, int]]:
    """Gzip'd request bodies (each with its record count) for ``items``; bad records counted."""
    bodies: list[tuple[bytes, int]] = []
    parts: list[bytes] = []
    size = 0
    for kind, fields in items:
        try:
            data, problem = encode_record(kind, fields)
        except Exception as exc:  # e.g. a pandas NaT: whatever it is, it must not stop the sender
            data, problem = None, f"{type(exc).__name__}: {exc}"
        if data is None:
            counters.add(dropped=1, invalid=1)
            key = f"invalid:{kind}:{str(problem).split(' ')[0]}"
            once(key, logging.WARNING, "mlpilot: dropped a %s record: %s", kind, problem)
            continue
        if parts and size + len(data) > max_body_bytes:
            bodies.append((_gzip(parts), len(parts)))
            parts, size = [], 0
        parts.append(data)
        size += len(data) + 1
    if parts:
        bodies.append((_gzip(parts), len(parts)))
    return bodies


def spool_leftovers(
    items: queue.SimpleQueue[Item | Marker],
    spool: Spool,
    max_body_bytes: int,
    counters: Counters,
    once: LogOnce,
) -> None:
    """Spool what is still queued, from the closing thread, when the sender did not stop in
    time (a stuck disk or DNS); each entry leaves the queue once, so nothing goes twice."""
    leftovers: list[Item] = []
    while True:
        try:
            entry = items.get_nowait()
        except queue.Empty:
            break
        if not isinstance(entry, Marker):
            leftovers.append(entry)
    for body, records in encode_batch(leftovers, max_body_bytes, counters, once):
        try:
            counters.add(spooled=records, dropped=spool.put(body, records))
        except OSError:
            counters.add(dropped=records)


def _gzip(parts: list[bytes]) -> bytes:
    return gzip.compress(b'{"records":[' + b",".join(parts) + b"]}", compresslevel=1, mtime=0)
