"""Impact verdicts against the criteria snapshot, SRM, corrections, and the stored round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest

import mlpilot
from mlpilot.engine.experiments import MetricDef
from mlpilot.errors import AlreadyExistsError, NotFoundError, ValidationError
from mlpilot.monitors.impact import analyze, latest_verdict
from mlpilot.stats.experiments import ArmStats


def gaussian(n: int, mean: float, sd: float) -> ArmStats:
    """Sums of n values with exactly this mean and sample standard deviation."""
    return ArmStats(n, n * mean, (n - 1) * sd**2 + n * mean**2)


def kpi(target: float = 0.02, op: str = ">=", guardrails: tuple[str, ...] = ()) -> dict:
    return {
        "metric": "kpi",
        "op": op,
        "target": target,
        "effect": "relative",
        "guardrails": list(guardrails),
        "describe": f"kpi {op} {target}",
    }


def report(arms, criteria, **kwargs):  # type: ignore[no-untyped-def]
    variants = list(next(iter(arms.values())))
    return analyze(arms, variants, criteria=criteria, **kwargs)


def test_pass_fail_inconclusive():
    big = {"kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(20000, 11, 2)}}
    assert report(big, [kpi()])["verdict"] == "pass"
    flat = {"kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(20000, 10, 2)}}
    result = report(flat, [kpi()])
    assert result["verdict"] == "fail"
    assert "falls short" in result["reason"]
    small = {"kpi": {"a": gaussian(300, 10, 2), "b": gaussian(300, 10.3, 2)}}
    result = report(small, [kpi()])
    assert result["verdict"] == "inconclusive"
    assert result["results"][0]["verdict"] == "inconclusive"
    assert result["results"][0]["role"] == "kpi"
    assert result["verdicts"][0]["more_units"] > 0


def test_more_units_would_decide():
    """At the suggested size, with the same means and spreads, the verdict is no longer open."""
    a, b = (10, 2), (10.4, 2)
    small = report({"kpi": {"a": gaussian(400, *a), "b": gaussian(400, *b)}}, [kpi()])
    more = small["verdicts"][0]["more_units"]
    n = (800 + more) // 2 + 1
    bigger = report({"kpi": {"a": gaussian(n, *a), "b": gaussian(n, *b)}}, [kpi()])
    assert bigger["verdict"] == "pass"
    # With 80 % power, not certainty: a quarter of the suggestion is not yet enough.
    n = (800 + more // 4) // 2
    assert (
        report({"kpi": {"a": gaussian(n, *a), "b": gaussian(n, *b)}}, [kpi()])["verdict"]
        == "inconclusive"
    )


def test_a_degrading_guardrail_fails_the_treatment():
    arms = {
        "kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(20000, 11, 2)},
        "cost": {"a": gaussian(20000, 5, 1), "b": gaussian(20000, 5.5, 1)},
    }
    result = report(arms, [kpi(guardrails=("cost:lower",))])
    assert result["verdict"] == "fail"
    assert "guardrail cost degrades" in result["reason"]
    cost_row = next(r for r in result["results"] if r["metric"] == "cost")
    assert cost_row["role"] == "guardrail"
    assert cost_row["verdict"] == "fail"
    assert cost_row["direction"] == "lower"
    # The direction may come from the metric's declaration instead (a legacy guardrail name).
    metrics = [MetricDef("cost", higher_is_better=False)]
    assert report(arms, [kpi(guardrails=("cost",))], metrics=metrics)["verdict"] == "fail"
    # The same rise is no harm when higher is better.
    assert report(arms, [kpi(guardrails=("cost:higher",))])["verdict"] == "pass"
    # Nothing assumes a direction: a guardrail without one cannot pass.
    unknown = report(arms, [kpi(guardrails=("cost",))])
    assert unknown["verdict"] == "inconclusive"
    assert "cost has no direction" in unknown["reason"]


def test_lower_is_better_criterion_and_absolute_scale():
    arms = {"kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(20000, 9, 2)}}
    assert report(arms, [kpi(-0.05, "<=")])["verdict"] == "pass"
    absolute = dict(kpi(-2.0, "<="), effect="absolute")
    assert report(arms, [absolute])["verdict"] == "fail"


def test_sample_ratio_mismatch_makes_the_verdict_inconclusive():
    arms = {"kpi": {"a": gaussian(20000, 10, 2), "b": gaussian(21000, 11, 2)}}
    result = report(arms, [kpi()])
    assert result["srm"]
    assert result["srm_p_value"] < 0.001
    assert result["verdict"] == "inconclusive"
    assert "sample ratio" in result["reason"]
    assert not report(arms, [kpi()], split=[20, 21])["srm"]


def test_multiple_arms_and_corrections():
    arms = {
        m: {"a": gaussian(5000, 10, 2), "b": gaussian(5000, 10.1, 2), "c": gaussian(5000, 10, 2)}
        for m in ("kpi", "m2", "m3")
    }
    result = report(arms, None, correction="holm")
    assert len(result["results"]) == 6
    assert result["verdict"] is None
    raw = sorted(r["p_value"] for r in result["results"])
    adjusted = sorted(r["p_value_adjusted"] for r in result["results"])
    assert adjusted[0] == pytest.approx(min(1.0, raw[0] * 6))
    assert result["results"][0]["chance_to_win"] is None
    bayes = report(arms, None, method="bayesian")
    # No direction, no chance to win: the posterior is given, "winning" is not assumed.
    assert all(r["p_value"] is None and r["chance_to_win"] is None for r in bayes["results"])
    assert all(r["effect_rel_ci"][0] is not None for r in bayes["results"])
    metrics = [MetricDef(m, higher_is_better=m != "m3") for m in arms]
    bayes = report(arms, None, method="bayesian", metrics=metrics)
    assert all(0 < r["chance_to_win"] < 1 for r in bayes["results"])
    lower = {r["variant"]: r["chance_to_win"] for r in bayes["results"] if r["metric"] == "m3"}
    higher = {r["variant"]: r["chance_to_win"] for r in bayes["results"] if r["metric"] == "m2"}
    assert lower["b"] == pytest.approx(1 - higher["b"])  # m2 and m3 have the same data


def test_no_criteria_and_missing_statistics():
    arms = {"kpi": {"a": gaussian(100, 10, 2), "b": gaussian(100, 10, 2)}}
    result = report(arms, [])
    assert result["verdict"] == "inconclusive"
    assert "no impact criterion" in result["reason"]
    with pytest.raises(ValidationError, match="variant 'c'"):
        analyze(arms, ["a", "b", "c"])
    with pytest.raises(ValidationError, match="--cuped"):
        analyze(arms, ["a", "b"], cuped=True)


T0 = datetime(2026, 3, 2, tzinfo=UTC)


def _log(churn: mlpilot.Initiative, lift: float) -> None:
    units = [f"u{i}" for i in range(400)]
    variants = ["control" if i % 2 else "treatment" for i in range(400)]
    churn.log_exposures(
        pa.table(
            {
                "unit_id": units,
                "experiment": ["exp"] * 400,
                "variant": variants,
                "time": [T0] * 400,
            }
        )
    )
    value = [
        1.0 + (lift if v == "treatment" else 0.0) + (i % 7) / 10 for i, v in enumerate(variants)
    ]
    churn.log_metric_events(
        pa.table(
            {
                "unit_id": units,
                "metric": ["kpi"] * 400,
                "value": value,
                "time": [T0 + timedelta(days=1)] * 400,
            }
        )
    )


def test_experiment_round_trip_keeps_the_criteria_snapshot(ws: mlpilot.Workspace):
    churn = ws.create_initiative(
        "churn",
        name="Churn",
        problem="p",
        prediction_use="u",
        task="binary",
        shape="batch",
        baseline="b",
    )
    assert latest_verdict(ws, "churn") is None
    with pytest.raises(ValidationError, match="cost:lower"):
        churn.add_criterion("impact", "kpi", ">=", 0.05, guardrails=["cost"])
    churn.add_criterion("impact", "kpi", ">=", 0.05, guardrails=["cost:lower:margin=0.02"])
    with pytest.raises(ValidationError, match="has no direction"):
        churn.create_experiment("exp", variants=["control", "treatment"], metrics=["other"])
    with pytest.raises(ValidationError, match="lower is better"):
        churn.create_experiment("exp", variants=["control", "treatment"], metrics=["kpi:lower"])
    created = churn.create_experiment("exp", variants=["control", "treatment"], metrics=[])
    assert [(m["name"], m["higher_is_better"]) for m in created["metrics"]] == [
        ("kpi", True),
        ("cost", False),
    ]
    assert created["criteria"][0]["direction"] == "higher"
    assert created["criteria"][0]["guardrails"] == ["cost:lower:margin=0.02"]
    churn.add_criterion("impact", "kpi", ">=", 0.5)  # later goalposts do not apply
    assert len(churn.experiments()[0]["criteria"]) == 1
    with pytest.raises(AlreadyExistsError, match="exp"):
        churn.create_experiment("exp", variants=["control", "treatment"])
    with pytest.raises(NotFoundError, match="no experiment"):
        churn.analyze_experiment("nope")
    with pytest.raises(ValidationError, match="no exposures"):
        churn.analyze_experiment("exp")
    _log(churn, 0.5)
    result = churn.analyze_experiment("exp")
    assert result["units"] == {"control": 200, "treatment": 200}
    assert result["verdict"] == "pass", result["reason"]
    latest = latest_verdict(ws, "churn")
    assert latest is not None
    assert latest["verdict"] == "pass"
    assert latest["experiment"] == "exp"
    assert 0.99 < latest["probability"] <= 1
    assert latest["probability_kind"] == "posterior probability"
    assert "default" in latest["prior"]
    assert churn.impact() == latest


def test_the_demo_experiment_has_a_pre_period_and_a_verdict(tmp_path):
    from mlpilot.demo_experiment import NAME, add_demo_experiment

    with mlpilot.Workspace.open(tmp_path / "demo") as ws:
        churn = ws.create_initiative(
            "churn",
            name="Churn",
            problem="p",
            prediction_use="u",
            task="binary",
            shape="batch",
            baseline="b",
        )
        churn.add_criterion(
            "impact", "retention_30d", ">=", 0.02, guardrails=["offer_cost_per_customer:lower"]
        )
        result = add_demo_experiment(churn, T0, units=3000)
        assert result["experiment"] == NAME
        assert result["verdict"] in {"pass", "fail", "inconclusive"}
        kpi_row = next(r for r in result["results"] if r["metric"] == "retention_30d")
        assert kpi_row["variance_reduction"] > 0  # the pre-period feeds CUPED
        assert churn.impact()["experiment"] == NAME
