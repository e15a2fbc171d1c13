"""Drift between a reference and current data, per column and for the dataset.

Methods and defaults (see docs/drift.md):

- ``ks`` (numeric) and ``chi2`` (categorical, or numeric on the reference's bins) give p-values;
  a column drifts when its Benjamini–Hochberg adjusted p-value is below 0.05 (the correction
  runs over the p-value columns of one comparison).
- ``psi`` drifts at 0.25 or more (0.1–0.25 is reported as a ``moderate`` band);
  ``js`` (Jensen–Shannon distance, base 2), ``hellinger`` and ``wasserstein`` (divided by the
  reference's standard deviation, at least 0.001) drift at 0.1 or more.
- The default is ``ks`` / ``chi2`` when both samples have at most 1,000 values — small samples,
  where a test is the right tool — and ``js`` otherwise: on large samples p-values flag shifts
  too small to matter.
- The dataset drifts when at least half of its columns drift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

from mlpilot.engine import drift as engine
from mlpilot.engine.columns import column_kinds
from mlpilot.engine.windows import bucket, window_length
from mlpilot.errors import ValidationError
from mlpilot.stats import drift as stats

if TYPE_CHECKING:
    import ibis.expr.types as ir

METHODS = ("ks", "chi2", "psi", "js", "wasserstein", "hellinger")
P_VALUE_METHODS = ("ks", "chi2")
THRESHOLDS = {
    "ks": 0.05,
    "chi2": 0.05,
    "psi": 0.25,
    "js": 0.1,
    "hellinger": 0.1,
    "wasserstein": 0.1,
}
SMALL_SAMPLE = 1000
DATASET_SHARE = 0.5
MIN_WASSERSTEIN_SCALE = 0.001


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict."""

    name: str
    type: str
    method: str
    statistic: float | None
    p_value: float | None
    threshold: float
    drifted: bool
    n_reference: int
    n_current: int
    missing_reference: int
    missing_current: int
    note: str | None = None
    band: str | None = None


