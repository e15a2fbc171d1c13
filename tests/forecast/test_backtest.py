"""Back-test: on simulated workspaces with a known process, forecasts made at past points cover
the real delivery dates at close to their stated rates."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from mlpilot.forecast.delivery import forecast_delivery
from tests.forecast.synthetic import Process, forward_only, looping, truncate

MEDIANS = (12.0, 10.0, 25.0, 18.0, 7.0, 12.0)
SIGMAS = (0.5, 0.6, 0.4, 0.7, 0.5, 0.6)
FORECASTS = 200
MAX_AGE_DAYS = 100  # forecasts are made at ages up to this (a median delivery takes ~90)


def coverage(process: Process, seed: int, reference_size: int) -> dict[float, float]:
    """Share of forecasts whose p50 / p85 / p95 date is on or after the real delivery date."""
    rng = np.random.default_rng(seed)
    hits = {0.5: 0, 0.85: 0, 0.95: 0}
    for i in range(FORECASTS):
        reference = [process.log(rng) for _ in range(reference_size)]
        # The forecast is made at an age drawn independently of the real end (a cut drawn
        # within the real span would favour short initiatives and flatter the forecast);
        # an initiative already delivered by then is replaced by a fresh one.
        age = timedelta(days=float(rng.uniform(0, MAX_AGE_DAYS)))
        target = process.log(rng)
        while target[-1].at <= target[0].at + age:
            target = process.log(rng)
        cut = target[0].at + age
        result = forecast_delivery(truncate(target, cut), reference, cut, trials=2_000, seed=i)
        for q in hits:
            hits[q] += target[-1].at <= result.date_at(q)
    return {q: count / FORECASTS for q, count in hits.items()}


@pytest.mark.parametrize(
    "process",
    [forward_only(MEDIANS, SIGMAS), looping(MEDIANS, SIGMAS, back=0.3)],
    ids=["forward", "loops"],
)
def test_forecasts_are_calibrated(process):
    # 40 finished initiatives: the data outweigh the prior.
    measured = coverage(process, seed=2026, reference_size=40)
    for q, share in measured.items():
        # Binomial error of 200 forecasts (3 SE) plus 0.03 for the estimation error.
        tolerance = 3 * math.sqrt(q * (1 - q) / FORECASTS) + 0.03
        assert abs(share - q) <= tolerance, measured


def test_with_a_small_reference_class_the_prior_errs_on_the_safe_side():
    # 5 finished initiatives: the prior still weighs; it may widen the range, never narrow it.
    measured = coverage(forward_only(MEDIANS, SIGMAS), seed=7, reference_size=5)
    for q, share in measured.items():
        assert share >= q - 3 * math.sqrt(q * (1 - q) / FORECASTS), measured
    assert measured[0.5] <= 0.8, measured
