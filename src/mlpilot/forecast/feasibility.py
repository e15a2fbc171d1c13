"""Feasibility of the model: will it predict well enough? Evidence per model criterion.

For each model criterion, from the latest evaluation that measured its metric: the point
estimate, the 95 % interval, the probability that the criterion is met, and the margin over the
non-ML baseline when the baseline was measured on the same metric ("start small": the model must
beat the heuristic). With bootstrap replicates the probability is the share of replicates that
meet the criterion; with a value and its standard error, the normal approximation. A learning
curve over the evaluations at several training sizes estimates the metric at the planned size.

The overall probability that *every* model criterion is met is the share of replicates meeting
all of them when one evaluation carries them all (the replicates are paired), else the product of
the individual probabilities (treating them as independent).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats

from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Comparator, Criterion
from mlpilot.domain.metrics import CATALOGUE, CriterionKind
from mlpilot.forecast.evaluate import constrained_key, decode
from mlpilot.stats.learning_curve import fit_learning_curve
from mlpilot.store.evaluations import Evaluation

__all__ = ["assess"]


def _met(op: Comparator, values: np.ndarray[Any, Any], target: float) -> np.ndarray[Any, Any]:
    with np.errstate(invalid="ignore"):
        return {
            Comparator.GE: values >= target,
            Comparator.GT: values > target,
            Comparator.LE: values <= target,
            Comparator.LT: values < target,
        }[op]


def _latest(evaluations: Sequence[Evaluation], key: str) -> Evaluation | None:
    found = [e for e in evaluations if e.metrics.get(key) is not None]
    return found[-1] if found else None


def _criterion(
    criterion: Criterion, charter: Charter, evaluations: Sequence[Evaluation], planned: float | None
) -> tuple[dict[str, Any], np.ndarray[Any, Any] | None, int | None]:
    key = constrained_key(criterion) or criterion.metric
    chosen = _latest(evaluations, key)
    note = None
    if chosen is None and key != criterion.metric:
        chosen = _latest(evaluations, criterion.metric)
        key, note = criterion.metric, "the constraint was not evaluated; value at the threshold"
    row: dict[str, Any] = {
        "criterion_id": criterion.id, "criterion": criterion.describe(),
        "metric": criterion.metric, "op": criterion.op.value, "target": criterion.target,
        "evaluation": None, "estimate": None, "low": None, "high": None,
        "probability_met": None, "baseline": None, "learning_curve": None, "note": note,
    }  # fmt: skip
    higher = CATALOGUE[criterion.metric].higher_is_better
    row["learning_curve"] = _curve(evaluations, key, planned, criterion.metric)
    if chosen is None:
        row["note"] = "no evaluation measured this metric yet"
        return row, None, None
    estimate = float(chosen.metrics[key])  # type: ignore[arg-type]
    interval = (chosen.details.get("intervals") or {}).get(key)
    row |= {
        "evaluation": chosen.name, "evaluated_at": chosen.at.isoformat(), "n": chosen.n,
        "estimate": estimate, "low": interval[0] if interval else None,
        "high": interval[1] if interval else None,
    }  # fmt: skip
    encoded = (chosen.details.get("replicates") or {}).get(key)
    replicates = None if encoded is None else decode(encoded)
    se = (chosen.details.get("se") or {}).get(key)
    if replicates is not None:
        row["probability_met"] = float(_met(criterion.op, replicates, criterion.target).mean())
    elif se:
        z = (estimate - criterion.target) / se
        row["probability_met"] = float(stats.norm.cdf(z if higher else -z))
    baseline = charter.baseline
    if baseline.value is not None and baseline.metric == criterion.metric:
        sign = 1.0 if higher else -1.0
        margin: dict[str, Any] = {
            "value": baseline.value,
            "margin": sign * (estimate - baseline.value),
        }
        if replicates is not None:
            finite = replicates[np.isfinite(replicates)]
            gains = sign * (finite - baseline.value)
            margin |= {
                "low": float(np.quantile(gains, 0.025)), "high": float(np.quantile(gains, 0.975)),
                "probability_better": float((gains > 0).mean()),
            }  # fmt: skip
        elif se:
            margin["probability_better"] = float(stats.norm.cdf(margin["margin"] / se))
        row["baseline"] = margin
    return (
        row,
        (None if replicates is None else _met(criterion.op, replicates, criterion.target)),
        chosen.id,
    )


def _curve(
    evaluations: Sequence[Evaluation], key: str, planned: float | None, metric: str
) -> dict[str, Any] | None:
    raw = [
        (e.train_size, e.metrics[key], (e.details.get("se") or {}).get(key))
        for e in evaluations
        if e.train_size and e.metrics.get(key) is not None
    ]
    points = [(n, v, s) for n, v, s in raw if n and v is not None and s]
    if not points:
        return None
    sizes = sorted({n for n, _, _ in points})
    target = planned or float(max(sizes)) * 2
    fit = fit_learning_curve(
        [p[0] for p in points], [p[1] for p in points], [p[2] for p in points],
        planned_size=target, higher_is_better=CATALOGUE[metric].higher_is_better,
    )  # fmt: skip
    spec = CATALOGUE[metric]
    low, high, estimate = fit.low, fit.high, fit.estimate
    if estimate is not None and low is not None and high is not None:  # stay in the metric's range
        floor = -math.inf if spec.lower is None else spec.lower
        ceiling = math.inf if spec.upper is None else spec.upper
        low, high = max(low, floor), min(high, ceiling)
        estimate = min(max(estimate, floor), ceiling)
    return {
        "sizes": sizes, "points": [{"train_size": n, "value": v, "se": s} for n, v, s in points],
        "planned_size": target, "planned_size_given": planned is not None,
        "model": fit.model, "params": fit.params, "regular": fit.regular, "reason": fit.reason,
        "estimate": estimate, "low": low, "high": high,
    }  # fmt: skip


def planned_size(criteria: Sequence[Criterion]) -> float | None:
    """The planned training size: the target of a data criterion on ``rows``, if declared."""
    rows = [c.target for c in criteria if c.kind is CriterionKind.DATA and c.metric == "rows"]
    return max(rows) if rows else None


def assess(
    charter: Charter,
    criteria: Sequence[Criterion],
    evaluations: Sequence[Evaluation],
    *,
    planned: float | None = None,
) -> dict[str, Any]:
    """The feasibility evidence for every model criterion, and the overall probability."""
    planned = planned or planned_size(criteria)
    rows, met, sources = [], [], set()
    for criterion in criteria:
        if criterion.kind is not CriterionKind.MODEL:
            continue
        row, joint, source = _criterion(criterion, charter, evaluations, planned)
        rows.append(row)
        met.append(joint)
        sources.add(source)
    probabilities = [r["probability_met"] for r in rows]
    overall: float | None = None
    method = None
    if rows and all(p is not None for p in probabilities):
        if len(sources) == 1 and all(m is not None for m in met):
            joint = np.logical_and.reduce([m for m in met if m is not None])
            overall, method = float(joint.mean()), "joint replicates"
        else:
            overall = float(math.prod(p for p in probabilities if p is not None))
            method = "product (independence)"
    return {
        "slug": charter.slug,
        "task": charter.task.value,
        "evaluations": len(evaluations),
        "planned_size": planned,
        "criteria": rows,
        "probability_all_met": overall,
        "method": method,
    }
