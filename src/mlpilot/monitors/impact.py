"""Final impact: analyse an experiment's sufficient statistics and judge it against the impact
criteria that were in force when it was created.

The stats come from the engine (``mlpilot.engine.experiments``) or from a ``--stats`` CSV
(:func:`mlpilot.monitors.stats_file.read_stats`); either way the first variant is the
control and every other variant is compared with it, metric by metric. Every metric has a
direction — declared, or given by the criterion that names it — and nothing assumes "higher is
better": a metric without one gets no chance to win. The verdict rules are in
:mod:`mlpilot.monitors.impact_verdict`, the posterior probabilities in
:mod:`mlpilot.monitors.impact_probability`; every interval and probability in the report says
what it is (``interval``, ``probability_kind``, ``prior``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from mlpilot.domain.guardrails import direction_word, kpi_direction, parse_guardrails
from mlpilot.engine.experiments import MetricDef
from mlpilot.errors import ValidationError
from mlpilot.monitors.impact_probability import KIND, prior_for
from mlpilot.monitors.impact_verdict import SRM_ALPHA, judge
from mlpilot.stats.abtest import Comparison, compare
from mlpilot.stats.corrections import adjust
from mlpilot.stats.effect_prior import DEFAULT_PRIOR, EffectPrior, normal_prior
from mlpilot.stats.experiments import ArmStats, srm_p_value, validate_arm

__all__ = ["SRM_ALPHA", "analyze", "latest_verdict", "metric_directions"]

_INTERVALS = {
    "frequentist": "confidence interval",
    "sequential": "confidence sequence (valid at every look)",
    "bayesian": "credible interval",
}


def metric_directions(
    metrics: list[MetricDef] | None, criteria: list[dict[str, Any]] | None
) -> dict[str, bool | None]:
    """Each metric's direction: declared on the metric, else the criterion's (a KPI's from its
    comparator, a guardrail's as declared); None when nothing gives one."""
    directions: dict[str, bool | None] = {m.name: m.higher_is_better for m in metrics or []}
    for c in criteria or []:
        if directions.get(c["metric"]) is None:
            directions[c["metric"]] = kpi_direction(c["op"])
        for g in parse_guardrails(c.get("guardrails", []), strict=False):
            if directions.get(g.name) is None:
                directions[g.name] = g.higher_is_better
    return directions


def resolve_prior(prior: tuple[float, float] | EffectPrior | None) -> EffectPrior:
    """The prior of the analysis: declared (mean, variance), given, or the default."""
    if prior is None:
        return DEFAULT_PRIOR
    if isinstance(prior, tuple):
        mean, variance = prior
        return normal_prior(mean, variance)
    return prior


def analyze(
    arms: dict[str, dict[str, ArmStats]],
    variants: list[str],
    *,
    split: list[float] | None = None,
    metrics: list[MetricDef] | None = None,
    criteria: list[dict[str, Any]] | None = None,
    method: str = "frequentist",
    alpha: float = 0.05,
    sided: str = "two",
    cuped: bool = False,
    correction: str = "holm",
    prior: tuple[float, float] | EffectPrior | None = None,
    tuning: float = 5000.0,
    units: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The report of ``mlpilot experiment analyze``: ``results``, ``srm_p_value``, ``verdict``.

    ``arms`` maps metric → variant → statistics; ``units`` (units per variant from the
    exposures) decides the SRM test, else the ``n`` of the first metric does. ``prior`` is on
    the relative effect (``(mean, variance)`` or an :class:`EffectPrior`); the default is
    :data:`~mlpilot.stats.effect_prior.DEFAULT_PRIOR`.
    """
    if len(variants) < 2:
        raise ValidationError(f"an experiment needs a control and a treatment; got {variants}")
    if isinstance(prior, tuple) and not prior[1] > 0:
        raise ValidationError(f"the prior needs a finite mean and a variance > 0, got {prior}")
    effect_prior = resolve_prior(prior)
    directions = metric_directions(metrics, criteria)
    kpis = {c["metric"] for c in criteria or []}
    rows: list[dict[str, Any]] = []
    for metric, by_variant in arms.items():
        for v in variants:
            if v not in by_variant:
                raise ValidationError(f"metric {metric!r} has no statistics for variant {v!r}")
            validate_arm(by_variant[v], f"variant {v}, metric {metric}")
        ratio = by_variant[variants[0]].kind == "ratio"
        if cuped and not ratio and not all(by_variant[v].has_covariate for v in variants):
            raise ValidationError(
                f"--cuped needs covariate_sum, covariate_sum_squares and covariate_cross_sum "
                f"for metric {metric!r} in every variant"
            )
        control = by_variant[variants[0]]
        direction = directions.get(metric)
        row_prior = effect_prior if metric in kpis else _plain(effect_prior)
        if direction is not None:
            row_prior = prior_for(row_prior, direction)
        for v in variants[1:]:
            result = compare(
                control,
                by_variant[v],
                method=method,
                alpha=alpha,
                sided=sided,
                cuped=cuped and control.kind != "ratio",
                prior=row_prior,
                tuning=tuning,
                higher_is_better=direction,
            )
            rows.append(_row(metric, v, control, by_variant[v], result, direction))
    tested = [r for r in rows if r["p_value"] is not None]
    adjusted: Any = adjust([r["p_value"] for r in tested], correction) if tested else []
    for r, p in zip(tested, adjusted, strict=True):
        r["p_value_adjusted"] = float(p)
    counts = (
        [units.get(v, 0) for v in variants]
        if units is not None
        else ([next(iter(arms.values()))[v].n for v in variants] if arms else [0] * len(variants))
    )
    srm = srm_p_value(counts, split or [1.0] * len(variants))
    report: dict[str, Any] = {
        "method": method,
        "alpha": alpha,
        "sided": sided,
        "cuped": cuped,
        "correction": correction,
        "variants": variants,
        "control": variants[0],
        "split": split,
        "units": dict(zip(variants, counts, strict=True)),
        "srm_p_value": srm,
        "srm": srm < SRM_ALPHA,
        "interval": {"kind": _INTERVALS[method], "level": 1 - alpha},
        "prior": effect_prior.describe(),
        "probability_kind": KIND,
        "results": rows,
        "verdict": None,
        "verdicts": [],
        "guardrails": [],
        "impact_probability": None,
        "reason": None,
    }
    if method == "bayesian":
        report["chance_to_win_kind"] = f"{KIND} that the metric moved the right way"
    if criteria is not None:
        judge(report, criteria, directions, alpha, effect_prior)
    return report


def _plain(prior: EffectPrior) -> EffectPrior:
    """The prior of a metric that is not a KPI: a workspace prior is learned from KPIs only."""
    return DEFAULT_PRIOR if prior.source == "workspace" else prior


def _row(
    metric: str,
    variant: str,
    control: ArmStats,
    arm: ArmStats,
    result: Comparison,
    direction: bool | None,
) -> dict[str, Any]:
    data = asdict(result)
    likelihood = {
        "effect_abs": data.pop("data_effect_abs"),
        "se_abs": data.pop("data_se_abs"),
        "effect_rel": data.pop("data_effect_rel"),
        "se_rel": data.pop("data_se_rel"),
        "control_mean_variance": data.pop("control_mean_variance"),
    }
    return {
        "metric": metric,
        "variant": variant,
        "direction": None if direction is None else direction_word(direction),
        "n": arm.n,
        "mean": data.pop("mean"),
        "control_n": control.n,
        "control_mean": data.pop("control_mean"),
        "effect_abs": data.pop("effect_abs"),
        "effect_abs_ci": list(data.pop("effect_abs_ci")),
        "effect_rel": data.pop("effect_rel"),
        "effect_rel_ci": list(data.pop("effect_rel_ci")),
        "p_value": data.pop("p_value"),
        "p_value_adjusted": None,
        "chance_to_win": data.pop("chance_to_win"),
        "risk": None if data["risk"] is None else list(data.pop("risk")),
        **{k: v for k, v in data.items() if k != "risk"},
        "likelihood": likelihood,
        "role": None,
        "verdict": None,
    }


def latest_verdict(workspace: Any, slug: str) -> dict[str, Any] | None:
    """The latest analysed experiment of ``slug`` for ``mlpilot status``: ``experiment``,
    ``verdict``, ``at`` (ISO date-time), ``method``, ``reason`` and ``probability`` — the
    posterior probability that the arm that would be chosen meets every impact criterion
    (``impact_probability`` of the analysis, with its ``prior`` and ``note``). None when no
    experiment has been analysed; the probability is None while the sample-ratio check fails,
    and for an analysis stored before probabilities had a proper prior."""
    from mlpilot.store.experiments import ExperimentStore

    found = ExperimentStore(workspace.store.engine).latest_analysis(slug)
    if found is None:
        return None
    stated = found.results.get("impact_probability") or {
        "value": None,
        "note": "analysed before impact probabilities had a proper prior; analyse it again",
    }
    return {
        "experiment": found.experiment,
        "verdict": found.verdict,
        "at": found.at.isoformat(),
        "method": found.method,
        "reason": found.results.get("reason"),
        "probability": stated.get("value"),
        "probability_kind": KIND,
        "variant": stated.get("variant"),
        "prior": stated.get("prior"),
        "note": stated.get("note"),
    }
