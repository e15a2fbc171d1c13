"""Feasibility of the model: will it predict well enough? Evidence per model criterion.

For each model criterion, from the latest evaluation that measured it where the model runs (its
operating point): the point estimate, the 95 % credible interval and the *posterior probability*
that the criterion is met, under the prior each posterior states (:mod:`mlpilot.stats.posterior`),
and the margin over the non-ML baseline when the baseline was measured on the same metric ("start
small": the model must beat the heuristic). With too few positives or negatives there is no
number: ``probability_met`` is null and the note says "insufficient evidence". A learning curve
over the evaluations at several training sizes estimates the metric at the planned size.

The probability that *every* model criterion is met keeps each criterion's posterior probability
and takes the dependence between criteria measured on the same rows from their paired bootstrap
replicates (a Gaussian copula, :mod:`mlpilot.stats.joint`); criteria judged on different
evaluations are taken as independent (the product).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlpilot.domain.charter import Charter
from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import CATALOGUE, CriterionKind
from mlpilot.forecast.capacity_offline import capacity_key
from mlpilot.forecast.evaluate import decode, point_key
from mlpilot.monitors.operating import NO_POINT
from mlpilot.stats.confusion import joint_probability_at
from mlpilot.stats.joint import copula_probability
from mlpilot.stats.learning_curve import fit_learning_curve
from mlpilot.stats.posterior import LEVEL, PROBABILITY_KIND, Posterior
from mlpilot.store.evaluations import Evaluation

__all__ = ["assess", "planned_size"]

CURVE_LEVEL = 0.95  # the learning curve's interval: ± 1.96 standard errors of the fit
NOT_OFFLINE = (
    "not evaluable offline: {point} is judged on the live windows ('mlpilot performance'); an "
    "offline set of scores has no periods or decisions"
)
NO_CAPACITY = (
    "not evaluable offline: {point} needs the evaluation rows' times ('mlpilot evaluate … "
    "--time-column T') or the population scored each {per} ('--per-period N')"
)
# The operating point a criterion is judged at: a threshold, or a capacity's label.
Point = float | str | None


def _key(criterion: Criterion) -> tuple[str | None, Point, str | None]:
    """The metric key a criterion is judged on, its operating point, or the note saying why
    none."""
    point = criterion.operating_point
    if criterion.needs_operating_point:
        return None, None, NO_POINT
    if point is None:
        return criterion.metric, None, None
    if point.top is not None and point.per is not None:
        return capacity_key(criterion.metric, point.top, point.per), point.describe(), None
    if point.threshold is None:
        return None, None, NOT_OFFLINE.format(point=point.describe())
    return point_key(criterion.metric, point.threshold), point.threshold, None


def _lookup(evaluation: Evaluation, metric: str, threshold: Point) -> str | None:
    """The key under which ``evaluation`` measured ``metric`` at ``threshold`` (if it did)."""
    if isinstance(threshold, str):  # a capacity: measured only from the rows' periods
        key = f"{metric} at {threshold}"
        return key if evaluation.metrics.get(key) is not None else None
    if threshold is None:
        return metric if evaluation.metrics.get(metric) is not None else None
    key = point_key(metric, threshold)
    if evaluation.metrics.get(key) is not None:
        return key
    measured_at = evaluation.details.get("threshold", threshold)  # values: assumed the declared
    if measured_at == threshold and evaluation.metrics.get(metric) is not None:
        return metric
    return None


def _posterior(evaluation: Evaluation, key: str) -> Posterior | None:
    stored = (evaluation.details.get("posteriors") or {}).get(key)
    if stored is None:
        return None
    encoded = (evaluation.details.get("replicates") or {}).get(key)
    return Posterior.from_json(stored, None if encoded is None else decode(encoded))


def _empty_row(criterion: Criterion) -> dict[str, Any]:
    point = criterion.operating_point
    return {
        "criterion_id": criterion.id, "criterion": criterion.describe(),
        "metric": criterion.metric, "op": criterion.op.value, "target": criterion.target,
        "operating_point": None if point is None else point.describe(),
        "evaluation": None, "estimate": None, "low": None, "high": None,
        "interval_kind": "credible interval", "level": LEVEL,
        "probability_met": None, "probability_kind": PROBABILITY_KIND, "prior": None,
        "method": None, "baseline": None, "learning_curve": None, "note": None,
    }  # fmt: skip


def _criterion(
    criterion: Criterion, charter: Charter, evaluations: Sequence[Evaluation], planned: float | None
) -> tuple[dict[str, Any], tuple[Evaluation, str] | None]:
    row = _empty_row(criterion)
    key, threshold, why = _key(criterion)
    if key is None:
        row["note"] = why
        return row, None
    found = [(e, k) for e in evaluations if (k := _lookup(e, criterion.metric, threshold))]
    row["learning_curve"] = _curve(evaluations, key, planned, criterion.metric)
    if not found:
        point = criterion.operating_point
        if isinstance(threshold, str) and point is not None:
            row["note"] = NO_CAPACITY.format(point=threshold, per=point.per)
            return row, None
        where = "" if threshold is None else f" at threshold {threshold:g}"
        row["note"] = f"no evaluation measured {criterion.metric}{where} yet"
        return row, None
    chosen, key = found[-1]
    estimate = float(chosen.metrics[key])  # type: ignore[arg-type]
    assumed = isinstance(threshold, float) and key == criterion.metric
    assumed = assumed and "threshold" not in chosen.details
    row |= {"evaluation": chosen.name, "evaluated_at": chosen.at.isoformat(), "n": chosen.n,
            "estimate": estimate}  # fmt: skip
    posterior = _posterior(chosen, key)
    if posterior is None:
        row["note"] = "evaluated before posteriors were stored; run 'mlpilot evaluate' again"
        return row, None
    low, high = posterior.interval(LEVEL)
    row |= {"low": low, "high": high, "prior": posterior.prior, "method": posterior.method,
            "note": posterior.note}  # fmt: skip
    capacity = (chosen.details.get("capacity") or {}).get(str(threshold))
    if capacity is not None and capacity.get("note"):
        row["note"] = "; ".join(n for n in (row["note"], capacity["note"]) if n)
    if assumed and row["note"] is None:
        row["note"] = f"a measured value: taken as measured at threshold {threshold:g}"
    row["probability_met"] = _probability(criterion, chosen, key, threshold, posterior, row)
    _baseline(row, charter, criterion, posterior, estimate)
    hindsight = (chosen.details.get("hindsight") or {}).get(criterion.describe())
    if criterion.constraint is not None and hindsight is not None:
        row["achievable_afterwards"] = hindsight
    return row, (chosen, key)


def _probability(
    criterion: Criterion,
    chosen: Evaluation,
    key: str,
    threshold: Point,
    posterior: Posterior,
    row: dict[str, Any],
) -> float | None:
    c = criterion.constraint
    if c is None:
        return posterior.probability(criterion.op.value, criterion.target)
    # Both conditions at the one operating point: the joint posterior of the same counts.
    label = _label(threshold)
    counts = (chosen.details.get("confusion") or {}).get(label)
    other_key = _lookup(chosen, c.metric, threshold)
    other = None if other_key is None else _posterior(chosen, other_key)
    if other is not None:
        low, high = other.interval(LEVEL)
        estimate = chosen.metrics.get(other_key or "")
        row["constraint"] = {"metric": c.metric, "estimate": estimate, "low": low, "high": high}
    if counts is None:
        row["note"] = "the confusion counts at the operating point were not stored"
        return None
    stratified = str(chosen.details.get("resampling", "")).startswith("stratified")
    conditions = [(criterion.metric, criterion.op.value, criterion.target),
                  (c.metric, c.op.value, c.target)]  # fmt: skip
    probability = joint_probability_at(counts, conditions, stratified=stratified)
    if probability is None and row["note"] is None:
        row["note"] = f"insufficient evidence for {c.metric} at the operating point"
    return probability


def _label(threshold: Point) -> str:
    """The key of the confusion counts stored at an operating point."""
    return threshold if isinstance(threshold, str) else f"{threshold:g}"


def _baseline(
    row: dict[str, Any],
    charter: Charter,
    criterion: Criterion,
    posterior: Posterior,
    estimate: float,
) -> None:
    baseline = charter.baseline
    if baseline.value is None or baseline.metric != criterion.metric:
        return
    higher = CATALOGUE[criterion.metric].higher_is_better
    sign = 1.0 if higher else -1.0
    margin: dict[str, Any] = {"value": baseline.value, "margin": sign * (estimate - baseline.value)}
    low, high = posterior.interval(LEVEL)
    if low is not None and high is not None:
        gains = sorted((sign * (low - baseline.value), sign * (high - baseline.value)))
        margin |= {"low": gains[0], "high": gains[1]}
    margin["probability_better"] = posterior.probability(">" if higher else "<", baseline.value)
    margin["probability_kind"] = PROBABILITY_KIND
    margin |= {"interval_kind": "credible interval", "level": LEVEL}
    row["baseline"] = margin


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
        "interval_kind": "confidence interval", "level": CURVE_LEVEL,  # the fit's delta method
    }  # fmt: skip


def planned_size(criteria: Sequence[Criterion]) -> float | None:
    """The planned training size: the target of a data criterion on ``rows``, if declared."""
    rows = [c.target for c in criteria if c.kind is CriterionKind.DATA and c.metric == "rows"]
    return max(rows) if rows else None


def _overall(
    rows: list[dict[str, Any]], sources: list[tuple[Evaluation, str] | None], ops: list[str]
) -> tuple[float | None, str | None]:
    if not rows or any(r["probability_met"] is None for r in rows):
        return None, None
    # Criteria at one capacity of one evaluation have no bootstrap replicates: their joint comes
    # from the posterior of the same confusion counts.
    groups: dict[tuple[int, str], list[int]] = {}
    for i, (row, source) in enumerate(zip(rows, sources, strict=True)):
        point = row["operating_point"]
        capacity = {} if source is None else source[0].details.get("capacity") or {}
        if source is not None and "constraint" not in row and point in capacity:
            groups.setdefault((id(source[0]), point), []).append(i)
    parts: list[float] = []
    grouped: set[int] = set()
    for (_, point), members in groups.items():
        evaluation = sources[members[0]][0]  # type: ignore[index]
        conditions = [(rows[i]["metric"], rows[i]["op"], rows[i]["target"]) for i in members]
        stratified = str(evaluation.details.get("resampling", "")).startswith("stratified")
        joint = joint_probability_at(
            evaluation.details["confusion"][point], conditions, stratified=stratified
        )
        if len(members) > 1 and joint is not None:
            parts.append(joint)
            grouped |= set(members)
    if not parts:
        return _combine(rows, sources, ops)
    method = "joint posterior of the confusion counts at the one capacity"
    rest = [i for i in range(len(rows)) if i not in grouped]
    if rest:
        found, how = _combine(
            [rows[i] for i in rest], [sources[i] for i in rest], [ops[i] for i in rest]
        )
        parts.append(found or 0.0)
        method += f", times the other criteria's: {how} (the parts taken as independent)"
    return float(np.prod(parts)), method


def _combine(
    rows: list[dict[str, Any]], sources: list[tuple[Evaluation, str] | None], ops: list[str]
) -> tuple[float | None, str | None]:
    known = [float(r["probability_met"]) for r in rows]
    chosen = {id(s[0]) for s in sources if s is not None}
    replicates = [
        (s[0].details.get("replicates") or {}).get(s[1]) if s is not None else None for s in sources
    ]
    if len(known) == 1:
        return known[0], "the one criterion's posterior probability"
    if len(chosen) == 1 and all(r is not None for r in replicates):
        draws = [decode(r) for r in replicates if r is not None]
        higher = [op in (">=", ">") for op in ops]
        joint = copula_probability(known, draws, higher)
        return joint, "Gaussian copula of the posteriors, dependence from the paired replicates"
    return float(np.prod(known)), "product of the posteriors (independence assumed)"


def assess(
    charter: Charter,
    criteria: Sequence[Criterion],
    evaluations: Sequence[Evaluation],
    *,
    planned: float | None = None,
) -> dict[str, Any]:
    """The feasibility evidence for every model criterion, and the overall probability."""
    planned = planned or planned_size(criteria)
    rows, sources, ops = [], [], []
    for criterion in criteria:
        if criterion.kind is not CriterionKind.MODEL:
            continue
        row, source = _criterion(criterion, charter, evaluations, planned)
        rows.append(row)
        sources.append(source)
        ops.append(criterion.op.value)
    overall, method = _overall(rows, sources, ops)
    missing = [r["criterion"] for r in rows if r["probability_met"] is None]
    return {
        "slug": charter.slug,
        "task": charter.task.value,
        "evaluations": len(evaluations),
        "planned_size": planned,
        "criteria": rows,
        "probability_all_met": overall,
        "probability_kind": PROBABILITY_KIND,
        "method": method,
        "note": (
            f"no probability for {', '.join(missing)} (see each criterion's note)"
            if missing
            else None
        ),
    }
