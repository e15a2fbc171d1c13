"""Decisions and the status each verdict leaves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mlpilot.domain.charter import Status
from mlpilot.domain.decisions import Decision, Learning, Verdict
from mlpilot.domain.lifecycle import Phase


@pytest.mark.parametrize(
    ("verdict", "status"),
    [
        (Verdict.CONTINUE, Status.ACTIVE),
        (Verdict.PIVOT, Status.ACTIVE),
        (Verdict.STOP, Status.STOPPED),
        (Verdict.SHIP, Status.SHIPPED),
    ],
)
def test_verdict_status(verdict, status):
    assert verdict.status is status


def test_every_verdict_has_a_status():
    assert {verdict.value for verdict in Verdict} == {"continue", "pivot", "stop", "ship"}
    assert all(isinstance(verdict.status, Status) for verdict in Verdict)


def test_no_verdict_pauses_an_initiative():
    assert Status.PAUSED not in {verdict.status for verdict in Verdict}


def test_decision_and_learning_defaults():
    at = datetime(2026, 3, 1, tzinfo=UTC)
    decision = Decision(at, Verdict.PIVOT, "recall too low")
    learning = Learning(at, "labels are late")
    assert (decision.evidence, decision.who) == ((), None)
    assert (learning.phase, learning.tags, learning.source) == (None, (), None)
    assert Learning(at, "x", phase=Phase.MODELING).phase is Phase.MODELING
