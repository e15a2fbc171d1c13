"""Classification metrics from counts against scikit-learn on the rows the counts came from."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics
from sklearn.calibration import calibration_curve
from sklearn.exceptions import UndefinedMetricWarning

from mlpilot.stats.classification import (
    auc_tie_share,
    average_precision,
    brier,
    calibration,
    calibration_edges,
    lift,
    log_loss,
    multiclass_metrics,
    roc_auc,
    threshold_metrics,
)
from tests.stats import engine

EXACT = 1e-12  # relative, wherever the count-based result is mathematically exact


def close(actual, expected, rel=EXACT, abs_=1e-15):
    """Equal to ``rel``; NaN (undefined) only where NaN."""
    if math.isnan(expected):
        return math.isnan(actual)
    return math.isclose(actual, expected, rel_tol=rel, abs_tol=abs_)


def binary_rows(seed, n, kind="continuous"):
    """Labels and scores in [0, 1]: continuous, rounded (many ties) or on a coarse grid."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + 1.2 * (2 * y - 1))))
    if kind == "rounded":
        p = np.round(p, 2)
    elif kind == "coarse":
        p = rng.integers(0, 3, size=n) / 2  # 0.0, 0.5, 1.0 only
    return y, p


ROWS = [
    pytest.param(seed, n, kind, id=f"{kind}-n{n}-s{seed}")
    for kind in ("continuous", "rounded", "coarse")
    for seed, n in ((0, 10), (1, 101), (2, 1_000), (3, 50_000))
]


def with_both_classes(y):
    return 0 < y.sum() < y.size


# --- ROC AUC -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "n", "kind"), ROWS)
def test_roc_auc_equals_sklearn(seed, n, kind):
    y, p = binary_rows(seed, n, kind)
    assert with_both_classes(y)
    _, pos, neg = engine.score_counts(p, y)
    assert close(roc_auc(pos, neg), metrics.roc_auc_score(y, p))


@pytest.mark.parametrize(
    ("y", "p", "expected"),
    [
        pytest.param([0, 1], [0.3, 0.7], 1.0, id="one-row-each-separated"),
        pytest.param([1, 0], [0.3, 0.7], 0.0, id="one-row-each-reversed"),
        pytest.param([0, 1], [0.5, 0.5], 0.5, id="one-row-each-tied"),
        pytest.param([0, 1, 0, 1, 1], [0.2] * 5, 0.5, id="all-scores-equal"),
        pytest.param([0, 0, 0, 1, 1, 1], [0, 0, 1, 0, 1, 1], 2 / 3, id="two-scores"),
        pytest.param([0, 0, 1, 1], [0.0, 0.0, 1.0, 1.0], 1.0, id="scores-exactly-0-and-1"),
        pytest.param([1, 0, 1, 0], [0.0, 0.0, 1.0, 1.0], 0.5, id="0-and-1-uninformative"),
    ],
)
def test_roc_auc_adversarial(y, p, expected):
    _, pos, neg = engine.score_counts(p, y)
    assert close(roc_auc(pos, neg), expected)
    assert close(roc_auc(pos, neg), metrics.roc_auc_score(y, p))


@pytest.mark.parametrize("label", [0, 1])
def test_roc_auc_of_one_class_is_nan_as_sklearn_1_9(label):
    y, p = np.full(4, label), np.array([0.1, 0.4, 0.4, 0.9])
    _, pos, neg = engine.score_counts(p, y)
    assert math.isnan(roc_auc(pos, neg))
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(metrics.roc_auc_score(y, p))


def test_roc_auc_without_rows_is_nan():
    assert math.isnan(roc_auc([], []))
    assert math.isnan(auc_tie_share([], []))


def test_empty_score_cells_do_not_matter():
    """A grid cell with no rows (after merging batches on a shared grid) changes nothing."""
    pos, neg = [3, 0, 1, 0, 2], [1, 0, 2, 0, 0]
    packed_pos, packed_neg = [3, 1, 2], [1, 2, 0]
    assert roc_auc(pos, neg) == roc_auc(packed_pos, packed_neg)
    assert average_precision(pos, neg) == average_precision(packed_pos, packed_neg)
    assert auc_tie_share(pos, neg) == auc_tie_share(packed_pos, packed_neg)


