"""``Tracker``: log a production service's predictions, outcomes, requests and experiment events
to an mlpilot server, without ever blocking or raising into the service.

A ``log_*`` call checks nothing and copies little: it puts the arguments on a bounded queue
(or counts them as dropped when the queue is full) and returns. A background thread
(:mod:`mlpilot.sdk.sender`) does the rest. See docs/sdk.md.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import time as _time
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar, overload

from mlpilot.domain.parsing import validate_slug
from mlpilot.errors import ValidationError
from mlpilot.sdk.batches import Item, Marker, spool_leftovers
from mlpilot.sdk.config import check_positive, default_spool
from mlpilot.sdk.counters import Counters, LogOnce
from mlpilot.sdk.sender import Sender, SenderSettings
from mlpilot.sdk.spool import Spool
from mlpilot.sdk.transport import Transport, events_url
from mlpilot.sdk.wrap import Output, Track

__all__ = ["Tracker"]

F = TypeVar("F", bound=Callable[..., Any])
_clock = _time.time
_trackers: weakref.WeakSet[Tracker] = weakref.WeakSet()


class Tracker:
    """Sends records to ``{uri}/api/v1/initiatives/{initiative}/events`` in the background.

    ``uri``, ``token`` and ``initiative`` default to ``MLPILOT_URI``, ``MLPILOT_TOKEN`` and
    ``MLPILOT_INITIATIVE``; a missing or malformed setting is a ``ValidationError`` here, at
    start-up — after that nothing the tracker does raises into the host.

    >>> tracker = Tracker("http://127.0.0.1:8520", "TOKEN", "churn")  # doctest: +SKIP
    >>> tracker.log_prediction(0.82, features={"tenure": 14}, entity_id="c-17")  # doctest: +SKIP
    """

    def __init__(
        self,
        uri: str | None = None,
        token: str | None = None,
        initiative: str | None = None,
        *,
        model_version: str | None = None,
        queue_size: int = 10_000,
        batch_size: int = 1000,
        flush_interval: float = 1.0,
        spool_dir: str | Path | None = None,
        spool_max_bytes: int = 100 * 2**20,
        timeout: float = 10.0,
        close_timeout: float = 5.0,
        max_retries: int = 3,
        backoff_base: float = 0.2,
        backoff_max: float = 30.0,
        max_body_bytes: int = 4 * 2**20,
    ) -> None:
        uri = uri or os.environ.get("MLPILOT_URI")
        token = token or os.environ.get("MLPILOT_TOKEN")
        initiative = initiative or os.environ.get("MLPILOT_INITIATIVE")
        if not uri:
            raise ValidationError("no server URI: pass uri= or set MLPILOT_URI")
        if not initiative:
            raise ValidationError("no initiative: pass initiative= or set MLPILOT_INITIATIVE")
        self.initiative = validate_slug(initiative)
        _, host, port, _ = events_url(uri, self.initiative)
        check_positive(
            queue_size=queue_size, batch_size=batch_size, spool_max_bytes=spool_max_bytes,
            max_body_bytes=max_body_bytes, timeout=timeout, flush_interval=flush_interval,
            backoff_base=backoff_base, backoff_max=backoff_max,
        )  # fmt: skip
        if max_retries < 0 or close_timeout < 0:
            raise ValidationError("max_retries and close_timeout must be 0 or more")
        self.uri = uri
        self.model_version = model_version
        self.close_timeout = close_timeout
        self._queue_size = queue_size
        self._settings = SenderSettings(
            batch_size, flush_interval, max_retries, backoff_base, backoff_max, max_body_bytes
        )
        folder = Path(spool_dir) if spool_dir else default_spool(host, port, self.initiative)
        self._spool = Spool(folder, spool_max_bytes)
        self._token = token
        self._timeout = timeout
        self._counters = Counters()
        self._once = LogOnce()
        self._closed = False
        self._start()
        atexit.register(self._at_exit)
        _trackers.add(self)
        if not token:
            logging.getLogger("mlpilot.sdk").warning(
                "mlpilot: no token (MLPILOT_TOKEN); the server will refuse the records"
            )

    def __repr__(self) -> str:
        return f"Tracker({self.uri!r}, initiative={self.initiative!r})"

    @property
    def spool_dir(self) -> Path:
        return self._spool.folder

    # Logging: each call only queues its arguments ----------------------------------------------

    def log_prediction(
        self,
        score: float | None = None,
        prediction: Any = None,
        *,
        features: Mapping[str, Any] | None = None,
        entity_id: Any = None,
        model_version: str | None = None,
        id: Any = None,
        time: Any = None,
        latency_ms: float | None = None,
        status: str | None = None,
        error_class: str | None = None,
    ) -> None:
        """A prediction: a ``score`` (probability of the positive class) and/or a
        ``prediction`` (value or class label), its ``features``, the ``entity_id`` outcomes
        will name; optionally the request's ``latency_ms``, ``status`` and ``error_class``."""
        try:
            self._put("prediction", {
                "id": id, "time": _clock() if time is None else time, "entity_id": entity_id,
                "model_version": self.model_version if model_version is None else model_version,
                "score": score, "prediction": prediction, "latency_ms": latency_ms,
                "status": status, "error_class": error_class,
                "features": None if features is None else dict(features),
            })  # fmt: skip
        except Exception as exc:
            self._bad("prediction", exc)

    def log_outcome(
        self, entity_id: Any = None, label: Any = None, *, id: Any = None, time: Any = None
    ) -> None:
        """The true ``label`` of ``entity_id``, known now (or at ``time``)."""
        fields = {"id": id, "time": _clock() if time is None else time, "entity_id": entity_id,
                  "label": label}  # fmt: skip
        self._put("outcome", fields)

    def log_request(
        self,
        latency_ms: float | None = None,
        *,
        status: str | None = None,
        error_class: str | None = None,
        model_version: str | None = None,
        id: Any = None,
        time: Any = None,
    ) -> None:
        """A request served in ``latency_ms``; ``status`` is "ok", or "error" with an
        ``error_class`` (the default when an error class is given)."""
        fields = {
            "id": id, "time": _clock() if time is None else time, "latency_ms": latency_ms,
            "model_version": self.model_version if model_version is None else model_version,
            "status": ("ok" if error_class is None else "error") if status is None else status,
            "error_class": error_class,
        }  # fmt: skip
        self._put("request", fields)

    def log_exposure(
        self,
        unit_id: Any = None,
        experiment: str | None = None,
        variant: str | None = None,
        *,
        id: Any = None,
        time: Any = None,
    ) -> None:
        """``unit_id`` (a user, a session) saw ``variant`` of ``experiment``."""
        fields = {"id": id, "time": _clock() if time is None else time, "unit_id": unit_id,
                  "experiment": experiment, "variant": variant}  # fmt: skip
        self._put("exposure", fields)

    def log_metric_event(
        self,
        unit_id: Any = None,
        metric: str | None = None,
        value: float | None = None,
        *,
        id: Any = None,
        time: Any = None,
    ) -> None:
        """A value of a business ``metric`` for ``unit_id`` (e.g. revenue of an order)."""
        fields = {"id": id, "time": _clock() if time is None else time, "unit_id": unit_id,
                  "metric": metric, "value": value}  # fmt: skip
        self._put("metric_event", fields)

    @overload
    def track(self, function: F, /) -> F: ...
    @overload
    def track(
        self,
        function: None = None,
        /,
        *,
        features: Mapping[str, Any] | None = None,
        entity_id: Any = None,
        entity_key: str | None = None,
        exclude: Iterable[str] = (),
        output: Output = "auto",
        model_version: str | None = None,
    ) -> Track: ...
    def track(
        self,
        function: F | None = None,
        /,
        *,
        features: Mapping[str, Any] | None = None,
        entity_id: Any = None,
        entity_key: str | None = None,
        exclude: Iterable[str] = (),
        output: Output = "auto",
        model_version: str | None = None,
    ) -> F | Track:
        """Track a predict function: ``@tracker.track``, ``@tracker.track(entity_key="id")``,
        or ``with tracker.track(features=row, entity_id=key) as call: call.score = ...``.
        ``entity_key`` names the input holding the entity id; ``exclude`` inputs that are not
        features; ``output`` says whether the result is a score, a prediction or either (auto)."""
        tracked = Track(self, features=features, entity_id=entity_id, entity_key=entity_key,
                        exclude=exclude, output=output, model_version=model_version)  # fmt: skip
        return tracked if function is None else tracked(function)

    # Control -----------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Send (or spool) everything logged so far; True when done within ``timeout``."""
        if self._closed:
            return True
        if not self._sender.alive():
            return False
        marker = Marker()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float | None = None) -> bool:
        """Send what is queued within ``timeout`` seconds (default ``close_timeout``), spool the
        rest, stop the sender. Later log calls are counted as dropped. True when all was done."""
        if self._closed:
            return True
        self._closed = True
        atexit.unregister(self._at_exit)
        wait = self.close_timeout if timeout is None else max(0.0, timeout)
        deadline = _time.monotonic() + wait
        self._sender.stop(deadline)
        if self._sender.join(wait + 1.0):
            return True
        spool_leftovers(
            self._queue, self._spool, self._settings.max_body_bytes, self._counters, self._once
        )
        return False

    def stats(self) -> dict[str, int]:
        """sent, spooled, dropped, rejected, retries, invalid (counts since start) and queued
        (records waiting in memory now)."""
        counts = self._counters.snapshot()
        counts["queued"] = self._queue.qsize()
        return counts

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Internals ---------------------------------------------------------------------------------

    def _put(self, kind: str, fields: dict[str, Any]) -> None:
        if self._closed or self._queue.qsize() >= self._queue_size:
            self._counters.add(dropped=1)
            why = "the tracker is closed" if self._closed else "the queue is full"
            self._once(f"full:{why}", logging.WARNING, "mlpilot: records dropped: %s", why)
            return
        self._queue.put((kind, fields))

    def _bad(self, kind: str, exc: Exception) -> None:
        self._counters.add(dropped=1, invalid=1)
        self._once(f"bad:{kind}", logging.WARNING, "mlpilot: dropped a %s record: %s: %s",
                   kind, type(exc).__name__, exc)  # fmt: skip

    def _start(self) -> None:
        self._queue: queue.SimpleQueue[Item | Marker] = queue.SimpleQueue()
        transport = Transport(self.uri, self._token, self.initiative, self._timeout)
        self._sender = Sender(
            self._queue, transport, self._spool, self._settings, self._counters, self._once
        )
        self._sender.start()

    def _at_exit(self) -> None:
        with contextlib.suppress(Exception):  # at exit there is nobody left to tell
            self.close()

    def _after_fork(self) -> None:
        """In a forked child (e.g. a pre-forking web server) the sender thread is gone: what the
        parent had queued is the parent's to send; the child starts its own sender."""
        self._counters.reset_lock()
        self._once.reset_lock()
        if not self._closed:
            self._start()


def _after_fork_in_child() -> None:
    for tracker in list(_trackers):
        tracker._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
