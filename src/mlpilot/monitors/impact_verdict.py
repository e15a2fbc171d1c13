"""The verdict of an analysed experiment against its impact criteria and their guardrails.

For each treatment and criterion ``KPI op target``, on the criterion's scale (relative unless
declared absolute), with the method's interval: ``pass`` when the whole interval clears the
target, ``fail`` when it lies wholly on the wrong side, else ``inconclusive`` with the units that
would decide (the total at which the current estimate's distance from the target would be
detected with 80 % power). When the sequential method has no valid relative interval (small
counts), the criterion is judged on the absolute scale, the target times the control mean.

A guardrail is a non-inferiority test with its margin (:mod:`mlpilot.domain.guardrails`), read
from P(harm), the posterior probability that the metric moved the wrong way by more than the
margin:

- ``fail`` when harm is likely, P(harm) > :data:`HARM_LIKELY`, or when the whole interval lies
  beyond the margin (significant harm always fails);
- ``pass`` when harm is improbable, P(harm) <= alpha / 2 (without a probability: when the whole
  interval lies on the safe side of the margin);
- ``inconclusive`` otherwise: harm is neither likely nor excluded.

A treatment passes when it passes every criterion and every guardrail; the experiment passes
when a treatment does, fails when every treatment fails, else is inconclusive. A sample ratio
mismatch makes the verdict inconclusive and withholds every probability.
"""

from __future__ import annotations

import math
from typing import Any

from mlpilot.domain.guardrails import Guardrail, direction_word, kpi_direction, parse_guardrails
from mlpilot.monitors.impact_probability import (
    KIND,
    SRM_NOTE,
    harm_probability,
    kpi_probabilities,
)
from mlpilot.stats.effect_prior import EffectPrior

SRM_ALPHA = 0.001
HARM_LIKELY = 0.5  # "likely": more probable than not
_POWER_Z = 0.8416212335729143  # Φ⁻¹(0.8): the power behind "more units"


def judge(
    report: dict[str, Any],
    criteria: list[dict[str, Any]],
    directions: dict[str, bool | None],
    alpha: float,
    prior: EffectPrior,
) -> None:
    """Fill ``verdicts``, ``guardrails``, each row's ``verdict``, ``impact_probability`` and the
    experiment's ``verdict`` in place."""
    report["guardrails"] = []
    if not criteria:
        report["verdict"] = "inconclusive"
        report["reason"] = "no impact criterion was in force when the experiment was created"
        report["impact_probability"] = kpi_probabilities(report, [], prior)
        return
    by_key = {(r["metric"], r["variant"]): r for r in report["results"]}
    per_variant: dict[str, list[str]] = {}
    for variant in report["variants"][1:]:
        for c in criteria:
            entry = _criterion_verdict(c, by_key.get((c["metric"], variant)), alpha)
            entry["variant"] = variant
            report["verdicts"].append(entry)
            per_variant.setdefault(variant, []).append(entry["verdict"])
    report["impact_probability"] = kpi_probabilities(report, criteria, prior)
    for variant in report["variants"][1:]:
        for c in criteria:
            for g in parse_guardrails(c.get("guardrails", []), strict=False):
                row = by_key.get((g.name, variant))
                if row is None:
                    continue
                found = _guardrail(row, g, directions.get(g.name), prior, report["srm"], alpha)
                report["guardrails"].append({"criterion": c.get("describe"), **found})
                if found["verdict"] != "pass":
                    report["verdicts"].append(
                        {
                            "criterion": c.get("describe"),
                            "variant": variant,
                            "verdict": found["verdict"],
                            "reason": found["reason"],
                            "more_units": None,
                            "probability": None,
                            "role": "guardrail",
                            "metric": g.name,
                        }
                    )
                    per_variant[variant].append(found["verdict"])
    _overall(report, per_variant)


def shown_probability(p: float) -> str:
    """``= 0.23``, or ``> 0.999`` / ``< 0.001``: a probability is never shown as a certainty."""
    return "> 0.999" if p > 0.999 else "< 0.001" if p < 0.001 else f"= {p:.3g}"


