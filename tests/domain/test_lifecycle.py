"""The lifecycle log: validation of moves and everything derived from the log."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain import lifecycle
from mlpilot.domain.lifecycle import Cause, Phase, Transition
from mlpilot.errors import ValidationError

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    return T0 + hours * HOUR


# --- Phase and Transition -------------------------------------------------------------------


def test_phase_order_follows_declaration():
    assert [phase.order for phase in Phase] == list(range(len(Phase)))
    assert Phase.BUSINESS_UNDERSTANDING.order == 0
    assert Phase.MONITORING.order == 6


def test_start_opens_in_business_understanding():
    first = lifecycle.start(T0, who="ann")
    assert first == Transition(T0, None, Phase.BUSINESS_UNDERSTANDING, who="ann")
    assert not first.is_backward


def test_is_backward_only_for_moves_to_an_earlier_phase():
    assert Transition(T0, Phase.MODELING, Phase.DATA_PREPARATION).is_backward
    assert not Transition(T0, Phase.DATA_PREPARATION, Phase.MODELING).is_backward
    assert not Transition(T0, None, Phase.MODELING).is_backward


# --- next_transition ------------------------------------------------------------------------


def test_forward_move_records_from_and_to():
    log = [lifecycle.start(T0)]
    move = lifecycle.next_transition(log, "data-understanding", at(1), who="  bob  ")
    assert move == Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.DATA_UNDERSTANDING,
                              who="bob")  # fmt: skip


def test_forward_move_may_skip_phases_and_keeps_a_given_cause():
    log = [lifecycle.start(T0)]
    move = lifecycle.next_transition(log, Phase.MODELING, at(1), reason="quick win", cause="model")
    assert move.to_phase is Phase.MODELING
    assert move.reason == "quick win"
    assert move.cause is Cause.MODEL


def test_forward_move_without_cause_has_none():
    log = [lifecycle.start(T0)]
    assert lifecycle.next_transition(log, "modeling", at(1)).cause is None


@pytest.mark.parametrize(
    "spelling", ["DATA_UNDERSTANDING", " Data-Understanding ", "data_understanding"]
)
def test_phase_spelling_is_forgiving(spelling):
    log = [lifecycle.start(T0)]
    assert lifecycle.next_transition(log, spelling, at(1)).to_phase is Phase.DATA_UNDERSTANDING


def test_unknown_phase_lists_the_phases():
    log = [lifecycle.start(T0)]
    with pytest.raises(ValidationError, match="unknown phase 'training'") as info:
        lifecycle.next_transition(log, "training", at(1))
    assert all(phase.value in str(info.value) for phase in Phase)


def test_move_into_the_current_phase_is_refused():
    log = [lifecycle.start(T0)]
    with pytest.raises(ValidationError, match="already in phase 'business-understanding'"):
        lifecycle.next_transition(log, "business-understanding", at(1))


def test_move_on_an_empty_log_is_refused():
    with pytest.raises(ValidationError, match="not started"):
        lifecycle.next_transition([], "modeling", T0)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_backward_move_without_reason_is_refused_and_log_unchanged(reason):
    log = [lifecycle.start(T0), Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    before = list(log)
    with pytest.raises(ValidationError, match="needs a reason"):
        lifecycle.next_transition(log, "data-preparation", at(2), reason=reason, cause="data")
    assert log == before


def test_backward_move_cause_defaults_to_other():
    log = [lifecycle.start(T0), Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    move = lifecycle.next_transition(log, "data-preparation", at(2), reason="  label leak  ")
    assert move.is_backward
    assert move.reason == "label leak"
    assert move.cause is Cause.OTHER


def test_backward_move_keeps_a_given_cause():
    log = [lifecycle.start(T0), Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    move = lifecycle.next_transition(log, "data-preparation", at(2), reason="leak", cause="DATA")
    assert move.cause is Cause.DATA


def test_unknown_cause_is_refused():
    log = [lifecycle.start(T0), Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    with pytest.raises(ValidationError, match="unknown cause 'weather'"):
        lifecycle.next_transition(log, "data-preparation", at(2), reason="x", cause="weather")


def test_time_before_the_last_transition_is_refused():
    log = [lifecycle.start(T0), Transition(at(2), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    with pytest.raises(ValidationError, match="append-only"):
        lifecycle.next_transition(log, "evaluation", at(1))


def test_time_equal_to_the_last_transition_is_accepted():
    log = [lifecycle.start(T0)]
    assert lifecycle.next_transition(log, "modeling", T0).at == T0


# --- derived views on a known log -----------------------------------------------------------


def known_log() -> list[Transition]:
    """BU 1h, DU 2h, DP 3h, MOD 4h, back to DP 1h, MOD 2h, EVAL 1h, back to BU (open)."""
    log = [lifecycle.start(at(0))]
    for phase, hours, reason, cause in [
        ("data-understanding", 1, None, None),
        ("data-preparation", 3, None, None),
        ("modeling", 6, None, None),
        ("data-preparation", 10, "label leak", "data"),
        ("modeling", 11, None, None),
        ("evaluation", 13, None, None),
        ("business-understanding", 14, "wrong kpi", None),
    ]:
        log.append(lifecycle.next_transition(log, phase, at(hours), reason=reason, cause=cause))
    return log


def test_time_in_phase_on_a_known_log():
    log = known_log()
    assert lifecycle.time_in_phase(log, until=at(16)) == {
        Phase.BUSINESS_UNDERSTANDING: 3 * 3600.0,
        Phase.DATA_UNDERSTANDING: 2 * 3600.0,
        Phase.DATA_PREPARATION: 4 * 3600.0,
        Phase.MODELING: 6 * 3600.0,
        Phase.EVALUATION: 1 * 3600.0,
        Phase.DEPLOYMENT: 0.0,
        Phase.MONITORING: 0.0,
    }


def test_open_visit_runs_to_until():
    log = known_log()
    early = lifecycle.time_in_phase(log, until=at(14))
    late = lifecycle.time_in_phase(log, until=at(20))
    assert early[Phase.BUSINESS_UNDERSTANDING] == 1 * 3600.0
    assert late[Phase.BUSINESS_UNDERSTANDING] == 7 * 3600.0


def test_loops_on_a_known_log():
    log = known_log()
    found = lifecycle.loops(log)
    assert [(t.from_phase, t.to_phase) for t in found] == [
        (Phase.MODELING, Phase.DATA_PREPARATION),
        (Phase.EVALUATION, Phase.BUSINESS_UNDERSTANDING),
    ]
    assert lifecycle.loops_by_pair(log) == {
        (Phase.MODELING, Phase.DATA_PREPARATION): 1,
        (Phase.EVALUATION, Phase.BUSINESS_UNDERSTANDING): 1,
    }
    assert lifecycle.loops_by_cause(log) == {Cause.DATA: 1, Cause.OTHER: 1}


def test_loops_by_cause_counts_a_stored_loop_without_cause_as_other():
    log = [lifecycle.start(T0), Transition(at(1), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING),
           Transition(at(2), Phase.MODELING, Phase.DATA_PREPARATION, reason="x")]  # fmt: skip
    assert lifecycle.loops_by_cause(log) == {Cause.OTHER: 1}


def test_visits_and_current_phase_on_a_known_log():
    log = known_log()
    found = lifecycle.visits(log)
    assert [v.phase for v in found] == [t.to_phase for t in log]
    assert [(v.start, v.end) for v in found[:2]] == [(at(0), at(1)), (at(1), at(3))]
    assert found[-1].end is None
    assert lifecycle.current_phase(log) is Phase.BUSINESS_UNDERSTANDING


def test_current_phase_of_an_empty_log_is_refused():
    with pytest.raises(ValidationError, match="not started"):
        lifecycle.current_phase([])


def test_a_fresh_log_has_no_loops_and_all_time_in_business_understanding():
    log = [lifecycle.start(T0)]
    assert lifecycle.loops(log) == []
    assert lifecycle.loops_by_pair(log) == {}
    times = lifecycle.time_in_phase(log, until=at(5))
    assert times[Phase.BUSINESS_UNDERSTANDING] == 5 * 3600.0
    assert sum(times.values()) == 5 * 3600.0


# --- properties over any sequence of moves --------------------------------------------------

moves = st.lists(
    st.tuples(
        st.sampled_from(Phase),
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
        st.one_of(st.none(), st.sampled_from(["", "  ", "label leak", "wrong kpi"])),
        st.one_of(st.none(), st.sampled_from(Cause)),
    ),
    max_size=40,
)


@settings(deadline=None)
@given(
    t0=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ),
    moves=moves,
    tail=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10)),
)
def test_lifecycle_properties(t0, moves, tail):
    log = [lifecycle.start(t0)]
    now = t0
    accepted_targets = [Phase.BUSINESS_UNDERSTANDING]
    expected_loops = 0
    for phase, step, reason, cause in moves:
        now += step
        current = log[-1].to_phase
        backward = phase.order < current.order
        before = list(log)
        if phase is current or (backward and not (reason or "").strip()):
            with pytest.raises(ValidationError):
                lifecycle.next_transition(log, phase, now, reason=reason, cause=cause)
            assert log == before
            continue
        move = lifecycle.next_transition(log, phase, now, reason=reason, cause=cause)
        assert (move.from_phase, move.to_phase, move.at) == (current, phase, now)
        assert move.is_backward == backward
        if backward:
            assert move.cause is (cause or Cause.OTHER)
            expected_loops += 1
        else:
            assert move.cause is cause
        log.append(move)
        accepted_targets.append(phase)

    until = log[-1].at + tail
    times = lifecycle.time_in_phase(log, until)
    assert set(times) == set(Phase)
    assert all(seconds >= 0 for seconds in times.values())
    assert math.isclose(
        sum(times.values()), (until - log[0].at).total_seconds(), rel_tol=1e-12, abs_tol=1e-6
    )

    found = lifecycle.loops(log)
    assert len(found) == expected_loops
    assert sum(lifecycle.loops_by_pair(log).values()) == len(found)
    assert sum(lifecycle.loops_by_cause(log).values()) == len(found)

    assert lifecycle.current_phase(log) is accepted_targets[-1]

    found_visits = lifecycle.visits(log)
    assert [v.phase for v in found_visits] == accepted_targets
    assert found_visits[0].start == log[0].at
    assert found_visits[-1].end is None
    for visit, following in itertools.pairwise(found_visits):
        assert visit.end == following.start
        assert visit.phase is not following.phase


@settings(deadline=None)
@given(
    setback=st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=365)),
    target=st.sampled_from([p for p in Phase if p is not Phase.MODELING]),
)
def test_a_time_earlier_than_the_last_transition_always_raises(setback, target):
    log = [lifecycle.start(T0), Transition(at(5), Phase.BUSINESS_UNDERSTANDING, Phase.MODELING)]
    with pytest.raises(ValidationError, match="append-only"):
        lifecycle.next_transition(log, target, at(5) - setback, reason="why", cause="model")
