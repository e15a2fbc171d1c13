"""Doubles that reach the engine bit for bit, and DuckDB's ``histogram(x, boundaries)``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ibis.expr.types as ir


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
