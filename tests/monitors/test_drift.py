"""``monitors.drift``: each method, the corrections, defaults and verdicts, against scipy/numpy.

The expectations never reuse mlpilot: bins come from numpy on the rows (missing values first;
edges: the deciles by ``numpy.quantile``, a point-mass bin after a decile held by 1 % of the
values, -inf and +inf apart, ``searchsorted(side="right")``; categories by count then value, the
unseen ones counted 10 times or more one by one, then the rest), the test from
``scipy.stats.chi2_contingency`` on that table with rare bins pooled as docs/drift.md says, the
distances from scipy or the textbook formula.
"""

from __future__ import annotations

import json
import math
import sys
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
LOWEST = -sys.float_info.max
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


def numeric_edges(reference: np.ndarray) -> np.ndarray:
    finite = reference[np.isfinite(reference)]
    deciles = np.unique(np.quantile(finite, DECILES)) if finite.size else np.empty(0)
    atoms = [
        np.nextafter(q, INF) for q in deciles if (finite == q).sum() >= max(2, finite.size / 100)
    ]
    return np.unique([LOWEST, *deciles, *atoms, INF])


def expected_bins(
    reference: list, current: list, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """numpy's counts of both samples: as the test compares them, and as the distances do
    (the same, but a categorical column's unseen values in one bin)."""
    if kind == "numeric":
        r, c = as_floats(reference), as_floats(current)
        edges = numeric_edges(r)

        def count(x: np.ndarray) -> np.ndarray:
            present = x[~np.isnan(x)]
            binned = np.bincount(
                np.searchsorted(edges, present, side="right"), minlength=edges.size + 1
            )
            return np.array([x.size - present.size, *binned])

        return count(r), count(c), count(r), count(c)
    counted = Counter(text(v) for v in reference if v is not None)
    categories = sorted(counted, key=lambda k: (-counted[k], k))
    now = Counter(text(v) for v in current if v is not None)
    new = sorted((k for k in now if k not in counted and now[k] >= 10), key=lambda k: (-now[k], k))
    seen = [now[k] for k in categories]
    unseen = sum(now.values()) - sum(seen)
    missing_r, missing_c = sum(v is None for v in reference), sum(v is None for v in current)
    ref = [missing_r, *(counted[k] for k in categories)]
    return (
        np.array([*ref, *([0] * len(new)), 0]),
        np.array([missing_c, *seen, *(now[k] for k in new), unseen - sum(now[k] for k in new)]),
        np.array([*ref, 0]),
        np.array([missing_c, *seen, unseen]),
    )


def pooled(r: np.ndarray, c: np.ndarray, rest: bool) -> tuple[np.ndarray, np.ndarray]:
    """Bins empty in both dropped; those with (r + c) min(n, m) / (n + m) < 5 pooled, and the
    rest of the unseen categories (the last bin, when ``rest``); a pool still below 5 joined to
    the bin with the smallest total."""
    forced = np.zeros(r.size, bool)
    forced[-1] = rest
    keep = (r + c) > 0
    r, c, forced = r[keep].astype(float), c[keep].astype(float), forced[keep]
    scale = min(r.sum(), c.sum()) / (r.sum() + c.sum())
    rare = forced | ((r + c) * scale < 5)
    if rare.any():
        r, c = np.append(r[~rare], r[rare].sum()), np.append(c[~rare], c[rare].sum())
        if (r[-1] + c[-1]) * scale < 5 and r.size > 1:
            j = int(np.argmin((r + c)[:-1]))
            r[j], c[j] = r[j] + r[-1], c[j] + c[-1]
            r, c = r[:-1], c[:-1]
    return r, c


def chi2_expected(
    r: np.ndarray, c: np.ndarray, rest: bool = False
) -> tuple[float | None, float | None]:
    if r.sum() == 0 or c.sum() == 0:
        return None, None
    if ((r + c) > 0).sum() == 1:
        return 0.0, 1.0
    r, c = pooled(r, c, rest)
    if r.size < 2:
        return None, None
    result = stats.chi2_contingency(np.vstack([r, c]), correction=False)
    return float(result.statistic), float(result.pvalue)


def floored(counts: np.ndarray) -> np.ndarray:
    share = counts / counts.sum()
    share = np.where(share == 0, 1e-4, share)
    return share / share.sum()


def expected(
    method: str, reference: list, current: list, kind: str
) -> tuple[float | None, float | None]:
    """(statistic, p-value) of ``method`` computed by scipy / numpy from the rows. The p-value
    is the chi-square test's for every method but ``ks``."""
    if method == "ks":
        a, b = as_floats(reference), as_floats(current)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        with warnings.catch_warnings():  # scipy warns where its exact path gives up
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.ks_2samp(a, b)
        return float(result.statistic), float(result.pvalue)
    r_test, c_test, r_counts, c_counts = expected_bins(reference, current, kind)
    statistic, p_value = chi2_expected(r_test, c_test, rest=kind == "categorical")
    if method == "chi2":
        return statistic, p_value
    if method == "wasserstein":
        a, b = as_floats(reference), as_floats(current)
        a, b = a[np.isfinite(a)], b[np.isfinite(b)]
        if not (a.size and b.size):
            return None, p_value
        return stats.wasserstein_distance(a, b) / max(float(np.std(a)), 0.001), p_value
    if not (r_counts.sum() and c_counts.sum()):
        return None, p_value
    keep = (r_counts + c_counts) > 0
    r, c = floored(r_counts[keep]), floored(c_counts[keep])
    if method == "psi":
        return float(np.sum((c - r) * np.log(c / r))), p_value
    if method == "js":
        return float(jensenshannon(r, c, base=2)), p_value
    assert method == "hellinger"
    return float(np.linalg.norm(np.sqrt(r) - np.sqrt(c)) / math.sqrt(2)), p_value


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
    """PSI's conventional bands describe the effect; the test decides (0.4 sd at n = 5,000 is a
    real shift, though PSI calls it moderate)."""
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
        "bit": ("moderate", True),
        "far": ("significant", True),
    }
    for column in report.columns:
        psi = column.statistic
        assert column.band == (
            "stable" if psi < 0.1 else "moderate" if psi < 0.25 else "significant"
        )
        assert column.threshold == 0.05
        assert column.effect_size is not None
        assert column.effect_size["psi"] == psi


