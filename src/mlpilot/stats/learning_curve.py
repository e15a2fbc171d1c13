"""Learning curves: how a metric improves with the training-set size, and where it will be.

Two power laws, fitted by weighted least squares (weights 1/se² of each point's metric):

- ``pow3``: ``y = a + b · n^(-c)``
- ``pow4``: ``y = a + b · (n + d)^(-c)``, with a shift ``d >= 0`` for curves that bend late.

``a`` is the metric with unlimited data; for a metric where higher is better ``b < 0``. The one
with the lower AICc is kept (pow4 needs five sizes, pow3 four). The estimate at a planned size
comes with a 95 % interval by the delta method on the fit's covariance.

A fit is *refused* (``regular`` false, with the reason) when it cannot be trusted to extrapolate:
the optimiser fails, the points scatter around the curve far more than their standard errors
allow (χ² test, p < 0.01), the fitted gain from the smallest to the largest size is within two
standard errors of none, or the curve gets worse with more data.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

__all__ = ["CurveFit", "fit_learning_curve"]

Floats = NDArray[np.float64]
MIN_POINTS = {"pow3": 4, "pow4": 5}
C_MAX = 5.0  # the steepest exponent considered


def pow3(n: Floats, a: float, b: float, c: float) -> Floats:
    """``a + b · n^(-c)``."""
    return a + b * np.power(n, -c)


def pow4(n: Floats, a: float, b: float, c: float, d: float) -> Floats:
    """``a + b · (n + d)^(-c)``."""
    return a + b * np.power(n + d, -c)


MODELS: dict[str, Callable[..., Floats]] = {"pow3": pow3, "pow4": pow4}


@dataclass(frozen=True)
class CurveFit:
    """The chosen fit, its verdict, and the estimate at the planned size."""

    model: str | None
    params: dict[str, float]
    regular: bool
    reason: str | None
    planned_size: float | None
    estimate: float | None
    low: float | None
    high: float | None
    chi2_pvalue: float | None = None


def _refused(
    reason: str, model: str | None = None, params: dict[str, float] | None = None
) -> CurveFit:
    return CurveFit(model, params or {}, False, reason, None, None, None, None)


def _fit_one(
    name: str, n: Floats, y: Floats, se: Floats, higher_is_better: bool
) -> tuple[Floats, Floats, float] | None:
    """Parameters, covariance and weighted SSE of one model, or None if the optimiser fails."""
    sign = -1.0 if higher_is_better else 1.0
    spread = max(float(np.ptp(y)), float(np.mean(se)), 1e-6)
    b0 = sign * spread * float(n.min()) ** 0.5
    if name == "pow3":
        p0 = [float(y[np.argmax(n)]), b0, 0.5]
        bounds = ([-np.inf, -np.inf, 1e-3], [np.inf, np.inf, C_MAX])
    else:
        p0 = [float(y[np.argmax(n)]), b0, 0.5, 1.0]
        bounds = ([-np.inf, -np.inf, 1e-3, 0.0], [np.inf, np.inf, C_MAX, 10 * float(n.max())])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # covariance warnings are judged below instead
            params, cov = optimize.curve_fit(
                MODELS[name], n, y, p0=p0, sigma=se, absolute_sigma=True,
                bounds=bounds, maxfev=20_000,
            )  # fmt: skip
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        return None
    if not np.isfinite(cov).all():
        return None
    residual = (y - MODELS[name](n, *params)) / se
    return params, cov, float((residual**2).sum())


def _aicc(sse: float, k: int, m: int) -> float:
    return sse + 2 * k + (2 * k * (k + 1) / (m - k - 1) if m - k - 1 > 0 else math.inf)


def fit_learning_curve(
    sizes: Sequence[float],
    values: Sequence[float],
    ses: Sequence[float],
    *,
    planned_size: float,
    higher_is_better: bool = True,
) -> CurveFit:
    """Fit pow3 / pow4 to (size, value ± se) points and estimate the metric at ``planned_size``."""
    n = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    se = np.asarray(ses, dtype=np.float64)
    if not (n.shape == y.shape == se.shape) or n.ndim != 1:
        raise ValueError("sizes, values and ses must be 1-D with one entry per evaluation")
    if (n <= 0).any() or (se <= 0).any() or not np.isfinite(np.concatenate([n, y, se])).all():
        raise ValueError("sizes and standard errors must be positive, every value finite")
    m = np.unique(n).size
    if m < MIN_POINTS["pow3"]:
        return _refused(f"needs evaluations at {MIN_POINTS['pow3']} training sizes, has {m}")
    fits = {}
    for name, needed in MIN_POINTS.items():
        if m >= needed and (fit := _fit_one(name, n, y, se, higher_is_better)) is not None:
            fits[name] = fit
    if not fits:
        return _refused("the power-law fit did not converge")
    name = min(fits, key=lambda k: _aicc(fits[k][2], len(fits[k][0]), n.size))
    params, cov, sse = fits[name]
    labels = ("a", "b", "c", "d")[: params.size]
    named = {k: float(v) for k, v in zip(labels, params, strict=True)}
    dof = n.size - params.size
    p_value = float(stats.chi2.sf(sse, dof)) if dof > 0 else None
    if p_value is not None and p_value < 0.01:
        return _refused(
            f"the points scatter around the curve far more than their errors allow "
            f"(χ² p = {p_value:.2g}); too irregular to extrapolate", name, named
        )  # fmt: skip
    if named["c"] >= 0.99 * C_MAX:  # a step at the smallest size, not a learning curve
        return _refused(
            "the fitted exponent runs to its bound; too irregular to extrapolate", name, named
        )
    ends = np.array([n.min(), n.max()])
    gain, gain_se = _delta(name, params, cov, ends, lambda f: f[1] - f[0])
    if abs(gain) < 2 * gain_se:
        return _refused("no learning trend stands out from the noise", name, named)
    if (gain < 0) == higher_is_better:
        return _refused("the metric gets worse with more training data", name, named)
    x = np.array([float(planned_size)])
    estimate, estimate_se = _delta(name, params, cov, x, lambda f: f[0])
    half = 1.96 * estimate_se
    return CurveFit(
        name, named, True, None, float(planned_size), estimate, estimate - half, estimate + half,
        p_value,
    )  # fmt: skip


def _delta(
    name: str, params: Floats, cov: Floats, x: Floats, of: Callable[[Floats], float]
) -> tuple[float, float]:
    """``of(curve at x)`` and its standard error by the delta method (numerical gradient)."""
    value = float(of(MODELS[name](x, *params)))
    step = np.maximum(np.abs(params) * 1e-6, 1e-9)
    gradient = np.array(
        [
            (float(of(MODELS[name](x, *(params + np.eye(params.size)[i] * step[i])))) - value)
            / step[i]
            for i in range(params.size)
        ]
    )
    return value, math.sqrt(max(float(gradient @ cov @ gradient), 0.0))
