"""After launch: does the model meet its criteria *now*? One judgement for the light and the number.

From a performance report's recent mature windows (at least half their predictions labeled), the
evidence of each window is down-weighted by its age (half its weight every :data:`HALF_LIFE`
windows) and pooled into each model criterion's posterior (:mod:`mlpilot.stats.pooling`): the
posterior probability that the criterion holds now. Criteria judged on the same confusion counts
(one operating point) are judged jointly from one Dirichlet posterior; the others are taken as
independent. Both the model light (:func:`mlpilot.monitors.model.health`) and the model
uncertainty (:func:`mlpilot.forecast.uncertainty.monitor_probability`) come from :func:`judge`:

- ``ok`` when the posterior probability that every model criterion holds is at least
  :data:`OK_AT` (80 %);
- ``failing`` when some criterion's is at most :data:`FAILING_AT` (20 %): its verdict is
  ``met: false`` and raises the alert;
- ``no-data`` otherwise when a criterion cannot be judged (too little evidence, no operating
  point): never green on what was not judged;
- ``warning`` in between;
- ``ok`` with no model criterion declared (nothing to judge: ``probability_all_met`` is null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mlpilot.domain.criteria import Criterion
from mlpilot.domain.metrics import AT_OPERATING_POINT, CriterionKind
from mlpilot.monitors.operating import NO_POINT
from mlpilot.stats.confusion import confusion_posterior, joint_probability_at
from mlpilot.stats.pooling import age_weights, pooled_counts, pooled_ranking, pooled_values
from mlpilot.stats.posterior import LEVEL, PROBABILITY_KIND, Posterior, insufficient

__all__ = ["FAILING_AT", "HALF_LIFE", "MATURE_COVERAGE", "OK_AT", "RECENT_WINDOWS", "judge"]

MATURE_COVERAGE = 0.5  # a window is judged once this share of its predictions has an outcome
RECENT_WINDOWS = 28  # the windows the judgement looks back over
HALF_LIFE = 2.0  # a window's evidence weighs half as much every HALF_LIFE windows of age
OK_AT = 0.8
FAILING_AT = 0.2
RULE = (
    f"ok when the posterior probability that every model criterion holds now is at least "
    f"{OK_AT:.0%}; failing when one criterion's is at most {FAILING_AT:.0%}; no-data while one "
    "cannot be judged; warning between"
)
_ALIASES = {"multiclass": {"f1": "macro_f1"}}


def _counts_of(window: dict[str, Any], criterion: Criterion) -> dict[str, float] | None:
    point = criterion.operating_point
    if point is None:
        counts = window.get("confusion")
        return None if counts is None else dict(counts)
    for entry in window.get("operating_points") or []:
        if entry.get("point") == point.describe():
            return dict(entry["confusion"])
    return None


def _classes(window: dict[str, Any]) -> tuple[float, float]:
    counts = window.get("confusion") or {}
    positives = float((counts.get("tp") or 0) + (counts.get("fn") or 0))
    return positives, float((counts.get("fp") or 0) + (counts.get("tn") or 0))


def _evidence(
    criterion: Criterion, task: str, windows: Sequence[dict[str, Any]], weights: Any
) -> tuple[Posterior, dict[str, float] | None]:
    """The criterion's pooled posterior, and the pooled confusion counts it rests on (if any)."""
    if criterion.needs_operating_point:
        return Posterior("insufficient", {}, note=NO_POINT), None
    metric = _ALIASES.get(task, {}).get(criterion.metric, criterion.metric)
    if task == "binary" and metric in AT_OPERATING_POINT:
        counts = pooled_counts([_counts_of(w, criterion) for w in windows], weights)
        if counts is None:
            return insufficient("no window counted this operating point"), None
        return confusion_posterior(counts, metric), counts
    if task == "binary" and metric in ("roc_auc", "pr_auc"):
        classes = [_classes(w) for w in windows]
        values = [(w.get("metrics") or {}).get(metric) for w in windows]
        return pooled_ranking(
            metric, values, [c[0] for c in classes], [c[1] for c in classes], weights
        ), None
    values = [(w.get("metrics") or {}).get(metric) for w in windows]
    rows = [float(w.get("labeled") or 0) for w in windows]
    return pooled_values(values, rows, weights), None


