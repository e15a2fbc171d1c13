"""``monitors.drift``: each method, the corrections, defaults and verdicts, against scipy/numpy.

The expectations never reuse mlpilot: bins come from numpy on the rows (deciles by
``numpy.quantile``, ``searchsorted(side="right")``, categories by count then value plus one
unseen bin), statistics from scipy or the textbook formula on those bins.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from mlpilot.engine import drift as engine
from mlpilot.engine.columns import column_kinds
from mlpilot.errors import ValidationError
from mlpilot.monitors.drift import compare, windows
from tests.tables import Tables, shared

DECILES = np.arange(1, 10) / 10
NAN, INF = math.nan, math.inf
REL = 1e-12
COLUMN_KEYS = {"name", "type", "method", "statistic", "p_value", "threshold", "drifted"}


@pytest.fixture
def tables() -> Tables:
    return shared()


# --- the reference computations --------------------------------------------------------------


def values_of(frame: pa.Table, name: str) -> list:
    return frame[name].to_pylist()


def as_floats(values: list) -> np.ndarray:
    return np.array([NAN if v is None else float(v) for v in values], dtype=np.float64)


def text(value: object) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def expected_bins(reference: list, current: list, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """numpy's histograms of both samples on the reference's bins."""
    if kind == "numeric":
        r, c = as_floats(reference), as_floats(current)
        finite = r[np.isfinite(r)]
        edges = np.unique(np.quantile(finite, DECILES)) if finite.size else np.empty(0)

        def count(x: np.ndarray) -> np.ndarray:
            x = x[~np.isnan(x)]
            return np.bincount(np.searchsorted(edges, x, side="right"), minlength=edges.size + 1)

        return count(r), count(c)
    counted = Counter(text(v) for v in reference if v is not None)
    categories = sorted(counted, key=lambda k: (-counted[k], k))
    now = Counter(text(v) for v in current if v is not None)
    cur = [now[k] for k in categories]
    return (
        np.array([*(counted[k] for k in categories), 0]),
        np.array([*cur, sum(now.values()) - sum(cur)]),
    )


def floored(counts: np.ndarray) -> np.ndarray:
    share = counts / counts.sum()
    share = np.where(share == 0, 1e-4, share)
    return share / share.sum()


def expected(method: str, reference: list, current: list, kind: str) -> tuple[float, float | None]:
    """(statistic, p-value) of ``method`` computed by scipy / numpy from the rows."""
    if method in ("ks", "wasserstein"):
        a, b = as_floats(reference), as_floats(current)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if method == "ks":
            with warnings.catch_warnings():  # scipy warns where its exact path gives up
                warnings.simplefilter("ignore", RuntimeWarning)
                result = stats.ks_2samp(a, b)
            return float(result.statistic), float(result.pvalue)
        return stats.wasserstein_distance(a, b) / max(float(np.std(a)), 0.001), None
    r_counts, c_counts = expected_bins(reference, current, kind)
    if method == "chi2":
        contingency = np.vstack([r_counts, c_counts])
        contingency = contingency[:, contingency.sum(axis=0) > 0]
        if contingency.shape[1] < 2:
            return 0.0, 1.0
        result = stats.chi2_contingency(contingency, correction=False)
        return float(result.statistic), float(result.pvalue)
    r, c = floored(r_counts), floored(c_counts)
    if method == "psi":
        return float(np.sum((c - r) * np.log(c / r))), None
    if method == "js":
        return float(jensenshannon(r, c, base=2)), None
    assert method == "hellinger"
    return float(np.linalg.norm(np.sqrt(r) - np.sqrt(c)) / math.sqrt(2)), None


def close(actual: float | None, wanted: float | None, rel: float = REL) -> bool:
    if actual is None or wanted is None:
        return actual is wanted
    return math.isclose(actual, wanted, rel_tol=rel, abs_tol=1e-300)


# --- data ------------------------------------------------------------------------------------


def frames(seed: int, n_ref: int = 400, n_cur: int = 300) -> tuple[pa.Table, pa.Table]:
    """A reference and a shifted current sample: floats with NULL/NaN/±inf, ties, integers,
    text with categories unseen in the reference, booleans."""
    rng = np.random.default_rng(seed)

    def sample(n: int, shift: float, words: list[str], p: list[float]) -> pa.Table:
        x = rng.normal(shift, 1 + shift, n)
        x[rng.random(n) < 0.04] = NAN
        x[rng.random(n) < 0.02] = INF
        x[rng.random(n) < 0.02] = -INF
        return pa.table(
            {
                "x": pa.array(x, mask=rng.random(n) < 0.04),
                "ties": pa.array(rng.choice([0.0, 1.0, 1.0, 2.0, 5.0], n) + (shift > 0)),
                "i": pa.array(rng.integers(0, 20 + int(10 * shift), n), mask=rng.random(n) < 0.05),
                "s": pa.array(rng.choice(np.array(words, dtype=object), n, p=p)),
                "b": pa.array(rng.random(n) < 0.3 + shift / 4, mask=rng.random(n) < 0.05),
            }
        )

    reference = sample(n_ref, 0.0, ["a", "b", "c", "d"], [0.4, 0.3, 0.2, 0.1])
    current = sample(n_cur, 0.3, ["a", "b", "c", "new", "other"], [0.3, 0.3, 0.2, 0.15, 0.05])
    return reference, current


KINDS = {"x": "numeric", "ties": "numeric", "i": "numeric", "s": "categorical", "b": "categorical"}
NUMERIC = [name for name, kind in KINDS.items() if kind == "numeric"]


# --- each method against scipy ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["ks", "chi2", "psi", "js", "hellinger", "wasserstein"])
def test_each_method_matches_scipy(method, tables):
    reference, current = frames(1)
    names = NUMERIC if method in ("ks", "wasserstein") else list(KINDS)
    report = compare(tables(reference), tables(current), columns=names, method=method)
    assert [c.name for c in report.columns] == names
    for column in report.columns:
        wanted_stat, wanted_p = expected(
            method,
            values_of(reference, column.name),
            values_of(current, column.name),
            KINDS[column.name],
        )
        assert close(column.statistic, wanted_stat), (
            column.name,
            column.statistic,
            wanted_stat,
        )
        assert close(column.p_value, wanted_p), (column.name, column.p_value, wanted_p)
        assert (column.method, column.type) == (method, KINDS[column.name])
        assert column.statistic > 0


def test_counts_and_missing_are_reported(tables):
    reference, current = frames(2)
    report = compare(tables(reference), tables(current), method="psi")
    for column in report.columns:
        for side, frame in (("reference", reference), ("current", current)):
            values = values_of(frame, column.name)
            missing = sum(v is None or (isinstance(v, float) and math.isnan(v)) for v in values)
            assert getattr(column, f"n_{side}") == len(values) - missing
            assert getattr(column, f"missing_{side}") == missing


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "path"),
    [
        (300, 200, "exact"),
        (10_000, 800, "exact"),
        (10_001, 700, "asymptotic"),
        (2_000, 12_000, "asymptotic"),
    ],
)
def test_ks_pvalue_exact_up_to_10000_values_then_asymptotic(n_ref, n_cur, path, tables):
    rng = np.random.default_rng(n_ref + n_cur)
    a, b = rng.normal(size=n_ref), rng.normal(0.08, 1, n_cur)
    report = compare(tables(pa.table({"x": a})), tables(pa.table({"x": b})), method="ks")
    (column,) = report.columns
    result = stats.ks_2samp(a, b)
    assert close(column.statistic, float(result.statistic))
    assert close(column.p_value, float(result.pvalue))
    method = "exact" if path == "exact" else "asymp"
    assert close(column.p_value, float(stats.ks_2samp(a, b, method=method).pvalue))


def test_ks_pvalue_where_scipy_gives_up_on_exact(tables):
    # ties on tiny samples: ks_2samp's exact path fails and falls back (with a warning) to the
    # asymptotic one; compare() falls back silently to the same value
    a, b = [0.0, 0.0, 0.0, 0.25, 0.0], [0.0, 0.0, 0.25, 0.25, 0.0]
    report = compare(tables(pa.table({"x": a})), tables(pa.table({"x": b})), method="ks")
    with pytest.warns(RuntimeWarning, match="Exact calculation unsuccessful"):
        result = stats.ks_2samp(a, b)
    assert close(report.columns[0].p_value, float(result.pvalue))


def test_wasserstein_is_scaled_by_the_reference_std_at_least_0_001(tables):
    ref = pa.table({"c": [2.0] * 40, "x": np.linspace(0, 1, 40)})
    cur = pa.table(
        {"c": [2.0] * 20 + [2.5] * 20, "x": np.linspace(0.2, 1.3, 30).tolist() + [NAN] * 10}
    )
    report = compare(tables(ref), tables(cur), method="wasserstein")
    by_name = {c.name: c for c in report.columns}
    assert close(by_name["c"].statistic, 0.25 / 0.001)  # constant reference: std 0
    x = np.linspace(0, 1, 40)
    wanted = stats.wasserstein_distance(x, np.linspace(0.2, 1.3, 30)) / np.std(x)
    assert close(by_name["x"].statistic, wanted)
    assert all(c.drifted for c in report.columns)


def test_psi_bands(tables):
    rng = np.random.default_rng(3)
    ref = rng.normal(size=5000)
    current = {
        "same": rng.normal(size=5000),
        "bit": rng.normal(0.4, 1, 5000),
        "far": rng.normal(1, 1, 5000),
    }
    reference = tables(pa.table(dict.fromkeys(current, ref)))
    report = compare(reference, tables(pa.table(current)), method="psi")
    bands = {c.name: (c.band, c.drifted) for c in report.columns}
    assert bands == {
        "same": ("stable", False),
        "bit": ("moderate", False),
        "far": ("significant", True),
    }
    for column in report.columns:
        psi = column.statistic
        assert column.band == (
            "stable" if psi < 0.1 else "moderate" if psi < 0.25 else "significant"
        )
        assert column.threshold == 0.25


# --- corrections, thresholds, defaults, the dataset verdict ----------------------------------


def test_benjamini_hochberg_decides_the_p_value_columns(tables):
    rng = np.random.default_rng(0)  # raw p-values 0.82, 0.17, 0.0045, 0.035
    a = [rng.normal(size=80) for _ in range(4)]
    b = [rng.normal(shift, 1, 80) for shift in (0.0, 0.2, 0.3, 0.35)]
    reference = pa.table({f"c{k}": a[k] for k in range(4)})
    current = pa.table({f"c{k}": b[k] for k in range(4)})
    report = compare(tables(reference), tables(current))
    raw = np.array([stats.ks_2samp(x, y).pvalue for x, y in zip(a, b, strict=True)])
    adjusted = stats.false_discovery_control(raw)
    assert [c.method for c in report.columns] == ["ks"] * 4
    assert np.allclose([c.p_value for c in report.columns], raw, rtol=REL, atol=0)
    assert [c.drifted for c in report.columns] == list(adjusted < 0.05)
    # the correction matters here: c3 has p < 0.05 but an adjusted p >= 0.05
    assert raw[3] < 0.05 <= adjusted[3]
    assert not report.columns[3].drifted
    for column, p in zip(report.columns, adjusted, strict=True):
        assert column.note == f"adjusted p = {p:.4g}"


def test_the_correction_runs_over_the_p_value_columns_only(tables):
    rng = np.random.default_rng(0)
    a = [rng.normal(size=80) for _ in range(4)]
    b = [rng.normal(shift, 1, 80) for shift in (0.0, 0.2, 0.3, 0.35)]
    # c2 and c3 have 80 values among 1,500 rows (ks); "big" has 1,500 (js). Adjusted over the
    # two p-values, c3's 0.0345 stays below 0.05; counted as a third it would be 0.052.
    pad = [None] * 1420
    ref = pa.table({"c2": [*a[2], *pad], "c3": [*a[3], *pad], "big": rng.normal(size=1500)})
    cur = pa.table({"c2": [*b[2], *pad], "c3": [*b[3], *pad], "big": rng.normal(size=1500)})
    report = compare(tables(ref), tables(cur))
    assert [c.method for c in report.columns] == ["ks", "ks", "js"]
    raw = np.array([stats.ks_2samp(a[k], b[k]).pvalue for k in (2, 3)])
    adjusted = stats.false_discovery_control(raw)
    assert raw[1] * 3 / 2 >= 0.05 > adjusted[1]
    assert [c.drifted for c in report.columns[:2]] == [True, True]
    assert [c.note for c in report.columns[:2]] == [f"adjusted p = {p:.4g}" for p in adjusted]
    assert (report.columns[2].p_value, report.columns[2].note) == (None, None)


@pytest.mark.parametrize(
    ("n_ref", "n_cur", "numeric", "categorical"),
    [
        (1000, 1000, "ks", "chi2"),
        (1000, 1001, "js", "js"),
        (1001, 1000, "js", "js"),
        (1, 1, "ks", "chi2"),
    ],
)
def test_default_methods_by_sample_size(n_ref, n_cur, numeric, categorical, tables):
    rng = np.random.default_rng(4)

    def sample(n: int) -> pa.Table:
        return pa.table(
            {"x": rng.normal(size=n), "s": rng.choice(np.array(["a", "b"], dtype=object), n)}
        )

    report = compare(tables(sample(n_ref)), tables(sample(n_cur)))
    assert [c.method for c in report.columns] == [numeric, categorical]
    assert [c.threshold for c in report.columns] == [
        0.05 if numeric == "ks" else 0.1,
        0.05 if categorical == "chi2" else 0.1,
    ]


def test_default_method_counts_values_not_rows(tables):
    # 1,050 rows of which 60 are missing: 990 values, so the small-sample tests apply
    x = np.r_[np.arange(990.0), [NAN] * 60]
    s = [None] * 60 + ["a", "b"] * 495
    frame = pa.table({"x": x, "s": s})
    report = compare(tables(frame), tables(frame))
    assert [c.method for c in report.columns] == ["ks", "chi2"]
    assert [(c.n_reference, c.missing_reference) for c in report.columns] == [(990, 60)] * 2


@pytest.mark.parametrize(
    ("drifting", "undefined", "dataset_drift"),
    [(1, 0, False), (2, 0, True), (1, 2, True), (0, 4, False)],
)
def test_the_dataset_drifts_when_half_the_compared_columns_drift(
    drifting, undefined, dataset_drift, tables
):
    """Four columns; ``drifting`` of them shift, ``undefined`` of them are all-missing now."""
    rng = np.random.default_rng(5)
    ref, cur = {}, {}
    for k in range(4):
        ref[f"c{k}"] = rng.normal(size=300)
        cur[f"c{k}"] = rng.normal(2.0 if k < drifting else 0.0, 1, 300)
        if k >= 4 - undefined:
            cur[f"c{k}"] = np.full(300, NAN)
    report = compare(tables(pa.table(ref)), tables(pa.table(cur)), method="psi")
    judged = [c for c in report.columns if c.statistic is not None]
    assert len(judged) == 4 - undefined
    assert sum(c.drifted for c in report.columns) == min(drifting, 4 - undefined)
    share = sum(c.drifted for c in judged) / len(judged) if judged else 0.0
    assert report.share_drifted == share
    assert report.dataset_drift is dataset_drift
    assert report.to_dict()["dataset_drift"] is dataset_drift


def test_json_form(tables):
    reference, current = frames(6)
    report = compare(tables(reference), tables(current))
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"columns", "share_drifted", "dataset_drift"} <= set(data)
    assert [c["name"] for c in data["columns"]] == list(KINDS)
    for column in data["columns"]:
        assert set(column) >= COLUMN_KEYS
        assert column["type"] in ("numeric", "categorical")
        assert isinstance(column["drifted"], bool)
    distances = compare(tables(reference), tables(current), method="js").to_dict()
    assert all(c["p_value"] is None for c in distances["columns"])
    assert all(c["threshold"] == 0.1 for c in distances["columns"])


# --- adversarial data ------------------------------------------------------------------------

F64, TXT = pa.float64(), pa.string()
ADVERSARIAL = {
    "ties": ({"x": [1.0] * 30 + [2.0] * 5}, {"x": [1.0] * 10 + [2.0] * 20 + [3.0] * 2}),
    "constant": ({"x": [2.5] * 50}, {"x": [2.5] * 30}),
    "constant moved": ({"x": [2.5] * 50}, {"x": [1.0] * 30}),
    "all null": ({"x": pa.array([None] * 10, F64)}, {"x": [1.0, 2.0, 3.0]}),
    "all null now": ({"x": [1.0, 2.0, 3.0]}, {"x": pa.array([None, NAN, None], F64)}),
    "all null text": ({"s": pa.array([None] * 10, TXT)}, {"s": ["a", "b"]}),
    "nan and inf": (
        {"x": [0.1, 0.5, NAN, INF, -INF, 0.7, 0.2, 0.9, 0.3, None]},
        {"x": [NAN, 0.4, INF, INF, 0.6, -INF, 2.0, 0.2, None]},
    ),
    "single category": ({"s": ["a"] * 20}, {"s": ["a"] * 7}),
    "unseen categories": ({"s": ["a"] * 20 + ["b"] * 5}, {"s": ["c"] * 10 + ["d"] * 3}),
    "one row": ({"x": [1.0], "s": ["a"]}, {"x": [2.0], "s": ["b"]}),
    "empty current": (
        {"x": [1.0, 2.0], "s": ["a", "b"]},
        {"x": pa.array([], F64), "s": pa.array([], TXT)},
    ),
    "empty reference": ({"x": pa.array([], F64), "s": pa.array([], TXT)}, {"x": [1.0], "s": ["a"]}),
    "integers": (
        {"i": pa.array([1, 2, None, 3, 3, 3], pa.int64())},
        {"i": pa.array([3, 4, 5], pa.int32())},
    ),
    "booleans": ({"b": [True, False, True, None]}, {"b": [True, True, True, False]}),
}


def methods_for(frame: pa.Table) -> list[str | None]:
    """Every method once: these samples are small, so the default is ks (numeric) or chi2
    (categorical); js and hellinger share psi's bins (test_each_method_… covers them)."""
    numeric = [pa.types.is_floating(t) or pa.types.is_integer(t) for t in frame.schema.types]
    if all(numeric):
        return [None, "chi2", "psi", "wasserstein"]
    return [None, "psi", *(["chi2"] if any(numeric) else [])]


