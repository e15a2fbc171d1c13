"""``stats.slo``: budget arithmetic, trailing burn rates against a brute-force loop, and the
multi-window multi-burn-rate rules on synthetic incidents whose answer is known in advance."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.errors import ValidationError
from mlpilot.stats import slo

STEP = 60
PER_MINUTE = 1000
OBJECTIVE = 0.999  # budget 0.001


def test_budget_arithmetic():
    assert slo.error_budget(0.99) == pytest.approx(0.01)
    assert slo.compliance(990, 1000) == 0.99
    assert slo.compliance(0, 0) is None
    assert slo.burn_rate(20, 1000, 0.99) == pytest.approx(2.0)
    assert slo.burn_rate(0, 0, 0.99) is None
    assert slo.budget_left(5, 1000, 0.99) == pytest.approx(0.5)
    assert slo.budget_left(30, 1000, 0.99) == pytest.approx(-2.0)
    assert slo.budget_left(0, 1000, 1.0) == 1.0
    assert slo.burn_rate(1, 1000, 1.0) == math.inf
    with pytest.raises(ValidationError, match="objective"):
        slo.error_budget(1.5)


def test_rule_names():
    assert slo.PAGE.name == "burn-1h/5m"
    assert slo.PAGE_SLOW.name == "burn-6h/30m"
    assert slo.TICKET.name == "burn-3d/6h"


def test_rules_are_the_workbook_table():
    # SRE Workbook, "Alerting on SLOs": page 2 % of a 30-day budget in 1 h (5 min short
    # window), page 5 % in 6 h (30 min), ticket 10 % in 3 days (6 h)
    table = [(r.severity, r.long_s, r.short_s, r.rate) for r in slo.RULES]
    assert table == [
        ("page", 3600, 300, 14.4),
        ("page", 6 * 3600, 1800, 6.0),
        ("ticket", 3 * 86_400, 6 * 3600, 1.0),
    ]
    thirty_days = 30 * 86_400
    spent = [r.rate * r.long_s / thirty_days for r in slo.RULES]
    assert spent == pytest.approx([0.02, 0.05, 0.10], rel=1e-12)
    assert [r.budget_spent for r in slo.RULES] == pytest.approx([0.02, 0.05, 0.10], rel=1e-12)


@pytest.mark.parametrize(
    ("objective", "rates"),
    [
        (0.999, (14.4, 6.0, 1.0)),
        (0.99, (14.4, 6.0, 1.0)),
        (0.95, (14.4, 6.0, 1.0)),  # 14.4 x 5 % = 72 % bad: reachable, kept
        (0.9, (7.5, 6.0, 1.0)),  # the 1 h page capped at 75 % bad: 0.75 / 0.1
        (0.5, (1.5, 1.5, 1.0)),  # both pages capped at 75 % bad: 0.75 / 0.5
        (1.0, (14.4, 6.0, 1.0)),  # no budget: nothing to scale
    ],
)
def test_alert_rates_are_scaled_to_what_the_budget_can_reach(objective, rates):
    got = tuple(slo.alert_rate(r, objective) for r in slo.RULES)
    assert got == pytest.approx(rates, rel=1e-12)
    budget = slo.error_budget(objective)
    if budget:
        # every rule can fire (all requests bad burns at 1 / budget), never below 1x
        assert all(1.0 <= rate <= 1 / budget for rate in got)


def brute_burn(bad, total, steps, objective):
    out = []
    for k in range(len(bad)):
        lo = max(0, k + 1 - steps)
        b, n = bad[lo : k + 1].sum(), total[lo : k + 1].sum()
        out.append(math.nan if n == 0 else (b / n) / (1 - objective))
    return np.array(out)


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=60),
    steps=st.integers(1, 20),
    objective=st.sampled_from([0.9, 0.99, 0.999]),
)
def test_trailing_burn_matches_a_loop(data, steps, objective):
    total = np.array([a + b for a, b in data], dtype=np.int64)
    bad = np.array([b for _, b in data], dtype=np.int64)
    got = slo.trailing_burn(bad, total, steps, objective)
    np.testing.assert_allclose(got, brute_burn(bad, total, steps, objective), rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(flags=st.lists(st.booleans(), max_size=40))
def test_episodes_rebuild_the_flags(flags):
    rebuilt = [False] * len(flags)
    for first, end in slo.episodes(np.array(flags, dtype=bool)):
        stop = len(flags) if end is None else end
        assert first < stop
        assert end is None or not flags[end]
        rebuilt[first:stop] = [True] * (stop - first)
    assert rebuilt == flags


def traffic(minutes: int, incidents: list[tuple[int, int, float]]) -> tuple:
    """Steady traffic; each incident ``(start, end, bad share)`` in minutes."""
    total = np.full(minutes, PER_MINUTE, dtype=np.int64)
    bad = np.zeros(minutes, dtype=np.int64)
    for start, end, share in incidents:
        bad[start:end] = round(share * PER_MINUTE)
    return bad, total


def fired(bad, total, rule) -> list[tuple[int, int | None]]:
    """Episodes as evaluation times in minutes (the end of each step)."""
    active = slo.rule_active(bad, total, OBJECTIVE, rule, STEP)
    return [(a + 1, None if b is None else b + 1) for a, b in slo.episodes(active)]


@pytest.mark.parametrize("share", [1.0, 0.5, 0.1, 0.05])
def test_page_fires_within_the_documented_delay_and_clears_after_the_short_window(share):
    start, end = 600, 700
    bad, total = traffic(1200, [(start, end, share)])
    delay = slo.detection_seconds(slo.PAGE, OBJECTIVE, share)
    episodes = fired(bad, total, slo.PAGE)
    assert len(episodes) == 1
    first, cleared = episodes[0]
    assert first == start + math.floor(delay / STEP) + 1  # the first evaluation past the delay
    # at most one short window after the end, once the 5-minute window has let go of it
    assert end < cleared <= end + slo.PAGE.short_s // STEP
    # and the long window alone would still have paged when it cleared
    long = slo.trailing_burn(bad, total, slo.PAGE.long_s // STEP, OBJECTIVE)
    assert long[cleared - 1] > slo.PAGE.rate


def test_the_six_hour_rule_pages_on_a_slow_burn_the_hour_misses():
    share = 7 * (1 - OBJECTIVE)  # burning at 7x: above 6, below 14.4
    start = 24 * 60
    bad, total = traffic(3 * 24 * 60, [(start, 2 * 24 * 60, share)])
    assert fired(bad, total, slo.PAGE) == []
    episodes = fired(bad, total, slo.PAGE_SLOW)
    delay = slo.detection_seconds(slo.PAGE_SLOW, OBJECTIVE, share)
    assert slo.PAGE_SLOW.severity == "page"
    assert delay == pytest.approx(6 / 7 * 6 * 3600)
    assert len(episodes) == 1
    assert episodes[0][0] == start + math.floor(delay / STEP) + 1
    assert 2 * 24 * 60 < episodes[0][1] <= 2 * 24 * 60 + slo.PAGE_SLOW.short_s // STEP


def test_the_three_day_ticket_fires_on_a_burn_just_over_the_budget():
    # 2x after three calm days: no page; the ticket holds once the 3 days burnt over 1x
    share = 0.002  # 2x: 2 bad requests a minute
    start = 3 * 24 * 60
    bad, total = traffic(6 * 24 * 60, [(start, 6 * 24 * 60, share)])
    assert fired(bad, total, slo.PAGE) == fired(bad, total, slo.PAGE_SLOW) == []
    delay = slo.detection_seconds(slo.TICKET, OBJECTIVE, share)
    assert delay == pytest.approx(0.5 * 3 * 86_400)
    (episode,) = fired(bad, total, slo.TICKET)
    assert episode == (start + math.floor(delay / STEP) + 1, None)  # strictly over 1x
    # exactly at 1x it never fires
    calm, total = traffic(6 * 24 * 60, [(0, 6 * 24 * 60, 1 - OBJECTIVE)])
    assert fired(calm, total, slo.TICKET) == []


@pytest.mark.parametrize("objective", [0.9, 0.5])
def test_a_large_budget_pages_when_fully_breached_and_stays_quiet_when_healthy(objective):
    # p90 (budget 10 %) can burn at most 10x, p50 at most 2x: the workbook's 14.4x could never
    # page. Scaled, a full breach pages within 75 % of the hour.
    minutes = 4 * 24 * 60
    budget = 1 - objective
    rng = np.random.default_rng(20260514)
    total = np.full(minutes, 200, dtype=np.int64)
    # healthy: 90 % of the budget spent on average, binomial noise per minute
    healthy = rng.binomial(total, 0.9 * budget).astype(np.int64)
    for rule in slo.RULES:
        assert not slo.rule_active(healthy, total, objective, rule, STEP).any(), rule.name
    breached = healthy.copy()
    breached[-120:] = total[-120:]  # the last two hours: every request bad
    active = slo.rule_active(breached, total, objective, slo.PAGE, STEP)
    assert active[-1]
    first = int(np.flatnonzero(active)[0]) - (minutes - 120)
    expected = slo.detection_seconds(slo.PAGE, objective, 1.0) / STEP
    assert expected <= 0.75 * 60
    # the hour before the breach carried healthy bad requests too: it can only fire earlier
    assert 1 <= first + 1 <= math.floor(expected) + 1


@pytest.mark.parametrize(
    "incidents",
    [
        pytest.param([(-3 * 24 * 60, 3 * 24 * 60, 0.001)], id="steady-burn-at-exactly-1x"),
        pytest.param([(600, 630, 0.005)], id="30-minutes-at-5x"),
        pytest.param([(600, 601, 0.5)], id="one-minute-half-failing"),
        pytest.param([(600, 601, 0.5), (900, 901, 0.5)], id="two-blips"),
    ],
)
def test_budget_neutral_blips_stay_quiet(incidents):
    # after three days of calm traffic, so that the 3-day window is full
    calm = 3 * 24 * 60
    shifted = [(a + calm, b + calm, share) for a, b, share in incidents]
    bad, total = traffic(6 * 24 * 60, shifted)
    for rule in slo.RULES:
        assert fired(bad, total, rule) == [], rule.name


def test_a_short_spike_without_long_window_support_does_not_page():
    # 5 minutes at 100 % errors pages (1h burn 83x); the same volume spread over the hour
    # before it at a burn of 10 does not page, though the last 5 minutes burn at 10 too.
    bad, total = traffic(300, [(60, 120, 0.01)])
    long = slo.trailing_burn(bad, total, 60, OBJECTIVE)
    assert long.max() == pytest.approx(10.0)
    assert fired(bad, total, slo.PAGE) == []


def test_no_traffic_raises_nothing():
    bad = np.zeros(500, dtype=np.int64)
    assert not slo.rule_active(bad, bad, OBJECTIVE, slo.PAGE, STEP).any()
    assert np.isnan(slo.trailing_burn(bad, bad, 5, OBJECTIVE)).all()


def test_detection_of_an_incident_too_small_to_page_is_infinite():
    assert slo.detection_seconds(slo.PAGE, OBJECTIVE, 0.01) == math.inf
    assert slo.detection_seconds(slo.PAGE, OBJECTIVE, 1.0) == pytest.approx(0.0144 * 3600)


def test_windows_must_be_whole_steps():
    bad = np.zeros(10, dtype=np.int64)
    with pytest.raises(ValidationError, match="whole number"):
        slo.rule_active(bad, bad, OBJECTIVE, slo.PAGE, 7 * 60)
    with pytest.raises(ValidationError, match="at least one step"):
        slo.trailing_burn(bad, bad, 0, OBJECTIVE)


def test_zero_budget_burns_infinitely_on_any_error():
    bad, total = traffic(120, [(100, 101, 0.01)])
    rates = slo.trailing_burn(bad, total, 5, 1.0)
    assert rates[99] == 0.0
    assert rates[100] == math.inf
    assert slo.rule_active(bad, total, 1.0, slo.PAGE, STEP)[100]