def _group_probability(criteria: list[Criterion], counts: dict[str, float]) -> float | None:
    conditions = []
    for c in criteria:
        conditions.append((c.metric, c.op.value, c.target))
        if c.constraint is not None:
            conditions.append((c.constraint.metric, c.constraint.op.value, c.constraint.target))
    return joint_probability_at(counts, conditions)


def judge(report: dict[str, Any], criteria: Sequence[Criterion]) -> dict[str, Any]:
    """The judgement of the model now: per criterion its posterior probability and verdict,
    the probability that every criterion holds, and the light's status (see the module)."""
    model = [c for c in criteria if c.kind is CriterionKind.MODEL]
    mature = [w for w in report["windows"] if (w.get("label_coverage") or 0) >= MATURE_COVERAGE]
    recent = mature[-RECENT_WINDOWS:]
    base = {"rule": RULE, "half_life_windows": HALF_LIFE, "windows": len(recent),
            "probability_kind": PROBABILITY_KIND, "level": LEVEL}  # fmt: skip
    if not recent:
        return base | {"status": "no-data", "reason": "no window has enough labels yet",
                       "criteria": [], "probability_all_met": None}  # fmt: skip
    if not model:  # nothing declared, nothing breached: the light stays as it always was
        return base | {"status": "ok", "note": "no model criterion declared", "criteria": [],
                       "probability_all_met": None}  # fmt: skip
    weights = age_weights(len(recent), HALF_LIFE)
    task = str(report.get("task", "binary"))
    rows: list[dict[str, Any]] = []
    groups: dict[str, tuple[list[Criterion], dict[str, float]]] = {}
    probabilities: list[float | None] = []
    for criterion in model:
        posterior, counts = _evidence(criterion, task, recent, weights)
        if criterion.constraint is not None and counts is not None and posterior.sufficient:
            probability = _group_probability([criterion], counts)
        else:
            probability = posterior.probability(criterion.op.value, criterion.target)
        low, high = posterior.interval(LEVEL)
        rows.append({
            "criterion_id": criterion.id, "criterion": criterion.describe(),
            "metric": criterion.metric, "target": criterion.target,
            "low": low, "high": high, "interval_kind": "credible interval", "level": LEVEL,
            "probability_met": probability, "probability_kind": PROBABILITY_KIND,
            "met": _met(probability), "prior": posterior.prior, "method": posterior.method,
            "note": posterior.note if probability is not None else (
                posterior.note or "insufficient evidence"),
        })  # fmt: skip
        if counts is not None and probability is not None:
            point = criterion.operating_point
            key = "report threshold" if point is None else point.describe()
            groups.setdefault(key, ([], counts))[0].append(criterion)
        else:
            probabilities.append(probability)
    for members, counts in groups.values():
        probabilities.append(_group_probability(members, counts))
    known = [p for p in probabilities if p is not None]
    overall = math.prod(known) if len(known) == len(probabilities) else None
    return base | {
        "status": _status(rows, overall),
        "criteria": rows,
        "probability_all_met": overall,
        "method": "joint posterior per operating point; independent across the others",
    }


def _met(probability: float | None) -> bool | None:
    if probability is None:
        return None
    if probability >= OK_AT:
        return True
    return False if probability <= FAILING_AT else None


def _status(rows: list[dict[str, Any]], overall: float | None) -> str:
    if any(r["met"] is False for r in rows):
        return "failing"
    if any(r["probability_met"] is None for r in rows):
        return "no-data"
    if overall is not None and overall >= OK_AT:
        return "ok"
    return "warning"