@pytest.mark.parametrize(("reference", "current"), ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_data_never_crashes(reference, current, tables):
    ref, cur = pa.table(reference), pa.table(current)
    ref_table, cur_table = tables(ref), tables(cur)
    kinds = column_kinds(ref_table)
    stored = engine.profile(ref_table, kinds)
    for method in methods_for(ref):
        # the binned distances reuse the reference profile (tested equal to a fresh one below)
        profiles = stored if method == "psi" else None
        report = compare(ref_table, cur_table, method=method, profiles=profiles)
        json.dumps(report.to_dict(), allow_nan=False)  # valid JSON: no NaN, no inf
        for column in report.columns:
            r, c = values_of(ref, column.name), values_of(cur, column.name)
            if column.statistic is None:
                assert column.note
                assert column.p_value is None
                assert column.drifted is False
                assert column.n_reference == 0 or column.n_current == 0
                continue
            wanted, wanted_p = expected(column.method, r, c, kinds[column.name])
            assert close(column.statistic, wanted), (method, column)
            assert close(column.p_value, wanted_p), (method, column)


def test_adversarial_verdicts(tables):
    def run(case: str, **options):
        reference, current = ADVERSARIAL[case]
        return compare(tables(pa.table(reference)), tables(pa.table(current)), **options).columns

    assert [c.statistic for c in run("constant")] == [0.0]
    assert run("constant moved", method="ks")[0].drifted
    assert run("constant moved", method="psi")[0].drifted
    (unseen,) = run("unseen categories", method="psi")
    assert unseen.drifted
    assert unseen.band == "significant"
    (single,) = run("single category")
    assert (single.method, single.statistic, single.p_value, single.drifted) == (
        "chi2",
        0.0,
        1.0,
        False,
    )
    for case in ("all null", "all null now", "all null text", "empty current", "empty reference"):
        for column in run(case):
            assert (column.statistic, column.note) == (None, "no values on one side"), case


def test_columns_in_one_table_only(tables):
    ref = tables(
        pa.table({"x": [1.0, 2.0, 3.0], "only_ref": [1, 2, 3], "when": [datetime(2024, 1, 1)] * 3})
    )
    cur = tables(
        pa.table({"x": [1.0, 5.0], "only_cur": ["a", "b"], "when": [datetime(2024, 1, 2)] * 2})
    )
    report = compare(ref, cur)
    assert [c.name for c in report.columns] == ["x"]  # the rest ignored; times are not compared
    with pytest.raises(ValidationError, match="only_ref"):
        compare(ref, cur, columns=["x", "only_ref"])
    with pytest.raises(ValidationError, match="only_cur"):
        compare(ref, cur, columns=["only_cur"])
    with pytest.raises(ValidationError, match="'when'"):
        compare(ref, cur, columns=["when"])


def test_no_column_in_common(tables):
    with pytest.raises(ValidationError, match="no numeric or text columns in common"):
        compare(tables(pa.table({"a": [1.0]})), tables(pa.table({"b": [1.0]})))


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_ecdf_methods_refuse_text_columns(method, tables):
    ref = tables(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]}))
    cur = tables(pa.table({"x": [1.0, 2.0], "s": ["a", "c"]}))
    with pytest.raises(ValidationError, match=r"\bs\b.*categorical|categorical.*\bs\b"):
        compare(ref, cur, method=method)
    assert compare(ref, cur, method=method, columns=["x"]).columns[0].method == method


