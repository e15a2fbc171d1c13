"""One treatment against the control: frequentist, sequential and Bayesian effects.

Input is two :class:`~mlpilot.stats.experiments.ArmStats`; output a :class:`Comparison` with
the absolute and relative effect, their intervals and, by method,

- ``frequentist``: Welch's t-test (Welch–Satterthwaite degrees of freedom), two-sided or
  one-sided (``greater``: the treatment raises the metric; ``less``: it lowers it);
- ``sequential``: the asymptotic confidence sequence of Waudby-Smith et al. (2023, eq. 9), valid
  at every look, and its always-valid p-value (eq. 155); the relative effect's is Fieller's set
  (:mod:`mlpilot.stats.sequential`), absent — with a ``note`` — when it would be unbounded. The
  mixture is tuned by ``tuning``, the total sample size at which the sequence is tightest (ρ from
  eq. 161); GrowthBook's default, 5,000, is ours;
- ``bayesian``: the posterior of the effect — the likelihood is the normal approximation above,
  the prior a normal ``(mean, variance)`` of the *relative* effect, an
  :class:`~mlpilot.stats.effect_prior.EffectPrior`, or none (flat, GrowthBook's default).
  Chance to win is P(effect > 0) (< 0 when lower is better), risk the expected loss of shipping
  each arm, both on the relative scale (absolute when the control mean is 0), as GrowthBook
  reports them. Both need the metric's direction (``higher_is_better``): without one they are
  None — nothing assumes that higher is better.

Every comparison also carries the data's own normal likelihood (``data_*``: the estimates and
standard errors before any prior, and the variance of the control mean, which correlates the
arms) for the impact probability to combine with its prior.

A comparison that cannot be computed honestly carries a ``flag`` naming why (``empty_arm``,
``too_few_units``, ``zero_variance``, ``control_mean_zero``) and null statistics in its place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlpilot.errors import ValidationError
from mlpilot.stats.effect_prior import EffectPrior, Posterior, normal_prior, posterior
from mlpilot.stats.experiments import ArmStats, adjusted, pooled_theta
from mlpilot.stats.sequential import critical_value, relative_sequence, sequence

METHODS = ("frequentist", "sequential", "bayesian")
SIDES = ("two", "greater", "less")
DEFAULT_TUNING = 5000.0
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
RELATIVE_FALLBACK = (
    "the relative confidence sequence is unbounded at this count (the control mean's own "
    "sequence reaches 0): the effect is judged on the absolute scale"
)

Interval = tuple[float | None, float | None]
Prior = tuple[float, float] | EffectPrior | None


@dataclass(frozen=True)
class Comparison:
    """The result for one metric and one non-control arm (``None`` where undefined)."""

    mean: float
    control_mean: float
    effect_abs: float | None = None
    effect_abs_ci: Interval = (None, None)
    effect_rel: float | None = None
    effect_rel_ci: Interval = (None, None)
    se_abs: float | None = None
    se_rel: float | None = None
    p_value: float | None = None
    p_value_rel: float | None = None
    chance_to_win: float | None = None
    risk: tuple[float, float] | None = None
    variance_reduction: float | None = None
    flag: str | None = None
    note: str | None = None
    data_effect_abs: float | None = None
    data_se_abs: float | None = None
    data_effect_rel: float | None = None
    data_se_rel: float | None = None
    control_mean_variance: float | None = None


def compare(
    control: ArmStats,
    treatment: ArmStats,
    *,
    method: str = "frequentist",
    alpha: float = 0.05,
    sided: str = "two",
    cuped: bool = False,
    prior: Prior = None,
    tuning: float = DEFAULT_TUNING,
    higher_is_better: bool | None = None,
) -> Comparison:
    """Compare ``treatment`` with ``control`` (see the module docstring)."""
    _check_options(method, alpha, sided, prior, tuning)
    base = Comparison(mean=treatment.mean, control_mean=control.mean)
    try:
        return _compute(control, treatment, base, method, alpha, sided, cuped, prior, tuning,
                        higher_is_better)  # fmt: skip
    except ArithmeticError:  # sums so extreme that a float under- or overflows
        return _flagged(base, "numeric_range")


def _compute(
    control: ArmStats,
    treatment: ArmStats,
    base: Comparison,
    method: str,
    alpha: float,
    sided: str,
    cuped: bool,
    prior: Prior,
    tuning: float,
    higher_is_better: bool | None,
) -> Comparison:
    if control.n == 0 or treatment.n == 0:
        return _flagged(base, "empty_arm")
    if control.n < 2 or treatment.n < 2:
        return _flagged(base, "too_few_units")
    theta = pooled_theta(control, treatment) if cuped else 0.0
    mean_c, var_c = adjusted(control, theta)
    mean_t, var_t = adjusted(treatment, theta)
    n_c, n_t = control.n, treatment.n
    reduction = None
    if cuped:
        before = control.variance / n_c + treatment.variance / n_t
        after = var_c / n_c + var_t / n_t
        reduction = 1 - after / before if before > 0 else 0.0
    effect = mean_t - mean_c
    var_abs = var_c / n_c + var_t / n_t
    if not var_abs > 0:
        return _flagged(
            Comparison(base.mean, base.control_mean, effect_abs=effect), "zero_variance"
        )
    flag = None
    var_rel: float | None = None
    rel: float | None = None
    m0, m1 = control.mean, treatment.mean  # unadjusted, as the delta method's denominator
    if m0 == 0:
        flag = "control_mean_zero"
    else:
        rel = effect / abs(m0)
        var_rel = var_t / (m0**2 * n_t) + var_c * m1**2 / (m0**4 * n_c)
        if not var_rel > 0:  # a constant treatment at 0: the delta method has no spread
            rel, var_rel, flag = None, None, "zero_variance"
    dof = _welch_dof(var_c, n_c, var_t, n_t)
    common: dict[str, object] = {
        "mean": base.mean,
        "control_mean": base.control_mean,
        "variance_reduction": reduction,
        "flag": flag,
        "data_effect_abs": effect,
        "data_se_abs": math.sqrt(var_abs),
        "data_effect_rel": rel,
        "data_se_rel": None if var_rel is None else math.sqrt(var_rel),
        "control_mean_variance": var_c / n_c,
    }
    if method == "bayesian":
        return _bayesian(
            effect, var_abs, rel, var_rel, abs(m0), alpha, prior, higher_is_better, common
        )
    out: dict[str, object] = {"effect_abs": effect, "se_abs": math.sqrt(var_abs)}
    if method == "sequential":
        out["effect_abs_ci"], out["p_value"] = sequence(effect, var_abs, n_c + n_t, alpha, tuning)
    else:
        out["effect_abs_ci"], out["p_value"] = _welch(effect, var_abs, dof, alpha, sided)
    if rel is not None and var_rel is not None:
        out |= {"effect_rel": rel, "se_rel": math.sqrt(var_rel)}
        if method == "sequential":
            # Fieller's set: D − r·|m0| against the same sequence; at r = 0 the absolute test.
            sign = 1.0 if m0 > 0 else -1.0
            ci = relative_sequence(
                effect, var_abs, abs(m0), control.variance / n_c,
                -sign * _control_covariance(control, theta),
                critical_value(n_c + n_t, alpha, tuning),
            )  # fmt: skip
            out["effect_rel_ci"] = (None, None) if ci is None else ci
            out["p_value_rel"] = out["p_value"]
            if ci is None:
                out["note"] = RELATIVE_FALLBACK
        else:
            out["effect_rel_ci"], out["p_value_rel"] = _welch(rel, var_rel, dof, alpha, sided)
    return Comparison(**common, **out)  # type: ignore[arg-type]


def _control_covariance(control: ArmStats, theta: float) -> float:
    """Cov(adjusted control mean, unadjusted control mean): the numerator and denominator of
    the relative effect share the control's units."""
    covariance = control.variance
    if theta != 0 and control.n > 1:
        c, xc = control.covariate_sum or 0.0, control.covariate_cross_sum or 0.0
        covariance -= theta * (xc - control.sum * c / control.n) / (control.n - 1)
    return covariance / control.n


