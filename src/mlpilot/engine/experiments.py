"""The engine half of experiments: exposures ⋈ metric events → sufficient statistics per arm.

A unit belongs to the variant of its first exposure to the experiment and counts from that time;
a unit exposed to more than one variant is left out (and counted, since it signals a bug in the
assignment). Per unit and event metric the engine sums the values after the first exposure
(until ``until`` if given) and, as the CUPED covariate, in the ``pre_days`` before it. Events
before exposure never count in the metric itself.

Metric definitions (:class:`MetricDef`):

- ``mean``: the sum of the unit's values (0 for a unit without events), averaged over units;
- ``conversion``: 1 when the unit has any event of the metric, else 0 (a proportion);
- ``ratio``: Σ numerator / Σ denominator over units (the delta method in the stats half);
- ``cap``: a percentile in (0, 1); a unit's value is capped at that percentile of the values of
  the units that have the event (zeros would otherwise make the cap 0 for rare events).

Everything is one Ibis expression, a UNION ALL of small aggregates, executed once: per
(variant, event metric) the sums n, Σx, Σx², Σpre, Σpre², Σx·pre and the conversion counts;
per (variant, ratio metric) Σnum, Σnum², Σden, Σden², Σnum·den; and the units per variant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from mlpilot.engine.portable import as_int
from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

METRIC_KINDS = ("mean", "conversion", "ratio")
MIXED = "__mixed__"  # the key of units exposed to several variants
UNITS = "__units__"  # the key of the units-per-variant rows


@dataclass(frozen=True)
class MetricDef:
    """How one experiment metric is computed from metric events (see the module docstring)."""

    name: str
    kind: str = "mean"
    numerator: str | None = None  # the event metric; the metric's own name when None
    denominator: str | None = None  # ratio metrics only
    cap: float | None = None
    higher_is_better: bool | None = None  # declared, or given by a criterion; never assumed

    @property
    def source(self) -> str:
        """The event metric the values come from (the numerator of a ratio)."""
        return self.numerator or self.name


def _empty_row() -> dict[str, float]:
    return dict.fromkeys(("n", "s1", "s2", "c1", "c2", "x12", "b1", "b2", "b12"), 0.0)


def experiment_stats(
    exposures: ir.Table,
    events: ir.Table,
    experiment: str,
    variants: list[str],
    metrics: list[MetricDef],
    *,
    pre_days: float = 30.0,
    until: datetime | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Sufficient statistics per (variant, metric) as the rows of a ``--stats`` CSV, and the
    units per variant seen in the exposures (``__mixed__``: exposed to several variants)."""
    import ibis

    for m in metrics:
        if m.cap is not None and not 0 < m.cap < 1:
            raise ValidationError(f"a cap is a percentile in (0, 1), e.g. 0.99; got {m.cap}")
    raws = sorted({m.source for m in metrics} | {m.denominator for m in metrics if m.denominator})
    exp = exposures.filter(exposures.experiment == experiment)
    if until is not None:
        exp = exp.filter(exp.time <= until)
    units = exp.group_by("unit_id").aggregate(
        _first=exp.time.min(),
        _variant=exp.variant.argmin(exp.time),
        # min != max: cheaper than a distinct count and all that is needed.
        _mixed=exp.variant.min() != exp.variant.max(),
    )
    keyed = units.mutate(_variant=ibis.ifelse(units._mixed, ibis.literal(MIXED), units._variant))
    counted = keyed.group_by(keyed._variant.name("variant")).aggregate(
        key=ibis.literal(UNITS),
        n=keyed.count().cast("float64"),
        **{k: ibis.literal(0.0) for k in ("s1", "s2", "c1", "c2", "x12", "b1", "b2", "b12")},
    )
    single = units.filter(~units._mixed).select("unit_id", "_first", "_variant")
    ev = events.filter(events.metric.isin(raws))
    joined = ev.inner_join(single, "unit_id")
    # Times compare as stored (zoned timestamps): no per-row conversion.
    post = joined.time >= joined._first
    window = joined.time >= joined._first - ibis.interval(seconds=round(pre_days * 86_400))
    if until is not None:
        post = post & (joined.time <= until)
        window = window & (joined.time <= until)
    pre = joined.time < joined._first
    value = joined.value.cast("float64")
    per_unit = (
        joined.filter(window)
        .group_by(["unit_id", "metric"])  # the variant follows from the unit: not a key
        .aggregate(
            _variant=joined._variant.arbitrary(),
            # value × 0/1 rather than CASE … ELSE NULL: DuckDB aggregates the product faster.
            x=(value * as_int(post)).sum(),
            nx=as_int(post).sum(),
            p=(value * as_int(pre)).sum(),
            np_=as_int(pre).sum(),
        )
    )
    values = per_unit.mutate(
        x=per_unit.x.fill_null(0.0),
        p=per_unit.p.fill_null(0.0),
        bx=as_int(per_unit.nx > 0).cast("float64"),
        bp=as_int(per_unit.np_ > 0).cast("float64"),
    )
    parts = [counted, _moments(values)]
    for m in metrics:
        if m.kind == "ratio":
            parts.append(_ratio(values, m))
        elif m.cap is not None:
            parts.append(_capped(values, m))
    result = ibis.union(*parts, distinct=False).to_pyarrow().to_pylist()
    return stats_rows(result, variants, metrics)


