"""Multiple-testing corrections across metrics and arms: Holm and Benjamini–Hochberg.

Both return adjusted p-values in the input order, capped at 1, so a comparison is significant
at level α after correction exactly when its adjusted p-value is below α.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlpilot.errors import ValidationError
from mlpilot.stats.drift import benjamini_hochberg as _bh

CORRECTIONS = ("holm", "bh", "none")


def _checked(p_values: ArrayLike) -> NDArray[np.float64]:
    p = np.asarray(p_values, dtype=np.float64)
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValidationError("p-values to correct must lie in [0, 1]")
    return p


def holm(p_values: ArrayLike) -> NDArray[np.float64]:
    """Holm's step-down adjustment (family-wise error rate)."""
    p = _checked(p_values)
    if p.size == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * (p.size - np.arange(p.size))
    adjusted = np.minimum(np.maximum.accumulate(ranked), 1.0)
    out = np.empty_like(p)
    out[order] = adjusted
    return out


def benjamini_hochberg(p_values: ArrayLike) -> NDArray[np.float64]:
    """Benjamini–Hochberg step-up adjustment (false discovery rate)."""
    return _bh(_checked(p_values))


def adjust(p_values: ArrayLike, correction: str) -> NDArray[np.float64]:
    """Apply ``correction`` (``holm``, ``bh`` or ``none``)."""
    if correction == "holm":
        return holm(p_values)
    if correction == "bh":
        return benjamini_hochberg(p_values)
    if correction == "none":
        return _checked(p_values)
    raise ValidationError(f"unknown correction {correction!r}; use {', '.join(CORRECTIONS)}")
