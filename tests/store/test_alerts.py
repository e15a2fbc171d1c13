"""The alert store on SQLite and PostgreSQL: one open alert per condition, kept until it clears."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import mlpilot
from mlpilot import NotFoundError
from mlpilot.domain.alerts import AlertCondition, MonitorGroup, Severity

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PLAN = "fall back to the usage-drop rule"


def condition(
    key: str = "model:1",
    group: MonitorGroup = MonitorGroup.MODEL,
    severity: Severity = Severity.TICKET,
    observed: float = 0.7,
) -> AlertCondition:
    return AlertCondition(
        key=key,
        group=group,
        criterion="roc_auc >= 0.8",
        metric="roc_auc",
        severity=severity,
        observed=observed,
        threshold=0.8,
        window_start=T0,
        window_end=T0 + timedelta(days=1),
        plan=PLAN,
        details={"note": "<b>kept as text</b>"},
    )


@pytest.fixture
def alerts(ws: mlpilot.Workspace) -> mlpilot.Workspace:
    for slug in ("churn", "fraud"):
        ws.create_initiative(
            slug, name=slug, problem="p", prediction_use="u", task="binary", shape="batch",
            baseline="b",
        )  # fmt: skip
    return ws


def test_a_condition_that_stays_is_one_open_alert_and_resolves_when_it_clears(alerts):
    store = alerts.alerts
    first = store.sync("churn", MonitorGroup.MODEL, [condition()], T0)
    assert (len(first.opened), first.updated, first.resolved) == (1, (), ())
    for hour in range(1, 4):  # the condition holds for three more runs: no new alert
        again = store.sync(
            "churn", MonitorGroup.MODEL, [condition(observed=0.6)], T0 + timedelta(hours=hour)
        )
        assert (again.opened, len(again.updated), again.resolved) == ((), 1, ())
    (alert,) = store.alerts("churn")
    assert alert.open
    assert (alert.first_seen, alert.last_seen) == (T0, T0 + timedelta(hours=3))
    assert alert.condition.observed == 0.6
    assert alert.condition.plan == PLAN
    assert alert.condition.details == {"note": "<b>kept as text</b>"}
    cleared = store.sync("churn", MonitorGroup.MODEL, [], T0 + timedelta(hours=4))
    assert [a.id for a in cleared.resolved] == [alert.id]
    (resolved,) = store.alerts("churn")
    assert resolved.resolved_at == T0 + timedelta(hours=4)
    assert store.alerts("churn", open_only=True) == []
    # The condition comes back: a new alert, the old one stays resolved.
    back = store.sync("churn", MonitorGroup.MODEL, [condition()], T0 + timedelta(hours=5))
    assert len(back.opened) == 1
    assert [a.open for a in store.alerts("churn")] == [True, False]


def test_severity_never_drops_while_an_alert_is_open(alerts):
    store = alerts.alerts
    store.sync(
        "churn", MonitorGroup.SERVICE, [condition("slo", MonitorGroup.SERVICE, Severity.PAGE)], T0
    )
    store.sync(
        "churn", MonitorGroup.SERVICE, [condition("slo", MonitorGroup.SERVICE, Severity.TICKET)], T0
    )
    (alert,) = store.alerts("churn")
    assert alert.condition.severity is Severity.PAGE


def test_the_most_severe_of_repeated_keys_wins(alerts):
    store = alerts.alerts
    conditions = [condition(severity=Severity.WARNING), condition(severity=Severity.PAGE)]
    change = store.sync("churn", MonitorGroup.MODEL, conditions, T0)
    assert [a.condition.severity for a in change.opened] == [Severity.PAGE]


def test_groups_and_initiatives_are_kept_apart(alerts):
    store = alerts.alerts
    store.sync("churn", MonitorGroup.MODEL, [condition()], T0)
    store.sync("churn", MonitorGroup.DATA, [condition("data:drift", MonitorGroup.DATA)], T0)
    store.sync("fraud", MonitorGroup.MODEL, [condition()], T0)
    store.sync("churn", MonitorGroup.DATA, [], T0 + timedelta(hours=1))  # data clears only
    assert [(a.condition.group, a.open) for a in store.alerts("churn")] == [
        (MonitorGroup.MODEL, True),
        (MonitorGroup.DATA, False),
    ]
    assert {a.initiative for a in store.alerts(open_only=True)} == {"churn", "fraud"}
    with pytest.raises(ValueError, match="not of group data"):
        store.sync("churn", MonitorGroup.DATA, [condition()], T0)


def test_to_dict_is_json_ready(alerts):
    alerts.alerts.sync("churn", MonitorGroup.MODEL, [condition()], T0)
    (alert,) = alerts.alerts.alerts()
    data = alert.to_dict()
    assert data["first_seen"] == "2026-03-02T09:00:00Z"
    assert (data["group"], data["severity"], data["resolved"]) == ("model", "ticket", False)
    assert (data["observed"], data["threshold"], data["plan"]) == (0.7, 0.8, PLAN)


def test_an_unknown_initiative_is_refused_and_nothing_is_stored(alerts):
    with pytest.raises(NotFoundError, match="no initiative 'nope'"):
        alerts.alerts.sync("nope", MonitorGroup.MODEL, [condition()], T0)
    with pytest.raises(NotFoundError):
        alerts.alerts.alerts("nope")
    assert alerts.alerts.alerts() == []
