"""The drift judgement on summaries: one column's test and effect sizes, and the dataset's alarm.

Every place that judges drift (``mlpilot drift``, per-window drift against a stored reference,
the data light and the pages) calls :func:`judge` or :func:`judge_column` and :func:`verdicts`
on the engine's summaries, so the same rule decides everywhere (see docs/drift.md):

- a column is tested by Pearson's chi-square test of homogeneity on both samples' counts over
  the reference's bins, missing values and ±inf included (``ks``: the two-sample KS test on the
  finite values instead); the test's threshold follows its null distribution at the sample
  sizes and the number of bins at hand;
- a column drifts when its Benjamini–Hochberg adjusted p-value, over the tested columns of one
  comparison, is below :data:`ALPHA`;
- the dataset drifts when at least :data:`DATASET_SHARE` of the tested columns drifted. That
  needs at least one rejection by Benjamini–Hochberg, which under "nothing changed" happens with
  probability at most :data:`ALPHA` (Simes' test, for independent or positively dependent
  columns): the dataset's false-alarm rate is at most 5 %.

Distances (PSI, Jensen–Shannon, Hellinger, Wasserstein) are effect sizes, shown beside the
decision; ``method`` picks which one is the column's ``statistic``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mlpilot.engine.drift import ColumnProfile, Histogram
from mlpilot.engine.ecdf import EcdfComparison
from mlpilot.stats import drift as stats

METHODS = ("chi2", "ks", "psi", "js", "hellinger", "wasserstein")
DISTANCES = ("psi", "js", "hellinger", "wasserstein")
ALPHA = 0.05
DATASET_SHARE = 0.5
MIN_WASSERSTEIN_SCALE = 0.001
TESTS = {"chi2": "chi-square test of homogeneity", "ks": "two-sample Kolmogorov-Smirnov test"}
ALARM_RULE = {
    "column": "drifted when the Benjamini-Hochberg adjusted p-value of its test is below 0.05",
    "dataset": "dataset_drift when at least half of the tested columns drifted",
    "false_alarm_rate": ALPHA,
    "false_alarm_rate_kind": (
        "upper bound on the probability of dataset_drift, and on the expected share of drifted "
        "columns, when no column changed (independent or positively dependent columns)"
    ),
    "p_value_kind": "p-value of the column's test, before the adjustment",
}


@dataclass(frozen=True)
class ColumnDrift:
    """One column's verdict: the test's p-values, the decision and the effect sizes."""

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
    test: str = "chi2"
    test_statistic: float | None = None
    df: int | None = None
    adjusted_p_value: float | None = None
    effect_size: dict[str, float] | None = None


@dataclass(frozen=True)
class DriftReport:
    """Per-column results and the dataset verdict."""

    columns: list[ColumnDrift]
    correction: str = "benjamini-hochberg"
    dataset_threshold: float = DATASET_SHARE
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_drifted(self) -> float:
        """Share of the tested columns that drifted (0 with none tested)."""
        tested = [c for c in self.columns if c.p_value is not None]
        return sum(c.drifted for c in tested) / len(tested) if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        """True when at least ``dataset_threshold`` of the tested columns drifted."""
        return any(c.p_value is not None for c in self.columns) and (
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
            "alarm_rule": ALARM_RULE,
            **self.extra,
        }


def judge(
    profiles: dict[str, ColumnProfile],
    histograms: dict[str, Histogram],
    method: str | None = None,
    ecdfs: dict[str, EcdfComparison] | None = None,
) -> DriftReport:
    """The report of every profiled column against its current histogram."""
    found = ecdfs or {}
    columns = [
        judge_column(profiles[name], histograms[name], method, found.get(name)) for name in profiles
    ]
    return DriftReport(verdicts(columns))


def judge_column(
    column: ColumnProfile,
    histogram: Histogram,
    method: str | None = None,
    ecdf: EcdfComparison | None = None,
) -> ColumnDrift:
    """One column's test, effect sizes and verdict, judged alone (:func:`verdicts` adjusts the
    verdicts of several columns together); ``ecdf`` holds both samples' ECDF comparison, needed
    for ``ks`` and ``wasserstein``."""
    chosen = method or "chi2"
    reference, current, rare = _compared(column, histogram)
    effects = stats.effect_sizes(
        [column.missing, *column.bins], [histogram.missing, *histogram.bins]
    )
    base = _base(column, histogram, chosen, effects)
    notes = []
    if chosen == "ks":
        missing = _ecdf_missing(ecdf)
        if missing is not None or ecdf is None:
            return replace(base, test="ks", note=missing)
        p_value = stats.ks_pvalue(ecdf.statistic, ecdf.n_reference, ecdf.n_current)
        return replace(
            base, test="ks", statistic=ecdf.statistic, test_statistic=ecdf.statistic,
            p_value=p_value, **_alone(p_value),
        )  # fmt: skip
    if chosen == "wasserstein":
        missing = _ecdf_missing(ecdf)
        if missing is not None or ecdf is None:
            notes.append(f"no wasserstein: {missing}")
        else:
            scale = max(column.std or 0.0, MIN_WASSERSTEIN_SCALE)
            effects = {**(effects or {}), "wasserstein": ecdf.wasserstein / scale}
            base = replace(base, effect_size=effects, statistic=effects["wasserstein"])
    empty = not (sum(reference) and sum(current))
    test = None if empty else stats.homogeneity_test(reference, current, rare=rare)
    if test is None:
        notes.append(
            "no rows on one side"
            if empty
            else "too few values to test: fewer than two bins with an expected count of 5"
        )
        return replace(base, note="; ".join(notes))
    if test.pooled:
        notes.append(f"{test.pooled} bins with an expected count below 5 pooled")
    return replace(
        base, statistic=base.statistic if chosen in DISTANCES else test.statistic,
        p_value=test.p_value, test_statistic=test.statistic, df=test.df,
        note="; ".join(notes) or None, **_alone(test.p_value),
    )  # fmt: skip


def _alone(p_value: float) -> dict[str, Any]:
    """The verdict of a column judged alone (:func:`verdicts` adjusts it among others)."""
    return {"adjusted_p_value": p_value, "drifted": p_value < ALPHA}


def _base(
    column: ColumnProfile, histogram: Histogram, method: str, effects: dict[str, float] | None
) -> ColumnDrift:
    statistic = (effects or {}).get(method) if method in DISTANCES else None
    band = None
    if method == "psi" and statistic is not None:
        band = "stable" if statistic < 0.1 else "moderate" if statistic < 0.25 else "significant"
    return ColumnDrift(
        name=column.name, type=column.kind, method=method, statistic=statistic, p_value=None,
        threshold=ALPHA, drifted=False, n_reference=column.count, n_current=histogram.count,
        missing_reference=column.missing, missing_current=histogram.missing, band=band,
        effect_size=effects,
    )  # fmt: skip


def _ecdf_missing(ecdf: EcdfComparison | None) -> str | None:
    if ecdf is None:
        return "no values on one side"
    if ecdf.n_reference == 0 or ecdf.n_current == 0:
        return "no finite values on one side"
    return None


def _compared(
    column: ColumnProfile, histogram: Histogram
) -> tuple[list[int], list[int], list[bool]]:
    """Both samples' counts over the bins the test compares, and which bins are rare whatever
    their total: missing, then the reference's bins; for a categorical column the frequent
    unseen categories one by one, then the rest of them, each too rare for a bin of its own."""
    if column.kind == "numeric":
        bins = [column.missing, *column.bins], [histogram.missing, *histogram.bins]
        return bins[0], bins[1], [False] * len(bins[0])
    *seen, unseen = histogram.bins
    new = [n for _, n in histogram.new]
    reference = [column.missing, *column.bins[:-1], *([0] * len(new)), column.bins[-1]]
    current = [histogram.missing, *seen, *new, unseen - sum(new)]
    return reference, current, [False] * (len(reference) - 1) + [True]


def verdicts(results: list[ColumnDrift]) -> list[ColumnDrift]:
    """Benjamini–Hochberg over the tested columns: drifted when the adjusted p < ``ALPHA``."""
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    if not tested:
        return results
    adjusted = stats.benjamini_hochberg([results[i].p_value or 0.0 for i in tested])
    out = list(results)
    for i, p in zip(tested, adjusted, strict=True):
        out[i] = replace(out[i], adjusted_p_value=float(p), drifted=bool(p < out[i].threshold))
    return out
