"""Always-valid confidence sequences for the absolute and the relative effect.

The absolute effect uses the asymptotic confidence sequence of Waudby-Smith et al. (2023,
eq. 9): ``estimate ± k·se`` with ``k`` growing slowly with the total units, and its always-valid
p-value (eq. 155), as GrowthBook does. The normal mixture is tightest at ``tuning`` total units
(ρ from eq. 161).

The relative effect is a ratio, ``D / M`` (the difference over the control mean). The delta
method's ``rel ± k·se_rel`` is not always valid at small counts: its standard error shrinks with
the treatment mean, so a falling treatment crosses 0 early — with 5 % conversion and 2,000
units, 5 % of A/A tests were "significant" at some look, 8 % at 2 %. Here the relative sequence
is Fieller's: the set of ``r`` for which the linear contrast ``D − r·M`` is not rejected by the
same sequence. Each contrast is a mean difference the sequence covers, so the set covers the
true ratio at every look as the absolute sequence does; at ``r = 0`` it is the absolute test
itself. When the control mean is not itself distinguishable from 0 the set is unbounded: then
there is no valid relative interval and the caller falls back to the absolute scale.
"""

from __future__ import annotations

import math

Interval = tuple[float | None, float | None]


def sequence_rho(alpha: float, tuning: float) -> float:
    """ρ of the normal mixture, tightest at a total of ``tuning`` units (eq. 161)."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning)


def critical_value(total: int, alpha: float, tuning: float) -> float:
    """``k`` such that the sequence at ``total`` units is ``estimate ± k·se`` (eq. 9)."""
    rho2 = sequence_rho(alpha, tuning) ** 2
    mix = total * rho2 + 1
    return math.sqrt(2 * mix * math.log(math.sqrt(mix) / alpha) / (total * rho2))


def sequence(
    estimate: float, variance: float, total: int, alpha: float, tuning: float
) -> tuple[Interval, float]:
    """The interval ``estimate ± k·se`` and the always-valid p-value (eq. 155)."""
    width = critical_value(total, alpha, tuning) * math.sqrt(variance)
    rho2 = sequence_rho(alpha, tuning) ** 2
    mix = total * rho2 + 1
    st2 = estimate**2 * total / variance
    log_e = rho2 * st2 / (2 * mix) - 0.5 * math.log(mix)
    p_value = 1.0 if log_e <= 0 else math.exp(-log_e)
    return (estimate - width, estimate + width), p_value


def relative_sequence(
    difference: float,
    var_difference: float,
    control: float,
    var_control: float,
    covariance: float,
    k: float,
) -> Interval | None:
    """Fieller's set ``{r : (D − r·M)² <= k²·Var(D − r·M)}`` for ``r = D / M`` (M > 0 here: the
    caller passes |control mean| and the matching covariance); None when it is unbounded."""
    k2 = k * k
    a = control * control - k2 * var_control
    if not a > 0:  # the control mean's own sequence reaches 0: no bounded ratio set
        return None
    b = difference * control - k2 * covariance
    c = difference * difference - k2 * var_difference
    root = math.sqrt(max(b * b - a * c, 0.0))
    return (b - root) / a, (b + root) / a
