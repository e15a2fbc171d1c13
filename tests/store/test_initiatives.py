"""Initiatives, criteria, lifecycle, decisions and learnings, stored and read back.

Every test runs against SQLite and PostgreSQL (the ``ws`` / ``workspace_location`` fixtures).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import mlpilot
from mlpilot import (
    AlreadyExistsError,
    Baseline,
    Cause,
    Charter,
    Comparator,
    Constraint,
    CriterionKind,
    EffectScale,
    Initiative,
    NotFoundError,
    Phase,
    Shape,
    Status,
    Task,
    Transition,
    ValidationError,
    Verdict,
)
from mlpilot.domain.criteria import OperatingPoint
from tests.store.helpers import FULL_CHARTER, MINIMAL_CHARTER, is_utc, reopen, utc

# Initiatives ---------------------------------------------------------------------------------


def test_every_charter_field_round_trips(ws: mlpilot.Workspace, workspace_location: str) -> None:
    before = datetime.now(UTC)
    ws.create_initiative("churn", **FULL_CHARTER)
    after = datetime.now(UTC)

    with reopen(workspace_location) as again:
        charter = again.initiative("churn").charter

    assert charter == Charter(
        slug="churn",
        name="Churn prediction",
        problem="Customers leave without warning",
        prediction_use="Retention offers to the customers most likely to leave",
        task=Task.BINARY,
        shape=Shape.ONLINE_API,
        baseline=Baseline("Last month's cancellations as the churn list", 0.62, "recall"),
        status=Status.ACTIVE,
        created_at=charter.created_at,
        problem_owner="Head of retention",
        used_by="Retention team",
        used_when="Weekly campaign planning",
    )
    assert is_utc(charter.created_at)
    assert before <= charter.created_at <= after


def test_optional_charter_fields_are_stored_as_none(ws: mlpilot.Workspace) -> None:
    ws.create_initiative("demand", **MINIMAL_CHARTER)

    charter = ws.initiative("demand").charter

    assert charter.baseline == Baseline("Same week last year", None, None)
    assert (charter.problem_owner, charter.used_by, charter.used_when) == (None, None, None)
    assert (charter.task, charter.shape) == (Task.REGRESSION, Shape.BATCH)


def test_initiatives_are_listed_by_slug(ws: mlpilot.Workspace) -> None:
    assert ws.initiatives() == []

    ws.create_initiative("demand", **MINIMAL_CHARTER)
    ws.create_initiative("churn", **FULL_CHARTER)

    assert [c.slug for c in ws.initiatives()] == ["churn", "demand"]
    assert ws.initiatives()[0] == ws.initiative("churn").charter


def test_duplicate_slug_is_refused_and_the_first_is_unchanged(ws: mlpilot.Workspace) -> None:
    first = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    charter, history = first.charter, first.history()

    with pytest.raises(AlreadyExistsError, match="churn"):
        ws.create_initiative("churn", **MINIMAL_CHARTER, started="2024-06-01")

    assert [c.slug for c in ws.initiatives()] == ["churn"]
    assert first.charter == charter
    assert first.history() == history


def test_unknown_initiative_is_not_found(ws: mlpilot.Workspace) -> None:
    ws.create_initiative("churn", **FULL_CHARTER)

    with pytest.raises(NotFoundError, match="nope"):
        ws.initiative("nope")


UNKNOWN_INITIATIVE_OPERATIONS: dict[str, Callable[[Initiative], Any]] = {
    "history": lambda it: it.history(),
    "criteria": lambda it: it.criteria(),
    "add criterion": lambda it: it.add_criterion("model", "recall", ">=", 0.8),
    "remove criterion": lambda it: it.remove_criterion(1),
    "move": lambda it: it.move_to("modeling"),
    "decide": lambda it: it.decide("stop", "no data"),
    "learn": lambda it: it.learn("labels lag", phase="modeling"),
    "add member": lambda it: it.add_member("ana", "data-scientist"),
    "set status": lambda it: it.set_status("paused"),
}


def test_operations_on_an_unknown_initiative_are_not_found(ws: mlpilot.Workspace) -> None:
    ghost = Initiative(ws, "ghost")

    outcomes: dict[str, str] = {}
    for what, operation in UNKNOWN_INITIATIVE_OPERATIONS.items():
        try:
            operation(ghost)
        except NotFoundError as exc:
            outcomes[what] = "names it" if "ghost" in str(exc) else str(exc)
        else:
            outcomes[what] = "did not raise"

    assert outcomes == dict.fromkeys(UNKNOWN_INITIATIVE_OPERATIONS, "names it")

    assert ws.initiatives() == []


# Criteria ------------------------------------------------------------------------------------


def test_criteria_of_all_four_kinds_round_trip(
    ws: mlpilot.Workspace, workspace_location: str
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    churn.add_criterion(
        "model", "recall", ">=", 0.8, at="precision>=0.5", threshold=0.42,
        plan="fall back to the rules",
    )  # fmt: skip
    churn.add_criterion("service", "latency_p95", "<=", 200)
    churn.add_criterion("data", "rows", ">=", 10_000, plan="collect another quarter")
    churn.add_criterion(
        "impact",
        "retention_rate",
        ">=",
        0.02,
        effect="absolute",
        guardrails=["complaints:lower", "Support_Tickets:lower:margin=5%"],
        plan="stop and keep the rules",
    )

    with reopen(workspace_location) as again:
        model, service, data, impact = again.initiative("churn").criteria()

    assert (model.kind, model.metric, model.op, model.target) == (
        CriterionKind.MODEL,
        "recall",
        Comparator.GE,
        0.8,
    )
    assert model.constraint == Constraint("precision", Comparator.GE, 0.5)
    assert model.operating_point == OperatingPoint(threshold=0.42)
    assert service.operating_point is None
    assert model.plan == "fall back to the rules"
    assert (model.effect, model.guardrails) == (None, ())

    assert (service.kind, service.metric, service.op, service.target) == (
        CriterionKind.SERVICE,
        "latency_p95",
        Comparator.LE,
        200.0,
    )
    assert (service.constraint, service.plan) == (None, None)

    assert (data.kind, data.metric, data.target, data.plan) == (
        CriterionKind.DATA,
        "rows",
        10_000.0,
        "collect another quarter",
    )

    assert (impact.kind, impact.metric, impact.target) == (
        CriterionKind.IMPACT,
        "retention_rate",
        0.02,
    )
    assert impact.effect is EffectScale.ABSOLUTE
    assert impact.guardrails == ("complaints:lower", "support_tickets:lower:margin=0.05")
    assert impact.plan == "stop and keep the rules"

    ids = [c.id for c in (model, service, data, impact)]
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 4
    assert all(c.created_at is not None and is_utc(c.created_at) for c in (model, impact))


def test_add_criterion_returns_the_stored_criterion(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    added = churn.add_criterion("impact", "conversion", ">=", 0.05)

    assert churn.criteria() == [added]
    assert added.effect is EffectScale.RELATIVE  # the default scale of an impact criterion


def test_invalid_criterion_is_refused_and_nothing_stored(ws: mlpilot.Workspace) -> None:
    demand = ws.create_initiative("demand", **MINIMAL_CHARTER)  # a regression task

    with pytest.raises(ValidationError, match="recall"):
        demand.add_criterion("model", "recall", ">=", 0.8)

    assert demand.criteria() == []


def test_remove_criterion(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    demand = ws.create_initiative("demand", **MINIMAL_CHARTER)
    recall = churn.add_criterion("model", "recall", ">=", 0.8)
    latency = churn.add_criterion("service", "latency_p95", "<=", 200)
    rmse = demand.add_criterion("model", "rmse", "<=", 12)
    assert recall.id is not None
    assert rmse.id is not None

    churn.remove_criterion(recall.id)

    assert churn.criteria() == [latency]
    with pytest.raises(NotFoundError):
        churn.remove_criterion(recall.id)
    with pytest.raises(NotFoundError):  # another initiative's criterion
        churn.remove_criterion(rmse.id)
    assert demand.criteria() == [rmse]


# Lifecycle -----------------------------------------------------------------------------------


def test_lifecycle_starts_in_business_understanding_at_the_start_time(
    ws: mlpilot.Workspace,
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-02T03:04", who="ana")

    assert churn.history() == [
        Transition(utc(2024, 1, 2, 3, 4), None, Phase.BUSINESS_UNDERSTANDING, who="ana")
    ]
    assert churn.phase is Phase.BUSINESS_UNDERSTANDING


def test_lifecycle_starts_now_by_default(ws: mlpilot.Workspace) -> None:
    before = datetime.now(UTC)
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    (first,) = churn.history()

    assert is_utc(first.at)
    assert before <= first.at <= datetime.now(UTC)


def test_forward_and_backward_moves_round_trip(
    ws: mlpilot.Workspace, workspace_location: str
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.move_to("data-understanding", at="2024-01-10", who="ana")
    churn.move_to("data-preparation", at="2024-01-20")
    churn.move_to("modeling", at="2024-02-01")
    churn.move_to(
        "data-preparation", reason="  target leaks into a feature ", cause="data", at="2024-02-15"
    )
    churn.move_to("modeling", at="2024-03-01")
    churn.move_to("business-understanding", reason="the KPI was wrong", at="2024-03-05")

    with reopen(workspace_location) as again:
        history = again.initiative("churn").history()

    bu, du, dp, mo = (
        Phase.BUSINESS_UNDERSTANDING,
        Phase.DATA_UNDERSTANDING,
        Phase.DATA_PREPARATION,
        Phase.MODELING,
    )
    assert history == [
        Transition(utc(2024, 1, 1), None, bu),
        Transition(utc(2024, 1, 10), bu, du, who="ana"),
        Transition(utc(2024, 1, 20), du, dp),
        Transition(utc(2024, 2, 1), dp, mo),
        Transition(utc(2024, 2, 15), mo, dp, "target leaks into a feature", Cause.DATA),
        Transition(utc(2024, 3, 1), dp, mo),
        Transition(utc(2024, 3, 5), mo, bu, "the KPI was wrong", Cause.OTHER),
    ]
    assert [t.is_backward for t in history] == [False, False, False, False, True, False, True]
    assert all(is_utc(t.at) for t in history)


def test_a_time_with_an_offset_is_stored_in_utc(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")

    churn.move_to("data-understanding", at="2024-03-01T09:30+02:00")

    assert churn.history()[-1].at == utc(2024, 3, 1, 7, 30)


def test_backward_move_without_reason_is_refused_and_the_log_unchanged(
    ws: mlpilot.Workspace,
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.move_to("modeling", at="2024-02-01")
    before = churn.history()

    for reason in (None, "", "   "):
        with pytest.raises(ValidationError, match="reason"):
            churn.move_to("data-preparation", reason=reason, cause="data", at="2024-02-02")

    assert churn.history() == before
    assert churn.phase is Phase.MODELING


def test_time_going_backward_is_refused(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-03-01")
    churn.move_to("data-understanding", at="2024-03-10")
    before = churn.history()

    with pytest.raises(ValidationError, match="before the last one"):
        churn.move_to("data-preparation", at="2024-03-09")

    assert churn.history() == before


@pytest.mark.parametrize(
    ("phase", "message"),
    [("business-understanding", "already in phase"), ("training", "unknown phase")],
)
def test_invalid_move_is_refused(ws: mlpilot.Workspace, phase: str, message: str) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")

    with pytest.raises(ValidationError, match=message):
        churn.move_to(phase, reason="because")

    assert len(churn.history()) == 1


def test_future_start_is_refused_and_nothing_stored(ws: mlpilot.Workspace) -> None:
    tomorrow = datetime.now(UTC) + timedelta(days=1)

    with pytest.raises(ValidationError, match="future"):
        ws.create_initiative("churn", **FULL_CHARTER, started=tomorrow)

    assert ws.initiatives() == []


# Decisions and status ------------------------------------------------------------------------


def test_a_decision_is_stored_with_its_evidence(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")

    churn.decide(
        "ship",
        "the offline results are in",
        evidence=["eval report", " ", "A/B test"],
        who="maria",
        at="2024-02-01T10:00",
    )

    assert churn.decisions() == [
        mlpilot.Decision(
            utc(2024, 2, 1, 10),
            Verdict.SHIP,
            "the offline results are in",
            ("eval report", "A/B test"),
            "maria",
        )
    ]


def test_decisions_set_the_status(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.set_status("paused")
    statuses = []

    for day, verdict in enumerate(["continue", "stop", "continue", "ship", "pivot"], start=1):
        churn.decide(verdict, f"decision {day}", at=f"2024-02-{day:02d}")
        statuses.append(churn.charter.status)

    assert statuses == [
        Status.ACTIVE,  # continue resumes a paused initiative
        Status.STOPPED,
        Status.ACTIVE,
        Status.SHIPPED,
        Status.ACTIVE,  # pivot
    ]
    assert [d.verdict.value for d in churn.decisions()] == [
        "continue",
        "stop",
        "continue",
        "ship",
        "pivot",
    ]


def test_decisions_are_listed_oldest_first(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.decide("continue", "second", at="2024-03-01")
    churn.decide("pivot", "first", at="2024-02-01")

    assert [d.rationale for d in churn.decisions()] == ["first", "second"]


def test_decision_without_rationale_is_refused(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    with pytest.raises(ValidationError):
        churn.decide("stop", "  ")

    assert churn.decisions() == []
    assert churn.charter.status is Status.ACTIVE


def test_set_status_pauses_and_resumes(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    churn.set_status("paused")
    assert churn.charter.status is Status.PAUSED

    churn.set_status("active")
    assert churn.charter.status is Status.ACTIVE


def test_set_status_refuses_what_only_a_decision_may_do(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    churn.set_status("paused")

    for status in ("stopped", "shipped", Status.STOPPED):
        with pytest.raises(ValidationError, match="decision"):
            churn.set_status(status)

    assert churn.charter.status is Status.PAUSED


def test_set_status_only_pauses_an_active_and_resumes_a_paused_initiative(
    ws: mlpilot.Workspace,
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")

    with pytest.raises(ValidationError, match="active"):
        churn.set_status("active")  # already active
    churn.decide("stop", "no signal", at="2024-02-01")
    for status in ("paused", "active"):
        with pytest.raises(ValidationError, match="stopped"):
            churn.set_status(status)

    assert churn.charter.status is Status.STOPPED


# Learnings -----------------------------------------------------------------------------------


def test_learnings_default_to_the_current_phase(
    ws: mlpilot.Workspace, workspace_location: str
) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.move_to("data-understanding", at="2024-01-05")

    churn.learn(
        "labels arrive six weeks late",
        tags=["Data, labels", "data"],
        source="interview",
        at="2024-01-06",
    )
    churn.learn("recall drops in winter", phase="modeling", at="2024-01-07")

    with reopen(workspace_location) as again:
        first, second = again.initiative("churn").learnings()

    assert first == mlpilot.Learning(
        utc(2024, 1, 6),
        "labels arrive six weeks late",
        Phase.DATA_UNDERSTANDING,
        ("data", "labels"),
        "interview",
    )
    assert second == mlpilot.Learning(utc(2024, 1, 7), "recall drops in winter", Phase.MODELING)


def test_learning_without_time_is_recorded_now(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)
    before = datetime.now(UTC)

    churn.learn("the baseline is strong")

    (learning,) = churn.learnings()
    assert is_utc(learning.at)
    assert before <= learning.at <= datetime.now(UTC)
    assert learning.phase is Phase.BUSINESS_UNDERSTANDING