def test_roc_auc_with_huge_counts_is_exact():
    """Counts of 10^8–10^9 per score: still within 1e-12 of the exact rational value."""
    rng = np.random.default_rng(7)
    pos = rng.integers(10**8, 10**9, size=200)
    neg = rng.integers(10**8, 10**9, size=200)
    below = np.concatenate([[0], np.cumsum(neg)[:-1]])
    twice_u = sum(int(p) * (2 * int(b) + int(n)) for p, b, n in zip(pos, below, neg, strict=True))
    exact = Fraction(twice_u, 2 * int(pos.sum()) * int(neg.sum()))
    assert close(roc_auc(pos, neg), float(exact))


@pytest.mark.parametrize(
    ("positives", "negatives", "message"),
    [
        ([1, 2], [1], "same distinct scores"),
        ([1, -1], [1, 1], "non-negative"),
        ([1, np.nan], [1, 1], "finite"),
        ([[1, 2]], [[1, 2]], "1-D"),
    ],
)
def test_score_counts_are_validated(positives, negatives, message):
    for function in (roc_auc, average_precision, auc_tie_share):
        with pytest.raises(ValueError, match=message):
            function(positives, negatives)


# --- tie share and the quantisation bound --------------------------------------------------------


def test_tie_share_counts_tied_pairs():
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, 2, size=300), rng.integers(0, 7, size=300) / 6
    _, pos, neg = engine.score_counts(p, y)
    tied = np.equal.outer(p[y == 1], p[y == 0])
    assert close(auc_tie_share(pos, neg), tied.mean())


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 400),
    cells=st.integers(1, 50),
)
def test_quantised_auc_stays_within_half_the_tie_share(seed, n, cells):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    p = rng.beta(2, 2, size=n) + 0.3 * y
    if not with_both_classes(y):
        return
    quantised = np.floor(p * cells) / cells  # a monotone rounding to a grid
    _, pos, neg = engine.score_counts(p, y)
    _, qpos, qneg = engine.score_counts(quantised, y)
    error = abs(roc_auc(pos, neg) - roc_auc(qpos, qneg))
    assert error <= auc_tie_share(qpos, qneg) / 2 + 1e-15


def test_quantile_grid_of_10_000_cells_keeps_auc_within_1e_4():
    """Cells at the positives' quantiles hold 1e-4 of the positives each: error <= 0.5e-4."""
    rng = np.random.default_rng(11)
    n = 60_000
    y = rng.integers(0, 2, size=n)
    p = 1 / (1 + np.exp(-(rng.normal(size=n) + 0.8 * y)))
    edges = np.quantile(p[y == 1], np.linspace(0, 1, 10_001)[1:-1])
    quantised = np.searchsorted(edges, p).astype(np.float64)  # cell index as the score
    _, pos, neg = engine.score_counts(p, y)
    _, qpos, qneg = engine.score_counts(quantised, y)
    share = auc_tie_share(qpos, qneg)
    assert share <= 2e-4
    assert abs(roc_auc(pos, neg) - roc_auc(qpos, qneg)) <= share / 2 <= 1e-4


# --- average precision ---------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "n", "kind"), ROWS)
def test_average_precision_equals_sklearn(seed, n, kind):
    y, p = binary_rows(seed, n, kind)
    _, pos, neg = engine.score_counts(p, y)
    assert close(average_precision(pos, neg), metrics.average_precision_score(y, p))


@pytest.mark.parametrize(
    ("y", "p"),
    [
        pytest.param([1], [0.5], id="one-positive-row"),
        pytest.param([1, 1, 1], [0.2, 0.5, 0.9], id="no-negatives"),
        pytest.param([0, 1, 0, 1, 1], [0.2] * 5, id="all-scores-equal"),
        pytest.param([0, 0, 1, 1, 0, 1], [0, 1, 0, 1, 1, 1], id="two-scores"),
        pytest.param([1, 0, 1, 0], [0.0, 0.0, 1.0, 1.0], id="scores-0-and-1"),
        pytest.param([0, 1], [0.7, 0.3], id="reversed"),
    ],
)
def test_average_precision_adversarial(y, p):
    _, pos, neg = engine.score_counts(p, y)
    assert close(average_precision(pos, neg), metrics.average_precision_score(y, p))


