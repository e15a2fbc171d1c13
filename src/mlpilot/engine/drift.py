"""The engine half of drift: reference profiles, current histograms, ECDF comparisons.

Numeric columns are binned on edges fixed by the reference: its deciles (linear interpolation,
computed once over the non-missing values; repeated or non-finite edges dropped). Bins are
``(-inf, e1), [e1, e2), …, [ek, +inf]``, so values outside the reference range fall into the end
bins. Categorical columns count the reference's categories plus one bin for values it never saw.
Missing values (NULL, and NaN in floating columns) are counted apart.

The current side is ONE aggregate over the table: for each numeric column the count of values
below each edge, for each categorical column the count of each reference category. Grouped by a
time window, the same aggregate yields every window's histograms in one pass. On DuckDB a
numeric column's counts come from its ``histogram(x, boundaries)`` aggregate (a binary search
per value instead of one comparison per edge: half the time on 1M × 15 columns); other engines
get the portable sums. The boundaries are the edges' predecessors (``nextafter(e, -inf)``):
``histogram`` counts ``x <= b``, which for doubles is exactly ``x < e``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from mlpilot.engine.columns import Kind, is_missing
from mlpilot.engine.portable import is_infinite

if TYPE_CHECKING:
    import ibis.expr.types as ir

DECILES = tuple(i / 10 for i in range(1, 10))


@dataclass(frozen=True)
class ColumnProfile:
    """The reference's summary of one column: enough to bin and compare any later data."""

    name: str
    kind: Kind
    count: int  # non-missing values
    missing: int
    bins: tuple[int, ...]  # numeric: len(edges) + 1 counts; categorical: categories + unseen
    edges: tuple[float, ...] = ()
    categories: tuple[str, ...] = ()
    mean: float | None = None  # over finite values; for the Wasserstein normalisation
    std: float | None = None  # population standard deviation (ddof=0) over finite values

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the event store's summaries)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnProfile:
        """The inverse of :meth:`to_json`."""
        return cls(
            **{
                **data,
                "bins": tuple(data["bins"]),
                "edges": tuple(data["edges"]),
                "categories": tuple(data["categories"]),
            }
        )


@dataclass(frozen=True)
class Histogram:
    """One column of the current data on the reference's bins."""

    count: int
    missing: int
    bins: tuple[int, ...]


def _one_row(expr: ir.Table) -> dict[str, Any]:
    rows = expr.to_pyarrow().to_pylist()
    return dict(rows[0]) if rows else {}


def profile(table: ir.Table, kinds: dict[str, Kind]) -> dict[str, ColumnProfile]:
    """Profile the reference: one aggregate for counts and moments; on DuckDB two more for exact
    deciles and the reference's bins (:mod:`mlpilot.engine.deciles`), elsewhere one for the
    engine's exact order statistics (:mod:`mlpilot.engine.portable`) and one for the bins; one
    group-by for categories."""
    numeric = [name for name, kind in kinds.items() if kind == "numeric"]
    categorical = [name for name, kind in kinds.items() if kind == "categorical"]
    import ibis

    # Non-finite values become NULL in a projection, which aggregates skip: much faster in
    # DuckDB than a FILTER clause on each aggregate.
    finite = {}
    for i, name in enumerate(numeric):
        column = table[name].cast("float64")
        keep = ~column.isnan() & ~is_infinite(column)
        finite[f"_f{i}"] = ibis.ifelse(keep, column, ibis.null("float64"))
    cleaned = table.mutate(**finite)
    native = _backend_name(table) == "duckdb"
    metrics: dict[str, Any] = {"_rows": cleaned.count()}
    for i, name in enumerate(kinds):
        metrics[f"m{i}"] = is_missing(cleaned[name]).sum()
    for j, name in enumerate(numeric):
        values = cleaned[f"_f{j}"]
        metrics[f"n{j}"] = values.count()
        metrics[f"below{j}"] = (table[name].cast("float64") == -math.inf).sum()
        metrics[f"mean{j}"] = values.mean()
        metrics[f"std{j}"] = values.std(how="pop")
        metrics[f"lo{j}"] = values.min()
        metrics[f"hi{j}"] = values.max()
    first = _one_row(cleaned.aggregate(**metrics))
    rows = int(first["_rows"])
    counts = {name: rows - int(first[f"m{i}"] or 0) for i, name in enumerate(kinds)}
    numeric_bins = _numeric_bins(cleaned, table, numeric, first, counts, native)
    categories = _category_counts(table, categorical) if categorical else {}
    profiles: dict[str, ColumnProfile] = {}
    for name in kinds:
        missing = rows - counts[name]
        if kinds[name] == "numeric":
            j = numeric.index(name)
            edges, bins = numeric_bins[name]
            profiles[name] = ColumnProfile(
                name, "numeric", counts[name], missing, bins, edges=edges,
                mean=_float(first[f"mean{j}"]), std=_float(first[f"std{j}"]),
            )  # fmt: skip
        else:
            counted = categories[name]
            profiles[name] = ColumnProfile(
                name, "categorical", counts[name], missing, (*counted.values(), 0),
                categories=tuple(counted),
            )  # fmt: skip
    return profiles


