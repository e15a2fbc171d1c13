"""Service alert conditions: what holds now for an SLO or a service criterion, and what each of
its numbers is.

A condition's ``observed`` is the criterion's metric (a latency percentile in ms, an error rate,
an availability) and its ``threshold`` the criterion's target, whatever set the condition off.
A burn-rate rule's figures are a separate ``burn_rate`` record (``kind: "burn rate"``, its long
and short windows, the rate they exceeded, the error budget and what that budget allows); a
spent period budget's a ``budget_left`` record (``kind: "error budget left"``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from mlpilot.domain.alerts import AlertCondition, MonitorGroup, Severity
from mlpilot.domain.metrics import CATALOGUE
from mlpilot.stats import slo

if TYPE_CHECKING:
    from mlpilot.monitors.service_slo import LatencyOf, Objective


@dataclass(frozen=True)
class ServiceCondition:
    """A service condition that holds now and should be one open alert until it clears.

    ``rule`` tells conditions of one criterion apart: ``burn-1h/5m`` and ``burn-6h/30m``
    (pages), ``burn-3d/6h`` (ticket), ``budget`` (ticket: the period's budget is spent) and
    ``window`` (warning: the criterion fails in the latest complete window). ``observed`` is
    always the criterion's metric (in ``unit``) and ``threshold`` the criterion's target: over
    the rule's long window, the period, or the window. ``burn_rate`` (burn rules) and
    ``budget_left`` (``budget``) carry the SLO figures, each labelled with its ``kind``.
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
    observed: float | None
    threshold: float
    plan: str | None
    message: str
    summary: str = ""  # the message without the criterion, short: for a report's cell
    unit: str | None = None
    burn_rate: dict[str, Any] | None = None
    budget_left: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times in ISO 8601)."""
        data = asdict(self)
        data["window_start"] = self.window_start.isoformat()
        data["window_end"] = self.window_end.isoformat()
        data["observed"] = finite(self.observed)
        return data

    def to_alert(self) -> AlertCondition:
        """The alert store's condition, keyed ``service:<criterion id or text>:<rule>``."""
        return AlertCondition(
            key=f"service:{self.criterion_id or self.criterion}:{self.rule}",
            group=MonitorGroup.SERVICE,
            criterion=self.criterion,
            metric=self.metric,
            severity=Severity(self.severity),
            observed=finite(self.observed),
            threshold=self.threshold,
            window_start=self.window_start,
            window_end=self.window_end,
            plan=self.plan,
            details=self._details(),
        )

    def _details(self) -> dict[str, Any]:
        labelled = {"burn_rate": self.burn_rate, "budget_left": self.budget_left}
        extra = {k: v for k, v in labelled.items() if v is not None}
        return {
            "rule": self.rule, "message": self.message, "summary": self.summary,
            "unit": self.unit, **extra,
        }  # fmt: skip


def rule_record(rule: slo.BurnRule, objective: float) -> dict[str, Any]:
    """An alert rule as this objective is held to it (``scaled`` when the budget is too large
    for the workbook's rate; ``bad_share``: the share of requests bad that reaches it)."""
    rate = slo.alert_rate(rule, objective)
    return {
        "rule": rule.name,
        "severity": rule.severity,
        "long_window": slo.span_name(rule.long_s),
        "short_window": slo.span_name(rule.short_s),
        "kind": "burn rate",
        "alert_at": rate,
        "workbook_rate": rule.rate,
        "workbook_budget_spent": rule.budget_spent,
        "scaled": rate < rule.rate,
        "bad_share": round(rate * slo.error_budget(objective), 12),
    }