def test_average_precision_without_positives_is_nan_where_sklearn_says_zero():
    y, p = np.zeros(3, dtype=int), np.array([0.1, 0.5, 0.9])
    _, pos, neg = engine.score_counts(p, y)
    assert math.isnan(average_precision(pos, neg))
    with pytest.warns(UserWarning, match="No positive class"):
        assert metrics.average_precision_score(y, p) == 0.0
    assert math.isnan(average_precision([], []))


# --- metrics at a threshold ----------------------------------------------------------------------


def sklearn_threshold_metrics(y, yhat):
    """scikit-learn with zero_division=nan: an undefined ratio is NaN, never 0."""
    return {
        "precision": metrics.precision_score(y, yhat, zero_division=np.nan),
        "recall": metrics.recall_score(y, yhat, zero_division=np.nan),
        "f1": metrics.f1_score(y, yhat, zero_division=np.nan),
        "accuracy": metrics.accuracy_score(y, yhat),
        "specificity": metrics.recall_score(1 - y, 1 - yhat, zero_division=np.nan),
    }


@pytest.mark.parametrize("threshold", [-0.1, 0.0, 0.25, 0.5, 0.5000001, 0.9, 1.0, 1.1])
@pytest.mark.parametrize(("seed", "n"), [(0, 1), (1, 7), (2, 500), (3, 20_000)])
def test_threshold_metrics_equal_sklearn(seed, n, threshold):
    y, p = binary_rows(seed, n, "rounded")
    yhat = (p >= threshold).astype(int)
    ours = threshold_metrics(*engine.confusion_counts(y, yhat))
    theirs = sklearn_threshold_metrics(y, yhat)
    assert ours.keys() == theirs.keys()
    assert all(close(ours[key], theirs[key]) for key in ours), (ours, theirs)


@pytest.mark.parametrize(
    ("y", "yhat"),
    [
        pytest.param([0, 0, 0], [0, 0, 0], id="only-true-negatives"),
        pytest.param([1, 1], [1, 1], id="only-true-positives"),
        pytest.param([0, 0], [1, 1], id="only-false-positives"),
        pytest.param([1, 1], [0, 0], id="only-false-negatives"),
        pytest.param([1], [0], id="one-row"),
    ],
)
def test_threshold_metrics_zero_division_is_undefined(y, yhat):
    y, yhat = np.array(y), np.array(yhat)
    ours = threshold_metrics(*engine.confusion_counts(y, yhat))
    assert ours == pytest.approx(sklearn_threshold_metrics(y, yhat), rel=EXACT, abs=0, nan_ok=True)


def test_threshold_metrics_without_positives_leave_recall_undefined_not_zero():
    # Issue 14: a window with no positive labels reported recall 0.0.
    result = threshold_metrics(tp=0, fp=3, fn=0, tn=7)
    assert math.isnan(result["recall"])
    assert result["precision"] == 0.0
    assert result["specificity"] == 0.7


def test_threshold_metrics_without_rows():
    result = threshold_metrics(0, 0, 0, 0)
    assert all(math.isnan(value) for value in result.values())


@pytest.mark.parametrize(
    ("counts", "expected"),
    [((5, 5, 5, 85), 5.0), ((0, 10, 10, 80), 0.0), ((0, 0, 10, 90), math.nan),
     ((5, 5, 0, 90), 10.0), ((0, 5, 0, 95), math.nan), ((0, 0, 0, 0), math.nan)],
)  # fmt: skip
def test_lift_is_precision_over_the_share_of_positives(counts, expected):
    got = lift(*counts)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_threshold_metrics_reject_negative_counts():
    with pytest.raises(ValueError, match="fn must be a finite, non-negative count"):
        threshold_metrics(1, 2, -1, 3)


