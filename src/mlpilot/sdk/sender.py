"""The background sender: batch what the host logged, post it, retry, spool, send spooled later.

One daemon thread per tracker does all the work the host's call must not: encoding, ids, gzip,
HTTP, backoff, disk. Its rules:

- A batch leaves when it holds ``batch_size`` records or its first record has waited
  ``flush_interval`` seconds (or a flush or close asks for it).
- A retryable failure (no reply, 408/425/429/5xx) is retried up to ``max_retries`` times after
  full-jitter exponential backoff, and never sooner than the server's Retry-After. Then the batch
  goes to the spool and the server counts as down until a backoff delay has passed.
- While anything is spooled, new batches are spooled too and the spool is sent oldest first, one
  batch per turn, so records reach the server in the order they were logged.
- A refused batch (400/401/403/404/413 and other 4xx) is dropped and counted; it would be
  refused again.
- At close, spooled batches go first, then what is queued, until the deadline: what could not
  be sent by then is spooled.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass

from mlpilot.sdk.backoff import full_jitter
from mlpilot.sdk.batches import Item, Marker, encode_batch
from mlpilot.sdk.counters import Counters, LogOnce, logger
from mlpilot.sdk.spool import Spool
from mlpilot.sdk.transport import RETRYABLE, Reply, Transport

__all__ = ["Sender", "SenderSettings"]


@dataclass(frozen=True)
class SenderSettings:
    batch_size: int
    flush_interval: float
    max_retries: int
    backoff_base: float
    backoff_max: float
    max_body_bytes: int  # uncompressed JSON per request; bigger batches are split


class Sender:
    """The thread that empties the tracker's queue."""

    def __init__(
        self,
        items: queue.SimpleQueue[Item | Marker],
        transport: Transport,
        spool: Spool,
        settings: SenderSettings,
        counters: Counters,
        once: LogOnce,
    ) -> None:
        self._queue = items
        self._transport = transport
        self._spool = spool
        self._settings = settings
        self._counters = counters
        self._once = once
        self._stopping = threading.Event()
        self._deadline = float("inf")  # monotonic time by which close wants everything done
        self._down_until = 0.0  # no post before this (monotonic)
        self._failures = 0  # consecutive failed turns, for the down-time backoff
        self._spool_pending = False  # anything in the spool? (looked at when the thread starts)
        self._thread = threading.Thread(target=self._run, name="mlpilot-sender", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, deadline: float) -> Marker:
        """Ask the thread to finish by ``deadline`` (monotonic); the marker is set when done."""
        self._deadline = deadline
        marker = Marker(stop=True)
        self._queue.put(marker)
        self._stopping.set()
        return marker

    def alive(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # The loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._spool_pending = bool(self._spool.files())  # left by an earlier run?
            while self._turn():
                pass
        except BaseException:  # a bug here must be visible, and the thread must end cleanly
            logger.exception("mlpilot: the tracker's sender stopped")
        finally:
            self._transport.close()

    def _turn(self) -> bool:
        """Collect and send one batch, then one spooled batch; False once a stop is done."""
        items, markers = self._collect()
        stopping = any(marker.stop for marker in markers)
        while stopping and self._send_spooled():  # at close, older batches first if time allows
            pass
        if items:
            for body, records in encode_batch(
                items, self._settings.max_body_bytes, self._counters, self._once
            ):
                self._deliver(body, records)
        for marker in markers:
            marker.done.set()
        if stopping:
            return False
        self._send_spooled()
        return True

    def _collect(self) -> tuple[list[Item], list[Marker]]:
        items: list[Item] = []
        markers: list[Marker] = []
        first = self._get(self._idle_wait())
        if first is None:
            return items, markers
        deadline = time.monotonic() + self._settings.flush_interval
        entry: Item | Marker | None = first
        while entry is not None:
            if isinstance(entry, Marker):
                markers.append(entry)
                break
            items.append(entry)
            if len(items) >= self._settings.batch_size:
                break
            wait = 0.0 if self._stopping.is_set() else deadline - time.monotonic()
            entry = self._get(wait)
        return items, markers

    def _get(self, wait: float) -> Item | Marker | None:
        try:
            return self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def _idle_wait(self) -> float:
        """How long to wait for the first record: not past the moment spooled work is due."""
        if not self._spool_pending:
            return max(self._settings.flush_interval, 0.05)
        return min(self._settings.flush_interval, max(0.0, self._down_until - time.monotonic()))

    # Sending ---------------------------------------------------------------------------------

    def _deliver(self, body: bytes, records: int) -> None:
        now = time.monotonic()
        if self._spool_pending or now < self._down_until or now >= self._deadline:
            self._to_spool(body, records)  # keep the order: older batches wait in the spool
            return
        attempt = 0
        while True:
            reply = self._post(body)
            if reply.ok:
                self._taken(reply, records)
                return
            if reply.status not in RETRYABLE:
                self._refused(reply, records)
                return
            self._failed(reply)
            delay = max(
                full_jitter(attempt, self._settings.backoff_base, self._settings.backoff_max),
                reply.retry_after or 0.0,
            )
            late = time.monotonic() + delay >= self._deadline
            if attempt >= self._settings.max_retries or delay > self._settings.backoff_max or late:
                self._to_spool(body, records)
                self._mark_down(reply)
                return
            self._stopping.wait(delay)  # close cuts the wait short; the deadline then rules
            attempt += 1

    def _send_spooled(self) -> bool:
        """Send the oldest spooled batch if the server is up; True when one was taken."""
        now = time.monotonic()
        if not self._spool_pending or now < self._down_until or now >= self._deadline:
            return False
        found = self._spool.oldest()
        if found is None:
            self._spool_pending = False
            return False
        spooled, body = found
        reply = self._post(body)
        if reply.ok or reply.status not in RETRYABLE:
            self._spool.remove(spooled)
            self._spool_pending = bool(self._spool.files())
            if reply.ok:
                self._taken(reply, spooled.records)
            else:
                self._refused(reply, spooled.records)
            return True
        self._failed(reply)
        self._mark_down(reply)
        return False

    def _post(self, body: bytes) -> Reply:
        left = self._deadline - time.monotonic()
        if left <= 0:
            return Reply(0, error="no time left before close")
        return self._transport.post(body, None if left == float("inf") else left)

    def _taken(self, reply: Reply, records: int) -> None:
        self._failures = 0
        self._down_until = 0.0
        sent = records if reply.accepted < 0 else reply.accepted + reply.duplicates
        self._counters.add(sent=sent, rejected=len(reply.rejected))
        if reply.rejected:
            first = reply.rejected[0]
            self._once(
                "rejected",
                logging.WARNING,
                "mlpilot: the server rejected %d record(s) of a batch, e.g. id %s: %s",
                len(reply.rejected),
                first.get("id"),
                first.get("reason"),
            )

    def _refused(self, reply: Reply, records: int) -> None:
        self._counters.add(dropped=records)
        self._once(
            f"refused:{reply.status}",
            logging.ERROR,
            "mlpilot: the server refused a batch of %d record(s) with HTTP %d, dropped: %s",
            records,
            reply.status,
            reply.error,
        )

    def _failed(self, reply: Reply) -> None:
        self._counters.add(retries=1)
        key = f"failed:{reply.status}"
        what = f"HTTP {reply.status}" if reply.status else "no reply"
        self._once(key, logging.WARNING, "mlpilot: the server failed (%s): %s; will retry", what,
                   reply.error)  # fmt: skip

    def _mark_down(self, reply: Reply) -> None:
        self._failures += 1
        delay = full_jitter(self._failures, self._settings.backoff_base, self._settings.backoff_max)
        self._down_until = time.monotonic() + max(delay, reply.retry_after or 0.0)

    def _to_spool(self, body: bytes, records: int) -> None:
        try:
            lost = self._spool.put(body, records)
        except OSError as exc:
            self._counters.add(dropped=records)
            self._once("spool", logging.ERROR, "mlpilot: cannot spool to %s (%s); records dropped",
                       self._spool.folder, exc)  # fmt: skip
            return
        self._spool_pending = True
        self._counters.add(spooled=records, dropped=lost)
        if lost:
            self._once("spool-full", logging.WARNING,
                       "mlpilot: the spool %s is over %d bytes; the oldest batches were dropped",
                       self._spool.folder, self._spool.max_bytes)  # fmt: skip