@pytest.mark.parametrize("method", ["KS", "t-test", ""])
def test_unknown_methods_are_refused(method, tables):
    ref = tables(pa.table({"x": [1.0, 2.0]}))
    with pytest.raises(ValidationError, match=r"unknown drift method.*ks, chi2, psi, js"):
        compare(ref, ref, method=method)


# --- a stored reference profile --------------------------------------------------------------


@pytest.mark.parametrize("method", [None, "ks"])
def test_a_stored_profile_gives_the_same_report(method, tables):
    reference, current = frames(7)
    ref, cur = tables(reference), tables(current)
    names = NUMERIC if method == "ks" else None
    stored = {
        name: engine.ColumnProfile.from_json(json.loads(json.dumps(p.to_json())))
        for name, p in engine.profile(ref, column_kinds(ref)).items()
    }
    direct = compare(ref, cur, method=method, columns=names)
    assert compare(ref, cur, method=method, columns=names, profiles=stored) == direct


# --- row order -------------------------------------------------------------------------------


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from([None, "psi", "chi2", "wasserstein"]))
def test_reports_do_not_depend_on_row_order(seed, method):
    reference, current = frames(seed % 1000, 80, 60)
    rng = np.random.default_rng(seed)
    tables = shared()
    names = NUMERIC if method == "wasserstein" else None
    first = compare(tables(reference), tables(current), method=method, columns=names)
    second = compare(
        tables(reference.take(rng.permutation(reference.num_rows))),
        tables(current.take(rng.permutation(current.num_rows))),
        method=method,
        columns=names,
    )
    for a, b in zip(first.columns, second.columns, strict=True):
        assert (a.name, a.method, a.p_value, a.drifted, a.n_current) == (
            b.name,
            b.method,
            b.p_value,
            b.drifted,
            b.n_current,
        )
        assert close(a.statistic, b.statistic, 1e-12 if method == "wasserstein" else 0.0)