# --- log loss and Brier score --------------------------------------------------------------------


EDGE_PROBABILITIES = np.array(
    [
        *(0.0, 5e-324, 1e-300, 1e-20, 1e-17, 1.1e-16, 2.2e-16, 3.3e-16, 1e-10, 0.5),
        *(1 - 1e-10, 1 - 3.3e-16, 1 - 2.2e-16, 1 - 1.1e-16, np.nextafter(1.0, 0.0), 1.0),
    ]
)


def probability_rows(seed, n):
    y, p = binary_rows(seed, n)
    rng = np.random.default_rng(seed)
    y_edge = rng.integers(0, 2, size=EDGE_PROBABILITIES.size * 2)
    return np.concatenate([y, y_edge]), np.concatenate([p, EDGE_PROBABILITIES, EDGE_PROBABILITIES])


@pytest.mark.parametrize(("seed", "n"), [(0, 1), (1, 10), (2, 1_000), (3, 100_000)])
def test_log_loss_equals_sklearn(seed, n):
    y, p = probability_rows(seed, n)
    terms = engine.log_loss_terms(y, p)
    assert close(log_loss(float(terms.sum()), y.size), metrics.log_loss(y, p))


def test_log_loss_clips_at_float64_eps():
    """p = 0 for a positive, and p = 1 for a negative, cost -ln(eps) = 36.04 each, as sklearn."""
    y, p = np.array([1, 0]), np.array([0.0, 1.0])
    terms = engine.log_loss_terms(y, p)
    assert terms.tolist() == [-math.log(2.220446049250313e-16)] * 2
    assert close(log_loss(float(terms.sum()), 2), metrics.log_loss(y, p))


def test_log_loss_clip_of_one_minus_p_equals_one_minus_clip_of_p():
    """The docstring's alternative form for y = 0 gives the same float64 terms."""
    eps = np.finfo(np.float64).eps
    p = np.concatenate(
        [EDGE_PROBABILITIES, np.random.default_rng(0).random(10_000), np.linspace(0, 1e-15, 1001)]
    )
    p = np.concatenate([p, 1 - p])
    direct = np.clip(1 - p, eps, 1 - eps)
    alternative = 1 - np.clip(p, eps, 1 - eps)
    assert np.array_equal(-np.log(direct), -np.log(alternative))


@pytest.mark.parametrize("label", [0, 1])
def test_log_loss_of_one_class(label):
    y, p = np.full(5, label), np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    terms = engine.log_loss_terms(y, p)
    assert close(log_loss(float(terms.sum()), 5), metrics.log_loss(y, p, labels=[0, 1]))


@pytest.mark.parametrize(("seed", "n"), [(0, 1), (1, 10), (2, 1_000), (3, 100_000)])
def test_brier_equals_sklearn(seed, n):
    y, p = probability_rows(seed, n)
    terms = engine.brier_terms(y, p)
    assert close(brier(float(terms.sum()), y.size), metrics.brier_score_loss(y, p))
    # (y - p)² is as good on ordinary rows:
    plain = float(np.sum((y - p) ** 2))
    assert close(brier(plain, y.size), metrics.brier_score_loss(y, p))


def test_brier_plain_squared_error_differs_from_sklearn_only_in_rounding():
    """Tiny p with y = 0 everywhere: sklearn rounds 1 - p, the plain form does not."""
    y, p = np.zeros(4, dtype=int), np.array([1e-10, 3e-10, 7e-9, 2e-12])
    sklearn_value = metrics.brier_score_loss(y, p, labels=[0, 1])
    two_column = brier(float(engine.brier_terms(y, p).sum()), 4)
    plain = brier(float(np.sum(p**2)), 4)
    assert close(two_column, sklearn_value)
    assert abs(plain - sklearn_value) <= 1.2e-16 * p.max()  # the documented bound per row
    assert not close(plain, sklearn_value, abs_=0)  # 4e-9 apart, relatively


def test_means_without_rows_are_nan_and_negative_n_is_refused():
    assert math.isnan(log_loss(0.0, 0))
    assert math.isnan(brier(0.0, 0))
    with pytest.raises(ValueError, match="non-negative row count"):
        log_loss(1.0, -1)
    with pytest.raises(ValueError, match="non-negative row count"):
        brier(1.0, -1)


