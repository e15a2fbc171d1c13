"""Experiment statistics from per-arm sufficient statistics: one control against one treatment.

Every function here works on :class:`ArmStats` — a few sums per arm and metric that the engine
(or a CSV file) produced — never on rows. The formulas follow GrowthBook's stats engine
(gbstats 0.8.0), whose published test values the tests reproduce:

- an arm's per-unit variance is the sample variance (n - 1) for a ``mean`` metric, ``p(1 - p)``
  for a ``proportion`` and the delta-method variance of Σx / Σy for a ``ratio``;
- the absolute effect is the difference of means; the relative effect divides it by the
  control's (unadjusted) mean, with the delta-method variance
  ``v_t / (m_c² n_t) + v_c m_t² / (m_c⁴ n_c)``, so the control mean's uncertainty is included;
- CUPED uses one θ for both arms, ``cov(x, pre) / var(pre)`` on the two arms pooled.

Probabilities use ``scipy.special`` ufuncs, not ``scipy.stats`` distribution objects, which are
two orders of magnitude slower on scalars and would dominate the < 1 ms budget per comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlpilot.errors import ValidationError

KINDS = ("mean", "proportion", "ratio")
# Relative slack for sums that must be consistent (Σx² >= (Σx)²/n): float rounding, not data.
_SLACK = 1e-9


@dataclass(frozen=True)
class ArmStats:
    """The sufficient statistics of one metric in one arm.

    ``sum``/``sum_squares`` are over the per-unit values x; ratio metrics add the denominator y
    (``denominator_sum``, ``denominator_sum_squares``) and Σxy (``cross_sum``); CUPED adds the
    pre-exposure covariate c (``covariate_sum``, ``covariate_sum_squares``) and Σxc
    (``covariate_cross_sum``).
    """

    n: int
    sum: float
    sum_squares: float
    kind: str = "mean"
    denominator_sum: float | None = None
    denominator_sum_squares: float | None = None
    cross_sum: float | None = None
    covariate_sum: float | None = None
    covariate_sum_squares: float | None = None
    covariate_cross_sum: float | None = None

    @property
    def has_covariate(self) -> bool:
        """Whether the CUPED sums are present."""
        sums = (self.covariate_sum, self.covariate_sum_squares, self.covariate_cross_sum)
        return all(v is not None for v in sums)

    @property
    def mean(self) -> float:
        """Σx / n, or Σx / Σy for a ratio (0 for an empty arm, which is flagged elsewhere)."""
        if self.kind == "ratio":
            return self.sum / self.denominator_sum if self.denominator_sum else 0.0
        return self.sum / self.n if self.n else 0.0

    @property
    def variance(self) -> float:
        """The per-unit variance of the metric (see the module docstring)."""
        if self.kind == "proportion":
            return self.mean * (1 - self.mean)
        if self.n <= 1:
            return 0.0
        if self.kind == "ratio":
            dy, ys, xy = self.denominator_sum, self.denominator_sum_squares, self.cross_sum
            assert dy is not None
            assert ys is not None
            assert xy is not None
            mean_x, mean_y = self.sum / self.n, dy / self.n
            if mean_y == 0:
                return 0.0
            var_x = _var(self.n, self.sum, self.sum_squares)
            var_y = _var(self.n, dy, ys)
            cov = (xy - self.sum * dy / self.n) / (self.n - 1)
            return max(
                var_x / mean_y**2 - 2 * cov * mean_x / mean_y**3 + mean_x**2 * var_y / mean_y**4,
                0.0,
            )
        return _var(self.n, self.sum, self.sum_squares)


def _var(n: int, total: float, squares: float) -> float:
    return max((squares - total * total / n) / (n - 1), 0.0) if n > 1 else 0.0


def validate_arm(arm: ArmStats, where: str) -> None:
    """Raise :class:`ValidationError` for statistics no data could have produced.

    ``where`` names the row in the message, e.g. ``"variant treatment, metric revenue"``.
    """
    if arm.kind not in KINDS:
        raise ValidationError(f"{where}: unknown metric kind {arm.kind!r}; use {', '.join(KINDS)}")
    numbers = [arm.sum, arm.sum_squares]
    extras = (
        arm.denominator_sum,
        arm.denominator_sum_squares,
        arm.cross_sum,
        arm.covariate_sum,
        arm.covariate_sum_squares,
        arm.covariate_cross_sum,
    )
    numbers += [v for v in extras if v is not None]
    if not all(math.isfinite(v) for v in numbers):
        raise ValidationError(f"{where}: the sums must be finite numbers, not NaN or infinite")
    if arm.n < 0 or arm.n != int(arm.n):
        raise ValidationError(f"{where}: n must be a whole number >= 0, got {arm.n}")
    if arm.n == 0 and any(v != 0 for v in numbers):
        raise ValidationError(f"{where}: an arm with n = 0 must have zero sums")
    if arm.kind == "proportion" and not 0 <= arm.sum <= arm.n:
        raise ValidationError(
            f"{where}: a proportion's sum counts converted units, so it must lie in [0, n]"
        )
    _consistent(arm.n, arm.sum, arm.sum_squares, f"{where}: sum_squares")
    if arm.kind == "ratio":
        if arm.denominator_sum is None or arm.denominator_sum_squares is None:
            raise ValidationError(
                f"{where}: a ratio metric needs denominator_sum and denominator_sum_squares"
            )
        if arm.cross_sum is None:
            raise ValidationError(f"{where}: a ratio metric needs cross_sum (Σ numerator·denom.)")
        _consistent(
            arm.n,
            arm.denominator_sum,
            arm.denominator_sum_squares,
            f"{where}: denominator_sum_squares",
        )
        _cauchy(
            arm.n,
            arm.sum,
            arm.sum_squares,
            arm.denominator_sum,
            arm.denominator_sum_squares,
            arm.cross_sum,
            f"{where}: cross_sum",
        )
    if arm.has_covariate:
        c, cc, xc = arm.covariate_sum, arm.covariate_sum_squares, arm.covariate_cross_sum
        assert c is not None
        assert cc is not None
        assert xc is not None
        _consistent(arm.n, c, cc, f"{where}: covariate_sum_squares")
        _cauchy(arm.n, arm.sum, arm.sum_squares, c, cc, xc, f"{where}: covariate_cross_sum")


def _consistent(n: int, total: float, squares: float, what: str) -> None:
    """Σx² >= (Σx)²/n holds for any real numbers (Cauchy–Schwarz); less means a wrong sum."""
    if squares < 0 or (n > 0 and squares - total * total / n < -_SLACK * max(squares, 1.0)):
        raise ValidationError(
            f"{what} {squares:g} is smaller than (sum)²/n = {total * total / max(n, 1):g}; "
            "no set of values has these sums"
        )


def _cauchy(n: int, sx: float, sxx: float, sy: float, syy: float, sxy: float, what: str) -> None:
    """|cov(x, y)|² <= var(x) var(y): a cross sum outside this bound cannot be real."""
    if n < 2:
        return
    cov = sxy - sx * sy / n
    bound = math.sqrt(max(sxx - sx * sx / n, 0.0) * max(syy - sy * sy / n, 0.0))
    if abs(cov) > bound * (1 + 1e-6) + _SLACK * max(abs(sxy), 1.0):
        raise ValidationError(
            f"{what} {sxy:g} implies a correlation beyond ±1; check the cross products"
        )


def pooled_theta(control: ArmStats, treatment: ArmStats) -> float:
    """CUPED's θ = cov(x, pre) / var(pre) on the two arms pooled; 0 when either has no spread."""
    n = control.n + treatment.n
    if n <= 1 or not (control.has_covariate and treatment.has_covariate):
        return 0.0
    sx, sxx = control.sum + treatment.sum, control.sum_squares + treatment.sum_squares
    sc = (control.covariate_sum or 0.0) + (treatment.covariate_sum or 0.0)
    scc = (control.covariate_sum_squares or 0.0) + (treatment.covariate_sum_squares or 0.0)
    sxc = (control.covariate_cross_sum or 0.0) + (treatment.covariate_cross_sum or 0.0)
    if control.kind == "proportion":
        p = sx / n
        var_x = p * (1 - p)
    else:
        var_x = _var(n, sx, sxx)
    var_c = _var(n, sc, scc)
    if var_x <= 0 or var_c <= 0:
        return 0.0
    return (sxc - sx * sc / n) / (n - 1) / var_c


