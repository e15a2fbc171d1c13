"""Exact deciles by fine steps (DuckDB), against numpy.quantile, and the profile built on them
against the engine's own sorting quantiles: adversarial columns included."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mlpilot.engine.drift as drift_engine
from mlpilot.engine import deciles
from mlpilot.engine.bins import LOWEST
from mlpilot.engine.drift import profile
from tests.engine.test_drift import binned
from tests.tables import Tables, shared

DECILES = np.arange(1, 10) / 10
RNG = np.random.default_rng(8)
ULP_STEPS = 1.0 + np.arange(40) * np.finfo(np.float64).eps

COLUMNS = {
    "skewed": RNG.lognormal(0, 3, 20_000),
    "outliers": np.concatenate([RNG.normal(size=5_000), [1e300, -1e300]]),
    "ulps": RNG.choice(ULP_STEPS, 3_000),
    "integers": RNG.integers(-3, 4, 5_000).astype(float),
    "two-values": np.array([0.0, 1.0] * 7),
    "one": np.array([2.5]),
    "pair": np.array([-1.0, 3.0]),
    "subnormal": np.array([5e-324, 1e-323, 0.0, -5e-324] * 3),
    "zero-inflated": np.concatenate([np.zeros(9_000), RNG.exponential(size=1_000)]),
}


def _located(values: np.ndarray, tables) -> deciles.Located | None:
    table = tables(pa.table({"x": values}))
    finite = values[np.isfinite(values)]
    (found,) = deciles.locate(
        table, ["x"], [float(finite.min())], [float(finite.max())], [int(finite.size)]
    )
    return found


@pytest.fixture
def tables() -> Tables:
    return shared()


@pytest.mark.parametrize("name", list(COLUMNS))
def test_deciles_equal_numpy(name, tables):
    values = COLUMNS[name]
    found = _located(values, tables)
    assert found is not None
    expected = np.quantile(values, DECILES)
    np.testing.assert_allclose(found.quantiles, expected, rtol=4e-16, atol=0)
    for edge in np.unique(expected):  # the reference's bins come from the same steps, exactly
        assert found.below(float(edge)) == int((values < edge).sum())


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e12, max_value=1e12),
        min_size=1,
        max_size=300,
    )
)
def test_deciles_equal_numpy_on_any_sample(values):
    tables = shared()
    array = np.asarray(values, dtype=np.float64)
    found = _located(array, tables)
    assert found is not None
    expected = np.quantile(array, DECILES)
    spread = float(np.ptp(array))
    np.testing.assert_allclose(found.quantiles, expected, rtol=1e-15, atol=1e-15 * spread)


def test_profile_bins_equal_the_sorting_path_with_infinities_and_nan(tables, monkeypatch):
    x = np.concatenate(
        [RNG.lognormal(0, 2, 4_000), [math.inf] * 7, [-math.inf] * 5, [math.nan] * 3]
    )
    frame = pa.table(
        {"x": x, "const": np.full(x.size, 4.5), "none": pa.nulls(x.size, pa.float64())}
    )
    kinds = {"x": "numeric", "const": "numeric", "none": "numeric"}
    streamed = profile(tables(frame), kinds)
    monkeypatch.setattr(drift_engine, "_backend_name", lambda table: None)  # the portable path
    sorted_ = profile(tables(frame), kinds)
    for name in kinds:
        a, b = streamed[name], sorted_[name]
        np.testing.assert_allclose(a.edges, b.edges, rtol=4e-16)
        assert (
            a.bins
            == b.bins
            == binned(np.asarray(frame[name].to_numpy(zero_copy_only=False), dtype=float), a.edges)
        )
        assert (a.count, a.missing) == (b.count, b.missing)
    assert streamed["const"].bins == (0, 0, x.size, 0, 0)  # a point mass, ±inf apart
    assert (streamed["none"].bins, streamed["none"].edges) == ((0, 0, 0), (LOWEST, math.inf))


def test_steps_that_cannot_tell_exactly_fall_back_to_sorting(tables, monkeypatch):
    frame = pa.table({"x": RNG.normal(size=2_000)})
    expected = profile(tables(frame), {"x": "numeric"})
    real = deciles.locate

    def unsure(*args, **kwargs):
        found = real(*args, **kwargs)
        for located in found:
            if located is not None:
                located.quantiles = None
        return found

    monkeypatch.setattr(deciles, "locate", unsure)
    fallback = profile(tables(frame), {"x": "numeric"})
    np.testing.assert_allclose(fallback["x"].edges, expected["x"].edges, rtol=4e-16)
    assert fallback["x"].bins == expected["x"].bins


@pytest.mark.parametrize("name", ["skewed", "integers", "zero-inflated"])
def test_the_exact_range_collect_equals_the_arithmetic_one(name, tables, monkeypatch):
    """Past NEAR_EXTRA neighbouring values the collect compares with the steps' exact bounds
    instead: the same deciles."""
    values = COLUMNS[name]
    arithmetic = _located(values, tables)
    monkeypatch.setattr(deciles, "NEAR_EXTRA", -1)
    ranges = _located(values, tables)
    assert arithmetic is not None
    assert ranges is not None
    assert ranges.quantiles == arithmetic.quantiles == list(np.quantile(values, DECILES))
