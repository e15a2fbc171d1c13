"""SLOs from service criteria, judged over the SLO period, and the alert conditions they raise.

Which criteria are SLOs (they have an error budget):

- ``availability >= A`` (or ``>``): good requests are those that are not errors; objective A.
- ``error_rate <= E`` (or ``<``): the same SLI; objective 1 − E.
- ``latency_pNN <= T`` (or ``<``): good requests are those answered within T ms (``<``: under
  T ms), objective NN % — "99 % of requests within 300 ms" for ``latency_p99 <= 300``. Only
  requests with a latency count.

``throughput`` and criteria that point the other way (``latency_p99 >= …``) are judged per window
only. Burn rates come from a one-minute series over the period plus the longest alert window
before it, so the first evaluation of the period sees full windows.

Every number says what it is: a condition's ``observed`` is the criterion's metric (the latency
percentile in ms over the alert's long window, the error rate, the availability) against the
criterion's target; the burn rate that set it off is a separate ``burn_rate`` record labelled
``kind: "burn rate"`` with its windows, the rate it exceeded and the error budget it burns.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mlpilot.domain.criteria import Comparator, Criterion
from mlpilot.engine.service import Series, Threshold
from mlpilot.monitors.service_conditions import Judge, ServiceCondition, finite, rule_record
from mlpilot.stats import slo

STEP_SECONDS = 60
BURN_WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 6 * 3600, "3d": 3 * 86_400}
LEAD_SECONDS = max(rule.long_s for rule in slo.RULES)

# The exact latency quantile ``metric`` (``latency_p99`` …) of the requests in [start, end).
LatencyOf = Callable[[str, datetime, datetime], float | None]


@dataclass(frozen=True)
class Objective:
    """A criterion read as an SLO: a share ``objective`` of requests should be good."""

    criterion: Criterion
    sli: str  # "availability" or "latency"
    objective: float
    threshold: Threshold | None = None

    @property
    def unit(self) -> str | None:
        """The unit of the criterion's metric: ``ms`` for latency, None for shares."""
        return "ms" if self.sli == "latency" else None

    def stands_for(self, period: str) -> str:
        """What the error budget allows, e.g. ``1 % of requests may take longer than 300 ms
        over 30d``."""
        share = f"{slo.error_budget(self.objective) * 100:.10g} %"
        if self.threshold is None:
            return f"{share} of requests may fail over {period}"
        bound = f"{self.threshold.ms:g} ms"
        slower = (
            f"take longer than {bound}" if self.threshold.inclusive else f"take {bound} or longer"
        )
        return f"{share} of requests may {slower} over {period}"

    def show(self, value: float | None) -> str:
        """The metric's value as people read it: ``812 ms``, ``1.25 %``."""
        if value is None:
            return "unknown"
        return f"{value:.4g} ms" if self.unit == "ms" else f"{value:.4%}".replace("%", " %")


def objectives(criteria: list[Criterion]) -> list[Objective]:
    """The service criteria that are SLOs, in the criteria's order."""
    found = []
    for c in criteria:
        lower_is_met = c.op in (Comparator.LE, Comparator.LT)
        if c.metric == "availability" and not lower_is_met:
            found.append(Objective(c, "availability", c.target))
        elif c.metric == "error_rate" and lower_is_met:
            found.append(Objective(c, "availability", 1.0 - c.target))
        elif c.metric.startswith("latency_p") and lower_is_met:
            share = int(c.metric.removeprefix("latency_p")) / 100
            found.append(Objective(c, "latency", share, Threshold(c.target, c.op is Comparator.LE)))
    return found


def thresholds(found: list[Objective]) -> list[Threshold]:
    """The distinct latency bounds the engine must count requests over."""
    return list(dict.fromkeys(o.threshold for o in found if o.threshold is not None))


def good_and_total(
    o: Objective, count: int, errors: int, timed: int, over: list[int], bounds: list[Threshold]
) -> tuple[int, int]:
    """Good requests and the requests the SLO counts, from one window's (or period's) counts."""
    if o.threshold is None:
        return count - errors, count
    return timed - over[bounds.index(o.threshold)], timed


