"""Time gbstats 0.8.0 on sufficient statistics (runs in bench/.venvs/gbstats).

Reads ``--stats`` (JSON: a list of [control, treatment] pairs of {n, sum, sum_squares,
covariate_sum, covariate_sum_squares, covariate_cross_sum}) and writes, per test, the median
seconds of one ``compute_result()`` (construction included, as a caller would pay it) and the
results, so bench/experiments.py can check that both tools agree.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import arguments, finish
from gbstats.bayesian.tests import EffectBayesianABTest
from gbstats.frequentist.tests import SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import (
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)


def mean(arm: dict) -> SampleMeanStatistic:
    return SampleMeanStatistic(n=arm["n"], sum=arm["sum"], sum_squares=arm["sum_squares"])


def adjusted(arm: dict) -> RegressionAdjustedStatistic:
    pre = SampleMeanStatistic(
        n=arm["n"], sum=arm["covariate_sum"], sum_squares=arm["covariate_sum_squares"]
    )
    return RegressionAdjustedStatistic(
        n=arm["n"],
        post_statistic=mean(arm),
        pre_statistic=pre,
        post_pre_sum_of_products=arm["covariate_cross_sum"],
        theta=0,
    )


TESTS = {
    "frequentist": lambda a, b: TwoSidedTTest(mean(a), mean(b)).compute_result(),
    "bayesian": lambda a, b: EffectBayesianABTest(mean(a), mean(b)).compute_result(),
    "sequential": lambda a, b: SequentialTwoSidedTTest(mean(a), mean(b)).compute_result(),
    "cuped": lambda a, b: TwoSidedTTest(adjusted(a), adjusted(b)).compute_result(),
}


def main() -> None:
    args = arguments(("--stats", {"required": True}), ("--repeat", {"type": int, "default": 20}))
    pairs = json.loads(Path(args.stats).read_text())
    out: dict = {"seconds": {}, "results": {}}
    for name, test in TESTS.items():
        times, results = [], []
        for a, b in pairs:
            for _ in range(args.repeat):
                start = time.perf_counter()
                result = test(a, b)
                times.append(time.perf_counter() - start)
            results.append(
                {
                    "expected": result.expected,
                    "ci": list(result.ci),
                    "p_value": getattr(result, "p_value", None),
                    "chance_to_win": getattr(result, "chance_to_win", None),
                }
            )
        out["seconds"][name] = statistics.median(times)
        out["results"][name] = results
    finish(args.out, out)


if __name__ == "__main__":
    main()