# --- time windows ----------------------------------------------------------------------------

START = datetime(2024, 3, 1)


def timed(seed: int, n: int = 600, days: int = 5) -> tuple[pa.Table, pa.Table]:
    reference, current = frames(seed, 500, n)
    rng = np.random.default_rng(seed)
    seconds = np.sort(rng.uniform(0, days * 86_400, n))
    stamps = [START + timedelta(seconds=float(s)) for s in seconds]
    return reference, current.append_column("t", pa.array(stamps, pa.timestamp("us")))


def utc(stamp: pd.Timestamp) -> str:
    """A naive UTC time as windows() names it: ISO 8601 with the +00:00 offset."""
    return stamp.tz_localize("UTC").isoformat()


@pytest.mark.parametrize("method", ["chi2", "psi", "js"])
def test_windows_equal_each_day_compared_on_its_own(method, tables):
    reference, current = timed(8)
    ref = tables(reference)
    profiles = engine.profile(ref, column_kinds(ref))
    result = windows(tables(current), "t", "1d", profiles, method=method)
    days = pd.Series(current["t"].to_pandas()).dt.floor("D")
    starts = sorted(days.unique())
    assert [(w["start"], w["end"]) for w in result] == [
        (utc(d), utc(d + pd.Timedelta(days=1))) for d in starts
    ]
    for window, day in zip(result, starts, strict=True):
        rows = current.filter(pa.array((days == day).to_numpy()))
        alone = compare(ref, tables(rows), method=method, profiles=profiles).to_dict()
        assert window == {"start": window["start"], "end": window["end"], **alone}
        for column in window["columns"]:  # and both equal numpy on the day's rows
            wanted, wanted_p = expected(
                method,
                values_of(reference, column["name"]),
                values_of(rows, column["name"]),
                KINDS[column["name"]],
            )
            assert close(column["statistic"], wanted)
            assert close(column["p_value"], wanted_p)


