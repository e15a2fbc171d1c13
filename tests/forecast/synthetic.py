"""Lifecycle logs drawn from a known semi-Markov process, for tests with a known truth."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from mlpilot.domain.lifecycle import Cause, Phase, Transition

PHASES = list(Phase)
START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Process:
    """Per phase (0-5): median days, log spread; ``moves[p]`` the next-phase probabilities."""

    median_days: tuple[float, ...]
    sigma: tuple[float, ...]
    moves: tuple[tuple[float, ...], ...]

    def log(self, rng: np.random.Generator, start: datetime = START) -> list[Transition]:
        """One initiative's full log, from business understanding to monitoring."""
        at, phase = start, 0
        log = [Transition(at, None, PHASES[0])]
        while phase != 6:
            days = math.exp(math.log(self.median_days[phase]) + self.sigma[phase] * rng.normal())
            at += timedelta(days=days)
            nxt = int(rng.choice(7, p=self.moves[phase]))
            back = nxt < phase
            log.append(
                Transition(
                    at, PHASES[phase], PHASES[nxt],
                    "learned something" if back else None, Cause.DATA if back else None,
                )
            )  # fmt: skip
            phase = nxt
        return log


def forward_only(median_days: tuple[float, ...], sigma: tuple[float, ...]) -> Process:
    """A process that never loops."""
    moves = tuple(tuple(1.0 if q == p + 1 else 0.0 for q in range(7)) for p in range(6))
    return Process(median_days, sigma, moves)


def looping(median_days: tuple[float, ...], sigma: tuple[float, ...], back: float) -> Process:
    """From modeling, evaluation and deployment: back one phase with probability ``back``."""
    moves = []
    for p in range(6):
        row = [0.0] * 7
        if p >= 3:
            row[p - 1] = back
            row[p + 1] = 1 - back
        else:
            row[p + 1] = 1.0
        moves.append(tuple(row))
    return Process(median_days, sigma, tuple(moves))


def truncate(log: list[Transition], cut: datetime) -> list[Transition]:
    """The log as it stood at ``cut``."""
    return [t for t in log if t.at <= cut]
