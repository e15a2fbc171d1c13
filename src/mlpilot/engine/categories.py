"""Category counts for drift: the reference's categories, and the current data's on them.

The current side counts every category of the reference (one bin each) and the values the
reference never saw (one ``unseen`` bin). The test needs more than that bin: when the reference
has many rare categories, the current data holds many categories the reference happened not to
draw, and only their individual counts tell chance from a change. So the unseen categories that
occur at least :data:`NEW_CATEGORY_MIN` times are also kept one by one (the rest are only
counted in the ``unseen`` bin). The test pools every category whose total over both samples is
below ``2 · MIN_EXPECTED = 10`` anyway (:func:`mlpilot.stats.drift.pool_rare`), so nothing it
needs is lost.

On DuckDB one ``histogram(value)`` aggregate per column gives all of it in the main aggregate;
elsewhere one sum per category does, plus one group-by for the frequent unseen values.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir

NEW_CATEGORY_MIN = 10


def reference_counts(table: ir.Table, names: list[str]) -> dict[str, dict[str, int]]:
    """Counts of each category, most frequent first, for every categorical column: one pass."""
    import ibis

    long = _long(table, names)
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


def _long(table: ir.Table, names: list[str], by: str | None = None) -> ir.Table:
    import ibis

    keep = [by] if by else []
    wide = table.select(*keep, *[table[name].cast("string").name(name) for name in names])
    return wide.pivot_longer(ibis.selectors.cols(*names), names_to="column", values_to="value")


def frequent_values(
    table: ir.Table, names: list[str], by: str | None = None
) -> dict[Any, dict[str, dict[str, int]]]:
    """``{group: {column: {value: count}}}`` of the values occurring at least
    :data:`NEW_CATEGORY_MIN` times (per ``by`` group, if given): one group-by."""
    import ibis

    long = _long(table, names, by)
    keys = [by, "column", "value"] if by else ["column", "value"]
    counted = long.filter(long.value.notnull()).group_by(keys).aggregate(n=ibis._.count())
    counted = counted.filter(counted.n >= NEW_CATEGORY_MIN)
    result: dict[Any, dict[str, dict[str, int]]] = {}
    for row in counted.to_pyarrow().to_pylist():
        group = result.setdefault(row[by] if by else None, {})
        group.setdefault(row["column"], {})[row["value"]] = int(row["n"])
    return result


def count_map(values: ir.Value) -> ir.Value:
    """DuckDB's ``histogram(value)``: a map from each distinct text value to its count."""
    return _histogram_of_text()(values.cast("string"))


@cache
def _histogram_of_text() -> Any:
    import ibis
    import ibis.expr.datatypes as dt

    def histogram(x: str) -> dict[str, int]:
        raise NotImplementedError  # never called: DuckDB runs its own

    return ibis.udf.agg.builtin(
        histogram, name="histogram", signature=((dt.string,), dt.Map(dt.string, dt.int64))
    )


def split(
    counted: dict[str, int] | list[tuple[str, int]] | None, categories: dict[str, int]
) -> tuple[list[int], int, tuple[tuple[str, int], ...]]:
    """A column's current counts on the reference's ``categories`` (category -> index), the
    count of values the reference never saw, and the frequent ones among those."""
    pairs = counted.items() if isinstance(counted, dict) else (counted or [])
    bins = [0] * len(categories)
    unseen = 0
    new: list[tuple[str, int]] = []
    for value, n in pairs:
        index = categories.get(value)
        if index is not None:
            bins[index] += int(n)
            continue
        unseen += int(n)
        if n >= NEW_CATEGORY_MIN:
            new.append((str(value), int(n)))
    return bins, unseen, tuple(sorted(new, key=lambda pair: (-pair[1], pair[0])))


def frequent_unseen(
    counted: dict[str, int], categories: dict[str, int]
) -> tuple[tuple[str, int], ...]:
    """The frequent values among ``counted`` that the reference never saw."""
    new = [(value, n) for value, n in counted.items() if value not in categories]
    return tuple(sorted(new, key=lambda pair: (-pair[1], pair[0])))
