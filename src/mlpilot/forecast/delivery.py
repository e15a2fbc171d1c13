"""The delivery forecast: when will an initiative reach monitoring (be delivered)?

The lifecycle is modelled as a semi-Markov process over the phases: each visit to a phase lasts a
log-normal time, then the initiative moves to another phase — forward, or back (a loop). Both
parts are learned from the *reference class*: every finished visit to a phase in this
initiative's log and in the logs of the workspace's other initiatives, one observation each.

**Prior.** Each phase starts from a documented prior (``PRIOR_MEDIAN_DAYS``, ``PRIOR_SIGMA``;
``docs/forecast.md``) that is deliberately weak: a normal–inverse-gamma prior on the log-duration
worth one observation for the mean and six for the spread, and Dirichlet pseudo-counts of 2 for
the next phase and 0.2 shared among the earlier ones (a 9 % chance of a loop per visit). With no
history the forecast is the prior's, which is wide (heavy-tailed); each observation narrows it.
Every trial draws its own parameters from the posterior, so what is not known widens the range
instead of being hidden.

The visit in progress is conditioned on having lasted ``elapsed`` already.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from mlpilot.domain.lifecycle import Phase, Transition
from mlpilot.errors import ValidationError
from mlpilot.stats.forecast import ProcessDraws, Simulation, dirichlet_cumulative, simulate

__all__ = [
    "PRIOR_MEDIAN_DAYS",
    "PRIOR_SIGMA",
    "DeliveryForecast",
    "History",
    "forecast_delivery",
    "learn_history",
]

PHASES = list(Phase)
TERMINAL = Phase.MONITORING.order
PRIOR_MEDIAN_DAYS: dict[Phase, float] = {
    Phase.BUSINESS_UNDERSTANDING: 14.0,
    Phase.DATA_UNDERSTANDING: 14.0,
    Phase.DATA_PREPARATION: 21.0,
    Phase.MODELING: 21.0,
    Phase.EVALUATION: 10.0,
    Phase.DEPLOYMENT: 14.0,
}
PRIOR_SIGMA = 0.8  # log-days: a visit's length varies by a factor of ~2.2 either way (1 sd)
PRIOR_KAPPA = 1.0  # the prior mean is worth one observation
PRIOR_SHAPE = 3.0  # inverse-gamma shape 3: a weak prior on the spread with a finite variance
PRIOR_FORWARD = 2.0  # Dirichlet pseudo-count of moving on to the next phase
PRIOR_BACK = 0.2  # shared among the earlier phases: a 9 % prior chance of a loop per visit
MIN_DAYS = 0.01  # two moves in the same instant count as a quarter-hour visit
QUANTILES = (0.5, 0.85, 0.95)
PROBABILITY_KIND = "posterior predictive probability"
MAX_TRIALS = 1_000_000  # ~100 MB of per-trial parameters


@dataclass
class History:
    """The reference class: log-durations and next-phase counts of finished visits per phase."""

    log_days: dict[int, list[float]] = field(default_factory=lambda: {p: [] for p in range(7)})
    moves: NDArray[np.float64] = field(default_factory=lambda: np.zeros((7, 7)))
    initiatives: int = 0
    transitions: int = 0


def learn_history(logs: Sequence[Sequence[Transition]]) -> History:
    """Collect every finished visit (one that a later transition ended) from ``logs``.

    The open visit at the end of a log is censored and left out; visits to monitoring are left
    out too (it is where the forecast ends).
    """
    history = History()
    for log in logs:
        used = 0
        for current, following in itertools.pairwise(log):
            phase = current.to_phase.order
            if phase == TERMINAL:
                continue
            days = max((following.at - current.at).total_seconds() / 86400, MIN_DAYS)
            history.log_days[phase].append(math.log(days))
            history.moves[phase, following.to_phase.order] += 1
            used += 1
        history.transitions += used
        history.initiatives += used > 0
    return history


def _prior_alpha() -> NDArray[np.float64]:
    alpha = np.zeros((7, 7))
    for p in range(TERMINAL):
        alpha[p, p + 1] = PRIOR_FORWARD
        if p > 0:
            alpha[p, :p] = PRIOR_BACK / p
    return alpha


def posterior_draws(history: History, trials: int, rng: np.random.Generator) -> ProcessDraws:
    """Per-trial parameters from the normal–inverse-gamma and Dirichlet posteriors."""
    mu = np.zeros((trials, 7))
    sigma = np.zeros((trials, 7))
    for p in range(TERMINAL):
        x = np.asarray(history.log_days[p])
        n = x.size
        mu0, b0 = math.log(PRIOR_MEDIAN_DAYS[PHASES[p]]), PRIOR_SIGMA**2 * (PRIOR_SHAPE - 1)
        mean = float(x.mean()) if n else 0.0
        kappa = PRIOR_KAPPA + n
        mu_n = (PRIOR_KAPPA * mu0 + n * mean) / kappa
        shape = PRIOR_SHAPE + n / 2
        rate = b0 + 0.5 * float(((x - mean) ** 2).sum()) if n else b0
        rate += PRIOR_KAPPA * n * (mean - mu0) ** 2 / (2 * kappa) if n else 0.0
        variance = rate / rng.gamma(shape, size=trials)
        sigma[:, p] = np.sqrt(variance)
        mu[:, p] = rng.normal(mu_n, np.sqrt(variance / kappa))
    alpha = _prior_alpha() + history.moves
    np.fill_diagonal(alpha, 0.0)  # a move always changes the phase
    return ProcessDraws(mu, sigma, dirichlet_cumulative(alpha, trials, rng))


@dataclass(frozen=True)
class DeliveryForecast:
    """When the initiative reaches monitoring, as a distribution over ``trials`` simulations."""

    as_of: datetime
    phase: Phase
    complete_at: datetime | None  # set when it is in monitoring already
    simulation: Simulation | None
    history: History
    by: datetime | None = None
    seed: int | None = None

    def date_at(self, q: float) -> datetime | None:
        """The ``q`` quantile completion date (None when that share of trials never finished)."""
        if self.complete_at is not None:
            return self.complete_at
        assert self.simulation is not None
        days = self.simulation.quantile(q)
        return None if math.isinf(days) else self.as_of + timedelta(days=days)

    def probability_by(self, moment: datetime) -> float:
        """The probability of reaching monitoring by ``moment``."""
        if self.complete_at is not None:
            return float(self.complete_at <= moment)
        assert self.simulation is not None
        return self.simulation.probability_within((moment - self.as_of).total_seconds() / 86400)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``mlpilot forecast --json``."""
        sim = self.simulation

        def iso(q: float) -> str | None:
            moment = self.date_at(q)
            return None if moment is None else moment.isoformat()

        return {
            "as_of": self.as_of.isoformat(),
            "phase": self.phase.value,
            "complete": self.complete_at is not None,
            "p50": iso(0.5),
            "p85": iso(0.85),
            "p95": iso(0.95),
            "by": None if self.by is None else self.by.isoformat(),
            "probability_by": None if self.by is None else self.probability_by(self.by),
            # p50/p85/p95 and probability_by: from futures simulated with parameters drawn
            # from the posterior, so each is a posterior predictive probability
            "probability_kind": PROBABILITY_KIND,
            "expected_loops": 0.0 if sim is None else float(sim.loops.mean()),
            "unfinished_share": 0.0 if sim is None else float(np.isinf(sim.days).mean()),
            "trials": 0 if sim is None else int(sim.days.size),
            "seed": self.seed,
            "history_initiatives": self.history.initiatives,
            "history_transitions": self.history.transitions,
            "phases": self._phases(),
        }

    def _phases(self) -> list[dict[str, Any]]:
        rows = []
        for p in range(TERMINAL):
            obs = self.history.log_days[p]
            moves = self.history.moves[p]
            rows.append(
                {
                    "phase": PHASES[p].value,
                    "observations": len(obs),
                    "median_days": round(math.exp(float(np.median(obs))), 2) if obs else None,
                    "loops": int(moves[:p].sum()),
                    "prior_median_days": PRIOR_MEDIAN_DAYS[PHASES[p]],
                }
            )
        return rows


