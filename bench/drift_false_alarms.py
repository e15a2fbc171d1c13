"""The measured false-alarm table of drift's default check (docs/drift.md), beside the old rule.

The same seeded simulation as tests/stats/test_drift_false_alarms.py, with more replicates:
both samples from one distribution, one column judged at a time, the share of replicates in
which it drifted (with its Monte Carlo standard error). For the categorical cells the old rule
(before issue 14: JS >= 0.1 above 1,000 values, the chi-square test of the reference's
categories plus one unseen bin at or below) is applied to the same counts.

    python bench/drift_false_alarms.py [--reps 2000]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.stats.test_drift_false_alarms import (  # noqa: E402
    POISSON,
    SIZES,
    ZERO_INFLATED,
    categorical,
    continuous,
    discrete,
    shares,
)

from mlpilot.monitors.drift_verdict import judge_column  # noqa: E402
from mlpilot.stats.drift import js_distance  # noqa: E402

SEED = 1_400_000


def old_rule(reference: tuple[int, ...], current: tuple[int, ...], n: int, m: int) -> bool:
    if n > 1_000 or m > 1_000:
        return js_distance(reference, current) >= 0.1
    from scipy.stats import chi2_contingency

    table = np.array([reference, current], float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return False
    return bool(chi2_contingency(table, correction=False).pvalue < 0.05)


def rate(draw, reps: int, seed: int, old: bool = False) -> tuple[float, float | None]:
    rng = np.random.default_rng(seed)
    new_alarms = old_alarms = 0
    for _ in range(reps):
        profile, histogram = draw(rng)
        new_alarms += judge_column(profile, histogram).drifted
        if old:
            old_alarms += old_rule(profile.bins, histogram.bins, profile.count, histogram.count)
    return new_alarms / reps, (old_alarms / reps if old else None)


def cell(value: float, reps: int) -> str:
    se = math.sqrt(max(value * (1 - value), 1e-12) / reps)
    return f"{value:.3f} ± {se:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2_000)
    reps = parser.parse_args().reps
    started = time.perf_counter()
    print("| column | rows (each sample) | alarm rate | old rule |")
    print("|---|---:|---:|---:|")
    for k in (2, 200, 10_000):
        for shape in ("uniform", "zipf"):
            for n in SIZES:
                count = reps
                seed = SEED + n + k + len(shape)  # not the test suite's seeds
                new, old = rate(categorical(n, n, shares(k, shape)), count, seed, old=True)
                assert old is not None
                print(f"| categorical, {k:,} {shape} | {n:,} | {cell(new, count)} | "
                      f"{cell(old, count)} |", flush=True)  # fmt: skip
    for n in SIZES:
        for ratio, label in ((1, "same size"), (10, "current 10×"), (0.1, "reference 10×")):
            m = max(int(n * ratio), 1_000)
            new, _ = rate(continuous(n, m), reps, SEED + n + m)
            print(f"| continuous (any: normal, lognormal, Pareto, Cauchy), {label} | {n:,} | "
                  f"{cell(new, reps)} | |", flush=True)  # fmt: skip
    for name, p in (("Poisson(3)", POISSON), ("zero-inflated (94 % zeros)", ZERO_INFLATED)):
        for n in SIZES:
            new, _ = rate(discrete(n, n, p), reps, SEED + n + p.size)
            print(f"| {name} | {n:,} | {cell(new, reps)} | |", flush=True)
    print(f"\n{reps} replicates a cell; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