# --- corrections, thresholds, defaults, the dataset verdict ----------------------------------


def test_benjamini_hochberg_decides_the_p_value_columns(tables):
    rng = np.random.default_rng(0)  # raw p-values 0.82, 0.17, 0.0045, 0.035
    a = [rng.normal(size=80) for _ in range(4)]
    b = [rng.normal(shift, 1, 80) for shift in (0.0, 0.2, 0.3, 0.35)]
    reference = pa.table({f"c{k}": a[k] for k in range(4)})
    current = pa.table({f"c{k}": b[k] for k in range(4)})
    report = compare(tables(reference), tables(current), method="ks")
    raw = np.array([stats.ks_2samp(x, y).pvalue for x, y in zip(a, b, strict=True)])
    adjusted = stats.false_discovery_control(raw)
    assert [c.method for c in report.columns] == ["ks"] * 4
    assert np.allclose([c.p_value for c in report.columns], raw, rtol=REL, atol=0)
    assert [c.drifted for c in report.columns] == list(adjusted < 0.05)
    # the correction matters here: c3 has p < 0.05 but an adjusted p >= 0.05
    assert raw[3] < 0.05 <= adjusted[3]
    assert not report.columns[3].drifted
    for column, p in zip(report.columns, adjusted, strict=True):
        assert close(column.adjusted_p_value, float(p))


