"""The bins a reference fixes for a numeric column: deciles, point masses and ±inf apart.

Edges ``e0 < e1 < … < ek`` give the bins ``[e(i-1), e(i))`` plus one below ``e0`` and one from
``ek`` up. Every numeric column's edges start with :data:`LOWEST` (the most negative finite
double: only ``-inf`` lies below it) and end with ``+inf`` (only ``+inf`` lies at or above it), so
``-inf`` and ``+inf`` are each counted as a value of their own. Between them: the reference's
deciles (distinct, finite, clamped to its range), and, for a decile ``q`` that holds at least
:data:`ATOM_SHARE` of the reference's finite values, the edge ``nextafter(q, +inf)``, so the bin
``[q, nextafter(q))`` holds ``q`` alone. A point mass therefore never shares a bin with the
values around it: a change in the share of zeros in a zero-inflated column moves counts between
bins. Every value that holds 10 % or more of the reference is a decile, so it gets its bin.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence

LOWEST = -sys.float_info.max
ATOM_SHARE = 0.01
MIN_ATOM_COUNT = 2


def inner_edges(
    quantiles: Iterable[float | None] | None, low: float | None, high: float | None
) -> tuple[float, ...]:
    """Distinct finite deciles, clamped to the data's range: interpolation may land a hair
    outside it (DuckDB computes lo * (1 - t) + hi * t), which would split a constant column."""
    if not quantiles or low is None or high is None:
        return ()
    clamped = {min(max(float(q), low), high) for q in quantiles if q is not None}
    return tuple(sorted(q for q in clamped if math.isfinite(q)))


def candidate_edges(inner: Sequence[float]) -> tuple[float, ...]:
    """The sentinels, the deciles and the successor of each decile (a possible point mass)."""
    atoms = {math.nextafter(q, math.inf) for q in inner}
    return tuple(sorted({LOWEST, math.inf, *inner, *atoms}))


def is_atom_edge(edge: float, inner: Sequence[float]) -> bool:
    """Whether ``edge`` closes a point-mass bin ``[q, edge)`` of a decile ``q``."""
    if edge in (LOWEST, math.inf) or edge in inner:
        return False
    return math.nextafter(edge, -math.inf) in inner


def keep_atoms(
    edges: Sequence[float], bins: Sequence[int], inner: Sequence[float], finite: int
) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """Drop each point-mass edge whose bin holds fewer than :data:`ATOM_SHARE` of the ``finite``
    values (or fewer than :data:`MIN_ATOM_COUNT`), merging that bin into the next one."""
    threshold = max(MIN_ATOM_COUNT, ATOM_SHARE * finite)
    kept_edges: list[float] = []
    kept_bins = [int(bins[0])]
    for k, edge in enumerate(edges):
        count = int(bins[k + 1])
        atom_bin = kept_bins[-1]  # the bin [q, edge) that this edge closes
        if is_atom_edge(edge, inner) and atom_bin < threshold:
            kept_bins[-1] += count  # no point mass at q: [q, edge) and [edge, next) as one
            continue
        kept_edges.append(edge)
        kept_bins.append(count)
    return tuple(kept_edges), tuple(kept_bins)


def from_cumulative(cumulative: Sequence[int], count: int) -> tuple[int, ...]:
    """Bin counts from the counts below each edge (and the total of non-missing values)."""
    bounds = [0, *cumulative, count]
    return tuple(int(bounds[k + 1] - bounds[k]) for k in range(len(bounds) - 1))
