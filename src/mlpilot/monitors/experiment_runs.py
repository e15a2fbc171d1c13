"""Experiments end to end: create one (with its criteria snapshot and its metrics' directions),
run the engine over the event store, then :func:`mlpilot.monitors.impact.analyze`. A ``--stats``
CSV is read by :mod:`mlpilot.monitors.stats_file`."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlpilot.domain.criteria import Criterion
from mlpilot.domain.guardrails import direction_word, kpi_direction, parse_guardrails
from mlpilot.domain.metrics import CriterionKind
from mlpilot.engine.experiments import (
    MetricDef,
    check_metric,
    experiment_stats,
    parse_metric,
    stats_rows,
)
from mlpilot.engine.experiments_dense import dense_stats
from mlpilot.errors import ValidationError
from mlpilot.monitors.impact import analyze
from mlpilot.stats.experiments import ArmStats

if TYPE_CHECKING:
    from mlpilot.store.events import EventStore
    from mlpilot.store.experiments import ExperimentRecord


def snapshot(criteria: list[Criterion]) -> list[dict[str, Any]]:
    """The impact criteria as stored with an experiment."""
    return [
        {
            "id": c.id,
            "metric": c.metric,
            "op": c.op.value,
            "target": c.target,
            "effect": c.effect.value if c.effect else "relative",
            "direction": direction_word(kpi_direction(c.op.value)),  # from the comparator
            "guardrails": list(c.guardrails),
            "plan": c.plan,
            "describe": c.describe(),
        }
        for c in criteria
        if c.kind is CriterionKind.IMPACT
    ]


def definitions(specs: list[str | MetricDef], criteria: list[dict[str, Any]]) -> list[MetricDef]:
    """Parsed metric definitions, each with its direction; a criterion's KPI or guardrail not
    among them is added as a ``mean`` metric of the event metric of that name.

    A direction comes from the spec (``:higher``/``:lower``) or from the criterion that names
    the metric (a KPI's comparator, a guardrail's declaration); a metric with none, or with two
    that disagree, is refused."""
    metrics = [parse_metric(s) if isinstance(s, str) else s for s in specs]
    for m in metrics:
        check_metric(m)
    names = [m.name for m in metrics]
    if len(set(names)) != len(names):
        raise ValidationError(f"metric names must be unique, got {', '.join(names)}")
    given = _criterion_directions(criteria)
    for name in given:
        if name not in names:
            metrics.append(MetricDef(name))
            names.append(name)
    if not metrics:
        raise ValidationError("an experiment needs at least one --metric (or an impact criterion)")
    resolved = []
    for m in metrics:
        declared, (implied, source) = m.higher_is_better, given.get(m.name, (None, ""))
        if declared is not None and implied is not None and declared != implied:
            raise ValidationError(
                f"metric {m.name!r} is declared :{direction_word(declared)} but {source} says "
                f"{direction_word(implied)} is better; make them agree"
            )
        direction = declared if declared is not None else implied
        if direction is None:
            raise ValidationError(
                f"metric {m.name!r} has no direction: write --metric {m.name}:higher or "
                f"{m.name}:lower (which way is better)" + (f"; {source}" if source else "")
            )
        resolved.append(replace(m, higher_is_better=direction))
    return resolved


def _criterion_directions(
    criteria: list[dict[str, Any]],
) -> dict[str, tuple[bool | None, str]]:
    """Metric → (direction, where it comes from) for the KPIs and guardrails of ``criteria``."""
    found: dict[str, tuple[bool | None, str]] = {}
    for c in criteria:
        found.setdefault(c["metric"], (kpi_direction(c["op"]), f"criterion {c.get('describe')!r}"))
        for g in parse_guardrails(c["guardrails"], strict=False):
            where = (
                f"guardrail {g.spec!r} of criterion {c.get('describe')!r}"
                if g.higher_is_better is not None
                else f"guardrail {g.name!r} of criterion #{c.get('id')} was stored without one "
                f"(re-declare it as {g.name}:lower or {g.name}:higher)"
            )
            if found.get(g.name, (None, ""))[0] is None:
                found[g.name] = (g.higher_is_better, where)
    return found


def check_design(variants: list[str], split: list[float] | None) -> list[float]:
    """Validate variants (control first) and the planned split; returns the split."""
    if len(variants) < 2 or any(not v.strip() for v in variants):
        raise ValidationError(
            f"--variants needs a control and one or more treatments, got {variants}"
        )
    if len(set(variants)) != len(variants):
        raise ValidationError(f"variant names must be unique, got {', '.join(variants)}")
    shares = split or [1.0] * len(variants)
    if len(shares) != len(variants) or any(not (math.isfinite(s) and s > 0) for s in shares):
        raise ValidationError(
            f"--split needs one positive share per variant ({len(variants)}), got {shares}"
        )
    return [float(s) for s in shares]


def run(
    events: EventStore,
    experiment: ExperimentRecord,
    *,
    until: datetime | None = None,
    history: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """Reduce the stored exposures and metric events of ``experiment`` and analyse them.

    ``history`` (the workspace's ``ExperimentStore``) lets the KPI prior be learned from the
    workspace's past experiments once there are enough; a declared ``prior`` option wins."""
    metrics = [MetricDef(**m) for m in experiment.metrics]
    pre_days = float(experiment.details.get("pre_days", 30.0))
    stats = _stored_stats(events, experiment, metrics, pre_days, until)
    if stats is None:
        stats = _portable_stats(events, experiment, metrics, pre_days, until)
    rows, units = stats
    arms: dict[str, dict[str, ArmStats]] = {}
    for row in rows:
        fields = {k: v for k, v in row.items() if k not in ("variant", "metric")}
        arms.setdefault(row["metric"], {})[row["variant"]] = ArmStats(**fields)
    if options.get("prior") is None and history is not None:
        from mlpilot.monitors.impact_history import workspace_prior

        options["prior"] = workspace_prior(history.engine, exclude=experiment.id)
    report = analyze(
        arms,
        experiment.variants,
        split=experiment.split,
        metrics=metrics,
        criteria=experiment.criteria,
        units=units,
        **options,
    )
    report = {"experiment": experiment.name, "slug": experiment.slug, **report}
    report["mixed_units"] = units.get("__mixed__", 0)
    report["unknown_variants"] = {
        v: n for v, n in units.items() if v not in experiment.variants and v != "__mixed__"
    }
    report["criteria"] = experiment.criteria
    report["metrics"] = [asdict(m) for m in metrics]
    return report


def _stored_stats(
    events: EventStore,
    experiment: ExperimentRecord,
    metrics: list[MetricDef],
    pre_days: float,
    until: datetime | None,
) -> tuple[list[dict[str, Any]], dict[str, int]] | None:
    """The statistics by the array path, when the store holds both kinds of events with unit
    keys (no source elsewhere); else None."""
    from mlpilot.store.sources import SourceStore

    sources = SourceStore(events.path.parent)
    if not events.path.exists() or any(
        sources.get(experiment.slug, kind) for kind in ("exposures", "metric_events")
    ):
        return None
    with events.reading() as con:
        result = dense_stats(
            con,
            events.table_name(experiment.slug, "exposures"),
            events.table_name(experiment.slug, "metric_events"),
            experiment.name,
            metrics,
            pre_days=pre_days,
            until=until,
        )
    return None if result is None else stats_rows(result, experiment.variants, metrics)


def _portable_stats(
    events: EventStore,
    experiment: ExperimentRecord,
    metrics: list[MetricDef],
    pre_days: float,
    until: datetime | None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The statistics by one Ibis query wherever the events live."""
    from mlpilot.monitors.tables import event_tables, same_engine

    with event_tables(events, experiment.slug) as tables:
        found = {k: tables.get(k) for k in ("exposures", "metric_events")}
        for kind, table in found.items():
            if table is None:
                raise ValidationError(
                    f"no {kind.replace('_', ' ')} logged for {experiment.slug}; "
                    f"use 'mlpilot log {kind.replace('_', '-')} {experiment.slug} FILE'"
                )
        exposures, metric_events = found["exposures"], found["metric_events"]
        assert exposures is not None
        assert metric_events is not None
        same_engine(exposures, metric_events)
        return experiment_stats(
            exposures,
            metric_events,
            experiment.name,
            experiment.variants,
            metrics,
            pre_days=pre_days,
            until=until,
        )
