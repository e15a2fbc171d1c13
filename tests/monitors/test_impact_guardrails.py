"""Guardrails as non-inferiority tests with a margin, judged by the posterior probability of
harm; no probability while the sample-ratio check fails; the sequential fallback."""

from __future__ import annotations

import math

import pytest
from scipy import integrate
from scipy.stats import norm

from mlpilot.monitors.impact import analyze
from mlpilot.monitors.impact_probability import SRM_NOTE
from mlpilot.stats.effect_prior import DEFAULT_PRIOR
from mlpilot.stats.experiments import ArmStats


def gaussian(n: int, mean: float, sd: float) -> ArmStats:
    """Sums of n values with exactly this mean and sample standard deviation."""
    return ArmStats(n, n * mean, (n - 1) * sd**2 + n * mean**2)


def criterion(*guardrails: str) -> dict:
    return {
        "metric": "kpi",
        "op": ">=",
        "target": 0.02,
        "effect": "relative",
        "guardrails": list(guardrails),
        "describe": "kpi >= +2.0% (relative effect)",
    }


def judged(cost: tuple[float, float], n: int, guardrail: str, **options) -> dict:  # type: ignore[no-untyped-def]
    arms = {
        "kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(20000, 11, 2)},
        "cost": {"a": gaussian(n, cost[0], 2), "b": gaussian(n, cost[1], 2)},
    }
    return analyze(arms, ["a", "b"], criteria=[criterion(guardrail)], **options)


def harm_by_quadrature(estimate: float, se: float, above: float) -> float:
    """P(effect > above | estimate) under the default prior, by numerical integration."""

    def joint(x: float) -> float:
        prior = sum(
            w * norm.pdf(x, 0, s)
            for s, w in zip(DEFAULT_PRIOR.scales, DEFAULT_PRIOR.weights, strict=True)
        )
        return prior * norm.pdf(estimate, x, se)

    total = sum(integrate.quad(joint, a, b, limit=200)[0] for a, b in ((-1, above), (above, 1)))
    return integrate.quad(joint, above, 1, limit=200)[0] / total


def test_a_likely_harm_fails_even_when_it_is_not_significant():
    """Cost up 2 % with a 95 % interval that includes 0: the old rule (significance) passed it;
    harm beyond a margin of 0 is likely, so the guardrail fails."""
    report = judged((5.0, 5.1), 2000, "cost:lower")
    row = next(r for r in report["results"] if r["metric"] == "cost")
    assert row["effect_rel_ci"][0] < 0 < row["effect_rel_ci"][1]
    (guard,) = report["guardrails"]
    assert guard["probability_harm"] == pytest.approx(
        harm_by_quadrature(row["likelihood"]["effect_rel"], row["likelihood"]["se_rel"], 0.0),
        abs=1e-7,
    )
    assert guard["probability_harm"] > 0.5
    assert guard["probability_kind"] == "posterior probability"
    assert (guard["verdict"], report["verdict"]) == ("fail", "fail")
    assert "guardrail cost degrades" in report["reason"]


def test_a_margin_makes_non_inferiority_demonstrable():
    flat = judged((5.0, 5.0), 20000, "cost:lower:margin=0.01")
    assert flat["guardrails"][0]["verdict"] == "pass"
    assert flat["guardrails"][0]["probability_harm"] <= 0.025
    assert flat["verdict"] == "pass"
    # With no margin, "no rise at all" cannot be shown for a metric that did not move.
    strict = judged((5.0, 5.0), 20000, "cost:lower")
    assert strict["guardrails"][0]["verdict"] == "inconclusive"
    assert strict["verdict"] == "inconclusive"
    assert "not excluded" in strict["reason"]
    # A rise of 1 % against a margin of 1 %: neither likely nor excluded.
    edge = judged((5.0, 5.05), 20000, "cost:lower:margin=0.01")
    assert edge["guardrails"][0]["verdict"] == "inconclusive"
    assert 0.025 < edge["guardrails"][0]["probability_harm"] < 0.5


def test_a_higher_is_better_guardrail_is_harmed_by_a_fall():
    fall = judged((5.0, 4.8), 20000, "cost:higher:margin=0.01")
    assert fall["guardrails"][0]["verdict"] == "fail"
    assert fall["guardrails"][0]["direction"] == "higher"
    rise = judged((5.0, 5.2), 20000, "cost:higher:margin=0.01")
    assert rise["guardrails"][0]["verdict"] == "pass"


def test_no_probability_while_the_sample_ratio_check_fails():
    arms = {
        "kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(21000, 11, 2)},
        "cost": {"a": gaussian(20000, 5, 2), "b": gaussian(21000, 5, 2)},
    }
    report = analyze(arms, ["a", "b"], criteria=[criterion("cost:lower:margin=0.05")])
    assert report["srm"]
    assert report["verdict"] == "inconclusive"
    stated = report["impact_probability"]
    assert stated["value"] is None
    assert stated["note"] == SRM_NOTE
    kpi_entry = next(e for e in report["verdicts"] if e.get("role") == "kpi")
    assert kpi_entry["probability"] is None
    assert kpi_entry["probability_note"] == SRM_NOTE
    assert report["guardrails"][0]["probability_harm"] is None
    # The same data with the right planned split: a probability again.
    assert analyze(arms, ["a", "b"], criteria=[criterion()], split=[20, 21])["impact_probability"][
        "value"
    ] == pytest.approx(1.0, abs=1e-6)


def test_a_sequential_criterion_without_a_valid_relative_interval_is_judged_absolutely():
    conv = {"a": ArmStats(60, 2, 2, "proportion"), "b": ArmStats(60, 12, 12, "proportion")}
    report = analyze(
        {"kpi": conv}, ["a", "b"], criteria=[criterion()], method="sequential", split=[1, 1]
    )
    row = report["results"][0]
    assert row["effect_rel_ci"] == [None, None]
    assert row["note"] is not None
    entry = report["verdicts"][0]
    assert "absolute scale" in entry["reason"]
    low = row["effect_abs_ci"][0]
    assert (entry["verdict"] == "pass") == (low >= 0.02 * row["control_mean"])
    assert report["interval"]["kind"].startswith("confidence sequence")
    assert math.isclose(report["interval"]["level"], 0.95)