# --- calibration ---------------------------------------------------------------------------------


ON_THE_EDGES = np.concatenate(
    [
        calibration_edges(),  # 0.0, 0.1, 0.2, 0.30000000000000004, …, 1.0
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],  # the decimal literals
        np.nextafter(calibration_edges(), 2.0)[:-1],
        np.nextafter(calibration_edges(), -1.0)[1:],
    ]
)


def assert_calibration_matches(y, p):
    bins = calibration(*engine.calibration_sums(y, p))
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="uniform")
    filled = [b for b in bins if b["count"] > 0]
    assert len(filled) == prob_true.size
    for b, rate, mean in zip(filled, prob_true, prob_pred, strict=True):
        assert close(b["observed_rate"], rate)
        assert close(b["mean_score"], mean)
    assert all(
        b["mean_score"] is None and b["observed_rate"] is None for b in bins if not b["count"]
    )
    assert sum(b["count"] for b in bins) == len(p)


@pytest.mark.parametrize(("seed", "n"), [(0, 2), (1, 50), (2, 5_000), (3, 100_000)])
def test_calibration_equals_sklearn(seed, n):
    y, p = binary_rows(seed, n, "rounded")
    assert_calibration_matches(y, p)


def test_calibration_edges_assign_boundaries_like_sklearn():
    rng = np.random.default_rng(5)
    p = np.repeat(ON_THE_EDGES, 3)
    y = rng.integers(0, 2, size=p.size)
    assert_calibration_matches(y, p)
    # Each boundary value on its own lands where sklearn's searchsorted puts it.
    sklearn_bins = np.searchsorted(np.linspace(0, 1, 11)[1:-1], ON_THE_EDGES)
    assert engine.calibration_bin(ON_THE_EDGES).tolist() == sklearn_bins.tolist()


def test_calibration_bins_are_not_floor_of_ten_p():
    """The documented trap: floor(10 p) puts 0.1 and 0.7 one bin too high, and 1.0 in bin 10."""
    p = np.array([0.0, 0.1, 0.7, 1.0])
    assert engine.calibration_bin(p).tolist() == [0, 0, 6, 9]
    assert np.floor(10 * p).astype(int).tolist() == [0, 1, 7, 10]


@pytest.mark.parametrize("label", [0, 1])
def test_calibration_of_one_class_and_one_row(label):
    assert_calibration_matches(np.full(3, label), np.array([0.0, 0.55, 1.0]))
    assert_calibration_matches(np.array([label]), np.array([0.42]))


def test_calibration_keeps_empty_bins_and_checks_shapes():
    bins = calibration([0, 2], [0.0, 1.5], [0, 1])
    assert bins == [
        {"count": 0.0, "mean_score": None, "observed_rate": None},
        {"count": 2.0, "mean_score": 0.75, "observed_rate": 0.5},
    ]
    with pytest.raises(ValueError, match="one entry per bin"):
        calibration([1, 2], [0.5], [1, 1])
    with pytest.raises(ValueError, match="at least 1"):
        calibration_edges(0)


# --- multiclass ----------------------------------------------------------------------------------


def assert_multiclass_matches(y, yhat, label_set=None):
    ours = multiclass_metrics(engine.confusion_matrix(y, yhat, label_set))
    assert close(ours["accuracy"], metrics.accuracy_score(y, yhat))
    assert close(ours["macro_f1"], metrics.f1_score(y, yhat, average="macro", zero_division=0))


@pytest.mark.parametrize(
    ("seed", "n", "k"), [(0, 1, 3), (1, 30, 4), (2, 2_000, 7), (3, 50_000, 12)]
)
def test_multiclass_equals_sklearn(seed, n, k):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, size=n)
    yhat = np.where(rng.random(n) < 0.6, y, rng.integers(0, k, size=n))
    assert_multiclass_matches(y, yhat)