def test_windows_default_to_binned_methods(tables):
    reference, current = timed(9, n=3000, days=2)  # ~1,500 rows a day: js; 6 hours: chi2
    ref = tables(reference)
    profiles = engine.profile(ref, column_kinds(ref))
    daily = windows(tables(current), "t", "1d", profiles)
    assert {c["method"] for w in daily for c in w["columns"]} == {"js"}
    quarters = windows(tables(current), "t", "6h", profiles)
    assert {c["method"] for w in quarters for c in w["columns"]} == {"chi2"}  # ks needs the rows
    starts = [datetime.fromisoformat(w["start"]) for w in quarters]
    assert [s.hour for s in starts] == [0, 6, 12, 18] * 2
    assert [
        datetime.fromisoformat(w["end"]) - s for w, s in zip(quarters, starts, strict=True)
    ] == [timedelta(hours=6)] * 8


def test_windows_are_cut_in_utc_weeks_from_monday(tables):
    reference, _ = timed(19, n=10)
    profiles = engine.profile(tables(reference), {"x": "numeric"})
    # 00:30 in Berlin is 23:30 UTC the day before; weeks start on Mondays
    stamps = pd.date_range("2024-03-04 00:30", periods=21, freq="D", tz="Europe/Berlin")
    current = pa.table({"t": pa.array(stamps), "x": np.arange(21.0)})
    daily = windows(tables(current), "t", "1d", profiles)
    assert [w["start"] for w in daily] == [
        d.isoformat() for d in stamps.tz_convert("UTC").floor("D")
    ]
    weekly = windows(tables(current), "t", "1w", profiles)
    starts = [datetime.fromisoformat(w["start"]) for w in weekly]
    assert all(s.weekday() == 0 and (s.hour, s.minute) == (0, 0) for s in starts)
    assert all(s.utcoffset() == timedelta(0) for s in starts)
    assert sum(w["columns"][0]["n_current"] for w in weekly) == 21


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
def test_windows_refuse_methods_that_need_the_reference_rows(method, tables):
    reference, current = timed(10, n=50)
    ref = tables(reference)
    profiles = engine.profile(ref, column_kinds(ref))
    with pytest.raises(ValidationError, match=rf"{method} needs the full reference.*psi, js"):
        windows(tables(current), "t", "1d", profiles, method=method)


