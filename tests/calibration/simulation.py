"""Seeded simulations with known truth for the calibration suite.

A population of scores is binormal on a grid of score cells: a negative's latent score is
N(0, 1), a positive's N(d, 1), cut into ``CELLS`` cells (so the truth of every metric is exact,
ties included: ROC AUC is P(s+ > s-) + ½ P(s+ = s-), PR AUC is the limit of
``average_precision_score``). A dataset of n rows is its label counts per cell — the sufficient
statistic every metric here is computed from — drawn multinomially, the number of positives
binomial: an i.i.d. sample of rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats

Floats = NDArray[np.float64]
CELLS = 200


@dataclass(frozen=True)
class Population:
    """Cell probabilities of negatives (``q0``) and positives (``q1``), per population (rows),
    cells in ascending score order, with the share of positives."""

    q0: Floats
    q1: Floats
    prevalence: Floats


def population(separation: Floats | float, prevalence: Floats | float) -> Population:
    """Binormal populations with separations ``d`` and shares of positives (broadcast)."""
    d = np.atleast_1d(np.asarray(separation, dtype=np.float64))
    pi = np.broadcast_to(np.asarray(prevalence, dtype=np.float64), d.shape).copy()
    edges = np.concatenate([[-np.inf], np.linspace(-3.5, 5.5, CELLS - 1), [np.inf]])
    q0 = np.broadcast_to(np.diff(stats.norm.cdf(edges)), (d.size, CELLS)).copy()
    q1 = np.diff(stats.norm.cdf(edges[None, :] - d[:, None]), axis=1)
    return Population(q0, q1, pi)


def cut(pop: Population, flagged_share: Floats | float) -> NDArray[np.int64]:
    """Per population, the first cell predicted positive so that about ``flagged_share`` of the
    population is flagged (a threshold on the score)."""
    pi = pop.prevalence[:, None]
    from_top = np.cumsum((pi * pop.q1 + (1 - pi) * pop.q0)[:, ::-1], axis=1)
    wanted = np.broadcast_to(np.asarray(flagged_share, dtype=np.float64), pi[:, 0].shape)
    cells_flagged = np.argmin(np.abs(from_top - wanted[:, None]), axis=1) + 1
    return np.asarray(CELLS - cells_flagged, dtype=np.int64)


def truth(pop: Population, first: NDArray[np.int64]) -> dict[str, Floats]:
    """The population value of every metric, the operating point flagging cells >= ``first``."""
    pi = pop.prevalence
    flagged = np.arange(CELLS)[None, :] >= first[:, None]
    recall = (pop.q1 * flagged).sum(axis=1)
    false_rate = (pop.q0 * flagged).sum(axis=1)
    tp, fp, fn = pi * recall, (1 - pi) * false_rate, pi * (1 - recall)
    below = np.cumsum(pop.q0, axis=1) - pop.q0
    top1 = np.cumsum(pop.q1[:, ::-1], axis=1) * pi[:, None]
    top0 = np.cumsum(pop.q0[:, ::-1], axis=1) * (1 - pi[:, None])
    return {
        "precision": tp / (tp + fp),
        "recall": recall,
        "specificity": 1 - false_rate,
        "accuracy": tp + (1 - pi) * (1 - false_rate),
        "f1": 2 * tp / (2 * tp + fp + fn),
        "roc_auc": (pop.q1 * (below + 0.5 * pop.q0)).sum(axis=1),
        "pr_auc": (pop.q1[:, ::-1] * top1 / (top1 + top0)).sum(axis=1),
    }


def sample(
    pop: Population, n: NDArray[np.int64] | int, rng: np.random.Generator
) -> tuple[Floats, Floats]:
    """Label counts per cell (positives, negatives) of one i.i.d. dataset per population."""
    size = np.broadcast_to(np.asarray(n), pop.prevalence.shape)
    positives = rng.binomial(size, pop.prevalence)
    pos = rng.multinomial(positives, pop.q1).astype(np.float64)
    neg = rng.multinomial(size - positives, pop.q0).astype(np.float64)
    return pos, neg


def confusion(pos: Floats, neg: Floats, first: NDArray[np.int64]) -> dict[str, Floats]:
    """The confusion counts of each dataset at its operating point."""
    flagged = np.arange(pos.shape[1])[None, :] >= first[:, None]
    tp, fp = (pos * flagged).sum(axis=1), (neg * flagged).sum(axis=1)
    return {"tp": tp, "fp": fp, "fn": pos.sum(axis=1) - tp, "tn": neg.sum(axis=1) - fp}


def expected_calibration_error(stated: Floats, happened: NDArray[np.bool_], bins: int = 10):
    """ECE over equal-width bins, with each bin's stated mean, realized share and count."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(stated, edges[1:-1]), 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        inside = which == b
        if not inside.any():
            continue
        mean, share, count = stated[inside].mean(), happened[inside].mean(), int(inside.sum())
        table.append((edges[b], edges[b + 1], float(mean), float(share), count))
        ece += count / stated.size * abs(mean - share)
    return float(ece), table
