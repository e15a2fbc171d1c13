"""Backoff with full jitter stays within its bounds; Retry-After is read in both its forms."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlpilot.sdk.backoff import full_jitter, parse_retry_after


@given(
    attempt=st.integers(min_value=-3, max_value=5000),
    base=st.floats(min_value=1e-3, max_value=10),
    cap=st.floats(min_value=1e-3, max_value=600),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_full_jitter_is_between_zero_and_the_capped_exponential(attempt, base, cap, seed):
    delay = full_jitter(attempt, base, cap, random.Random(seed))
    assert 0.0 <= delay <= min(cap, base * 2.0 ** min(max(attempt, 0), 62))


def test_full_jitter_spreads_over_the_whole_range():
    rng = random.Random(7)
    delays = [full_jitter(3, 0.5, 100, rng) for _ in range(2000)]  # ceiling 0.5 * 8 = 4
    assert max(delays) <= 4.0
    assert min(delays) < 0.4  # full jitter reaches down to 0, not "half jitter"
    assert max(delays) > 3.6
    thirds = [sum(1 for d in delays if k * 4 / 3 <= d < (k + 1) * 4 / 3) for k in range(3)]
    assert all(600 < n < 730 for n in thirds)  # uniform: ~667 each


def test_full_jitter_ceiling_doubles_then_caps():
    rng = random.Random(1)
    ceilings = [max(full_jitter(a, 0.1, 1.0, rng) for _ in range(500)) for a in range(6)]
    assert ceilings[0] <= 0.1 < ceilings[1] <= 0.2 < ceilings[2] <= 0.4 < ceilings[3] <= 0.8
    assert ceilings[4] <= 1.0
    assert ceilings[5] <= 1.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 12 ", 12.0), ("0", 0.0), ("-5", 0.0), ("1.5", 1.5), (None, None),
     ("", None), ("soon", None), ("inf", None), ("nan", None)],
)  # fmt: skip
def test_retry_after_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date():
    now = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(later, now) == pytest.approx(90.0)
    earlier = format_datetime(now - timedelta(seconds=90), usegmt=True)
    assert parse_retry_after(earlier, now) == 0.0
