"""The workspace's own prior on KPI effects, learned from its past experiments.

Once the workspace holds :data:`~mlpilot.stats.effect_prior.MIN_EXPERIMENTS` analysed
experiments (besides the one at hand), the relative KPI effects of their latest analyses —
oriented so that positive is good, each with its standard error — fit the empirical-Bayes prior
(:func:`mlpilot.stats.effect_prior.fit_prior`); before that the default prior holds. Analyses
with a sample-ratio mismatch are left out: their effects are not trustworthy.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine, select

from mlpilot.stats.effect_prior import MIN_EXPERIMENTS, EffectPrior, fit_prior


def past_effects(
    engine: Engine, exclude: int | None = None
) -> tuple[list[float], list[float], int]:
    """The oriented relative KPI estimates and their standard errors of every experiment's
    latest analysis in the workspace (``exclude``: an experiment id to leave out), and the
    number of experiments they come from."""
    from mlpilot.store import schema as t

    a = t.experiment_analyses
    latest: dict[int, dict[str, Any]] = {}
    with engine.connect() as connection:
        rows = connection.execute(
            select(a.c.experiment_id, a.c.results).order_by(a.c.at, a.c.id)
        ).all()
    for experiment_id, results in rows:
        if experiment_id != exclude:
            latest[int(experiment_id)] = json.loads(results)
    estimates: list[float] = []
    errors: list[float] = []
    experiments = 0
    for report in latest.values():
        if report.get("srm"):
            continue
        found = [_oriented(r) for r in report.get("results", []) if r.get("role") == "kpi"]
        kept = [f for f in found if f is not None]
        experiments += bool(kept)
        estimates += [f[0] for f in kept]
        errors += [f[1] for f in kept]
    return estimates, errors, experiments


def _oriented(row: dict[str, Any]) -> tuple[float, float] | None:
    data = row.get("likelihood") or {}
    estimate, se = data.get("effect_rel"), data.get("se_rel")
    if row.get("direction") not in ("higher", "lower") or estimate is None or not se:
        return None
    return (estimate if row["direction"] == "higher" else -estimate), float(se)


def workspace_prior(engine: Engine, exclude: int | None = None) -> EffectPrior | None:
    """The empirical-Bayes prior, or None while there are fewer than ``MIN_EXPERIMENTS``."""
    estimates, errors, experiments = past_effects(engine, exclude)
    if experiments < MIN_EXPERIMENTS:
        return None
    return fit_prior(estimates, errors, experiments=experiments)