@pytest.mark.parametrize(
    ("y", "yhat"),
    [
        pytest.param([0, 1, 2], [0, 1, 2], id="perfect"),
        pytest.param([0, 0, 0], [1, 2, 1], id="all-wrong"),
        pytest.param([0, 1, 1], [0, 1, 3], id="label-only-predicted"),
        pytest.param([0, 1, 5], [0, 1, 1], id="label-only-true"),
        pytest.param([2, 2], [2, 2], id="one-class"),
    ],
)
def test_multiclass_adversarial(y, yhat):
    assert_multiclass_matches(np.array(y), np.array(yhat))


def test_multiclass_ignores_classes_seen_in_neither():
    """The engine may pass a fixed label set; unseen classes are not averaged in as zeros."""
    y, yhat = np.array([0, 1, 1, 3]), np.array([0, 1, 3, 3])
    assert_multiclass_matches(y, yhat, label_set=[0, 1, 2, 3, 4])


def test_multiclass_without_rows_and_bad_shapes():
    result = multiclass_metrics(np.zeros((3, 3)))
    assert math.isnan(result["accuracy"])
    assert math.isnan(result["macro_f1"])
    with pytest.raises(ValueError, match="square"):
        multiclass_metrics(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        multiclass_metrics([[1, -1], [0, 1]])


# --- invariance: row order and batches -----------------------------------------------------------


rows = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.1, 0.3, 0.30000000000000004, 0.5, 0.7, 0.99, 1.0]), st.booleans()
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(rows=rows, data=st.data())
def test_metrics_do_not_depend_on_row_order_or_batches(rows, data):
    p = np.array([score for score, _ in rows])
    y = np.array([int(label) for _, label in rows])
    order = np.array(data.draw(st.permutations(range(len(rows)))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    batches = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(rows)], strict=True)]

    _, pos, neg = engine.score_counts(p, y)
    _, mpos, mneg = engine.merge_score_counts([engine.score_counts(p[b], y[b]) for b in batches])
    for metric in (roc_auc, average_precision, auc_tie_share):
        whole, merged = metric(pos, neg), metric(mpos, mneg)
        assert (math.isnan(whole) and math.isnan(merged)) or whole == merged

    # Sums of per-row terms: equal up to the order of floating-point additions.
    n = len(rows)
    for function, terms in ((log_loss, engine.log_loss_terms), (brier, engine.brier_terms)):
        whole = function(float(terms(y, p).sum()), n)
        merged = function(sum(float(terms(y[b], p[b]).sum()) for b in batches), n)
        assert close(whole, merged)

    yhat = (p >= 0.5).astype(int)
    confusion = [engine.confusion_counts(y[b], yhat[b]) for b in batches]
    assert threshold_metrics(*np.sum(confusion, axis=0).tolist()) == threshold_metrics(
        *engine.confusion_counts(y, yhat)
    )

    sums = [engine.calibration_sums(y[b], p[b]) for b in batches]
    merged_bins = calibration(*(np.sum([s[i] for s in sums], axis=0) for i in range(3)))
    for a, b in zip(calibration(*engine.calibration_sums(y, p)), merged_bins, strict=True):
        assert a["count"] == b["count"]
        for key in ("mean_score", "observed_rate"):
            assert (a[key] is None and b[key] is None) or close(a[key], b[key])

    labels = [0, 1, 2]
    three = (p * 3).astype(int).clip(0, 2)
    matrices = [engine.confusion_matrix(y[b] + three[b] % 2, three[b], labels) for b in batches]
    whole = multiclass_metrics(engine.confusion_matrix(y + three % 2, three, labels))
    assert multiclass_metrics(np.sum(matrices, axis=0)) == whole


@settings(max_examples=80, deadline=None)
@given(rows=rows)
def test_count_metrics_equal_sklearn_on_any_rows(rows):
    p = np.array([score for score, _ in rows])
    y = np.array([int(label) for _, label in rows])
    _, pos, neg = engine.score_counts(p, y)
    if with_both_classes(y):
        assert close(roc_auc(pos, neg), metrics.roc_auc_score(y, p))
    if y.sum() > 0:
        assert close(average_precision(pos, neg), metrics.average_precision_score(y, p))