def test_the_correction_runs_over_the_tested_columns_only(tables):
    rng = np.random.default_rng(0)
    a = [rng.normal(size=80) for _ in range(4)]
    b = [rng.normal(shift, 1, 80) for shift in (0.0, 0.2, 0.3, 0.35)]
    # "gone" has no finite value now: KS cannot test it. Adjusted over the two p-values, c3's
    # 0.0345 stays below 0.05; counted as a third it would be 0.052.
    ref = pa.table({"c2": a[2], "c3": a[3], "gone": rng.normal(size=80)})
    cur = pa.table({"c2": b[2], "c3": b[3], "gone": np.full(80, INF)})
    report = compare(tables(ref), tables(cur), method="ks")
    raw = np.array([stats.ks_2samp(a[k], b[k]).pvalue for k in (2, 3)])
    adjusted = stats.false_discovery_control(raw)
    assert raw[1] * 3 / 2 >= 0.05 > adjusted[1]
    assert [c.drifted for c in report.columns[:2]] == [True, True]
    assert [c.adjusted_p_value for c in report.columns[:2]] == pytest.approx(adjusted, rel=REL)
    gone = report.columns[2]
    assert (gone.p_value, gone.adjusted_p_value, gone.note) == (
        None, None, "no finite values on one side",
    )  # fmt: skip
    assert report.share_drifted == 1.0  # of the two tested columns


@pytest.mark.parametrize(("n_ref", "n_cur"), [(1, 1), (1000, 1000), (1000, 1001), (5000, 300)])
def test_the_default_is_the_chi_square_test_at_every_size(n_ref, n_cur, tables):
    rng = np.random.default_rng(4)

    def sample(n: int) -> pa.Table:
        return pa.table(
            {"x": rng.normal(size=n), "s": rng.choice(np.array(["a", "b"], dtype=object), n)}
        )

    report = compare(tables(sample(n_ref)), tables(sample(n_cur)))
    assert [c.method for c in report.columns] == ["chi2", "chi2"]
    assert [c.test for c in report.columns] == ["chi2", "chi2"]
    assert [c.threshold for c in report.columns] == [0.05, 0.05]