def adjusted(arm: ArmStats, theta: float) -> tuple[float, float]:
    """The CUPED-adjusted mean and per-unit variance of ``arm`` for a given θ."""
    if theta == 0 or arm.n <= 1:
        return arm.mean, arm.variance
    c, cc, xc = arm.covariate_sum or 0.0, arm.covariate_sum_squares or 0.0, arm.covariate_cross_sum
    cov = ((xc or 0.0) - arm.sum * c / arm.n) / (arm.n - 1)
    variance = arm.variance + theta**2 * _var(arm.n, c, cc) - 2 * theta * cov
    return arm.mean - theta * c / arm.n, max(variance, 0.0)


def srm_p_value(counts: list[int], split: list[float]) -> float:
    """Chi-square goodness of fit of the units per arm against the planned split (as
    ``scipy.stats.chisquare`` with expected counts ``split / Σsplit · Σcounts``)."""
    from scipy.special import chdtrc

    if len(counts) != len(split):
        raise ValidationError(f"the split has {len(split)} shares for {len(counts)} variants")
    if any(not math.isfinite(s) or s <= 0 for s in split):
        raise ValidationError(f"every share of the split must be a positive number, got {split}")
    total, weight = sum(counts), sum(split)
    if total == 0 or len(counts) < 2:
        return 1.0
    chi2 = sum(
        (o - s / weight * total) ** 2 / (s / weight * total)
        for o, s in zip(counts, split, strict=True)
    )
    return float(chdtrc(len(counts) - 1, chi2))
