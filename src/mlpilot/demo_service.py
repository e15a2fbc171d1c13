"""Synthetic service requests for the demo's churn initiative: a latency incident that starts
and ends (seeded, so every demo matches).

Three days of requests up to ``now``, one every 20 seconds on average, answered in about 70 ms
(p99 near 150 ms) with 0.2 % errors. 26 hours before ``now`` a release candidate takes half of
the traffic for 45 minutes and answers 70 % of its requests in 0.4-1.5 s, then is rolled back.
Against the demo's ``latency_p99 <= 300`` (99 % of requests within 300 ms) the incident burns
the error budget at about 35x while it lasts: the 1-hour page (burn rate above 14.4x over an
hour and over 5 minutes) holds from about 25 minutes into the incident until a few minutes
after it, with a p99 latency over the hour of about 1.4 s; it is too short for the 6-hour page
(6x) and the 3-day ticket (1x). The windows of the incident fail the criterion, and about
60 % of the period's budget is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mlpilot.store.events import ImportResult
    from mlpilot.workspace import Initiative

DAYS = 3
MEAN_GAP_S = 20.0
INCIDENT_BEFORE_NOW = timedelta(hours=26)
INCIDENT_LENGTH = timedelta(minutes=45)
STABLE, CANDIDATE = "2026.10", "2026.11-rc1"


@dataclass(frozen=True)
class DemoRequests:
    """The requests (an Arrow table for ``log_requests``) and when the incident ran."""

    requests: Any
    incident_start: datetime
    incident_end: datetime


def generate(now: datetime, *, seed: int = 11) -> DemoRequests:
    """Requests from ``now - DAYS`` to ``now`` with the incident (see the module docstring)."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    span = DAYS * 86_400.0
    gaps = rng.exponential(MEAN_GAP_S, int(span / MEAN_GAP_S * 1.1))
    offsets = np.cumsum(gaps)
    offsets = offsets[offsets < span]
    n = offsets.size
    start = now - timedelta(days=DAYS)
    incident_start = now - INCIDENT_BEFORE_NOW
    incident_end = incident_start + INCIDENT_LENGTH
    first = (incident_start - start).total_seconds()
    during = (offsets >= first) & (offsets < first + INCIDENT_LENGTH.total_seconds())
    candidate = during & (rng.uniform(size=n) < 0.5)
    latency = rng.lognormal(np.log(70.0), 0.32, n)
    slow = candidate & (rng.uniform(size=n) < 0.7)
    latency[slow] = rng.uniform(400.0, 1500.0, int(slow.sum()))
    errors = rng.uniform(size=n) < 0.002
    times = [start + timedelta(seconds=float(s)) for s in offsets]
    table = pa.table(
        {
            "id": [f"req-{i:06d}" for i in range(n)],
            "time": pa.array(times, pa.timestamp("us", "UTC")),
            "model_version": np.where(candidate, CANDIDATE, STABLE),
            "latency_ms": latency.round(1),
            "status": np.where(errors, "error", "ok"),
            "error_class": pa.array(
                ["UpstreamTimeout" if e else None for e in errors.tolist()], pa.string()
            ),
        }
    )
    return DemoRequests(table, incident_start, incident_end)


def log_demo_requests(initiative: Initiative, now: datetime) -> tuple[ImportResult, DemoRequests]:
    """Log the demo requests for ``initiative``; returns the import and the incident's times,
    e.g. to run the monitors once during the incident (``now=incident_start + 30 min``) and
    again at ``now``, which raises a page alert and then resolves it."""
    data = generate(now)
    return initiative.log_requests(data.requests), data