def _numeric_bins(
    cleaned: ir.Table,
    table: ir.Table,
    numeric: list[str],
    first: dict[str, Any],
    counts: dict[str, int],
    native: bool,
) -> dict[str, tuple[tuple[float, ...], tuple[int, ...]]]:
    """Each numeric column's decile edges and the reference's counts on them."""
    from mlpilot.engine import deciles, portable

    columns = range(len(numeric))
    if native:
        located = deciles.locate(
            cleaned,
            [f"_f{j}" for j in columns],
            [first[f"lo{j}"] for j in columns],
            [first[f"hi{j}"] for j in columns],
            [int(first[f"n{j}"] or 0) for j in columns],
        )
        found = {
            name: _bins_from(located[j], first, j, counts[name]) for j, name in enumerate(numeric)
        }
        if all(value is not None for value in found.values()):
            return {name: value for name, value in found.items() if value is not None}
        # Never expected (see mlpilot.engine.deciles); the path below is exact too.
    # Other engines: their exact percentile's order statistics (mlpilot.engine.portable).
    found_deciles = portable.deciles(
        cleaned,
        [f"_f{j}" for j in columns],
        [int(first[f"n{j}"] or 0) for j in columns],
        [first[f"lo{j}"] for j in columns],
        [first[f"hi{j}"] for j in columns],
    )
    first = first | {f"q{j}": found_deciles[j] for j in columns}
    edges = {
        name: _edges(first[f"q{j}"], first[f"lo{j}"], first[f"hi{j}"])
        for j, name in enumerate(numeric)
    }
    binned = {name: ColumnProfile(name, "numeric", 0, 0, (), edges=edges[name]) for name in numeric}
    counted = histograms(table, binned) if numeric else {}
    return {name: (edges[name], counted[name].bins) for name in numeric}


def _bins_from(
    located: Any, first: dict[str, Any], j: int, count: int
) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """Edges and bins of one column from its located deciles: the values below each edge are
    the -inf values plus the finite ones, counted exactly from the fine steps. None when the
    steps cannot tell exactly."""
    if located is None:  # no finite value
        return (), (count,)
    if located.quantiles is None:
        return None
    edges = _edges(located.quantiles, first[f"lo{j}"], first[f"hi{j}"])
    below = []
    for edge in edges:
        finite = located.below(edge)
        if finite is None:
            return None
        below.append(int(first[f"below{j}"] or 0) + finite)
    return edges, _from_cumulative(below, count)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _edges(
    quantiles: list[float] | None, low: float | None, high: float | None
) -> tuple[float, ...]:
    """Distinct finite deciles, clamped to the data's range: interpolation may land a hair
    outside it (DuckDB computes lo * (1 - t) + hi * t), which would split a constant column."""
    import math

    if not quantiles or low is None or high is None:
        return ()
    clamped = {min(max(float(q), low), high) for q in quantiles if q is not None}
    return tuple(sorted(q for q in clamped if math.isfinite(q)))


def _from_cumulative(cumulative: list[int], count: int) -> tuple[int, ...]:
    """Bin counts from the counts below each edge (and the total of non-missing values)."""
    bounds = [0, *cumulative, count]
    return tuple(int(bounds[k + 1] - bounds[k]) for k in range(len(bounds) - 1))


def _category_counts(table: ir.Table, names: list[str]) -> dict[str, dict[str, int]]:
    """Counts of each category, most frequent first, for every categorical column: one pass."""
    import ibis

    long = table.select(*[table[name].cast("string").name(name) for name in names]).pivot_longer(
        ibis.selectors.all(), names_to="column", values_to="value"
    )
    present = long.filter(long.value.notnull())
    counted = (
        present.group_by(["column", "value"])
        .aggregate(n=ibis._.count())
        .order_by([ibis.desc("n"), "value"])
    )
    result: dict[str, dict[str, int]] = {name: {} for name in names}
    for row in counted.to_pyarrow().to_pylist():
        result[row["column"]][row["value"]] = int(row["n"])
    return result


