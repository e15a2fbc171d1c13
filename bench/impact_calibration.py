"""The calibration tables of docs/experiments.md: stated against realized impact probabilities.

Runs the seeded simulations of tests/monitors/test_impact_calibration.py with more experiments
and prints, per population, the expected calibration error and the table of bins.

    .venv/bin/python bench/impact_calibration.py [--runs 4000]
    .venv/bin/python bench/impact_calibration.py --sequential
    .venv/bin/python bench/impact_calibration.py --workspace
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.monitors.test_impact_calibration import (
    POPULATIONS,
    ece,
    stated_and_realized,
    tolerance,
)


def flat(stated_runs: int, draw, seed: int) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    """The old statement, Φ((estimate − target) / se) with a flat prior, on the same draws."""
    from scipy.special import ndtr
    from tests.monitors.test_impact_calibration import CRITERION, TARGET, experiment

    from mlpilot.monitors.impact import analyze

    rng = np.random.default_rng(seed)
    stated, realized = [], []
    for _ in range(stated_runs):
        effects = draw(rng, 1)
        stats = experiment(rng, effects)
        row = analyze({"kpi": stats}, list(stats), criteria=[CRITERION])["results"][0]
        stated.append(float(ndtr((row["effect_rel"] - TARGET) / row["se_rel"])))
        realized.append(effects[0] >= TARGET)
    return np.array(stated), np.array(realized, dtype=float)


def table(name: str, stated: np.ndarray, realized: np.ndarray) -> None:
    print(f"\n{name}: ECE {ece(stated, realized):.3f} (chance alone: {tolerance(stated):.3f})")
    print("| stated | statements | mean stated | realized |")
    print("|---|---|---|---|")
    index = np.minimum((stated * 10).astype(int), 9)
    for b in range(10):
        inside = index == b
        if inside.any():
            print(f"| {b / 10:.1f}–{(b + 1) / 10:.1f} | {inside.sum()} | "
                  f"{stated[inside].mean():.3f} | {realized[inside].mean():.3f} |")  # fmt: skip


def sequential() -> None:
    """Any-look error of the sequential method, A/A and A/B, read every 50 units per arm."""
    from tests.stats.test_experiments_sequential import SIMS, any_look

    print(f"\n| units | control rate | treatment rate | relative | absolute |  ({SIMS} runs)")
    print("|---|---|---|---|---|")
    for total, p0, p1, seed in ((2000, 0.05, 0.05, 101), (2000, 0.02, 0.02, 102),
                                (5000, 0.02, 0.02, 104), (2000, 0.05, 0.07, 103)):  # fmt: skip
        relative, absolute = any_look(total, p0, p1, seed)
        print(f"| {total:,} | {p0} | {p1} | {relative:.4f} | {absolute:.4f} |")


def workspace(workspaces: int = 100) -> None:
    """Shifted effects N(+0.5 %, 1 %): the default prior against one learned from 30 past
    experiments of the same kind, per simulated workspace."""
    from tests.monitors.test_impact_calibration import CRITERION, TARGET, experiment

    from mlpilot.monitors.impact import analyze
    from mlpilot.stats.effect_prior import fit_prior

    rng = np.random.default_rng(33)
    learned, default, realized = [], [], []
    for _ in range(workspaces):
        errors = np.exp(rng.uniform(np.log(0.005), np.log(0.05), 30))
        past = rng.normal(0.005, 0.01, 30) + errors * rng.standard_normal(30)
        prior = fit_prior(past, errors)
        for _ in range(30):
            effect = rng.normal(0.005, 0.01, 1)
            stats = experiment(rng, effect)
            for used, out in ((prior, learned), (None, default)):
                report = analyze({"kpi": stats}, list(stats), criteria=[CRITERION], prior=used)
                out.append(report["impact_probability"]["value"])
            realized.append(effect[0] >= TARGET)
    truth = np.array(realized, dtype=float)
    table("one arm, N(+0.5%, 1%), default prior", np.array(default), truth)
    table("one arm, N(+0.5%, 1%), workspace prior (30 past experiments)", np.array(learned), truth)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4000)
    parser.add_argument("--sequential", action="store_true", help="only the sequential table")
    parser.add_argument("--workspace", action="store_true", help="only the workspace prior")
    args = parser.parse_args()
    if args.sequential:
        sequential()
        return
    if args.workspace:
        workspace()
        return
    for name, draw in POPULATIONS.items():
        table(f"one arm, {name}, flat prior (before)", *flat(args.runs, draw, 31))
        table(f"one arm, {name}", *stated_and_realized(draw, 1, args.runs, seed=31))
        table(f"chosen of three arms, {name}", *stated_and_realized(draw, 3, args.runs, seed=32))


if __name__ == "__main__":
    main()
