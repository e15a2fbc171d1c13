"""Validate an Arrow IPC batch (a table with a ``type`` column) like JSON records: the same
specs and checks (server/records.py), on Arrow columns as they come — no Python objects per
record."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from mlpilot.server.records import (
    _UTC,
    RECORD_TYPES,
    Batch,
    _finish,
    _Group,
    _id_text,
    _name_problem,
    _numeric,
    _scalar_type,
    _times,
    _type_problem,
    _unknown_field,
)

__all__ = ["from_arrow"]


def from_arrow(table: pa.Table) -> Batch:
    """Validate an Arrow table with a ``type`` column. Columns are the record fields; for
    predictions every other column is a feature (or a struct column ``features``)."""
    if "type" not in table.column_names:
        raise TypeError("an Arrow batch needs a 'type' column naming each record's type")
    table = table.combine_chunks()
    batch = Batch(received=table.num_rows)
    types = pc.cast(table["type"], pa.string())
    ids = table["id"] if "id" in table.column_names else pa.nulls(table.num_rows, pa.string())
    groups: list[tuple[str, pa.Array]] = []
    for type_ in pc.unique(types).to_pylist():
        chosen = pc.is_null(types) if type_ is None else pc.fill_null(pc.equal(types, type_), False)
        index = pc.indices_nonzero(chosen)
        if type_ in RECORD_TYPES:
            groups.append((type_, index))
            continue
        problem = _type_problem({"type": type_} if type_ is not None else {}, type_)
        for at in index.to_pylist():
            batch.rejected.append({"index": at, "id": _id_text(ids[at].as_py()), "reason": problem})
    for type_, index in groups:
        spec = RECORD_TYPES[type_]
        rows = table if len(index) == table.num_rows else table.take(index)
        group = _Group(
            spec, index.cast(pa.int64()), rows["id"] if "id" in rows.column_names else ids
        )
        columns: dict[str, pa.Array] = {}
        features: dict[str, pa.Array] = {}
        for name in rows.column_names:
            if name == "type":
                continue
            array = rows[name].combine_chunks()
            if name in spec.fields:
                columns[name] = _arrow_column(group, name, spec.fields[name], array)
            elif spec.features and name == "features" and pa.types.is_struct(array.type):
                for child, values in zip(array.type, array.flatten(), strict=True):
                    features[child.name] = values
            elif spec.features:
                features[name] = array
            else:
                group.reject_mask(pc.is_valid(array), _unknown_field(type_, spec, name))
        lowered: dict[str, str] = {}
        for name in list(features):
            issue = _name_problem(name, lowered)
            array = features.pop(name)
            if issue is not None:
                group.reject_mask(pc.is_valid(array), issue)
            elif not _scalar_type(array.type):
                group.reject_mask(
                    pc.is_valid(array), f"feature {name!r} is {array.type}: not a scalar"
                )
            else:
                lowered[name.lower()] = name
                features[name] = array
        for name, role in spec.fields.items():
            if name not in columns:
                columns[name] = pa.nulls(len(index), _ROLE_TYPES.get(role, pa.null()))
        _finish(batch, group, columns, features)
    batch.rejected.sort(key=lambda r: int(r["index"]))
    return batch


_ROLE_TYPES = {
    "text": pa.string(),
    "status": pa.string(),
    "time": _UTC,
    "number": pa.float64(),
    "score": pa.float64(),
}


def _arrow_column(group: _Group, name: str, role: str, array: pa.Array) -> pa.Array:
    if role == "time":
        if pa.types.is_timestamp(array.type):
            return array.cast(pa.timestamp("us", array.type.tz or "UTC")).cast(_UTC)
        if pa.types.is_date(array.type):
            return array.cast(pa.timestamp("us")).cast(_UTC)
        return _times(group, name, array.to_pylist())
    if role in ("text", "status"):
        if pa.types.is_string(array.type) or pa.types.is_null(array.type):
            return array.cast(pa.string())
        if pa.types.is_integer(array.type) or pa.types.is_large_string(array.type):
            return array.cast(pa.string())
        group.reject_mask(pc.is_valid(array), f"'{name}' must be text, not {array.type}")
        return pa.nulls(len(array), pa.string())
    if role in ("number", "score"):
        if _numeric(array.type) or pa.types.is_null(array.type):
            return array.cast(pa.float64())
        group.reject_mask(pc.is_valid(array), f"'{name}' must be a number, not {array.type}")
        return pa.nulls(len(array), pa.float64())
    if _numeric(array.type) or pa.types.is_boolean(array.type):
        return array.cast(pa.float64())
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        return array.cast(pa.string())
    if pa.types.is_null(array.type):
        return array
    group.reject_mask(pc.is_valid(array), f"'{name}' must be numbers or text, not {array.type}")
    return pa.nulls(len(array))
