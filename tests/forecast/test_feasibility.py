"""Feasibility evidence: evaluations recorded, assessed per model criterion, uncertainty kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import mlpilot
from mlpilot.errors import NotFoundError, ValidationError
from mlpilot.forecast.evaluate import decode
from mlpilot.forecast.uncertainty import summarise
from mlpilot.stats.learning_curve import pow3
from mlpilot.store.evaluations import UncertaintyRecord

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def churn(tmp_path):
    ws = mlpilot.Workspace.open(tmp_path / "ws")
    initiative = ws.create_initiative(
        "churn", name="Churn", problem="p", prediction_use="u", task="binary", shape="batch",
        baseline="usage rule", baseline_value=0.41, baseline_metric="recall", started=T0,
    )  # fmt: skip
    initiative.add_criterion("model", "recall", ">=", 0.6, at="precision>=0.5", threshold=0.5)
    initiative.add_criterion("model", "roc_auc", ">=", 0.75)
    yield initiative
    ws.close()


def rows(n: int, separation: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    return {"y": y, "p": stats.norm.cdf(rng.normal(separation * y, 1.0) - 0.5)}


def test_an_evaluation_gives_estimate_interval_probability_and_margin(churn):
    data = rows(1500, 1.6, seed=1)
    churn.evaluate(data, name="gbm", at=T0 + timedelta(days=30))
    report = churn.feasibility()
    recall, auc = report["criteria"]
    assert auc["estimate"] == pytest.approx(roc_auc_score(data["y"], data["p"]))
    assert auc["low"] < auc["estimate"] < auc["high"]
    assert auc["probability_met"] > 0.999  # AUC ≈ 0.87, interval far above 0.75
    for row in (recall, auc):  # every number says what it is
        assert row["probability_kind"] == "posterior probability"
        assert (row["interval_kind"], row["level"]) == ("credible interval", 0.95)
        assert row["prior"]
    assert "Dirichlet" in recall["prior"]
    assert "uniform" in auc["prior"]
    assert recall["metric"] == "recall"
    assert recall["operating_point"] == "threshold 0.5"
    assert recall["baseline"]["margin"] == pytest.approx(recall["estimate"] - 0.41)
    assert 0 <= recall["baseline"]["probability_better"] <= 1
    assert recall["constraint"]["metric"] == "precision"
    assert "achievable at a threshold chosen afterwards" in str(recall["achievable_afterwards"])
    # One evaluation holds both: the joint keeps the posteriors and their dependence.
    assert report["method"].startswith("Gaussian copula")
    assert report["probability_kind"] == "posterior probability"
    assert (
        report["probability_all_met"]
        <= min(recall["probability_met"], auc["probability_met"]) + 0.005
    )  # Monte Carlo error of the copula


def test_a_weak_model_is_unlikely_to_meet_the_criterion(churn):
    churn.evaluate(rows(1500, 0.5, seed=2), name="weak")
    auc = churn.feasibility()["criteria"][1]
    assert auc["estimate"] < 0.7
    assert auc["probability_met"] < 0.01


def test_values_with_a_sample_size_give_a_beta_posterior(tmp_path):
    with mlpilot.Workspace.open(tmp_path / "v") as ws:
        churn = ws.create_initiative(
            "churn", name="Churn", problem="p", prediction_use="u", task="binary",
            shape="batch", baseline="usage rule",
        )  # fmt: skip
        churn.add_criterion("model", "recall", ">=", 0.6)
        churn.add_criterion("model", "precision", ">=", 0.5)
        churn.add_criterion("model", "roc_auc", ">=", 0.75)
        churn.evaluate(metrics={"roc_auc": 0.78, "recall": 0.7, "precision": 0.6}, n=600,
                       positives=150, name="v")  # fmt: skip
        recall, precision, auc = churn.feasibility()["criteria"]
    # Recall is a share of the 150 positives: 105 of them, Beta(105.5, 45.5).
    low, high = stats.beta.ppf([0.025, 0.975], 105.5, 45.5)
    assert (recall["low"], recall["high"]) == pytest.approx((low, high), rel=1e-9)
    assert recall["probability_met"] == pytest.approx(stats.beta.sf(0.6, 105.5, 45.5))
    # Precision's denominator (the rows predicted positive) is not known from a value.
    assert precision["probability_met"] is None
    assert precision["note"].startswith("insufficient evidence")
    assert 0.5 < auc["probability_met"] < 0.95


def test_a_learning_curve_extrapolates_to_the_planned_size(churn):
    churn.add_criterion("data", "rows", ">=", 64_000)
    for i, size in enumerate((1000, 2000, 4000, 8000, 16000)):
        auc = float(pow3(np.array([size]), 0.86, -2.5, 0.5)[0])
        churn.evaluate(metrics={"roc_auc": auc}, n=20_000, train_size=size, name=f"s{size}",
                       at=T0 + timedelta(days=i))  # fmt: skip
    curve = churn.feasibility()["criteria"][1]["learning_curve"]
    assert curve["regular"], curve["reason"]
    assert curve["planned_size"] == 64_000
    truth = float(pow3(np.array([64_000]), 0.86, -2.5, 0.5)[0])
    assert curve["low"] <= truth <= curve["high"]


def test_a_noisy_learning_curve_is_refused(churn):
    for i, (size, auc) in enumerate(
        zip((1000, 2000, 4000, 8000, 16000), (0.8, 0.7, 0.83, 0.72, 0.8), strict=True)
    ):
        churn.evaluate(metrics={"roc_auc": auc}, n=20_000, train_size=size, name=f"s{size}",
                       at=T0 + timedelta(days=i))  # fmt: skip
    curve = churn.feasibility()["criteria"][1]["learning_curve"]
    assert curve["regular"] is False
    assert curve["estimate"] is None


def test_every_evaluation_appends_the_model_uncertainty(churn):
    churn.evaluate(rows(800, 0.5, seed=3), name="first", at=T0 + timedelta(days=1))
    churn.evaluate(rows(800, 1.8, seed=4), name="second", at=T0 + timedelta(days=2))
    model = churn.uncertainty()["model"]
    assert [h["source"] for h in model["history"]] == ["feasibility: first", "feasibility: second"]
    assert model["trend"] == "up"
    assert churn.uncertainty()["impact"] is None


def test_scikit_learn_estimator_is_evaluated_on_its_dataset(churn):
    x, y = make_classification(n_samples=600, random_state=0)
    model = LogisticRegression().fit(x[:300], y[:300])
    evaluation = churn.evaluate(estimator=model, x=x[300:], y=y[300:], train_size=300)
    assert evaluation.source == "sklearn"
    expected = roc_auc_score(y[300:], model.predict_proba(x[300:])[:, 1])
    assert evaluation.metrics["roc_auc"] == pytest.approx(expected)


def test_bad_evaluations_are_refused_and_store_nothing(churn):
    with pytest.raises(ValidationError, match="exactly one"):
        churn.evaluate()
    with pytest.raises(ValidationError, match="sample size"):
        churn.evaluate(metrics={"recall": 0.5})
    with pytest.raises(ValidationError, match="no column 'label'"):
        churn.evaluate({"y": [0, 1], "p": [0.1, 0.9]}, label_column="label")
    with pytest.raises(ValidationError, match="0 or 1"):
        churn.evaluate({"y": [0, 2, 1], "p": [0.1, 0.9, 0.3]})
    with pytest.raises(ValidationError, match="outside the range"):
        churn.evaluate(metrics={"recall": 1.5}, n=100)
    with pytest.raises(ValidationError, match="mlflow"):
        churn.evaluate_mlflow("run-1", n=100)
    with pytest.raises(NotFoundError, match="no predictions file"):
        churn.evaluate("missing.csv")
    assert churn.evaluations() == []
    assert churn.uncertainty() == {"model": None, "impact": None}


def test_uncertainty_records_are_validated():
    from mlpilot.forecast.uncertainty import make_record

    with pytest.raises(ValidationError, match=r"\[0, 1\]"):
        make_record("impact", 1.5, "experiment", T0, {})
    with pytest.raises(ValidationError, match="kind"):
        make_record("cost", 0.5, "x", T0, {})


def test_summary_trend_follows_the_last_two_beliefs():
    def rec(day: int, p: float | None, kind: str = "impact") -> UncertaintyRecord:
        return UncertaintyRecord(T0 + timedelta(days=day), kind, p, f"s{day}")

    summary = summarise([rec(1, 0.5), rec(2, 0.8), rec(3, 0.79, "model")])
    assert summary["impact"]["probability"] == 0.8
    assert summary["impact"]["trend"] == "up"
    assert summary["model"]["trend"] is None  # one belief: no trend yet
    assert summarise([rec(1, 0.8), rec(2, 0.5)])["impact"]["trend"] == "down"
    assert summarise([rec(1, 0.5), rec(2, 0.51)])["impact"]["trend"] == "flat"


def test_the_store_round_trips_on_both_backends(ws):
    initiative = ws.create_initiative(
        "x", name="X", problem="p", prediction_use="u", task="regression", shape="batch",
        baseline="last year", baseline_value=0.2, baseline_metric="mape",
    )  # fmt: skip
    initiative.add_criterion("model", "mape", "<=", 0.15)
    rng = np.random.default_rng(5)
    actual = rng.lognormal(5, 0.3, 400)
    initiative.evaluate({"y": actual, "p": actual * (1 + rng.normal(0, 0.1, 400))}, name="m")
    initiative.record_uncertainty("impact", 0.4, "experiment ab-1: inconclusive")
    (stored,) = initiative.evaluations()
    assert stored.n == 400
    assert set(stored.metrics) == {"mae", "rmse", "mape", "r2"}
    mape = initiative.feasibility()["criteria"][0]
    assert mape["probability_met"] == 1.0  # MAPE ≈ 0.08
    assert mape["baseline"]["margin"] == pytest.approx(0.2 - mape["estimate"])
    summary = initiative.uncertainty()
    assert summary["impact"]["probability"] == 0.4
    assert summary["model"]["source"] == "feasibility: m"


def test_a_multiclass_evaluation_uses_the_predicted_classes(tmp_path):
    from sklearn.metrics import accuracy_score, f1_score

    with mlpilot.Workspace.open(tmp_path / "mc") as ws:
        routing = ws.create_initiative(
            "routing", name="R", problem="p", prediction_use="u", task="multiclass",
            shape="batch", baseline="keyword rules", baseline_value=0.62,
            baseline_metric="accuracy",
        )  # fmt: skip
        routing.add_criterion("model", "accuracy", ">=", 0.8)
        rng = np.random.default_rng(8)
        y = rng.choice(["billing", "tech", "sales"], 900)
        guess = np.where(rng.random(900) < 0.85, y, rng.choice(["billing", "tech", "sales"], 900))
        evaluation = routing.evaluate({"y": y, "p": guess}, name="bert")
        assert evaluation.metrics["accuracy"] == pytest.approx(accuracy_score(y, guess))
        assert evaluation.metrics["macro_f1"] == pytest.approx(f1_score(y, guess, average="macro"))
        accuracy = routing.feasibility()["criteria"][0]
        assert accuracy["baseline"]["margin"] == pytest.approx(accuracy["estimate"] - 0.62)
        assert accuracy["probability_met"] > 0.5  # ≈ 0.90 against 0.8


def test_the_monitor_probability_is_a_posterior_not_a_share_of_windows():
    """The issue's case: 5 of 14 windows met the criterion, the latest ones. The share of
    windows (36 %) is not the probability that the model meets it now."""
    from mlpilot.domain.criteria import make_criterion
    from mlpilot.forecast.uncertainty import monitor_probability

    def window(tp: int, fn: int) -> dict:
        counts = {"tp": tp, "fn": fn, "fp": 40, "tn": 160}
        metrics = {"recall": tp / (tp + fn)}
        return {"label_coverage": 1.0, "labeled": 250, "confusion": counts, "metrics": metrics}

    criterion = make_criterion(kind="model", metric="recall", op=">=", target=0.6, task="binary")
    windows = [window(20, 30)] * 9 + [window(40, 10)] * 5  # recall 0.4, then 0.8
    probability, details = monitor_probability({"window": "1d", "windows": windows}, [criterion])
    assert probability > 0.99  # the last five windows: 200 of 250 positives found
    assert details["probability_kind"] == "posterior probability"
    assert details["status"] == "ok"
    reversed_ = monitor_probability({"window": "1d", "windows": windows[::-1]}, [criterion])
    assert reversed_ is not None
    assert reversed_[0] < 0.01  # now failing: the latest windows weigh most
    assert reversed_[1]["status"] == "failing"
    few = [window(3, 2)]  # five positives: no number
    assert monitor_probability({"window": "1d", "windows": few}, [criterion]) is None


def test_the_status_summary_reads_the_workspace(churn):
    from mlpilot.forecast.uncertainty import describe, uncertainty_summary

    churn.record_uncertainty("impact", 0.3, "experiment offers-ab: inconclusive", at=T0)
    churn.record_uncertainty("impact", 0.7, "experiment offers-ab: ship", at=T0 + timedelta(1))
    summary = uncertainty_summary(churn.workspace, "churn")
    assert summary == churn.uncertainty()
    assert summary["impact"]["trend"] == "up"
    assert [h["probability"] for h in summary["impact"]["history"]] == [0.3, 0.7]
    line = describe(summary)
    # recorded by hand, without its kind: the line does not guess one
    assert line.startswith(
        "model: unknown (never recorded) · impact: probability (kind not stated) 70% ↑ "
        "(experiment offers-ab: ship, 2026-01-02)"
    )


@pytest.mark.parametrize(
    ("y", "p"),
    [
        ([0, 1, 1], [0.1, 0.8, 0.9]),  # three rows
        ([1, 1] + [0] * 98, [0.95, 0.9] + [0.5 * i / 98 for i in range(98)]),  # 2 positives in 100
    ],
)
def test_a_degenerate_sample_states_insufficient_evidence_not_certainty(churn, y, p):
    """Before: an AUC interval of [1, 1] and probability_met 1.0 for both samples."""
    churn.evaluate({"y": y, "p": p}, name="tiny")
    report = churn.feasibility()
    recall, auc = report["criteria"]
    assert auc["estimate"] == 1.0
    for row in (recall, auc):
        assert row["probability_met"] is None
        assert (row["low"], row["high"]) == (None, None)  # no interval that pretends certainty
        assert row["note"].startswith("insufficient evidence")
    assert "at least 10" in auc["note"]
    assert report["probability_all_met"] is None
    assert report["note"].startswith("no probability for recall >= 0.6")
    assert churn.uncertainty()["model"]["probability"] is None


def test_a_criterion_is_judged_at_its_declared_threshold(tmp_path):
    from sklearn.metrics import precision_score, recall_score

    with mlpilot.Workspace.open(tmp_path / "t") as ws:
        churn = ws.create_initiative(
            "churn", name="Churn", problem="p", prediction_use="u", task="binary",
            shape="batch", baseline="usage rule",
        )  # fmt: skip
        churn.add_criterion("model", "recall", ">=", 0.6, threshold=0.3)
        churn.add_criterion("model", "precision", ">=", 0.3, top=500, per="week")
        data = rows(2000, 1.2, seed=6)
        churn.evaluate(data, name="gbm")  # the evaluation's own threshold stays 0.5
        recall, capacity = churn.feasibility()["criteria"]
    flagged = (data["p"] >= 0.3).astype(int)
    assert recall["estimate"] == pytest.approx(recall_score(data["y"], flagged))
    assert recall["operating_point"] == "threshold 0.3"
    tp = int((flagged * data["y"]).sum())
    fn = int(data["y"].sum()) - tp
    assert recall["probability_met"] == pytest.approx(stats.beta.sf(0.6, tp + 0.5, fn + 0.5))
    assert precision_score(data["y"], flagged) != pytest.approx(recall["estimate"])
    assert capacity["probability_met"] is None
    assert capacity["note"].startswith("not evaluable offline: top 500 per week")


def test_a_random_model_does_not_meet_a_constrained_criterion(churn):
    """Before: ``recall 1.000 (met 0.6)`` beside ROC AUC 0.456, judged at the best threshold in
    hindsight. At its operating point a random model is unlikely to meet both conditions."""
    rng = np.random.default_rng(12)
    y = (rng.random(1500) < 0.3).astype(int)
    churn.evaluate({"y": y, "p": rng.random(1500)}, name="random")
    recall, auc = churn.feasibility()["criteria"]
    assert auc["estimate"] < 0.55
    assert recall["probability_met"] < 0.01  # precision ≈ 0.3 at any threshold, below 0.5
    assert recall["constraint"]["estimate"] < 0.4
    assert recall["achievable_afterwards"]["label"] == "achievable at a threshold chosen afterwards"


def test_a_case_control_sample_is_stratified_only_when_asked(churn):
    data = rows(1200, 1.2, seed=9)
    plain = churn.evaluate(data, name="random sample")
    stratified = churn.evaluate(data, name="case-control", stratified=True)
    assert plain.details["resampling"] == "iid"
    assert stratified.details["resampling"] == "stratified (case-control)"
    # Recall is conditional on the class: the same posterior either way. Precision is not.
    assert plain.details["intervals"]["recall"] == stratified.details["intervals"]["recall"]
    priors = [e.details["posteriors"]["precision"]["prior"] for e in (plain, stratified)]
    assert priors[0].startswith("Dirichlet")
    assert priors[1].startswith("Beta")
    # Fixing the class counts removes variance precision has in a random sample.
    spread = [decode(e.details["replicates"]["precision"]).std() for e in (plain, stratified)]
    assert spread[1] < spread[0]


def test_the_model_light_and_the_model_uncertainty_agree(tmp_path):
    """Before: "Can the model predict well enough? 36 %" (5 of 14 windows met) next to a green
    light. Both now come from one judgement of the model now."""
    from tests.monitors.test_model import create, log_days

    with mlpilot.Workspace.open(tmp_path / "m") as ws:
        churn = create(ws)
        churn.add_criterion("model", "roc_auc", ">=", 0.75)
        log_days(churn, [(40, 40, False, False)] * 9 + [(40, 40, True, False)] * 5)
        for phase in ("data-understanding", "data-preparation", "modeling", "evaluation",
                      "deployment"):  # fmt: skip
            churn.move_to(phase)
        light = churn.health()["model"]
        record = churn.assess_model_uncertainty()
    assert record is not None
    assert record.probability == pytest.approx(light["probability_all_met"])
    assert light["probability_kind"] == record.details["probability_kind"]
    assert record.probability > 0.8  # the last five windows: a good model now
    assert light["status"] == "ok"
    assert record.details["status"] == "ok"
    assert record.details["event"] == "every model criterion holds now"
    assert "model monitor" in record.source
