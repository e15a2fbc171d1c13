"""The calibration tables of docs/experiments.md: stated against realized impact probabilities.

Runs the seeded simulations of tests/monitors/test_impact_calibration.py with more experiments
and prints, per population, the expected calibration error and the table of bins.

    .venv/bin/python bench/impact_calibration.py [--runs 4000]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=4000)
    args = parser.parse_args()
    for name, draw in POPULATIONS.items():
        table(f"one arm, {name}, flat prior (before)", *flat(args.runs, draw, 31))
        table(f"one arm, {name}", *stated_and_realized(draw, 1, args.runs, seed=31))
        table(f"chosen of three arms, {name}", *stated_and_realized(draw, 3, args.runs, seed=32))


if __name__ == "__main__":
    main()
