"""The ECDF comparison of drift's ``ks`` and ``wasserstein``: both tables, one query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlpilot.engine.portable import is_infinite

if TYPE_CHECKING:
    import ibis.expr.types as ir


@dataclass(frozen=True)
class EcdfComparison:
    """The KS statistic and the Wasserstein-1 distance between two samples of one column."""

    statistic: float
    wasserstein: float
    n_reference: int
    n_current: int


def compare_ecdf(reference: ir.Table, current: ir.Table, name: str) -> EcdfComparison:
    """:func:`compare_ecdfs` for one column."""
    return compare_ecdfs(reference, current, [name])[name]


def compare_ecdfs(
    reference: ir.Table, current: ir.Table, names: list[str]
) -> dict[str, EcdfComparison]:
    """max |F_ref - F_cur| and the integral of |F_ref - F_cur| of each numeric column in
    ``names``, in one query over both tables (not one per column).

    The columns are stacked into (column, value) pairs and each side is reduced to counts per
    column and distinct value; the merged values, ordered within their column, carry both
    cumulative shares (a window sum), as ``scipy.stats.ks_2samp`` and ``wasserstein_distance``
    compute them. Missing and non-finite values are left out.
    """
    import ibis

    if not names:
        return {}
    keys = {f"_c{i}": name for i, name in enumerate(names)}  # user names stay out of the SQL

    def counts(table: ir.Table, label: str) -> ir.Table:
        wide = table.select(**{key: table[name].cast("float64") for key, name in keys.items()})
        long = wide.pivot_longer(list(keys), names_to="c", values_to="v")
        long = long.filter(long.v.notnull() & ~long.v.isnan() & ~is_infinite(long.v))
        return long.group_by(["c", "v"]).aggregate(**{label: long.count()})

    both = counts(reference, "r").outer_join(counts(current, "k"), ["c", "v"])
    merged = both.select(
        c=ibis.coalesce(both.c, both.c_right),
        v=ibis.coalesce(both.v, both.v_right),
        r=both.r.fill_null(0),
        k=both.k.fill_null(0),
    )
    ordered = ibis.window(group_by="c", order_by="v", preceding=None, following=0)
    whole = ibis.window(group_by="c")
    steps = merged.select(
        "c",
        gap=(merged.r.sum().over(ordered) / merged.r.sum().over(whole))
        - (merged.k.sum().over(ordered) / merged.k.sum().over(whole)),
        width=merged.v.lead().over(ibis.window(group_by="c", order_by="v")) - merged.v,
        r=merged.r,
        k=merged.k,
    )
    rows = (
        steps.group_by("c")
        .aggregate(
            d=steps.gap.abs().max(),
            w=(steps.gap.abs() * steps.width).sum(),
            n_r=steps.r.sum(),
            n_k=steps.k.sum(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    found = {row["c"]: row for row in rows}
    return {name: _ecdf(found.get(key)) for key, name in keys.items()}


def _ecdf(row: dict[str, Any] | None) -> EcdfComparison:
    """A column's comparison; a column with no finite value on either side has no row."""
    if row is None:
        return EcdfComparison(0.0, 0.0, 0, 0)
    d, w = float(row["d"] or 0.0), float(row["w"] or 0.0)
    return EcdfComparison(d, w, int(row["n_r"] or 0), int(row["n_k"] or 0))
