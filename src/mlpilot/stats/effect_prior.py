"""A proper prior on the relative effect of an experiment, and the posterior it gives.

The prior is a normal distribution whose scale is itself uncertain: the effect is
``N(mean, s²)`` with ``s`` drawn from a few scales with given weights. A single normal is the
one-scale case (what ``--prior-mean/--prior-sd`` declares). Mixing scales gives the heavy tails
that measured effect distributions have (most changes move a KPI by well under 1 %, a few by
10 % or more: Azevedo et al. 2020, "A/B testing with fat tails"), so small noisy estimates are
shrunk hard and large clear ones hardly at all.

- :data:`DEFAULT_PRIOR`: mean 0, equal weight on the scales 0.5 %, 1 %, 2 %, 4 % and 8 % of the
  control mean — weakly informative: a +2 % effect has prior probability 0.18, a +10 % one 0.03.
- :func:`fit_prior`: the empirical-Bayes prior learned from past experiments (their estimates
  and standard errors, oriented so that positive is good): the mean and the weights of a wider
  grid of scales by maximum marginal likelihood (EM), with the default as a weak pseudo-sample so
  a handful of experiments cannot make it degenerate.

Several arms share the prior through the scale: given ``s``, the arms' effects are independent
``N(mean, s²)``; their estimates are correlated through the shared control. The joint posterior
(:func:`posterior`) is then a mixture, over ``s``, of multivariate normals — exact, no sampling.
Reading the chosen arm's marginal from it is the correction for selecting the best: the
shrinkage, not a maximum of per-arm flat-prior statements.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from mlpilot.errors import ValidationError

Floats = npt.NDArray[np.float64]
MIN_EXPERIMENTS = 10  # past experiments needed before the workspace prior replaces the default
_GRID = (0.00125, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16)
_PSEUDO = 3.0  # the default prior counts as this many experiments in the workspace fit


@dataclass(frozen=True)
class EffectPrior:
    """``effect ~ N(mean, s²)``, ``s = scales[i]`` with probability ``weights[i]``; on the
    relative scale (a fraction of the control mean) unless scaled."""

    mean: float
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    source: str = "default"  # default | workspace | declared
    experiments: int = 0  # past experiments a workspace prior was learned from

    def __post_init__(self) -> None:
        if not (
            math.isfinite(self.mean)
            and self.scales
            and len(self.scales) == len(self.weights)
            and all(math.isfinite(s) and s > 0 for s in self.scales)
            and all(w >= 0 for w in self.weights)
            and abs(sum(self.weights) - 1) < 1e-9
        ):
            raise ValidationError(
                "a prior needs a finite mean, positive scales and weights that sum to 1, got "
                f"mean {self.mean}, scales {self.scales}, weights {self.weights}"
            )

    def scaled(self, factor: float) -> EffectPrior:
        """The same prior on a scale ``factor`` times larger (relative → absolute)."""
        return EffectPrior(
            self.mean * factor,
            tuple(s * factor for s in self.scales),
            self.weights,
            self.source,
            self.experiments,
        )

    def flipped(self) -> EffectPrior:
        """The prior of the negated effect (a workspace prior is learned with good = positive;
        for a lower-is-better metric the raw effect is its negation)."""
        return EffectPrior(-self.mean, self.scales, self.weights, self.source, self.experiments)

    def describe(self) -> dict[str, object]:
        """The prior as shown in reports: what it is, its parameters and where it comes from."""
        kept = [(s, w) for s, w in zip(self.scales, self.weights, strict=True) if w > 1e-4]
        scales = ", ".join(f"{s:.2%} ({w:.0%})" for s, w in kept)
        origin = {
            "default": "mlpilot's default, weakly informative",
            "workspace": f"learned from {self.experiments} past experiments of this workspace",
            "declared": "declared with --prior-mean/--prior-sd",
        }.get(self.source, self.source)
        return {
            "kind": "normal scale mixture on the relative effect",
            "source": self.source,
            "experiments": self.experiments,
            "mean": self.mean,
            "scales": list(self.scales),
            "weights": list(self.weights),
            "text": f"relative effect ~ N({self.mean:+.2%}, s²), s: {scales}; {origin}",
        }


DEFAULT_PRIOR = EffectPrior(0.0, (0.005, 0.01, 0.02, 0.04, 0.08), (0.2,) * 5)


def normal_prior(mean: float, variance: float) -> EffectPrior:
    """A single normal prior, as ``--prior-mean M --prior-sd S`` declares it."""
    return EffectPrior(mean, (math.sqrt(variance),), (1.0,), "declared")


@dataclass(frozen=True)
class Posterior:
    """A mixture over the prior's scales of normals for each of K effects: component weights
    ``(S,)``, means and standard deviations ``(S, K)`` (the marginals of the joint normals)."""

    weights: Floats
    means: Floats
    sds: Floats

    def mean(self, k: int = 0) -> float:
        """The posterior mean of effect ``k``."""
        return float(self.weights @ self.means[:, k])

    def probability(self, k: int, low: float = -math.inf, high: float = math.inf) -> float:
        """P(low <= effect k <= high)."""
        from scipy.special import ndtr

        m, s = self.means[:, k], self.sds[:, k]
        return float(self.weights @ (ndtr((high - m) / s) - ndtr((low - m) / s)))

    def quantile(self, k: int, q: float) -> float:
        """The q-quantile of effect ``k`` (bisection on the mixture's distribution function)."""
        from scipy.optimize import brentq

        m, s = self.means[:, k], self.sds[:, k]
        low, high = float(np.min(m - 12 * s)), float(np.max(m + 12 * s))
        return float(brentq(lambda x: self.probability(k, high=x) - q, low, high, xtol=1e-12))

    def expected_gain(self, k: int) -> tuple[float, float]:
        """E[max(effect, 0)] and E[max(-effect, 0)]: the risks of keeping the control and of
        shipping the treatment, as GrowthBook reports them."""
        from scipy.special import ndtr

        m, s = self.means[:, k], self.sds[:, k]
        z = m / s
        density = s * np.exp(-z * z / 2) / math.sqrt(2 * math.pi)
        up = ndtr(z)
        return (
            float(self.weights @ (m * up + density)),
            float(self.weights @ (density - m * (1 - up))),
        )


def posterior(estimates: Floats, covariance: Floats, prior: EffectPrior) -> Posterior:
    """The joint posterior of K effects whose estimates are ``N(effects, covariance)``, each
    effect ``N(prior.mean, s²)`` given the shared scale ``s``."""
    est = np.asarray(estimates, dtype=float)
    cov = np.atleast_2d(np.asarray(covariance, dtype=float))
    k = est.size
    eye = np.eye(k)
    weights, means, sds = [], [], []
    for scale, weight in zip(prior.scales, prior.weights, strict=True):
        if weight <= 0:
            continue
        marginal = cov + scale**2 * eye
        delta = est - prior.mean
        _, logdet = np.linalg.slogdet(marginal)
        weights.append(math.log(weight) - 0.5 * (logdet + delta @ np.linalg.solve(marginal, delta)))
        # Posterior mean mean + s²·(cov + s²I)⁻¹(est − mean); covariance s²I − s⁴(cov + s²I)⁻¹.
        gain = scale**2 * np.linalg.inv(marginal)
        means.append(prior.mean + gain @ delta)
        sds.append(np.sqrt(np.maximum(np.diag(scale**2 * eye - scale**2 * gain), 1e-300)))
    log_w = np.array(weights)
    w = np.exp(log_w - log_w.max())
    return Posterior(w / w.sum(), np.array(means), np.array(sds))


def fit_prior(
    estimates: npt.ArrayLike,
    standard_errors: npt.ArrayLike,
    base: EffectPrior = DEFAULT_PRIOR,
    *,
    experiments: int | None = None,
) -> EffectPrior:
    """The empirical-Bayes prior from past experiments' estimates (oriented: positive = good)
    and standard errors: the mean and the weights of a grid of scales from 0.125 % to 16 % that
    maximise the marginal likelihood, with ``base`` as a pseudo-sample of a few experiments.
    ``experiments`` (default: one per estimate) is how many experiments the estimates are from,
    as the prior reports it."""
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(standard_errors, dtype=float)
    keep = np.isfinite(est) & np.isfinite(se) & (se > 0)
    est, se = est[keep], se[keep]
    if est.size < MIN_EXPERIMENTS:
        raise ValidationError(
            f"a workspace prior needs {MIN_EXPERIMENTS} past experiments, got {est.size}"
        )
    grid = np.array(_GRID)
    base_w = dict(zip(base.scales, base.weights, strict=True))
    pseudo = _PSEUDO * np.array([base_w.get(float(s), 0.0) for s in grid])
    w = np.full(grid.size, 1 / grid.size)
    mean = float(np.median(est))
    var = grid[None, :] ** 2 + se[:, None] ** 2
    for _ in range(500):
        log_lik = -0.5 * (np.log(var) + (est[:, None] - mean) ** 2 / var)
        resp = np.log(np.maximum(w, 1e-300))[None, :] + log_lik
        resp = np.exp(resp - resp.max(axis=1, keepdims=True))
        resp /= resp.sum(axis=1, keepdims=True)
        new_w = (resp.sum(axis=0) + pseudo) / (est.size + pseudo.sum())
        precision = resp / var
        new_mean = float((precision * est[:, None]).sum() / precision.sum())
        done = np.max(np.abs(new_w - w)) < 1e-9 and abs(new_mean - mean) < 1e-12
        w, mean = new_w, new_mean
        if done:
            break
    return EffectPrior(
        mean, tuple(float(s) for s in grid), tuple(float(x) for x in w / w.sum()),
        "workspace", int(est.size if experiments is None else experiments),
    )  # fmt: skip
