"""Exact deciles without sorting whole columns, for DuckDB.

An exact quantile aggregate keeps every value of a column and sorts it: on 1M rows x 15 columns
that is most of a reference profile's time, and it grows faster than the data. The deciles need
only 18 order statistics per column, so two streaming passes find them exactly:

1. a fine histogram per column (``FINE_BINS`` equal steps between the column's minimum and
   maximum, DuckDB's ``histogram(x, boundaries)``) gives the step that holds each wanted rank;
2. one aggregate collects the values of those steps only (``list(x) FILTER (…)``), a few
   thousand per column on continuous data; sorted in numpy they give the order statistics.

Deciles are then interpolated as ``numpy.quantile``'s default (``linear``): with
``h = (n - 1) p``, ``x[floor h] + (x[floor h + 1] - x[floor h]) (h - floor h)``. The same
steps also count the values below any edge exactly (:meth:`Located.below`), so the reference's
own bins need no further pass. Skewed columns only make the collected steps larger; the result
stays exact. Collected values that do not match their step's histogram count (which the shared
IEEE comparisons rule out) leave ``quantiles`` None, and the caller sorts as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

if TYPE_CHECKING:
    import ibis.expr.types as ir

FINE_BINS = 2048
# The arithmetic collect (:func:`_near`) also takes the neighbouring steps' values; past this
# many extra values in a column (8 MB), its exact bounds' comparisons are worth their time: at
# 10M x 20 the cold peak was 1.4 GB without the limit, 0.9 GB with it, in the same 20 s.
NEAR_EXTRA = 1_000_000
Floats = np.ndarray[Any, np.dtype[np.float64]]


@dataclass
class Located:
    """One column's fine steps, the values of the steps that matter, and its deciles."""

    boundaries: Floats  # upper bounds of steps 0..K-2; step K-1 holds the rest
    cumulative: np.ndarray[Any, np.dtype[np.int64]]  # values in steps 0..k
    collected: dict[int, Floats] = field(default_factory=dict)  # step -> its values, sorted
    quantiles: list[float] | None = field(default_factory=list)  # None: not exact, fall back
    constant: float | None = None  # every finite value, when they are all equal

    def step_of(self, value: float) -> int:
        """The step holding ``value``: steps are (previous bound, bound]."""
        return int(np.searchsorted(self.boundaries, value, side="left"))

    def before(self, step: int) -> int:
        return int(self.cumulative[step - 1]) if step else 0

    def below(self, edge: float) -> int | None:
        """How many finite values are ``< edge``; None if that cannot be told exactly."""
        return self._count(edge, "left")

    def at_most(self, value: float) -> int | None:
        """How many finite values are ``<= value``; None if that cannot be told exactly."""
        return self._count(value, "right")

    def _count(self, value: float, side: Literal["left", "right"]) -> int | None:
        if self.constant is not None:
            below = self.constant < value if side == "left" else self.constant <= value
            return int(self.cumulative[-1]) if below else 0
        step = self.step_of(value)
        inside = self.before(step + 1) - self.before(step)
        if inside == 0:
            return self.before(step)
        if side == "right" and step < self.boundaries.size and value == self.boundaries[step]:
            return self.before(step + 1)  # the step's values are all <= its upper bound
        values = self.collected.get(step)
        if values is None:
            return None
        return self.before(step) + int(np.searchsorted(values, value, side=side))


