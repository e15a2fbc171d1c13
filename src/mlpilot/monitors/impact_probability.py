"""Posterior probabilities of an experiment: that an arm meets the impact criteria, that a
guardrail is harmed.

Each comes from the data's normal likelihood (the estimates and standard errors of the
analysis, before any prior) and a proper prior on the relative effect
(:mod:`mlpilot.stats.effect_prior`): the workspace's own when it has enough past experiments,
else the documented default, or the one declared with ``--prior-mean/--prior-sd``.

- **Impact.** The arms of one KPI share the prior (a hierarchical prior through its scale) and
  their estimates share the control, so their posterior is joint. The arm that would be chosen
  is the one most likely to meet every criterion; the report states *its* probability, read
  from the joint posterior — not the largest of per-arm flat-prior statements, which three arms
  with no effect at all pushed to 0.48. Criteria on different KPIs are taken as independent.
- **Guardrails.** P(harm): the posterior probability that the metric moved the wrong way by more
  than the guardrail's margin, under the default prior (a workspace prior is learned from KPIs,
  whose effects are not a guardrail's).
- **No probability** (null, with a note) while the sample-ratio check fails, or when the
  likelihood is missing (a flagged row) or a relative prior cannot be scaled (control mean 0).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlpilot.domain.guardrails import Guardrail, kpi_direction
from mlpilot.stats.effect_prior import DEFAULT_PRIOR, EffectPrior, posterior

KIND = "posterior probability"
SRM_NOTE = "no probability while the sample-ratio check fails: the assignment is broken"


def prior_for(prior: EffectPrior, higher_is_better: bool) -> EffectPrior:
    """A workspace prior is learned with good = positive; turn it to the raw effect's sign."""
    return prior.flipped() if prior.source == "workspace" and not higher_is_better else prior


def _likelihood(row: dict[str, Any], relative: bool) -> tuple[float, float] | None:
    data = row.get("likelihood") or {}
    estimate, se = (
        (data.get("effect_rel"), data.get("se_rel"))
        if relative
        else (data.get("effect_abs"), data.get("se_abs"))
    )
    if estimate is None or se is None or not se > 0:
        return None
    return float(estimate), float(se)


def _covariance(rows: list[dict[str, Any]], ses: list[float], relative: bool) -> Any:
    """Arms share the control mean: Cov = Var(control mean), times m_j m_k / m0⁴ (relative)."""
    shared = float(rows[0]["likelihood"]["control_mean_variance"])
    cov = np.full((len(rows), len(rows)), shared)
    if relative:
        m0 = float(rows[0]["control_mean"])
        means = np.array([float(r["mean"]) for r in rows])
        cov *= np.outer(means, means) / m0**4
    np.fill_diagonal(cov, np.square(ses))
    return cov


def kpi_probabilities(
    report: dict[str, Any], criteria: list[dict[str, Any]], prior: EffectPrior
) -> dict[str, Any]:
    """Fill each KPI verdict entry's ``probability`` and return ``impact_probability``: the
    posterior probability that the chosen arm meets every impact criterion."""
    entries = [e for e in report["verdicts"] if e.get("role") == "kpi"]
    summary: dict[str, Any] = {
        "value": None,
        "kind": KIND,
        "event": "the arm that would be chosen meets every impact criterion",
        "variant": None,
        "prior": prior.describe()["text"],
        "note": None,
    }
    if report["srm"]:
        for e in entries:
            e["probability"], e["probability_note"] = None, SRM_NOTE
        return summary | {"note": SRM_NOTE}
    variants = report["variants"][1:]
    by_key = {(r["metric"], r["variant"]): r for r in report["results"]}
    per_arm: dict[str, float | None] = dict.fromkeys(variants, 1.0)
    notes: list[str] = []
    groups: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for c in criteria:
        groups.setdefault((c["metric"], c.get("effect", "relative") != "absolute"), []).append(c)
    for (metric, relative), group in groups.items():
        found = _group(metric, relative, group, variants, by_key, prior)
        if isinstance(found, str):
            notes.append(found)
            per_arm = dict.fromkeys(variants)
            for e in entries:
                if e["metric"] == metric:
                    e["probability"], e["probability_note"] = None, found
            continue
        for variant, (event, by_criterion) in found.items():
            current = per_arm[variant]
            per_arm[variant] = None if current is None or event is None else current * event
            for e in entries:
                if e["variant"] == variant and e["criterion"] in by_criterion:
                    e["probability"] = by_criterion[e["criterion"]]
    known = {v: p for v, p in per_arm.items() if p is not None}
    if not known or not criteria:
        return summary | {"note": "; ".join(notes) or "no impact criterion to judge"}
    chosen = max(known, key=lambda v: known[v])
    return summary | {"value": known[chosen], "variant": chosen, "note": "; ".join(notes) or None}


def _group(
    metric: str,
    relative: bool,
    group: list[dict[str, Any]],
    variants: list[str],
    by_key: dict[tuple[str, str], dict[str, Any]],
    prior: EffectPrior,
) -> str | dict[str, tuple[float | None, dict[str, float]]]:
    """Per arm, P(every criterion of the group) and P(each one), from the joint posterior of
    the arms' effects on ``metric`` (one scale); a note when there is no probability."""
    rows = [by_key.get((metric, v)) for v in variants]
    if any(r is None for r in rows):
        return f"the experiment does not measure {metric}"
    present = [r for r in rows if r is not None]
    data = [_likelihood(r, relative) for r in present]
    if any(d is None for d in data):
        flags = {r["flag"] for r in present if r["flag"]}
        return f"{metric} has no likelihood to update the prior ({', '.join(sorted(flags)) or '-'})"
    control_mean = float(present[0]["control_mean"])
    if control_mean == 0:
        return f"{metric}'s control mean is 0: the prior on the relative effect does not apply"
    oriented = prior_for(prior, kpi_direction(group[0]["op"]))
    scaled = oriented if relative else oriented.scaled(abs(control_mean))
    estimates = [d[0] for d in data if d is not None]
    ses = [d[1] for d in data if d is not None]
    post = posterior(np.array(estimates), _covariance(present, ses, relative), scaled)
    out: dict[str, tuple[float | None, dict[str, float]]] = {}
    for k, variant in enumerate(variants):
        low, high = -math.inf, math.inf
        each: dict[str, float] = {}
        for c in group:
            target = float(c["target"])
            if c["op"] in (">=", ">"):
                each[c.get("describe") or ""] = post.probability(k, low=target)
                low = max(low, target)
            else:
                each[c.get("describe") or ""] = post.probability(k, high=target)
                high = min(high, target)
        out[variant] = (post.probability(k, low, high) if low < high else 0.0, each)
    return out


def harm_probability(
    row: dict[str, Any], guardrail: Guardrail, higher_is_better: bool, prior: EffectPrior
) -> tuple[float | None, str | None]:
    """P(the metric moved the wrong way by more than the margin), relative scale."""
    data = _likelihood(row, relative=True)
    if data is None:
        why = row["flag"] or "no relative effect"
        return None, f"no probability of harm for {guardrail.name}: {why}"
    oriented = prior if prior.source != "workspace" else DEFAULT_PRIOR
    post = posterior(np.array([data[0]]), np.array([[data[1] ** 2]]), oriented)
    if higher_is_better:
        return post.probability(0, high=-guardrail.margin), None
    return post.probability(0, low=guardrail.margin), None
