"""Final impact: analyse an experiment's sufficient statistics and judge it against the impact
criteria that were in force when it was created.

The stats come from the engine (``mlpilot.engine.experiments``) or from a ``--stats`` CSV
(:func:`read_stats`); either way the first variant is the control and every other variant is
compared with it, metric by metric. The verdict of a treatment against a criterion
``KPI op target`` reads the interval of the effect on the criterion's scale (relative unless
declared absolute): for ``>=``, ``pass`` when the whole interval clears the target, ``fail`` when
the whole interval lies below it, else ``inconclusive`` with the units that would decide (the
total at which the current estimate's distance from the target would be detected with 80 %
power). A guardrail degrades when its interval excludes 0 on the harmful side; that fails the
treatment. A sample ratio mismatch (p < 0.001) makes every verdict inconclusive: the
assignment is broken and the effects cannot be trusted.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from mlpilot.engine.experiments import MetricDef
from mlpilot.errors import ValidationError
from mlpilot.stats.abtest import Comparison, compare
from mlpilot.stats.corrections import adjust
from mlpilot.stats.experiments import ArmStats, srm_p_value, validate_arm

SRM_ALPHA = 0.001
_POWER_Z = 0.8416212335729143  # Φ⁻¹(0.8): the power behind "more units"


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
    prior: tuple[float, float] | None = None,
    tuning: float = 5000.0,
    units: dict[str, int] | None = None,
) -> dict[str, Any]:
    """The report of ``mlpilot experiment analyze``: ``results``, ``srm_p_value``, ``verdict``.

    ``arms`` maps metric → variant → statistics; ``units`` (units per variant from the
    exposures) decides the SRM test, else the ``n`` of the first metric does.
    """
    if len(variants) < 2:
        raise ValidationError(f"an experiment needs a control and a treatment; got {variants}")
    directions = {m.name: m.higher_is_better for m in metrics or []}
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
        for v in variants[1:]:
            result = compare(
                control,
                by_variant[v],
                method=method,
                alpha=alpha,
                sided=sided,
                cuped=cuped and control.kind != "ratio",
                prior=prior,
                tuning=tuning,
                higher_is_better=directions.get(metric, True),
            )
            rows.append(_row(metric, v, control, by_variant[v], result))
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
        "results": rows,
        "verdict": None,
        "verdicts": [],
        "reason": None,
    }
    if criteria is not None:
        judge(report, criteria, directions, alpha)
    return report


def _row(
    metric: str, variant: str, control: ArmStats, arm: ArmStats, result: Comparison
) -> dict[str, Any]:
    data = asdict(result)
    return {
        "metric": metric,
        "variant": variant,
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
        "role": None,
        "verdict": None,
    }


def judge(
    report: dict[str, Any],
    criteria: list[dict[str, Any]],
    directions: dict[str, bool],
    alpha: float,
) -> None:
    """Fill ``verdicts``, each row's ``verdict`` and the experiment's ``verdict`` in place."""
    if not criteria:
        report["verdict"] = "inconclusive"
        report["reason"] = "no impact criterion was in force when the experiment was created"
        return
    by_key = {(r["metric"], r["variant"]): r for r in report["results"]}
    per_variant: dict[str, list[str]] = {}
    for variant in report["variants"][1:]:
        for c in criteria:
            entry = _criterion_verdict(c, by_key.get((c["metric"], variant)), report, alpha)
            entry["variant"] = variant
            report["verdicts"].append(entry)
            per_variant.setdefault(variant, []).append(entry["verdict"])
            for g in c.get("guardrails", []):
                row = by_key.get((g, variant))
                if row is None:
                    continue
                row["role"] = "guardrail"
                degraded = _degrades(row, directions.get(g, True))
                row["verdict"] = "fail" if degraded else "pass"
                if degraded:
                    report["verdicts"].append(
                        {
                            "criterion": c.get("describe"),
                            "variant": variant,
                            "verdict": "fail",
                            "reason": f"guardrail {g} degrades",
                            "more_units": None,
                            "probability": None,
                        }
                    )
                    per_variant[variant].append("fail")
    outcomes = [
        "fail" if "fail" in v else "pass" if set(v) == {"pass"} else "inconclusive"
        for v in per_variant.values()
    ]
    if report["srm"]:
        report["verdict"] = "inconclusive"
        report["reason"] = f"sample ratio mismatch (p = {report['srm_p_value']:.2g} < {SRM_ALPHA})"
    elif "pass" in outcomes:
        report["verdict"] = "pass"
        winners = [v for v, o in zip(per_variant, outcomes, strict=True) if o == "pass"]
        report["reason"] = f"{', '.join(winners)} clears every impact criterion"
    elif outcomes and all(o == "fail" for o in outcomes):
        report["verdict"] = "fail"
        report["reason"] = "; ".join(
            e["reason"] for e in report["verdicts"] if e["verdict"] == "fail"
        )
    else:
        report["verdict"] = "inconclusive"
        report["reason"] = "; ".join(
            e["reason"] for e in report["verdicts"] if e["verdict"] == "inconclusive"
        )


def _interval(row: dict[str, Any], relative: bool) -> tuple[float | None, float, float, float]:
    """The estimate, interval (open sides as ±inf) and standard error on one scale."""
    key = "effect_rel" if relative else "effect_abs"
    low, high = row[f"{key}_ci"]
    se = row["se_rel" if relative else "se_abs"]
    return (
        row[key],
        -math.inf if low is None else low,
        math.inf if high is None else high,
        math.nan if se is None else se,
    )


def _degrades(row: dict[str, Any], higher_is_better: bool) -> bool:
    if row["flag"] is not None and row["effect_abs_ci"][0] is None:
        return False
    _, low, high, _ = _interval(row, row["effect_rel"] is not None)
    return high < 0 if higher_is_better else low > 0


def _criterion_verdict(
    criterion: dict[str, Any], row: dict[str, Any] | None, report: dict[str, Any], alpha: float
) -> dict[str, Any]:
    from scipy.special import ndtr, ndtri

    entry: dict[str, Any] = {
        "criterion": criterion.get("describe"),
        "verdict": "inconclusive",
        "reason": None,
        "more_units": None,
        "probability": None,
    }
    metric, op, target = criterion["metric"], criterion["op"], float(criterion["target"])
    if row is None:
        entry["reason"] = f"the experiment does not measure {metric}"
        return entry
    row["role"] = "kpi"
    relative = criterion.get("effect", "relative") != "absolute"
    estimate, low, high, se = _interval(row, relative)
    if estimate is None or row["effect_abs_ci"][0] is None or math.isnan(se):
        entry["reason"] = f"{metric} cannot be judged: {row['flag'] or 'no interval'}"
        row["verdict"] = "inconclusive"
        return entry
    up = op in (">=", ">")
    beats = (
        (low > target if op == ">" else low >= target)
        if up
        else (high < target if op == "<" else high <= target)
    )
    misses = high < target if up else low > target
    entry["probability"] = float(ndtr(((estimate - target) if up else (target - estimate)) / se))
    scale = "relative" if relative else "absolute"
    if beats:
        entry["verdict"], entry["reason"] = "pass", f"{metric} clears {target:+g} ({scale})"
    elif misses:
        entry["verdict"] = "fail"
        entry["reason"] = f"{metric} falls short of {target:+g} ({scale}) with confidence"
    else:
        total = row["n"] + row["control_n"]
        distance = abs(estimate - target)
        if distance > 0:
            z = float(ndtri(1 - alpha / 2)) + _POWER_Z
            entry["more_units"] = max(math.ceil(total * (z * se / distance) ** 2 - total), 1)
        entry["reason"] = f"{metric}'s interval straddles {target:+g} ({scale})" + (
            f"; about {entry['more_units']} more units would decide" if entry["more_units"] else ""
        )
    row["verdict"] = entry["verdict"]
    return entry


def latest_verdict(workspace: Any, slug: str) -> dict[str, Any] | None:
    """The latest analysed experiment of ``slug`` for ``mlpilot status``: ``experiment``,
    ``verdict``, ``at`` (ISO date-time), ``method``, ``reason`` and ``probability`` — the chance
    that the KPI effect clears the minimum practical effect, Φ((estimate - target) / se) on the
    criterion's scale (the flat-prior Gaussian posterior), for the best treatment. None when no
    experiment has been analysed."""
    from mlpilot.store.experiments import ExperimentStore

    found = ExperimentStore(workspace.store.engine).latest_analysis(slug)
    if found is None:
        return None
    chances = [
        e["probability"]
        for e in found.results.get("verdicts", [])
        if e.get("probability") is not None
    ]
    return {
        "experiment": found.experiment,
        "verdict": found.verdict,
        "at": found.at.isoformat(),
        "method": found.method,
        "reason": found.results.get("reason"),
        "probability": max(chances) if chances else None,
    }