def evaluate(
    slug: str,
    found: list[Objective],
    bounds: list[Threshold],
    data: Series,
    period: timedelta,
    latency_of: LatencyOf,
) -> tuple[list[dict[str, Any]], list[ServiceCondition]]:
    """Each SLO over the period ending with the series, and the conditions that hold at its end.

    The series starts :data:`LEAD_SECONDS` before the period and has one-minute steps;
    ``latency_of`` gives a latency SLO's percentile over an alert's window.
    """
    lead = LEAD_SECONDS // data.step_seconds
    end = data.start + timedelta(seconds=data.total.size * data.step_seconds)
    name = slo.span_name(int(period.total_seconds()))
    results, conditions = [], []
    for o in found:
        if o.threshold is None:
            total, bad = data.total, data.errors
        else:
            total, bad = data.timed, data.over[bounds.index(o.threshold)]
        n, b = int(total[lead:].sum()), int(bad[lead:].sum())
        left = slo.budget_left(b, n, o.objective)
        rates = {
            w: _last(slo.trailing_burn(bad, total, span // data.step_seconds, o.objective))
            for w, span in BURN_WINDOWS.items()
        }
        judge = Judge(slug, o, name, end, total, bad, data.step_seconds, latency_of)
        history = []
        for rule in slo.RULES:
            active = slo.rule_active(bad, total, o.objective, rule, data.step_seconds)
            for first, stop in slo.episodes(active[lead:]):
                history.append(
                    {
                        "rule": rule.name,
                        "severity": rule.severity,
                        "start": _at(data, lead + first).isoformat(),
                        "end": None if stop is None else _at(data, lead + stop).isoformat(),
                    }
                )
            if active.size and active[-1]:
                conditions.append(judge.burn(rule, rates))
        if left is not None and left <= 0:
            conditions.append(judge.budget(left, period))
        budget = slo.error_budget(o.objective)
        results.append(
            {
                "criterion_id": o.criterion.id,
                "criterion": o.criterion.describe(),
                "metric": o.criterion.metric,
                "sli": o.sli,
                "objective": o.objective,
                "threshold_ms": None if o.threshold is None else o.threshold.ms,
                "period": name,
                "stands_for": o.stands_for(name),
                "total": n,
                "good": n - b,
                "bad": b,
                "compliance": slo.compliance(n - b, n),
                "met": met(o, n - b, n),
                "error_budget": budget,
                "budget_left": finite(left),
                "burn_rates": {
                    w: {
                        "kind": "burn rate",
                        "window": w,
                        "value": finite(v),
                        "error_budget": budget,
                        "stands_for": o.stands_for(name),
                    }
                    for w, v in rates.items()
                },
                "rules": [rule_record(rule, o.objective) for rule in slo.RULES],
                "alerts": sorted(history, key=lambda h: (h["start"], h["rule"])),
                "plan": o.criterion.plan,
            }
        )
    return results, conditions


def met(o: Objective, good: int, total: int) -> bool | None:
    """Whether a compliance meets the SLO (None without requests): availability and error rate
    as the criterion says; a latency SLO when the share within the bound reaches NN %."""
    if total == 0:
        return None
    share = good / total
    if o.criterion.metric == "error_rate":
        return o.criterion.is_met(1.0 - share)
    if o.sli == "latency":
        return share >= o.objective
    return o.criterion.is_met(share)


def _at(data: Series, step: int) -> datetime:
    """The evaluation time that ends step ``step``."""
    return data.start + timedelta(seconds=(step + 1) * data.step_seconds)


def _last(values: np.ndarray[Any, np.dtype[np.float64]]) -> float | None:
    return None if values.size == 0 or math.isnan(values[-1]) else float(values[-1])


__all__ = ["LatencyOf", "Objective", "ServiceCondition", "evaluate", "met", "objectives"]