def histogram_metrics(table: ir.Table, profiles: dict[str, ColumnProfile]) -> dict[str, Any]:
    """The named reductions whose values :func:`read_histograms` turns into histograms.

    Kept apart from executing them so a caller can add a group-by (time windows) around them.
    """
    metrics: dict[str, Any] = {"_rows": table.count()}
    native = _backend_name(table) == "duckdb"
    for i, column in enumerate(profiles.values()):
        metrics[f"m{i}"] = is_missing(table[column.name]).sum()
        if column.kind == "numeric":
            values = _comparable(table, column.name)
            if native and column.edges:
                metrics[f"h{i}"] = _duckdb_histogram(values, column.edges)
                continue
            for k, edge in enumerate(column.edges):
                metrics[f"c{i}_{k}"] = (values < exact_literal(edge)).sum()
        else:
            value = table[column.name].cast("string")
            for k, category in enumerate(column.categories):
                metrics[f"c{i}_{k}"] = (value == category).sum()
    return metrics


def _backend_name(table: ir.Table) -> str | None:
    from mlpilot.engine.portable import backend_name

    return backend_name(table)


def _duckdb_histogram(values: ir.NumericValue, edges: tuple[float, ...]) -> ir.Value:
    """DuckDB's ``histogram(x, boundaries)``: a map from each boundary to the count of values
    in (previous boundary, boundary], plus ``+inf`` for the rest."""
    import numpy as np

    boundaries = exact_array([float(np.nextafter(edge, -np.inf)) for edge in edges])
    return histogram_function()(values.cast("float64"), boundaries)


def exact_array(values: list[float]) -> ir.ArrayValue:
    """A list of doubles as ONE text literal cast to DOUBLE[]: parsed exactly (see
    :func:`exact_literal`), and cheap to compile even with thousands of elements."""
    import ibis
    import ibis.expr.datatypes as dt

    text = "[" + ", ".join(repr(float(v)) for v in values) + "]"
    return ibis.literal(text).cast(dt.Array(dt.float64))


def exact_literal(value: float) -> ir.FloatingScalar:
    """A double literal that arrives in the engine bit for bit. Ibis writes floats as decimal
    SQL literals, which DuckDB may round by an ulp on the way to DOUBLE (0.9999999999999999
    becomes 1.0): an edge off by one ulp moves every value equal to it into the wrong bin.
    Text cast to DOUBLE is parsed exactly."""
    import ibis

    return ibis.literal(repr(float(value))).cast("float64")


@cache
def histogram_function() -> Any:
    """The Ibis declaration of DuckDB's built-in aggregate, made once on first use."""
    import ibis
    import ibis.expr.datatypes as dt

    def histogram(x: float, boundaries: list[float]) -> dict[float, int]:
        raise NotImplementedError  # never called: DuckDB runs its own

    return ibis.udf.agg.builtin(
        histogram,
        name="histogram",
        signature=((dt.float64, dt.Array(dt.float64)), dt.Map(dt.float64, dt.int64)),
    )


def _comparable(table: ir.Table, name: str) -> ir.NumericValue:
    """The column with NaN as NULL. DuckDB folds ``x < edge`` from Parquet min/max statistics,
    which writers compute without NaN, and would count NaN rows as below every edge."""
    import ibis

    column = table[name]
    if not column.type().is_floating():
        return column
    return ibis.ifelse(column.isnan(), ibis.null(column.type()), column)


def read_histograms(
    row: dict[str, Any], profiles: dict[str, ColumnProfile]
) -> dict[str, Histogram]:
    """Histograms from one result row of :func:`histogram_metrics`."""
    rows = int(row["_rows"] or 0)
    result: dict[str, Histogram] = {}
    for i, column in enumerate(profiles.values()):
        missing = int(row[f"m{i}"] or 0)
        count = rows - missing
        if f"h{i}" in row:
            bins = _from_map(row[f"h{i}"], len(column.edges))
            result[column.name] = Histogram(count, missing, bins)
            continue
        width = len(column.edges) if column.kind == "numeric" else len(column.categories)
        counts = [int(row[f"c{i}_{k}"] or 0) for k in range(width)]
        if column.kind == "numeric":
            bins = _from_cumulative(counts, count)
        else:
            bins = (*counts, count - sum(counts))
        result[column.name] = Histogram(count, missing, bins)
    return result


def _from_map(pairs: list[tuple[float, int]] | None, edges: int) -> tuple[int, ...]:
    """Bin counts from DuckDB's histogram map (None when every value was missing)."""
    if not pairs:
        return (0,) * (edges + 1)
    counts = [int(n) for _, n in sorted(pairs, key=lambda pair: pair[0])]
    return tuple(counts) + (0,) * (edges + 1 - len(counts))


def histograms(table: ir.Table, profiles: dict[str, ColumnProfile]) -> dict[str, Histogram]:
    """The current data on the reference's bins: one aggregate over the table."""
    return read_histograms(
        _one_row(table.aggregate(**histogram_metrics(table, profiles))), profiles
    )


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