def test_invalid_windows_are_refused(tables):
    reference, current = timed(11, n=20)
    ref, cur = tables(reference), tables(current)
    profiles = engine.profile(ref, {"x": "numeric"})
    for window in ["0d", "1y", "abc", "", "d", "-1d", "1.5d", "1 d", "0h", "1m"]:
        with pytest.raises(ValidationError, match="invalid window"):
            windows(cur, "t", window, profiles)


def test_an_empty_current_table_has_no_windows(tables):
    reference, current = timed(12, n=20)
    ref = tables(reference)
    profiles = engine.profile(ref, {"x": "numeric"})
    assert windows(tables(current.slice(0, 0)), "t", "1d", profiles) == []


# --- bugs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [None, "ks"])
def test_ks_with_only_infinite_values_on_one_side(method, tables):
    ref = tables(pa.table({"x": np.linspace(0, 1, 50)}))
    cur = tables(pa.table({"x": [INF, -INF, INF]}))
    (column,) = compare(ref, cur, method=method).columns
    assert column.statistic is None
    assert column.note


def test_wasserstein_with_only_infinite_values_on_one_side(tables):
    ref = tables(pa.table({"x": np.linspace(0, 1, 50)}))
    cur = tables(pa.table({"x": [INF, -INF, INF]}))
    report = compare(ref, cur, method="wasserstein")
    json.dumps(report.to_dict(), allow_nan=False)
    assert report.columns[0].statistic is None


