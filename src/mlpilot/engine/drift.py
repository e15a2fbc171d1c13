"""The engine half of drift: reference profiles, current histograms, ECDF comparisons.

Numeric columns are binned on edges fixed by the reference (:mod:`mlpilot.engine.bins`): its
deciles (linear interpolation, computed once over the finite values), a bin of its own for a
decile that is a point mass, and ``-inf`` and ``+inf`` each in a bin of their own. Categorical
columns count the reference's categories plus one bin for values it never saw, and keep the
frequent unseen values apart (:mod:`mlpilot.engine.categories`). Missing values (NULL, and NaN
in floating columns) are counted apart; the test compares them as one more value.

The current side is ONE aggregate over the table: for each numeric column the count of values
below each edge, for each categorical column the count of each category. Grouped by a time
window, the same aggregate yields every window's histograms in one pass. On DuckDB a numeric
column's counts come from its ``histogram(x, boundaries)`` aggregate (a binary search per value
instead of one comparison per edge: half the time on 1M × 15 columns) and a categorical
column's from ``histogram(value)``; other engines get the portable sums, and one group-by for
the frequent unseen categories. The boundaries are the edges' predecessors
(``nextafter(e, -inf)``): ``histogram`` counts ``x <= b``, which for doubles is exactly ``x < e``.

A profile is stored as JSON (:meth:`ColumnProfile.to_json`) with its :data:`PROFILE_FORMAT`;
one of an older format is refused with a message to profile the reference again.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mlpilot.engine import bins as binning
from mlpilot.engine import categories as cat
from mlpilot.engine.columns import Kind, is_missing
from mlpilot.engine.literals import exact_array, exact_literal, histogram_function
from mlpilot.engine.portable import is_infinite
from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

DECILES = tuple(i / 10 for i in range(1, 10))
# 1: deciles only, -inf and +inf in the end bins. 2: point masses and ±inf in bins of their own.
PROFILE_FORMAT = 2


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
    format: int = PROFILE_FORMAT

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the event store's summaries); ``+inf`` as ``"inf"``."""
        data = asdict(self)
        data["edges"] = [edge if math.isfinite(edge) else repr(edge) for edge in self.edges]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ColumnProfile:
        """The inverse of :meth:`to_json`; a profile of another format is refused."""
        if data.get("format") != PROFILE_FORMAT:
            raise ValidationError(
                f"the reference profile of column {data.get('name')!r} is in format "
                f"{data.get('format', 1)}, made by an older mlpilot; this version reads format "
                f"{PROFILE_FORMAT}: profile the reference again (a stored reference: add it "
                "again with 'mlpilot reference add')"
            )
        return cls(
            **{
                **data,
                "bins": tuple(data["bins"]),
                "edges": tuple(float(edge) for edge in data["edges"]),
                "categories": tuple(data["categories"]),
            }
        )


@dataclass(frozen=True)
class Histogram:
    """One column of the current data on the reference's bins; for a categorical column also
    the unseen categories that occur at least ``NEW_CATEGORY_MIN`` times (also counted in the
    last, unseen, bin), most frequent first."""

    count: int
    missing: int
    bins: tuple[int, ...]
    new: tuple[tuple[str, int], ...] = ()


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
    categories = cat.reference_counts(table, categorical) if categorical else {}
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
    """Each numeric column's edges (:mod:`mlpilot.engine.bins`) and the reference's counts."""
    from mlpilot.engine import deciles, portable

    columns = range(len(numeric))
    finite = {name: int(first[f"n{j}"] or 0) for j, name in enumerate(numeric)}
    if native:
        located = deciles.locate(
            cleaned,
            [f"_f{j}" for j in columns],
            [first[f"lo{j}"] for j in columns],
            [first[f"hi{j}"] for j in columns],
            [finite[name] for name in numeric],
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
        [finite[name] for name in numeric],
        [first[f"lo{j}"] for j in columns],
        [first[f"hi{j}"] for j in columns],
    )
    inner = {
        name: binning.inner_edges(found_deciles[j], first[f"lo{j}"], first[f"hi{j}"])
        for j, name in enumerate(numeric)
    }
    edges = {name: binning.candidate_edges(inner[name]) for name in numeric}
    binned = {name: ColumnProfile(name, "numeric", 0, 0, (), edges=edges[name]) for name in numeric}
    counted = histograms(table, binned) if numeric else {}
    return {
        name: binning.keep_atoms(edges[name], counted[name].bins, inner[name], finite[name])
        for name in numeric
    }