@dataclass(frozen=True)
class DriftReport:
    """Per-column results and the dataset verdict."""

    columns: list[ColumnDrift]
    correction: str = "benjamini-hochberg"
    dataset_threshold: float = DATASET_SHARE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_drifted(self) -> float:
        """Share of the compared columns that drifted (0 with none compared)."""
        judged = [c for c in self.columns if c.statistic is not None]
        return sum(c.drifted for c in judged) / len(judged) if judged else 0.0

    @property
    def dataset_drift(self) -> bool:
        """True when at least ``dataset_threshold`` of the columns drifted."""
        return any(c.statistic is not None for c in self.columns) and (
            self.share_drifted >= self.dataset_threshold
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``columns``, ``share_drifted``, ``dataset_drift`` and the rules used."""
        return {
            "columns": [vars(c) for c in self.columns],
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
            "dataset_threshold": self.dataset_threshold,
            "correction": self.correction,
            **self.extra,
        }


def check_method(method: str | None) -> str | None:
    """None (per-column defaults) or one of :data:`METHODS`."""
    if method is None or method in METHODS:
        return method
    raise ValidationError(f"unknown drift method {method!r}; expected one of: {', '.join(METHODS)}")


def compare(
    reference: ir.Table,
    current: ir.Table,
    *,
    columns: list[str] | None = None,
    method: str | None = None,
    profiles: dict[str, engine.ColumnProfile] | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``reference`` (two Ibis tables on the same connection).

    ``profiles`` (a stored reference profile) saves rescanning the reference for the binned
    methods; ``ks`` and ``wasserstein`` read both tables, since they need the full ECDFs.
    """
    check_method(method)
    if columns is None:
        shared = [name for name in reference.columns if name in set(current.columns)]
        kinds = column_kinds(reference.select(*shared)) if shared else {}
    else:
        kinds = column_kinds(reference, columns)
    unprofiled = [repr(name) for name in kinds if profiles is not None and name not in profiles]
    if unprofiled:
        raise ValidationError(
            f"the reference profile has no column {', '.join(unprofiled)}; name the columns "
            "to compare, or profile the reference again"
        )
    current_kinds = column_kinds(current, list(kinds))
    for name, kind in kinds.items():
        if current_kinds[name] != kind:
            raise ValidationError(
                f"column {name!r} is {kind} in the reference but {current_kinds[name]} now"
            )
    if not kinds:
        raise ValidationError("no numeric or text columns in common to compare")
    if method == "ks" and any(kind == "categorical" for kind in kinds.values()):
        bad = [name for name, kind in kinds.items() if kind == "categorical"]
        raise ValidationError(f"ks needs numeric columns; {', '.join(bad)} are categorical")
    if profiles is None:
        profiles = engine.profile(reference, kinds)
    else:
        profiles = {name: profiles[name] for name in kinds}
    current_bins = engine.histograms(current, profiles)
    chosen = {name: method or _default_method(profiles[name], current_bins[name]) for name in kinds}
    ecdfs = engine.compare_ecdfs(
        reference,
        current,
        [
            name
            for name in kinds
            if chosen[name] in ("ks", "wasserstein")
            and profiles[name].kind == "numeric"
            and profiles[name].count
            and current_bins[name].count
        ],
    )
    results = [
        _column(profiles[name], current_bins[name], chosen[name], ecdfs.get(name)) for name in kinds
    ]
    return DriftReport(_adjust(results))


def windows(
    current: ir.Table,
    time_column: str,
    window: str,
    profiles: dict[str, engine.ColumnProfile],
    *,
    method: str | None = None,
) -> list[dict[str, Any]]:
    """Drift of each time window of ``current`` against stored reference ``profiles``.

    One aggregate, grouped by the window, gives every window's histograms: the reference is
    never read again. Only binned methods (psi, js, hellinger, chi2 on the bins) apply.
    """
    check_method(method)
    if method in ("ks", "wasserstein"):
        raise ValidationError(
            f"{method} needs the full reference; per-window drift uses psi, js, hellinger or chi2"
        )
    table = current.mutate(_window=bucket(current, time_column, window))
    table = table.filter(table._window.notnull())
    metrics = engine.histogram_metrics(table, profiles)
    grouped = table.group_by("_window").aggregate(**metrics).order_by("_window")
    rows = grouped.to_pyarrow().to_pylist()
    out = []
    for row in rows:
        current_bins = engine.read_histograms(row, profiles)
        results = [_binned(profiles[name], current_bins[name], method) for name in profiles]
        report = DriftReport(_adjust(results))
        start = row["_window"]
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        end = start + window_length(window)
        out.append({"start": start.isoformat(), "end": end.isoformat(), **report.to_dict()})
    return out


def _default_method(column: engine.ColumnProfile, current: engine.Histogram) -> str:
    small = column.count <= SMALL_SAMPLE and current.count <= SMALL_SAMPLE
    if not small:
        return "js"
    return "ks" if column.kind == "numeric" else "chi2"


def _column(
    column: engine.ColumnProfile,
    histogram: engine.Histogram,
    chosen: str,
    ecdf: engine.EcdfComparison | None,
) -> ColumnDrift:
    """One column's result; ``ecdf`` holds both ECDFs' comparison for ks and wasserstein."""
    if chosen in ("ks", "wasserstein") and column.kind == "numeric":
        if ecdf is None:  # asked for none: a side without values
            return _undefined(column, histogram, chosen, "no values on one side")
        if ecdf.n_reference == 0 or ecdf.n_current == 0:
            return _undefined(column, histogram, chosen, "no finite values on one side")
        if chosen == "ks":
            p_value = stats.ks_pvalue(ecdf.statistic, ecdf.n_reference, ecdf.n_current)
            return _result(column, histogram, chosen, ecdf.statistic, p_value)
        scale = max(column.std or 0.0, MIN_WASSERSTEIN_SCALE)
        return _result(column, histogram, chosen, ecdf.wasserstein / scale, None)
    if chosen == "wasserstein":
        raise ValidationError(f"wasserstein needs a numeric column; {column.name} is categorical")
    return _binned(column, histogram, chosen)


def _binned(
    column: engine.ColumnProfile, histogram: engine.Histogram, method: str | None
) -> ColumnDrift:
    chosen = method or _default_method(column, histogram)
    if chosen == "ks":  # no ECDF without the reference's values: test the bins instead
        chosen = "chi2"
    if column.count == 0 or histogram.count == 0:
        return _undefined(column, histogram, chosen, "no values on one side")
    if chosen == "chi2":
        statistic, p_value = stats.chi2_test(column.bins, histogram.bins)
        return _result(column, histogram, chosen, statistic, p_value)
    distance = {"psi": stats.psi, "js": stats.js_distance, "hellinger": stats.hellinger}[chosen]
    return _result(column, histogram, chosen, distance(column.bins, histogram.bins), None)


def _result(
    column: engine.ColumnProfile,
    histogram: engine.Histogram,
    method: str,
    statistic: float,
    p_value: float | None,
) -> ColumnDrift:
    threshold = THRESHOLDS[method]
    drifted = p_value < threshold if p_value is not None else statistic >= threshold
    band = None
    if method == "psi":
        band = "stable" if statistic < 0.1 else "moderate" if statistic < 0.25 else "significant"
    return ColumnDrift(
        column.name, column.kind, method, statistic, p_value, threshold, bool(drifted),
        column.count, histogram.count, column.missing, histogram.missing, band=band,
    )  # fmt: skip


def _undefined(
    column: engine.ColumnProfile, histogram: engine.Histogram, method: str, note: str
) -> ColumnDrift:
    return ColumnDrift(
        column.name, column.kind, method, None, None, THRESHOLDS[method], False,
        column.count, histogram.count, column.missing, histogram.missing, note=note,
    )  # fmt: skip


def _adjust(results: list[ColumnDrift]) -> list[ColumnDrift]:
    """Benjamini–Hochberg over the p-value columns: drifted when the adjusted p < threshold."""
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    if not tested:
        return results
    adjusted = stats.benjamini_hochberg([results[i].p_value or 0.0 for i in tested])
    out = list(results)
    for i, p in zip(tested, adjusted, strict=True):
        r = out[i]
        out[i] = ColumnDrift(
            r.name, r.type, r.method, r.statistic, r.p_value, r.threshold,
            bool(p < r.threshold), r.n_reference, r.n_current, r.missing_reference,
            r.missing_current, note=f"adjusted p = {p:.4g}" if not math.isnan(p) else None,
            band=r.band,
        )  # fmt: skip
    return out
