"""Regression metrics from sums, equal to scikit-learn on the rows the sums came from.

The engine reduces a window of (y, ŷ) rows to six numbers, all in float64::

    n                          count of rows
    sum_abs_error              Σ |y - ŷ|
    sum_squared_error          Σ (y - ŷ)²
    sum_abs_percentage_error   Σ |y - ŷ| / max(|y|, eps),  eps = 2.220446049250313e-16
    sum_y                      Σ y
    sum_squared_deviation_y    Σ (y - ȳ)²,  ȳ the window mean

``eps`` is ``np.finfo(np.float64).eps``, scikit-learn's guard in
``mean_absolute_percentage_error``: a row with y = 0 contributes |ŷ| / eps, a huge number, which
is what scikit-learn reports too. Σ (y - ȳ)² is taken around the window mean (a second pass, or
a window function), never as Σy² - (Σy)²/n, which cancels catastrophically when the mean is large
against the spread. Windows computed in batches combine with :func:`pooled_squared_deviation`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["MAPE_EPS", "pooled_squared_deviation", "regression_metrics"]

MAPE_EPS = float(np.finfo(np.float64).eps)


def regression_metrics(
    n: int,
    sum_abs_error: float,
    sum_squared_error: float,
    sum_abs_percentage_error: float,
    sum_y: float,
    sum_squared_deviation_y: float,
) -> dict[str, float]:
    """MAE, RMSE, MAPE and R² of a window; all NaN without rows.

    Equal to ``mean_absolute_error``, ``root_mean_squared_error``,
    ``mean_absolute_percentage_error`` and ``r2_score`` of scikit-learn 1.9, including R²'s
    edge cases with its default ``force_finite=True``: perfect predictions give 1.0 even for a
    constant y, imperfect predictions of a constant y (Σ(y - ȳ)² == 0) give 0.0 rather than
    -inf, and fewer than two rows give NaN. Note that scikit-learn itself only sees a constant y
    when its floating-point mean reproduces y exactly: for y = [0.1, 0.1, 0.1] the mean is
    0.10000000000000002 and its R² of a slightly wrong prediction is about -1.7e31. An engine
    that wants the intended 0.0 passes Σ(y - ȳ)² = 0 whenever MIN(y) = MAX(y).

    ``sum_y`` is not needed by these four metrics (Σ(y - ȳ)² already carries the mean); it is
    part of the summary so that batches can be pooled with :func:`pooled_squared_deviation`.
    NaN in any sum (a NaN in the rows) gives NaN for the metrics that use it; scikit-learn
    refuses such rows.
    """
    if n < 0:
        raise ValueError(f"n must be a non-negative row count, got {n}")
    if n == 0:
        return {"mae": math.nan, "rmse": math.nan, "mape": math.nan, "r2": math.nan}
    return {
        "mae": float(sum_abs_error) / n,
        "rmse": math.sqrt(float(sum_squared_error) / n),
        "mape": float(sum_abs_percentage_error) / n,
        "r2": _r2(n, float(sum_squared_error), float(sum_squared_deviation_y)),
    }


def _r2(n: int, residual: float, deviation: float) -> float:
    """``r2_score`` with ``force_finite=True`` from its numerator and denominator."""
    if n < 2 or math.isnan(residual) or math.isnan(deviation):
        return math.nan
    if residual == 0:
        return 1.0
    if deviation == 0:
        return 0.0
    return 1.0 - residual / deviation


def pooled_squared_deviation(
    counts: ArrayLike, sums: ArrayLike, squared_deviations: ArrayLike
) -> float:
    """Σ (y - ȳ)² of the union of batches, from each batch's n, Σy and Σ(y - ȳ_batch)².

    Sums of errors add across batches; squared deviations do not, because each batch measured
    them around its own mean. The pooled value adds the between-batch term,
    Σ_b SSD_b + Σ_b n_b (ȳ_b - ȳ)² (Chan et al.), which avoids the cancellation of
    Σy² - (Σy)²/n.
    Empty batches are ignored; no rows at all gives 0.0.
    """
    n = np.asarray(counts, dtype=np.float64)
    total = np.asarray(sums, dtype=np.float64)
    within = np.asarray(squared_deviations, dtype=np.float64)
    if not (n.shape == total.shape == within.shape) or n.ndim != 1:
        raise ValueError("counts, sums and squared_deviations must be 1-D with one entry per batch")
    if (n < 0).any():
        raise ValueError("counts must be non-negative")
    present = n > 0
    if not present.any():
        return 0.0
    n, total, within = n[present], total[present], within[present]
    grand_mean = total.sum() / n.sum()
    between = n * (total / n - grand_mean) ** 2
    return float(within.sum() + between.sum())