def _check_options(method: str, alpha: float, sided: str, prior: Prior, tuning: float) -> None:
    if method not in METHODS:
        raise ValidationError(f"unknown method {method!r}; use {', '.join(METHODS)}")
    if sided not in SIDES:
        raise ValidationError(f"unknown test side {sided!r}; use {', '.join(SIDES)}")
    if not 0 < alpha < 1:
        raise ValidationError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    if method != "frequentist" and sided != "two":
        raise ValidationError(f"the {method} analysis is two-sided; drop the one-sided option")
    if isinstance(prior, tuple) and not (math.isfinite(prior[0]) and prior[1] > 0):
        raise ValidationError(f"the prior needs a finite mean and a variance > 0, got {prior}")
    if not tuning > 0:
        raise ValidationError(f"the sequential tuning must be a positive sample size, got {tuning}")


def _flagged(base: Comparison, flag: str) -> Comparison:
    return Comparison(base.mean, base.control_mean, effect_abs=base.effect_abs, flag=flag)


def _welch_dof(var_c: float, n_c: int, var_t: float, n_t: float) -> float:
    a, b = var_c / n_c, var_t / n_t
    denominator = a * a / (n_c - 1) + b * b / (n_t - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else math.inf


def _welch(
    estimate: float, variance: float, dof: float, alpha: float, sided: str
) -> tuple[Interval, float]:
    from scipy.special import stdtr, stdtrit

    se = math.sqrt(variance)
    t = estimate / se
    if sided == "two":
        width = float(stdtrit(dof, 1 - alpha / 2)) * se
        return (estimate - width, estimate + width), float(2 * stdtr(dof, -abs(t)))
    width = float(stdtrit(dof, 1 - alpha)) * se
    if sided == "greater":
        return (estimate - width, None), float(stdtr(dof, -t))
    return (None, estimate + width), float(stdtr(dof, t))


def _bayesian(
    effect: float,
    var_abs: float,
    rel: float | None,
    var_rel: float | None,
    scale: float,
    alpha: float,
    prior: Prior,
    higher_is_better: bool | None,
    common: dict[str, object],
) -> Comparison:
    from scipy.special import ndtri

    z = float(ndtri(1 - alpha / 2))
    summary = _summary(effect, var_abs, prior, scale, alpha, z)
    out: dict[str, object] = {
        "effect_abs": summary[0],
        "effect_abs_ci": summary[1],
        "se_abs": summary[2],
    }
    if rel is not None and var_rel is not None:
        summary = _summary(rel, var_rel, prior, 1.0, alpha, z)
        out |= {"effect_rel": summary[0], "effect_rel_ci": summary[1], "se_rel": summary[2]}
    if higher_is_better is None:  # no direction: no "win" to speak of
        return Comparison(**common, **out)  # type: ignore[arg-type]
    win, risk = summary[3], summary[4]
    if not higher_is_better:
        win, risk = 1 - win, (risk[1], risk[0])
    return Comparison(**common, **out, chance_to_win=win, risk=risk)  # type: ignore[arg-type]


def _summary(
    estimate: float, variance: float, prior: Prior, scale: float, alpha: float, z: float
) -> tuple[float, Interval, float, float, tuple[float, float]]:
    """Posterior mean, credible interval, sd, P(effect > 0) and risks; the prior is on the
    relative scale and ``scale`` converts it (a relative prior says nothing when it is 0)."""
    if isinstance(prior, tuple):
        prior = normal_prior(*prior)
    if prior is None or scale == 0 or len(prior.scales) == 1:
        mean, var = _normal_update(estimate, variance, prior, scale)
        sd = math.sqrt(var)
        win, risk = chance_and_risk(mean, sd)
        return mean, (mean - z * sd, mean + z * sd), sd, win, risk
    post: Posterior = posterior(np.array([estimate]), np.array([[variance]]), prior.scaled(scale))
    mean = post.mean()
    second = float(post.weights @ (post.sds[:, 0] ** 2 + post.means[:, 0] ** 2))
    interval = (post.quantile(0, alpha / 2), post.quantile(0, 1 - alpha / 2))
    sd = math.sqrt(max(second - mean * mean, 0.0))
    return mean, interval, sd, post.probability(0, low=0.0), post.expected_gain(0)


def _normal_update(
    estimate: float, variance: float, prior: EffectPrior | None, scale: float
) -> tuple[float, float]:
    """Normal–normal update (flat when there is no prior or no scale to convert it by)."""
    if prior is None or scale == 0:
        return estimate, variance
    prior_mean, prior_var = prior.mean * scale, (prior.scales[0] * scale) ** 2
    precision = 1 / variance + 1 / prior_var
    return (estimate / variance + prior_mean / prior_var) / precision, 1 / precision


def chance_and_risk(mean: float, sd: float) -> tuple[float, tuple[float, float]]:
    """P(effect > 0) and the expected loss of choosing control, then treatment, under
    N(mean, sd²): E[max(effect, 0)] and E[max(-effect, 0)], in closed form."""
    from scipy.special import ndtr

    z = mean / sd
    density = sd * _INV_SQRT_2PI * math.exp(-z * z / 2)
    up = float(ndtr(z))
    return up, (mean * up + density, density - mean * (1 - up))
