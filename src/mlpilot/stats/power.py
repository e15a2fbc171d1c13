"""Planning: units needed to detect an effect, and the smallest effect a size can detect.

The power of the two-sample z-test (the large-sample form of Welch's test) for a true
difference δ between arms of sizes n_c and n_t with per-unit variances v_c and v_t is

    Φ(δ / se - z) + Φ(-δ / se - z),   se = sqrt(v_c / n_c + v_t / n_t),

with z = Φ⁻¹(1 - α/2) two-sided (the second term is the far tail), or Φ(δ / se - z_{1-α})
one-sided — the power function of ``statsmodels``' ``NormalIndPower``, which the tests
compare against. A proportion's variance is p(1 - p) in each arm (the treatment's at the
shifted rate); a mean metric has one standard deviation for both arms. Sizes are solved with
Brent's method on the power function, so the answer is the exact root, not a rounded formula.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlpilot.errors import ValidationError


@dataclass(frozen=True)
class Baseline:
    """The control's metric: a conversion ``rate`` or a ``mean`` with standard deviation ``sd``."""

    mean: float
    sd: float | None = None  # None: a proportion, whose variance follows from its rate

    def variance(self, mean: float) -> float:
        """The per-unit variance of an arm whose metric averages ``mean``."""
        return mean * (1 - mean) if self.sd is None else self.sd**2


def _check(baseline: Baseline, alpha: float, power: float, shares: list[float]) -> None:
    if baseline.sd is None and not 0 < baseline.mean < 1:
        raise ValidationError(
            f"a baseline rate must lie strictly between 0 and 1, got {baseline.mean}"
        )
    if baseline.sd is not None and not (math.isfinite(baseline.mean) and baseline.sd > 0):
        raise ValidationError("a baseline needs a finite mean and a standard deviation > 0")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValidationError(
            f"alpha and power must lie strictly between 0 and 1, got {alpha}, {power}"
        )
    if len(shares) < 2 or any(not s > 0 for s in shares):
        raise ValidationError(f"the split needs two or more positive shares, got {shares}")


def power_at(
    delta: float, var_c: float, var_t: float, n_c: float, n_t: float, alpha: float, sided: str
) -> float:
    """The power of the test (see the module docstring)."""
    from scipy.special import ndtr, ndtri

    se = math.sqrt(var_c / n_c + var_t / n_t)
    if sided == "two":
        z = float(ndtri(1 - alpha / 2))
        return float(ndtr(abs(delta) / se - z) + ndtr(-abs(delta) / se - z))
    return float(ndtr(abs(delta) / se - float(ndtri(1 - alpha))))


def _shares(shares: list[float] | None) -> list[float]:
    """The planned split as shares summing to 1 (50/50 when not given)."""
    given = shares or [1.0, 1.0]
    return [s / sum(given) for s in given]


def _treatment_mean(baseline: Baseline, effect: float, relative: bool) -> float:
    mean = baseline.mean * (1 + effect) if relative else baseline.mean + effect
    if baseline.sd is None and not 0 < mean < 1:
        raise ValidationError(
            f"an effect of {effect:g} moves the rate {baseline.mean:g} out of (0, 1)"
        )
    return mean


def sample_size(
    baseline: Baseline,
    effect: float,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    shares: list[float] | None = None,
    sided: str = "two",
) -> float:
    """Total units (all arms) to detect ``effect`` in every treatment with ``power``."""
    from scipy.optimize import brentq

    split = _shares(shares)
    _check(baseline, alpha, power, split)
    if effect == 0 or not math.isfinite(effect):
        raise ValidationError(
            f"the minimum detectable effect must be a non-zero number, got {effect}"
        )
    treated = _treatment_mean(baseline, effect, relative)
    delta = treated - baseline.mean
    v_c, v_t = baseline.variance(baseline.mean), baseline.variance(treated)

    def gap(total: float, share: float) -> float:
        return power_at(delta, v_c, v_t, total * split[0], total * share, alpha, sided) - power

    needed = 0.0
    for share in split[1:]:  # the smallest treatment arm decides
        high = 4.0
        while gap(high, share) < 0:
            high *= 2
        needed = max(needed, float(brentq(gap, 1e-9, high, args=(share,), xtol=1e-9, rtol=1e-12)))
    return needed


def minimum_effect(
    baseline: Baseline,
    total: float,
    *,
    relative: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    shares: list[float] | None = None,
    sided: str = "two",
) -> float:
    """The smallest upward effect ``total`` units detect with ``power`` (relative or absolute)."""
    from scipy.optimize import brentq

    split = _shares(shares)
    _check(baseline, alpha, power, split)
    if not total > 0:
        raise ValidationError(f"the number of units must be positive, got {total}")
    share = min(split[1:])
    n_c, n_t = total * split[0], total * share

    def gap(delta: float) -> float:
        treated = baseline.mean + delta
        v_t = baseline.variance(treated)
        return (
            power_at(delta, baseline.variance(baseline.mean), v_t, n_c, n_t, alpha, sided) - power
        )

    high = (1 - baseline.mean) * (1 - 1e-12) if baseline.sd is None else 1.0
    if baseline.sd is not None:
        while gap(high) < 0:
            high *= 2
    elif gap(high) < 0:
        raise ValidationError(
            f"{total:g} units cannot detect any change of the rate with this power"
        )
    delta = float(brentq(gap, 1e-15, high, xtol=1e-15, rtol=1e-12))
    return delta / abs(baseline.mean) if relative else delta
