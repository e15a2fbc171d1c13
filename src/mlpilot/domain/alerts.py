"""Alerts: a criterion that fails in a monitor becomes one open alert until it clears.

A monitor run reports its *conditions* (what fails right now); the store turns them into alerts:
a condition whose key has an open alert updates it (last seen, latest value, worst severity), a
new key opens one, and an open alert whose key is no longer reported by its group resolves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MonitorGroup(StrEnum):
    """The monitor groups whose lights ``mlpilot monitor`` shows."""

    MODEL = "model"
    DATA = "data"
    SERVICE = "service"
    IMPACT = "impact"


class Severity(StrEnum):
    """How urgent an alert is, least to most: a warning, a ticket, a page."""

    WARNING = "warning"
    TICKET = "ticket"
    PAGE = "page"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class AlertCondition:
    """One failing criterion as a monitor saw it. ``key`` identifies it across runs."""

    key: str
    group: MonitorGroup
    criterion: str  # as written, e.g. "roc_auc >= 0.8"
    metric: str
    severity: Severity
    observed: float | None = None
    threshold: float | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    plan: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    """A stored alert: the latest condition seen under its key, and when it began and ended."""

    id: int
    initiative: str
    condition: AlertCondition
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None

    @property
    def open(self) -> bool:
        return self.resolved_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, times in ISO 8601 UTC."""
        c = self.condition
        return {
            "id": self.id,
            "initiative": self.initiative,
            "group": c.group.value,
            "criterion": c.criterion,
            "metric": c.metric,
            "severity": c.severity.value,
            "observed": c.observed,
            "threshold": c.threshold,
            "window_start": _iso(c.window_start),
            "window_end": _iso(c.window_end),
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "resolved": self.resolved_at is not None,
            "resolved_at": _iso(self.resolved_at),
            "plan": c.plan,
            "details": c.details,
        }


@dataclass(frozen=True)
class AlertChanges:
    """What syncing one monitor group's conditions did."""

    opened: tuple[Alert, ...] = ()
    updated: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")