@dataclass(frozen=True)
class Judge:
    """Builds one objective's conditions: the metric over the condition's window, its labels."""

    slug: str
    o: Objective
    period: str
    end: datetime
    total: np.ndarray[Any, np.dtype[np.int64]]
    bad: np.ndarray[Any, np.dtype[np.int64]]
    step_seconds: int
    latency_of: LatencyOf

    def observed(self, seconds: int) -> float | None:
        """The criterion's metric over the ``seconds`` before ``end``: the latency percentile
        (engine), else the error rate or availability from the series' counts."""
        if self.o.sli == "latency":
            return self.latency_of(
                self.o.criterion.metric, self.end - timedelta(seconds=seconds), self.end
            )
        steps = seconds // self.step_seconds
        n, b = int(self.total[-steps:].sum()), int(self.bad[-steps:].sum())
        if n == 0:
            return None
        return b / n if self.o.criterion.metric == "error_rate" else 1.0 - b / n

    def _base(self, rule: str, severity: str, seconds: int) -> dict[str, Any]:
        c = self.o.criterion
        return {
            "initiative": self.slug, "group": "service", "criterion_id": c.id,
            "criterion": c.describe(), "metric": c.metric, "rule": rule, "severity": severity,
            "window_start": self.end - timedelta(seconds=seconds), "window_end": self.end,
            "observed": self.observed(seconds), "threshold": c.target, "plan": c.plan,
            "unit": self.o.unit,
        }  # fmt: skip

    def _metric(self, value: float | None, span: str) -> str:
        spec = CATALOGUE.get(self.o.criterion.metric)
        label = spec.description if spec is not None else self.o.criterion.metric
        return f"{label} {self.o.show(value)} over the last {span}"

    def burn(self, rule: slo.BurnRule, rates: dict[str, float | None]) -> ServiceCondition:
        longw, shortw = slo.span_name(rule.long_s), slo.span_name(rule.short_s)
        long, short = rates[longw], rates[shortw]
        rate = slo.alert_rate(rule, self.o.objective)
        base = self._base(rule.name, rule.severity, rule.long_s)
        stands_for = self.o.stands_for(self.period)
        scaled = "" if rate >= rule.rate else f", scaled from the workbook's {rule.rate:g}×"
        return ServiceCondition(
            **base,
            burn_rate={
                "kind": "burn rate", "window": longw, "value": finite(long),
                "short_window": shortw, "short_value": finite(short), "alert_at": rate,
                "workbook_rate": rule.rate, "error_budget": slo.error_budget(self.o.objective),
                "period": self.period, "stands_for": stands_for,
            },
            summary=(
                f"burn rate of the {_share(self.o.objective)} error budget {_times(long)} over "
                f"{longw} and {_times(short)} over {shortw} ({rule.severity} above {rate:g}×)"
            ),
            message=(
                f"{base['criterion']}: {self._metric(base['observed'], longw)}; error budget "
                f"({stands_for}) at burn rate {_times(long)} over {longw} and {_times(short)} "
                f"over {shortw} ({rule.severity} above {rate:g}×{scaled})"
            ),
        )  # fmt: skip

    def budget(self, left: float, period: timedelta) -> ServiceCondition:
        base = self._base("budget", "ticket", int(period.total_seconds()))
        spent = "spent" if math.isinf(left) else f"{1 - left:.0%} spent"
        stands_for = self.o.stands_for(self.period)
        return ServiceCondition(
            **base,
            budget_left={
                "kind": "error budget left", "value": finite(left),
                "error_budget": slo.error_budget(self.o.objective), "period": self.period,
                "stands_for": stands_for,
            },
            summary=f"error budget ({_share(self.o.objective)}) {spent} over {self.period}",
            message=(
                f"{base['criterion']}: {self._metric(base['observed'], self.period)}; the "
                f"error budget of the period ({stands_for}) is {spent}"
            ),
        )  # fmt: skip


def _share(objective: float) -> str:
    return f"{slo.error_budget(objective) * 100:.10g} %"


def _times(rate: float | None) -> str:
    return "∞×" if rate is None or math.isinf(rate) else f"{rate:.1f}×"


def finite(value: float | None) -> float | None:
    """JSON has no infinity: an infinite burn rate (zero budget, broken) is reported as null."""
    return None if value is None or not math.isfinite(value) else float(value)