def _only(condition: ir.BooleanValue, value: ir.NumericValue) -> ir.FloatingValue:
    """``value`` where ``condition`` holds, else NULL (skipped by aggregates)."""
    import ibis

    return ibis.ifelse(condition, value.cast("float64"), ibis.null("float64"))


def _moments(values: ir.Table) -> ir.Table:
    return values.group_by([values._variant.name("variant"), values.metric.name("key")]).aggregate(
        n=values.count().cast("float64"),
        s1=values.x.sum(),
        s2=(values.x * values.x).sum(),
        c1=values.p.sum(),
        c2=(values.p * values.p).sum(),
        x12=(values.x * values.p).sum(),
        b1=values.bx.sum(),
        b2=values.bp.sum(),
        b12=(values.bx * values.bp).sum(),
    )


def _capped(values: ir.Table, metric: MetricDef) -> ir.Table:
    """The moments of one event metric with each unit's value capped at the percentile."""
    import ibis

    mine = values.filter(values.metric == metric.source)
    limit = mine.filter(mine.nx > 0).x.quantile(metric.cap).as_scalar()
    capped = mine.mutate(x=ibis.least(mine.x, limit), p=ibis.least(mine.p, limit))
    return _moments(capped).mutate(key=ibis.literal(f"cap:{metric.name}"))


def _ratio(values: ir.Table, metric: MetricDef) -> ir.Table:
    import ibis

    pair = values.filter(values.metric.isin([metric.source, metric.denominator]))
    per = pair.group_by(["unit_id", "_variant"]).aggregate(
        num=_only(pair.metric == metric.source, pair.x).sum(),
        den=_only(pair.metric == metric.denominator, pair.x).sum(),
    )
    num, den = per.num.fill_null(0.0), per.den.fill_null(0.0)
    return per.group_by(per._variant.name("variant")).aggregate(
        key=ibis.literal(f"ratio:{metric.name}"),
        n=per.count().cast("float64"),
        s1=num.sum(),
        s2=(num * num).sum(),
        c1=den.sum(),
        c2=(den * den).sum(),
        x12=(num * den).sum(),
        b1=ibis.literal(0.0),
        b2=ibis.literal(0.0),
        b12=ibis.literal(0.0),
    )