def test_missing_values_are_compared_as_a_value(tables):
    """A column that goes from 2 % to 20 % missing has changed, whatever its other values."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=3000)
    before = pa.array(x, mask=rng.random(3000) < 0.02)
    after = pa.array(x[::-1], mask=rng.random(3000) < 0.2)
    (column,) = compare(tables(pa.table({"x": before})), tables(pa.table({"x": after}))).columns
    assert column.drifted
    r_test, c_test, *_ = expected_bins(before.to_pylist(), after.to_pylist(), "numeric")
    assert close(column.p_value, chi2_expected(r_test, c_test)[1])


@pytest.mark.parametrize(
    ("drifting", "untestable", "dataset_drift"),
    [(1, 0, False), (2, 0, True), (1, 2, True), (0, 4, False)],
)
def test_the_dataset_drifts_when_half_the_tested_columns_drift(
    drifting, untestable, dataset_drift, tables
):
    """Four columns; ``drifting`` of them shift, ``untestable`` of them are ids: every value
    rare, nothing the test can compare."""
    rng = np.random.default_rng(5)
    ref, cur = {}, {}
    for k in range(4):
        ref[f"c{k}"] = rng.normal(size=300).astype(str).astype(object)
        cur[f"c{k}"] = rng.normal(size=300).astype(str).astype(object)
        if k < 4 - untestable:
            ref[f"c{k}"] = rng.choice(np.array(list("abc"), dtype=object), 300)
            shares = [0.1, 0.2, 0.7] if k < drifting else None
            cur[f"c{k}"] = rng.choice(np.array(list("abc"), dtype=object), 300, p=shares)
    report = compare(tables(pa.table(ref)), tables(pa.table(cur)), method="psi")
    tested = [c for c in report.columns if c.p_value is not None]
    assert len(tested) == 4 - untestable
    assert all(c.statistic is not None for c in report.columns)  # the effect size is there
    assert sum(c.drifted for c in report.columns) == min(drifting, 4 - untestable)
    share = sum(c.drifted for c in tested) / len(tested) if tested else 0.0
    assert report.share_drifted == share
    assert report.dataset_drift is dataset_drift
    assert report.to_dict()["dataset_drift"] is dataset_drift


def test_json_form(tables):
    reference, current = frames(6)
    report = compare(tables(reference), tables(current))
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert {"columns", "share_drifted", "dataset_drift", "alarm_rule"} <= set(data)
    assert data["alarm_rule"]["false_alarm_rate"] == 0.05
    assert [c["name"] for c in data["columns"]] == list(KINDS)
    for column in data["columns"]:
        assert set(column) >= COLUMN_KEYS | {"test", "adjusted_p_value", "effect_size", "df"}
        assert column["type"] in ("numeric", "categorical")
        assert isinstance(column["drifted"], bool)
        assert (column["test"], column["statistic"]) == ("chi2", column["test_statistic"])
        assert set(column["effect_size"]) == {"psi", "js", "hellinger"}
    distances = compare(tables(reference), tables(current), method="js").to_dict()
    for column, tested in zip(distances["columns"], data["columns"], strict=True):
        assert column["statistic"] == column["effect_size"]["js"]
        assert column["p_value"] == tested["p_value"]  # the same test decides
        assert column["drifted"] == tested["drifted"]
        assert column["threshold"] == 0.05


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
    """Every method once: the default is chi2; js and hellinger share psi's bins
    (test_each_method_… covers them)."""
    numeric = [pa.types.is_floating(t) or pa.types.is_integer(t) for t in frame.schema.types]
    if all(numeric):
        return [None, "ks", "psi", "wasserstein"]
    return [None, "psi"]


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
            wanted, wanted_p = expected(column.method, r, c, kinds[column.name])
            if method == "ks" and column.statistic is None:
                assert column.note in ("no values on one side", "no finite values on one side")
                continue
            assert close(column.p_value, wanted_p), (method, column)
            if column.p_value is None:
                assert column.note
                assert column.drifted is False
            if method in ("ks", "wasserstein") and column.statistic is None:
                continue  # no finite value on a side: no ECDF (checked by the note)
            assert close(column.statistic, wanted), (method, column)


def test_adversarial_verdicts(tables):
    def run(case: str, **options):
        reference, current = ADVERSARIAL[case]
        return compare(tables(pa.table(reference)), tables(pa.table(current)), **options).columns

    assert [(c.statistic, c.p_value) for c in run("constant")] == [(0.0, 1.0)]
    assert run("constant moved", method="ks")[0].drifted
    assert run("constant moved", method="psi")[0].drifted
    (unseen,) = run("unseen categories", method="psi")
    assert unseen.drifted
    assert unseen.band == "significant"
    (single,) = run("single category")
    assert (single.method, single.statistic, single.p_value, single.drifted) == (
        "chi2", 0.0, 1.0, False,
    )  # fmt: skip
    for case in ("empty current", "empty reference"):
        for column in run(case):
            assert (column.p_value, column.note) == (None, "no rows on one side"), case
    for case in ("all null", "all null now", "all null text"):  # 3 to 10 rows: too few
        for column in run(case):
            assert column.p_value is None, case
            assert column.note.startswith("too few values"), case


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
    with pytest.raises(ValidationError, match=r"unknown drift method.*chi2, ks, psi, js"):
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


def test_windows_default_to_the_chi_square_test(tables):
    reference, current = timed(9, n=3000, days=2)
    ref = tables(reference)
    profiles = engine.profile(ref, column_kinds(ref))
    daily = windows(tables(current), "t", "1d", profiles)
    assert {c["method"] for w in daily for c in w["columns"]} == {"chi2"}
    quarters = windows(tables(current), "t", "6h", profiles)
    assert {c["method"] for w in quarters for c in w["columns"]} == {"chi2"}
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
    with pytest.raises(ValidationError, match=rf"{method} needs the full reference.*chi2"):
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


def test_a_zero_inflated_column_that_changes_is_seen(tables):
    """Was an xfail (issue 14): with 10% or more of the reference at its top value, every larger
    value shared the last bin [max, +inf), and a zero-inflated column whose non-zero share rises
    from 6% to 30% scored js = psi = 0 under the default method. Zero now has a bin of its own."""
    rng = np.random.default_rng(13)
    ref, cur = np.zeros(5000), np.zeros(5000)
    ref[:300] = rng.exponential(1, 300)
    cur[:1500] = rng.exponential(5, 1500)
    report = compare(tables(pa.table({"x": ref})), tables(pa.table({"x": cur})))
    (column,) = report.columns
    assert column.drifted
    assert column.effect_size is not None
    assert column.effect_size["js"] > 0.2


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
