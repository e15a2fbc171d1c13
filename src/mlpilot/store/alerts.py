"""Alerts in the metadata database: opened, kept and resolved from monitor conditions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from mlpilot.domain.alerts import Alert, AlertChanges, AlertCondition, MonitorGroup, Severity
from mlpilot.store import schema as t
from mlpilot.store.metadata import MetadataStore, _utc

__all__ = ["AlertStore"]


class AlertStore:
    """The alerts of a workspace, in the same database (and transactions) as its metadata."""

    def __init__(self, metadata: MetadataStore) -> None:
        self._metadata = metadata

    def sync(
        self,
        slug: str,
        group: MonitorGroup,
        conditions: list[AlertCondition],
        now: datetime | None = None,
    ) -> AlertChanges:
        """Record what ``group`` finds failing for ``slug`` now, in one transaction.

        An open alert with a condition's key is updated (last seen, latest values, the worse
        severity of the two); a new key opens an alert; an open alert of ``group`` whose key is
        not among ``conditions`` resolves. Call it only when the group could judge at all: a
        group without data has not seen its conditions clear.
        """
        now = (now or datetime.now(UTC)).astimezone(UTC)
        latest: dict[str, AlertCondition] = {}
        for condition in conditions:  # one condition per key: the most severe
            if condition.group is not group:
                raise ValueError(f"condition {condition.key!r} is not of group {group.value}")
            kept = latest.get(condition.key)
            if kept is None or condition.severity.rank > kept.severity.rank:
                latest[condition.key] = condition
        opened: list[Alert] = []
        updated: list[Alert] = []
        resolved: list[Alert] = []
        with self._metadata._tx() as connection:
            initiative_id = self._metadata._id(connection, slug, lock=True)
            rows = connection.execute(
                select(t.alerts).where(
                    t.alerts.c.initiative_id == initiative_id,
                    t.alerts.c.monitor_group == group.value,
                    t.alerts.c.resolved_at.is_(None),
                )
            ).all()
            open_by_key = {row.key: _alert(row, slug) for row in rows}
            for key, condition in latest.items():
                before = open_by_key.pop(key, None)
                if before is None:
                    values = {**_values(condition), "first_seen": now, "last_seen": now}
                    new_id = connection.execute(
                        insert(t.alerts)
                        .values(initiative_id=initiative_id, **values)
                        .returning(t.alerts.c.id)
                    ).scalar_one()
                    opened.append(Alert(new_id, slug, condition, now, now, None))
                    continue
                if before.condition.severity.rank > condition.severity.rank:
                    condition = _with_severity(condition, before.condition.severity)
                connection.execute(
                    update(t.alerts)
                    .where(t.alerts.c.id == before.id)
                    .values(**_values(condition), last_seen=now)
                )
                updated.append(Alert(before.id, slug, condition, before.first_seen, now, None))
            for alert in open_by_key.values():
                connection.execute(
                    update(t.alerts).where(t.alerts.c.id == alert.id).values(resolved_at=now)
                )
                resolved.append(
                    Alert(alert.id, slug, alert.condition, alert.first_seen, alert.last_seen, now)
                )
        return AlertChanges(tuple(opened), tuple(updated), tuple(resolved))

    def alerts(self, slug: str | None = None, *, open_only: bool = False) -> list[Alert]:
        """Alerts of ``slug`` (or of every initiative): open ones first, latest seen first."""
        query = select(t.alerts, t.initiatives.c.slug).join(
            t.initiatives, t.initiatives.c.id == t.alerts.c.initiative_id
        )
        with self._metadata._tx() as connection:
            if slug is not None:
                query = query.where(
                    t.alerts.c.initiative_id == self._metadata._id(connection, slug)
                )
            if open_only:
                query = query.where(t.alerts.c.resolved_at.is_(None))
            rows = connection.execute(query).all()
        found = [_alert(row, row.slug) for row in rows]
        found.sort(key=lambda a: (a.open, a.last_seen, a.id), reverse=True)
        return found


def _values(condition: AlertCondition) -> dict[str, Any]:
    return {
        "key": condition.key,
        "monitor_group": condition.group.value,
        "criterion": condition.criterion,
        "metric": condition.metric,
        "window_start": condition.window_start,
        "window_end": condition.window_end,
        "observed": condition.observed,
        "threshold": condition.threshold,
        "severity": condition.severity.value,
        "plan": condition.plan,
        "details": json.dumps(condition.details, sort_keys=True, default=str),
    }


def _with_severity(condition: AlertCondition, severity: Severity) -> AlertCondition:
    return replace(condition, severity=severity)


def _maybe_utc(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _alert(row: Row[Any], slug: str) -> Alert:
    condition = AlertCondition(
        key=row.key,
        group=MonitorGroup(row.monitor_group),
        criterion=row.criterion,
        metric=row.metric,
        severity=Severity(row.severity),
        observed=row.observed,
        threshold=row.threshold,
        window_start=_maybe_utc(row.window_start),
        window_end=_maybe_utc(row.window_end),
        plan=row.plan,
        details=json.loads(row.details),
    )
    return Alert(
        row.id, slug, condition, _utc(row.first_seen), _utc(row.last_seen),
        _maybe_utc(row.resolved_at),
    )  # fmt: skip