def _overall(report: dict[str, Any], per_variant: dict[str, list[str]]) -> None:
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
        report["reason"] = f"{', '.join(winners)} clears every impact criterion and guardrail"
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


def _scale(row: dict[str, Any], relative: bool, value: float) -> tuple[bool, float, str]:
    """The scale to judge on and ``value`` on it: the absolute one, with the value times the
    control mean, when the relative interval is missing for lack of validity."""
    if relative and row["effect_rel_ci"] == [None, None] and row.get("note"):
        return False, value * abs(row["control_mean"]), "absolute scale: no valid relative interval"
    return relative, value, "relative" if relative else "absolute"


def _guardrail(
    row: dict[str, Any],
    guardrail: Guardrail,
    declared: bool | None,
    prior: EffectPrior,
    srm: bool,
    alpha: float,
) -> dict[str, Any]:
    higher = guardrail.higher_is_better if guardrail.higher_is_better is not None else declared
    name = guardrail.name
    found: dict[str, Any] = {
        "metric": name,
        "variant": row["variant"],
        "direction": None if higher is None else direction_word(higher),
        "margin": guardrail.margin,
        "probability_harm": None,
        "probability_kind": KIND,
        "probability_note": None,
    }
    row["role"] = "guardrail"
    if higher is None:
        reason = f"guardrail {name} has no direction; declare it as {name}:lower or :higher"
        row["verdict"] = "inconclusive"
        return found | {"verdict": "inconclusive", "reason": reason}
    if row["flag"] == "zero_variance" and row["effect_abs"] is not None:
        # Every unit has the same value in each arm: the move is known exactly.
        moved = row["effect_abs"] if higher else -row["effect_abs"]
        harmed = moved < -guardrail.margin * abs(row["control_mean"])
        row["verdict"] = "fail" if harmed else "pass"
        how = "degrades" if harmed else "is not harmed"
        return found | {"verdict": row["verdict"], "reason": f"guardrail {name} {how} (constant)"}
    if row["flag"] is not None and row["effect_abs_ci"][0] is None:
        row["verdict"] = "inconclusive"
        return found | {"verdict": "inconclusive", "reason": f"guardrail {name}: {row['flag']}"}
    relative, margin, scale = _scale(row, row["effect_rel"] is not None, guardrail.margin)
    _, low, high, _ = _interval(row, relative)
    harm, note = (None, SRM_NOTE) if srm else harm_probability(row, guardrail, higher, prior)
    found["probability_harm"], found["probability_note"] = harm, note
    beyond = high < -margin if higher else low > margin
    safe = low >= -margin if higher else high <= margin
    shown = f"{margin:.1%}" if relative else f"{margin:.4g}"
    move = f"{'fall' if higher else 'rise'} beyond {shown} ({scale})"
    if beyond or (harm is not None and harm > HARM_LIKELY):
        verdict, reason = "fail", f"guardrail {name} degrades: a {move} is likely"
    elif (harm <= alpha / 2) if harm is not None else safe:
        verdict, reason = "pass", f"guardrail {name}: a {move} is improbable"
    else:
        verdict, reason = "inconclusive", f"guardrail {name}: a {move} is not excluded"
    if harm is not None:
        reason += f" (P(harm) {shown_probability(harm)})"
    row["verdict"] = verdict
    return found | {"verdict": verdict, "reason": reason}


def _criterion_verdict(
    criterion: dict[str, Any], row: dict[str, Any] | None, alpha: float
) -> dict[str, Any]:
    from scipy.special import ndtri

    metric, op = criterion["metric"], criterion["op"]
    entry: dict[str, Any] = {
        "criterion": criterion.get("describe"),
        "verdict": "inconclusive",
        "reason": None,
        "more_units": None,
        "probability": None,
        "probability_kind": KIND,
        "probability_note": None,
        "role": "kpi",
        "metric": metric,
        "direction": direction_word(kpi_direction(op)),
    }
    if row is None:
        entry["reason"] = f"the experiment does not measure {metric}"
        return entry
    row["role"] = "kpi"
    relative, target, scale = _scale(
        row, criterion.get("effect", "relative") != "absolute", float(criterion["target"])
    )
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
