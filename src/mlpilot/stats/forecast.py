"""Monte Carlo of a semi-Markov process: how long until a lifecycle reaches its terminal state.

Each state (a lifecycle phase) holds for a log-normally distributed time, then moves to another
state drawn from that state's transition probabilities; a move to a lower-numbered state is a
loop. Every trial carries its own parameters (``mu``, ``sigma``, transition probabilities), so
the caller can draw them from a posterior: the spread of the result then holds both the process's
own randomness and what is not known about its parameters.

All trials advance together, one state visit per step, as numpy arrays; a trial that reaches the
terminal state stops moving. Nothing here knows about phases or dates: times are in days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

__all__ = ["ProcessDraws", "Simulation", "dirichlet_cumulative", "simulate"]


@dataclass(frozen=True)
class ProcessDraws:
    """Per-trial process parameters; ``trials`` rows, ``states`` columns.

    ``mu`` and ``sigma`` are the mean and standard deviation of the log-duration (days) of a
    visit to each state; ``next_cumulative[t, s, :]`` is the cumulative distribution of the
    state that follows ``s`` in trial ``t`` (its last entry is 1).
    """

    mu: NDArray[np.float64]
    sigma: NDArray[np.float64]
    next_cumulative: NDArray[np.float64]

    @property
    def trials(self) -> int:
        """Number of trials."""
        return int(self.mu.shape[0])


@dataclass(frozen=True)
class Simulation:
    """Per trial: days until the terminal state (``inf`` if not reached in time) and loops."""

    days: NDArray[np.float64]
    loops: NDArray[np.int64]

    def quantile(self, q: float) -> float:
        """The ``q`` quantile of the days (``inf`` when that many trials never finished)."""
        return float(np.quantile(self.days, q, method="inverted_cdf"))

    def probability_within(self, days: float) -> float:
        """Share of trials that reach the terminal state within ``days``."""
        return float(np.mean(self.days <= days))


def dirichlet_cumulative(
    alpha: NDArray[np.float64], trials: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """``trials`` draws of cumulative transition probabilities, one Dirichlet per state (row).

    ``alpha`` is states × states; a zero entry is a move that can never happen. A row of zeros
    (a state never left, such as the terminal one) gets a point mass on itself.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    draws = rng.gamma(np.where(alpha > 0, alpha, 1.0), size=(trials, *alpha.shape))
    draws = np.where(alpha > 0, draws, 0.0)
    totals = draws.sum(axis=-1, keepdims=True)
    empty = totals[..., 0] == 0
    if empty.any():
        # No allowed move (stay put), or pseudo-counts so tiny that every gamma draw underflowed
        # (the likeliest move takes it all).
        target = np.where(alpha.sum(axis=1) > 0, alpha.argmax(axis=1), np.arange(len(alpha)))
        trial, state = np.nonzero(empty)
        draws[trial, state, target[state]] = 1.0
        totals = draws.sum(axis=-1, keepdims=True)
    cumulative = np.cumsum(draws / totals, axis=-1)
    cumulative[..., -1] = 1.0  # exactly, so a uniform draw below 1 always finds a state
    return cumulative


def _durations(
    mu: NDArray[np.float64],
    sigma: NDArray[np.float64],
    elapsed: NDArray[np.float64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Log-normal visit lengths, each conditioned on exceeding ``elapsed`` (0: unconditioned).

    Inverse-CDF sampling on the upper tail, which stays exact far out: z = -Φ⁻¹(S(z_e) · V) with
    V uniform on (0, 1] and S the normal survival function, so z > z_e always. Where S(z_e)
    underflows (z_e > ~38), the tail's first-order form z_e + Exp(1) / z_e takes over. Returns
    the time still to run, duration - elapsed. A ``sigma`` of 0 is a fixed duration exp(mu).
    """
    safe_sigma = np.where(sigma > 0, sigma, 1.0)
    with np.errstate(divide="ignore"):
        z_elapsed = np.where(elapsed > 0, (np.log(elapsed) - mu) / safe_sigma, -np.inf)
    survival = special.ndtr(-z_elapsed)
    v = 1.0 - rng.random(mu.shape)  # in (0, 1]
    with np.errstate(divide="ignore"):
        z = -special.ndtri(survival * v)
        tail = z_elapsed + rng.exponential(size=mu.shape) / np.maximum(z_elapsed, 1.0)
    z = np.where(survival > 0, z, tail)
    drawn = np.exp(mu + safe_sigma * z)
    total = np.where(sigma > 0, drawn, np.exp(mu))
    return np.asarray(np.maximum(total - elapsed, 0.0), dtype=np.float64)


def simulate(
    draws: ProcessDraws,
    start: int,
    elapsed: float,
    terminal: int,
    rng: np.random.Generator,
    max_steps: int = 500,
) -> Simulation:
    """Run every trial from state ``start`` (already ``elapsed`` days in it) to ``terminal``.

    A trial still running after ``max_steps`` visits gets ``inf`` days: the forecast then says
    that share of trials never finished rather than inventing a date.
    """
    trials = draws.trials
    rows = np.arange(trials)
    state = np.full(trials, start, dtype=np.int64)
    days = np.zeros(trials)
    loops = np.zeros(trials, dtype=np.int64)
    active = state != terminal
    spent = np.full(trials, float(elapsed))
    for _ in range(max_steps):
        if not active.any():
            break
        idx = rows[active]
        s = state[idx]
        days[idx] += _durations(draws.mu[idx, s], draws.sigma[idx, s], spent[idx], rng)
        spent[idx] = 0.0
        u = rng.random(idx.size)
        nxt = (draws.next_cumulative[idx, s, :] <= u[:, None]).sum(axis=1)
        loops[idx] += nxt < s
        state[idx] = nxt
        active[idx] = nxt != terminal
    days[active] = np.inf
    return Simulation(days=days, loops=loops)
