"""Drift between a reference and current data, per column and for the dataset.

The judgement itself — the test, the alarm rule, the effect sizes — lives in
:mod:`mlpilot.monitors.drift_verdict` and works on the engine's summaries only; this module
gets those summaries: the reference's profile (or a stored one), the current data's histograms
on its bins, one aggregate per table, and for ``ks`` and ``wasserstein`` the ECDF comparison of
both tables. See docs/drift.md.
"""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from mlpilot.engine import drift as engine
from mlpilot.engine.columns import column_kinds
from mlpilot.engine.ecdf import compare_ecdfs
from mlpilot.engine.windows import bucket, window_length
from mlpilot.errors import ValidationError
from mlpilot.monitors.drift_verdict import METHODS, DriftReport, judge

if TYPE_CHECKING:
    import ibis.expr.types as ir


def check_method(method: str | None) -> str | None:
    """None (the default, ``chi2``) or one of :data:`METHODS`."""
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

    ``profiles`` (a stored reference profile) saves rescanning the reference; ``ks`` and
    ``wasserstein`` read both tables, since they need the full ECDFs.
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
    if method in ("ks", "wasserstein") and any(k == "categorical" for k in kinds.values()):
        bad = [name for name, kind in kinds.items() if kind == "categorical"]
        raise ValidationError(f"{method} needs numeric columns; {', '.join(bad)} are categorical")
    if profiles is None:
        profiles = engine.profile(reference, kinds)
    else:
        profiles = {name: profiles[name] for name in kinds}
    current_bins = engine.histograms(current, profiles)
    ecdfs = compare_ecdfs(
        reference,
        current,
        [
            name
            for name in kinds
            if method in ("ks", "wasserstein")
            and profiles[name].kind == "numeric"
            and profiles[name].count
            and current_bins[name].count
        ],
    )
    return judge(profiles, current_bins, method, ecdfs)


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
    never read again. The same test as :func:`compare` decides; ``ks`` and ``wasserstein``,
    which need the reference's values, are refused.
    """
    check_method(method)
    if method in ("ks", "wasserstein"):
        raise ValidationError(
            f"{method} needs the full reference; per-window drift uses chi2 (the default), "
            "psi, js or hellinger"
        )
    table = current.mutate(_window=bucket(current, time_column, window))
    table = table.filter(table._window.notnull())
    out = []
    for start, current_bins in engine.grouped_histograms(table, profiles, "_window"):
        report = judge(profiles, current_bins, method)
        start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
        end = start + window_length(window)
        out.append({"start": start.isoformat(), "end": end.isoformat(), **report.to_dict()})
    return out