def _bins_from(
    located: Any, first: dict[str, Any], j: int, count: int
) -> tuple[tuple[float, ...], tuple[int, ...]] | None:
    """Edges and bins of one column from its located deciles: the values below each edge are
    the -inf values plus the finite ones, counted exactly from the fine steps. None when the
    steps cannot tell exactly."""
    negative = int(first[f"below{j}"] or 0)  # -inf values
    finite = int(first[f"n{j}"] or 0)
    if located is not None and located.quantiles is None:
        return None
    quantiles = located.quantiles if located is not None else None
    inner = binning.inner_edges(quantiles, first[f"lo{j}"], first[f"hi{j}"])
    edges = binning.candidate_edges(inner)
    below = []
    for edge in edges:
        if edge == binning.LOWEST:
            below.append(negative)
            continue
        if edge == math.inf or located is None:
            below.append(negative + finite)
            continue
        if binning.is_atom_edge(edge, inner):
            counted = located.at_most(math.nextafter(edge, -math.inf))
        else:
            counted = located.below(edge)
        if counted is None:
            return None
        below.append(negative + counted)
    return binning.keep_atoms(edges, binning.from_cumulative(below, count), inner, finite)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


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
        elif native:
            metrics[f"k{i}"] = cat.count_map(table[column.name])
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

    boundaries = exact_array([math.nextafter(edge, -math.inf) for edge in edges])
    return histogram_function()(values.cast("float64"), boundaries)


def _comparable(table: ir.Table, name: str) -> ir.NumericValue:
    """The column with NaN as NULL. DuckDB folds ``x < edge`` from Parquet min/max statistics,
    which writers compute without NaN, and would count NaN rows as below every edge."""
    import ibis

    column = table[name]
    if not column.type().is_floating():
        return column
    return ibis.ifelse(column.isnan(), ibis.null(column.type()), column)


def read_histograms(
    row: dict[str, Any],
    profiles: dict[str, ColumnProfile],
    frequent: dict[str, dict[str, int]] | None = None,
) -> dict[str, Histogram]:
    """Histograms from one result row of :func:`histogram_metrics`; ``frequent`` holds the
    frequent values of the categorical columns where the row has no count map (portable)."""
    rows = int(row["_rows"] or 0)
    result: dict[str, Histogram] = {}
    for i, column in enumerate(profiles.values()):
        missing = int(row[f"m{i}"] or 0)
        count = rows - missing
        if f"h{i}" in row:
            bins = _from_map(row[f"h{i}"], len(column.edges))
            result[column.name] = Histogram(count, missing, bins)
            continue
        if column.kind == "numeric":
            below = [int(row[f"c{i}_{k}"] or 0) for k in range(len(column.edges))]
            result[column.name] = Histogram(count, missing, binning.from_cumulative(below, count))
            continue
        index = {category: k for k, category in enumerate(column.categories)}
        if f"k{i}" in row:
            counts, unseen, new = cat.split(row[f"k{i}"], index)
        else:
            counts = [int(row[f"c{i}_{k}"] or 0) for k in range(len(index))]
            unseen = count - sum(counts)
            new = cat.frequent_unseen((frequent or {}).get(column.name, {}), index)
        result[column.name] = Histogram(count, missing, (*counts, unseen), new)
    return result


def _from_map(pairs: list[tuple[float, int]] | None, edges: int) -> tuple[int, ...]:
    """Bin counts from DuckDB's histogram map (None when every value was missing)."""
    if not pairs:
        return (0,) * (edges + 1)
    counts = [int(n) for _, n in sorted(pairs, key=lambda pair: pair[0])]
    return tuple(counts) + (0,) * (edges + 1 - len(counts))


def histograms(table: ir.Table, profiles: dict[str, ColumnProfile]) -> dict[str, Histogram]:
    """The current data on the reference's bins: one aggregate over the table (and, off
    DuckDB, one group-by for the frequent unseen categories)."""
    ((_, found),) = grouped_histograms(table, profiles, None)  # one row without a group-by
    return found


def grouped_histograms(
    table: ir.Table, profiles: dict[str, ColumnProfile], by: str | None
) -> list[tuple[Any, dict[str, Histogram]]]:
    """``(group, histograms)`` for each value of the column ``by`` (in its order), or once for
    the whole table when ``by`` is None: one aggregate, grouped by ``by``."""
    metrics = histogram_metrics(table, profiles)
    query = (
        table.group_by(by).aggregate(**metrics).order_by(by) if by else table.aggregate(**metrics)
    )
    rows = query.to_pyarrow().to_pylist()
    portable = [
        p.name
        for p in profiles.values()
        if p.kind == "categorical" and _backend_name(table) != "duckdb"
    ]
    frequent = cat.frequent_values(table, portable, by) if portable and rows else {}
    return [
        (
            row[by] if by else None,
            read_histograms(row, profiles, frequent.get(row[by] if by else None)),
        )
        for row in rows
    ]