def stats_rows(
    result: list[dict[str, Any]], variants: list[str], metrics: list[MetricDef]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Units without events add zeros, so only n comes from the units per variant."""
    units: dict[str, int] = {}
    sums: dict[tuple[str, str], dict[str, float]] = {}
    for row in result:
        if row["key"] == UNITS:
            units[row["variant"]] = int(row["n"])
        else:
            sums[(row["variant"], row["key"])] = {
                k: float(v or 0.0) for k, v in row.items() if k not in ("variant", "key")
            }
    rows = []
    for m in metrics:
        for v in variants:
            n = units.get(v, 0)
            if m.kind == "ratio":
                s = sums.get((v, f"ratio:{m.name}"), _empty_row())
                rows.append(
                    {
                        "variant": v,
                        "metric": m.name,
                        "kind": "ratio",
                        "n": n,
                        "sum": s["s1"],
                        "sum_squares": s["s2"],
                        "denominator_sum": s["c1"],
                        "denominator_sum_squares": s["c2"],
                        "cross_sum": s["x12"],
                    }
                )
                continue
            key = m.source if m.cap is None else f"cap:{m.name}"
            s = sums.get((v, key), _empty_row())
            if m.kind == "conversion":
                moments = (s["b1"], s["b1"], s["b2"], s["b2"], s["b12"])
            else:
                moments = (s["s1"], s["s2"], s["c1"], s["c2"], s["x12"])
            rows.append(
                {
                    "variant": v,
                    "metric": m.name,
                    "kind": "proportion" if m.kind == "conversion" else "mean",
                    "n": n,
                    "sum": moments[0],
                    "sum_squares": moments[1],
                    "covariate_sum": moments[2],
                    "covariate_sum_squares": moments[3],
                    "covariate_cross_sum": moments[4],
                }
            )
    return rows, units


def parse_metric(spec: str) -> MetricDef:
    """Parse ``NAME[:TOKEN…]``: a kind (``mean``, ``conversion``, ``ratio``), ``NUM/DEN`` (a
    ratio's event metrics), ``from=EVENT`` (another event metric), ``cap=Q`` (a percentile)
    and the direction, ``higher`` or ``lower`` (which way is better), e.g.
    ``aov:ratio:revenue/orders:higher`` or ``cost:cap=0.99:lower``. A metric without a
    direction gets it from the impact criterion that names it, or is refused at creation."""
    import re

    name, *tokens = [part.strip() for part in spec.strip().split(":")]
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", name):
        raise ValidationError(f"invalid metric name {name!r}: use snake_case, e.g. retention_30d")
    fields: dict[str, Any] = {"name": name}
    for token in tokens:
        if token in METRIC_KINDS:
            fields["kind"] = token
        elif token in ("higher", "lower"):
            if "higher_is_better" in fields:
                raise ValidationError(f"metric {spec!r} gives its direction twice")
            fields["higher_is_better"] = token == "higher"
        elif "/" in token:
            fields["numerator"], _, fields["denominator"] = (
                s.strip() for s in token.partition("/")
            )
        elif token.startswith("from="):
            fields["numerator"] = token[5:].strip()
        elif token.startswith("cap="):
            try:
                fields["cap"] = float(token[4:])
            except ValueError:
                raise ValidationError(f"invalid cap {token!r}; write e.g. cap=0.99") from None
        else:
            raise ValidationError(
                f"unknown token {token!r} in metric {spec!r}; use a kind "
                f"({', '.join(METRIC_KINDS)}), NUM/DEN, from=EVENT, cap=Q, higher or lower"
            )
    metric = MetricDef(**fields)
    check_metric(metric)
    return metric


def check_metric(metric: MetricDef) -> None:
    """Raise :class:`ValidationError` for an inconsistent definition."""
    if metric.kind not in METRIC_KINDS:
        raise ValidationError(f"unknown metric kind {metric.kind!r}; use {', '.join(METRIC_KINDS)}")
    if (metric.kind == "ratio") != (metric.denominator is not None):
        raise ValidationError(
            f"metric {metric.name!r}: a ratio needs NUM/DEN "
            f"(e.g. {metric.name}:ratio:revenue/orders) and only a ratio has a denominator"
        )
    if metric.cap is not None and not 0 < metric.cap < 1:
        raise ValidationError(f"a cap is a percentile in (0, 1), e.g. 0.99; got {metric.cap}")
    if metric.cap is not None and metric.kind != "mean":
        raise ValidationError(f"metric {metric.name!r}: only mean metrics can be capped")
