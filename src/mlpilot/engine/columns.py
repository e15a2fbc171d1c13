"""Which columns of a table are numeric and which categorical, and how to say "missing"."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from mlpilot.errors import ValidationError

if TYPE_CHECKING:
    import ibis.expr.types as ir

Kind = Literal["numeric", "categorical"]


def column_kinds(table: ir.Table, columns: list[str] | None = None) -> dict[str, Kind]:
    """Numeric (integers, floats, decimals) or categorical (text, booleans) for each column.

    Without ``columns``, every numeric and categorical column; times, lists and structs are left
    out. A named column that does not exist, or has neither kind, is a ValidationError.
    """
    schema = table.schema()
    names = list(schema.names) if columns is None else columns
    kinds: dict[str, Kind] = {}
    for name in names:
        if name not in schema:
            raise ValidationError(f"no column {name!r}; the columns are: {', '.join(schema.names)}")
        dtype = schema[name]
        if dtype.is_numeric() and not dtype.is_boolean():
            kinds[name] = "numeric"
        elif dtype.is_string() or dtype.is_boolean():
            kinds[name] = "categorical"
        elif columns is not None:
            raise ValidationError(f"column {name!r} has type {dtype}; drift needs numbers or text")
    return kinds


def is_missing(column: ir.Column) -> ir.BooleanValue:
    """NULL, or NaN for floating columns: both count as missing."""
    missing = column.isnull()
    return missing | column.isnan() if column.type().is_floating() else missing