def test_a_column_with_another_type_in_the_current_table(tables):
    ref = tables(pa.table({"x": [1.0, 2.0], "y": [1.0, 2.0]}))
    cur = tables(pa.table({"x": ["a", "b"], "y": [1.0, 3.0]}))
    with pytest.raises(ValidationError, match="'x'"):
        compare(ref, cur)


def test_a_stored_profile_missing_a_column(tables):
    ref = tables(pa.table({"x": [1.0, 2.0], "s": ["a", "b"]}))
    cur = tables(pa.table({"x": [1.0, 3.0], "s": ["a", "a"]}))
    profiles = engine.profile(ref, {"x": "numeric"})
    with pytest.raises(ValidationError, match="'s'"):
        compare(ref, cur, profiles=profiles)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="bug (design): with 10% or more of the reference at its top value, every larger value "
    "shares the last bin [max, +inf); a zero-inflated column whose non-zero share rises from 6% "
    "to 30% gets js = psi = 0 under the default method",
)
def test_a_zero_inflated_column_that_changes_is_seen(tables):
    rng = np.random.default_rng(13)
    ref, cur = np.zeros(5000), np.zeros(5000)
    ref[:300] = rng.exponential(1, 300)
    cur[:1500] = rng.exponential(5, 1500)
    report = compare(tables(pa.table({"x": ref})), tables(pa.table({"x": cur})))
    assert report.columns[0].method == "js"
    assert report.columns[0].drifted