def forecast_delivery(
    log: Sequence[Transition],
    reference: Sequence[Sequence[Transition]],
    as_of: datetime,
    *,
    trials: int = 10_000,
    seed: int | None = 0,
    by: datetime | None = None,
) -> DeliveryForecast:
    """Forecast ``log``'s remaining lifecycle from it and the ``reference`` logs, at ``as_of``."""
    if not log:
        raise ValidationError("the lifecycle has not started; nothing to forecast")
    if not 100 <= trials <= MAX_TRIALS:
        raise ValidationError(f"trials must be between 100 and {MAX_TRIALS:,}, got {trials}")
    if as_of < log[-1].at:
        raise ValidationError(
            f"the forecast time {as_of.isoformat()} is before the last transition "
            f"({log[-1].at.isoformat()})"
        )
    history = learn_history([log, *reference])
    phase = log[-1].to_phase
    if phase is Phase.MONITORING:
        return DeliveryForecast(as_of, phase, log[-1].at, None, history, by, seed)
    rng = np.random.default_rng(seed)
    draws = posterior_draws(history, trials, rng)
    elapsed = max((as_of - log[-1].at).total_seconds() / 86400, 0.0)
    simulation = simulate(draws, phase.order, elapsed, TERMINAL, rng)
    return DeliveryForecast(as_of, phase, None, simulation, history, by, seed)
