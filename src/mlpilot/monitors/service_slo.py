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
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from mlpilot.domain.alerts import AlertCondition, MonitorGroup, Severity
from mlpilot.domain.criteria import Comparator, Criterion
from mlpilot.engine.service import Series, Threshold
from mlpilot.stats import slo

STEP_SECONDS = 60
BURN_WINDOWS = {"5m": 300, "30m": 1800, "1h": 3600, "6h": 6 * 3600}
LEAD_SECONDS = max(rule.long_s for rule in slo.RULES)


@dataclass(frozen=True)
class Objective:
    """A criterion read as an SLO: a share ``objective`` of requests should be good."""

    criterion: Criterion
    sli: str  # "availability" or "latency"
    objective: float
    threshold: Threshold | None = None


@dataclass(frozen=True)
class ServiceCondition:
    """A service condition that holds now and should be one open alert until it clears.

    ``rule`` tells conditions of one criterion apart: ``burn-1h/5m`` (page), ``burn-6h/30m``
    (ticket), ``budget`` (ticket: the period's budget is spent) and ``window`` (warning: the
    criterion fails in the latest complete window). ``observed`` and ``threshold`` are burn
    rates for the burn rules, the budget left (share) and 0 for ``budget``, the metric and
    the criterion's target for ``window``.
    """

    initiative: str
    group: str
    criterion_id: int | None
    criterion: str
    metric: str
    rule: str
    severity: str  # "page", "ticket" or "warning"
    window_start: datetime
    window_end: datetime
    observed: float
    threshold: float
    plan: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times in ISO 8601)."""
        data = asdict(self)
        data["window_start"] = self.window_start.isoformat()
        data["window_end"] = self.window_end.isoformat()
        data["observed"] = _finite(self.observed)
        return data

    def to_alert(self) -> AlertCondition:
        """The alert store's condition, keyed ``service:<criterion id or text>:<rule>``."""
        return AlertCondition(
            key=f"service:{self.criterion_id or self.criterion}:{self.rule}",
            group=MonitorGroup.SERVICE,
            criterion=self.criterion,
            metric=self.metric,
            severity=Severity(self.severity),
            observed=_finite(self.observed),
            threshold=self.threshold,
            window_start=self.window_start,
            window_end=self.window_end,
            plan=self.plan,
            details={"rule": self.rule, "message": self.message},
        )


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
    slug: str, found: list[Objective], bounds: list[Threshold], data: Series, period: timedelta
) -> tuple[list[dict[str, Any]], list[ServiceCondition]]:
    """Each SLO over the period ending with the series, and the conditions that hold at its end.

    The series starts :data:`LEAD_SECONDS` before the period and has one-minute steps.
    """
    lead = LEAD_SECONDS // data.step_seconds
    end = data.start + timedelta(seconds=data.total.size * data.step_seconds)
    results, conditions = [], []
    for o in found:
        if o.threshold is None:
            total, bad = data.total, data.errors
        else:
            total, bad = data.timed, data.over[bounds.index(o.threshold)]
        n, b = int(total[lead:].sum()), int(bad[lead:].sum())
        left = slo.budget_left(b, n, o.objective)
        rates = {
            name: _last(slo.trailing_burn(bad, total, span // data.step_seconds, o.objective))
            for name, span in BURN_WINDOWS.items()
        }
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
                conditions.append(_burn_condition(slug, o, rule, rates, end))
        if left is not None and left <= 0:
            conditions.append(_budget_condition(slug, o, left, end - period, end))
        results.append(
            {
                "criterion_id": o.criterion.id,
                "criterion": o.criterion.describe(),
                "metric": o.criterion.metric,
                "sli": o.sli,
                "objective": o.objective,
                "threshold_ms": None if o.threshold is None else o.threshold.ms,
                "total": n,
                "good": n - b,
                "bad": b,
                "compliance": slo.compliance(n - b, n),
                "met": met(o, n - b, n),
                "error_budget": slo.error_budget(o.objective),
                "budget_left": _finite(left),
                "burn_rates": {k: _finite(v) for k, v in rates.items()},
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


def _finite(value: float | None) -> float | None:
    """JSON has no infinity: an infinite burn rate (zero budget, broken) is reported as null."""
    return None if value is None or not math.isfinite(value) else float(value)


def _burn_condition(
    slug: str, o: Objective, rule: slo.BurnRule, rates: dict[str, float | None], end: datetime
) -> ServiceCondition:
    long, short = (
        rates[name] for name in (slo.span_name(rule.long_s), slo.span_name(rule.short_s))
    )
    text = o.criterion.describe()
    return ServiceCondition(
        initiative=slug, group="service", criterion_id=o.criterion.id, criterion=text,
        metric=o.criterion.metric, rule=rule.name, severity=rule.severity,
        window_start=end - timedelta(seconds=rule.long_s), window_end=end,
        observed=math.inf if long is None else long, threshold=rule.rate,
        plan=o.criterion.plan,
        message=(
            f"{text}: error budget burning at {_times(long)} over "
            f"{slo.span_name(rule.long_s)} and {_times(short)} over "
            f"{slo.span_name(rule.short_s)} ({rule.severity} at {rule.rate:g}×)"
        ),
    )  # fmt: skip


def _budget_condition(
    slug: str, o: Objective, left: float, start: datetime, end: datetime
) -> ServiceCondition:
    text = o.criterion.describe()
    spent = "spent" if math.isinf(left) else f"{1 - left:.0%} spent"
    return ServiceCondition(
        initiative=slug, group="service", criterion_id=o.criterion.id, criterion=text,
        metric=o.criterion.metric, rule="budget", severity="ticket",
        window_start=start, window_end=end, observed=left, threshold=0.0,
        plan=o.criterion.plan,
        message=f"{text}: the error budget of the SLO period is {spent}",
    )  # fmt: skip


def _times(rate: float | None) -> str:
    return "∞×" if rate is None or math.isinf(rate) else f"{rate:.1f}×"