def test_windows_with_missing_times(tables):
    reference, current = timed(14, n=40)
    stamps = current["t"].to_pylist()
    stamps[::5] = [None] * len(stamps[::5])
    current = current.set_column(
        current.schema.get_field_index("t"), "t", pa.array(stamps, pa.timestamp("us"))
    )
    profiles = engine.profile(tables(reference), {"x": "numeric"})
    result = windows(tables(current), "t", "1d", profiles)
    assert (
        sum(w["columns"][0]["n_current"] + w["columns"][0]["missing_current"] for w in result) == 32
    )


def test_windows_on_a_date_column(tables):
    reference, current = timed(15, n=40)
    dates = [t.date() for t in current["t"].to_pylist()]
    current = current.set_column(
        current.schema.get_field_index("t"), "t", pa.array(dates, pa.date32())
    )
    profiles = engine.profile(tables(reference), {"x": "numeric"})
    assert len(windows(tables(current), "t", "1d", profiles)) == 5


def test_windows_on_a_missing_time_column(tables):
    reference, current = timed(16, n=20)
    profiles = engine.profile(tables(reference), {"x": "numeric"})
    with pytest.raises(ValidationError, match="'when'"):
        windows(tables(current), "when", "1d", profiles)


def test_a_superscript_window_is_refused(tables):
    reference, current = timed(17, n=20)
    profiles = engine.profile(tables(reference), {"x": "numeric"})
    with pytest.raises(ValidationError, match="invalid window"):
        windows(tables(current), "t", "²d", profiles)


def test_reports_do_not_depend_on_threads():
    # 200,000 rows span two row groups, which DuckDB scans in parallel
    rng = np.random.default_rng(18)
    n = 200_000
    reference = pa.table(
        {"x": rng.normal(size=n), "s": rng.choice(np.array(["a", "b", "c"], dtype=object), n)}
    )
    current = pa.table(
        {"x": rng.normal(0.01, 1, n), "s": rng.choice(np.array(["a", "b", "c"], dtype=object), n)}
    )
    reports = []
    for threads in (1, None):
        tables = Tables(threads)
        for method in ("psi", "chi2"):
            reports.append(compare(tables(reference), tables(current), method=method).to_dict())
    assert reports[:2] == reports[2:]