def locate(
    cleaned: ir.Table, columns: list[str], lows: list[float], highs: list[float], counts: list[int]
) -> list[Located | None]:
    """Exact deciles of each of ``columns`` (finite values only; NULL elsewhere), given each
    column's finite minimum, maximum and count; None for a column without finite values."""
    found: list[Located | None] = [None] * len(columns)
    steps: dict[str, Any] = {}
    for j, name in enumerate(columns):
        if counts[j] and lows[j] < highs[j]:
            interior = np.unique(np.linspace(lows[j], highs[j], FINE_BINS + 1)[1:-1])
            steps[f"h{j}"] = _histogram(cleaned[name], interior)
            found[j] = Located(interior, np.zeros(0, np.int64))
        elif counts[j]:  # a constant column: every decile is its value
            found[j] = Located(
                np.zeros(0), np.array([counts[j]], np.int64), {}, [lows[j]] * 9, lows[j]
            )
    if not steps:
        return found
    row = cleaned.aggregate(**steps).to_pyarrow().to_pylist()[0]
    wanted: dict[int, list[tuple[int, float]]] = {}
    picks: dict[str, Any] = {}
    for j, name in enumerate(columns):
        located = found[j]
        if located is None or f"h{j}" not in row:
            continue
        pairs = sorted(row[f"h{j}"] or [], key=lambda pair: pair[0])
        counted = np.zeros(located.boundaries.size + 1, np.int64)
        counted[: len(pairs)] = [n for _, n in pairs]
        located.cumulative = np.cumsum(counted)
        ranks = _ranks(counts[j])
        wanted[j] = ranks
        needed = sorted(
            {_step(located, r) for r, _ in ranks} | {_step(located, r + 1) for r, f in ranks if f}
        )
        with np.errstate(over="ignore", divide="ignore"):
            scale = FINE_BINS / (np.float64(highs[j]) - np.float64(lows[j]))
        neighbours = {s + d for s in needed for d in (-1, 1) if 0 <= s + d < counted.size}
        extra = int(counted[sorted(neighbours - set(needed))].sum())
        arithmetic = (
            located.boundaries.size == FINE_BINS - 1 and 0 < scale < 1e300 and extra <= NEAR_EXTRA
        )
        picks[f"v{j}"] = cleaned[name].collect(
            where=_near(cleaned[name], lows[j], float(scale), needed)
            if arithmetic
            else _within(cleaned[name], located, needed)
        )
    values = cleaned.aggregate(**picks).to_pyarrow().to_pylist()[0]
    for j, ranks in wanted.items():
        located = found[j]
        assert located is not None
        collected = np.sort(np.asarray(values[f"v{j}"] or [], dtype=np.float64))
        of = np.searchsorted(located.boundaries, collected, side="left")  # each value's step
        present, starts = np.unique(of, return_index=True)
        for step, start, end in zip(present, starts, [*starts[1:], of.size], strict=True):
            part = collected[start:end]
            if part.size == located.before(int(step) + 1) - located.before(int(step)):
                located.collected[int(step)] = part  # a step whose count disagrees stays out
        try:
            located.quantiles = [_interpolate(located, r, f) for r, f in ranks]
        except KeyError:  # a rank in a step left out: not exact
            located.quantiles = None
    return found


def _ranks(n: int) -> list[tuple[int, float]]:
    """(floor h, h - floor h) of each decile, h = (n - 1) p."""
    out = []
    for p in (i / 10 for i in range(1, 10)):
        h = (n - 1) * p
        out.append((int(np.floor(h)), float(h - np.floor(h))))
    return out


def _step(located: Located, rank: int) -> int:
    return int(np.searchsorted(located.cumulative, rank, side="right"))


def _value(located: Located, rank: int) -> float:
    step = _step(located, rank)
    return float(located.collected[step][rank - located.before(step)])


def _interpolate(located: Located, rank: int, frac: float) -> float:
    """numpy's lerp, to the last bit: from the nearer neighbour (``b - (b - a)(1 - t)`` once
    t >= 0.5), which decides how a half-way subnormal rounds."""
    low = _value(located, rank)
    if not frac:
        return low
    high = _value(located, rank + 1)
    if frac >= 0.5:
        return high - (high - low) * (1 - frac)
    return low + (high - low) * frac


def _near(values: ir.FloatingValue, low: float, scale: float, steps: list[int]) -> ir.BooleanValue:
    """values whose step, computed by arithmetic from the column's minimum and steps per unit,
    is one of ``steps`` or next to one: a superset of those steps' values (rounding moves a
    value by one step at most) for one multiplication and a small IN list per row, where the
    steps' exact bounds cost several comparisons. numpy then cuts the exact steps."""
    index = ((values - low) * scale).floor().cast("int64")
    return index.isin(sorted({s + d for s in steps for d in (-1, 0, 1)}))


def _within(values: ir.FloatingValue, located: Located, steps: list[int]) -> ir.BooleanValue:
    """values in any of ``steps``, adjacent steps merged into one range."""
    import ibis

    from mlpilot.engine.literals import exact_literal

    ranges: list[list[int]] = []
    for step in steps:
        if ranges and ranges[-1][1] == step - 1:
            ranges[-1][1] = step
        else:
            ranges.append([step, step])
    bounds = located.boundaries
    conditions = []
    for first, last in ranges:
        parts = []
        if first > 0:
            parts.append(values > exact_literal(float(bounds[first - 1])))
        if last < bounds.size:
            parts.append(values <= exact_literal(float(bounds[last])))
        conditions.append(ibis.and_(*parts) if parts else values.notnull())
    return ibis.or_(*conditions)


def _histogram(values: ir.FloatingValue, boundaries: Floats) -> ir.Value:
    from mlpilot.engine.literals import exact_array, histogram_function

    return histogram_function()(values, exact_array(boundaries.tolist()))
