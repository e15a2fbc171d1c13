"""Validate a batch of typed records into one Arrow table per kind, naming each rejected record.

A batch is a list of JSON objects (``{"type": "prediction", "id": …}``), or an Arrow table with a
``type`` column (server/records_arrow.py, on the same checks). Records are grouped by type and
checked a column at a time: each column is built with one pyarrow call, and only when that call
fails (a value of the wrong type) is the column walked value by value to find the culprits. A
bad record is rejected with the field and what is wrong; the others of the batch go on. Feature
names are checked against a strict pattern and the reserved columns here, so nothing unchecked
ever reaches SQL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["RECORD_TYPES", "Batch", "Spec", "from_records"]

_UTC = pa.timestamp("us", "UTC")
_FEATURE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_STATUSES = ("ok", "error")


@dataclass(frozen=True)
class Spec:
    """One record type: the event-store kind it goes to and its fields (name -> role)."""

    kind: str  # key of mlpilot.store.events.EVENT_KINDS
    fields: dict[str, str]  # role: text, time, number, score, status, value
    required: tuple[str, ...]
    features: bool = False


_SERVICE = {"latency_ms": "number", "status": "status", "error_class": "text"}
RECORD_TYPES: dict[str, Spec] = {
    "prediction": Spec(
        "predictions",
        {"id": "text", "time": "time", "entity_id": "text", "model_version": "text",
         "score": "score", "prediction": "value", **_SERVICE},
        ("id", "time"),
        features=True,
    ),
    "outcome": Spec(
        "outcomes",
        {"id": "text", "entity_id": "text", "time": "time", "label": "value"},
        ("entity_id", "time", "label"),
    ),
    "request": Spec(
        "requests",
        {"id": "text", "time": "time", "model_version": "text", **_SERVICE},
        ("id", "time", "latency_ms"),
    ),
    "exposure": Spec(
        "exposures",
        {"id": "text", "unit_id": "text", "experiment": "text", "variant": "text", "time": "time"},
        ("unit_id", "experiment", "variant", "time"),
    ),
    "metric_event": Spec(
        "metric_events",
        {"id": "text", "unit_id": "text", "time": "time", "metric": "text", "value": "number"},
        ("unit_id", "time", "metric", "value"),
    ),
}  # fmt: skip
# Names a feature may not take (case ignored): every field of a prediction, and the envelope.
_RESERVED = {"type", "features", "label", *RECORD_TYPES["prediction"].fields}


@dataclass
class Batch:
    """A validated batch: per kind a table of good records (column ``_index``: the record's
    position in the batch), and the rejected records as ``{"index", "id", "reason"}``."""

    tables: dict[str, pa.Table] = field(default_factory=dict)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    received: int = 0


class _Group:
    """The records of one type: their batch positions and the first problem of each."""

    def __init__(self, spec: Spec, index: pa.Array, ids: Sequence[Any] | pa.Array) -> None:
        self.spec = spec
        self.index = index  # int64: each record's position in the batch
        self.ids = ids
        self.reasons: dict[int, str] = {}  # local position -> reason

    def rejection(self, at: int) -> dict[str, Any]:
        value = self.ids[at]
        value = value.as_py() if isinstance(value, pa.Scalar) else value
        return {"index": self.index[at].as_py(), "id": _id_text(value), "reason": self.reasons[at]}

    def reject(self, at: int, reason: str) -> None:
        self.reasons.setdefault(at, reason)

    def reject_mask(self, mask: pa.Array, reason: str) -> None:
        for at in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
            self.reject(at, reason)


# JSON records ---------------------------------------------------------------------------------


def from_records(records: Any) -> Batch:
    """Validate a list of JSON objects (as parsed by orjson)."""
    if not isinstance(records, list):
        raise TypeError("'records' must be a list of objects")
    batch = Batch(received=len(records))
    for type_, index in _by_type(batch, records).items():
        spec = RECORD_TYPES[type_]
        rows = records if len(index) == len(records) else [records[at] for at in index]
        lists = {name: [r.get(name) for r in rows] for name in spec.fields}
        group = _Group(spec, pa.array(index, pa.int64()), lists["id"])
        allowed = {"type", *spec.fields, *(("features",) if spec.features else ())}
        if not allowed.issuperset(set().union(*rows)):
            for at, row in enumerate(rows):
                extra = sorted(set(row) - allowed)
                if extra:
                    group.reject(at, _unknown_field(type_, spec, str(extra[0])))
        columns = {
            name: _column(group, name, role, lists[name]) for name, role in spec.fields.items()
        }
        features = _json_features(group, [r.get("features") for r in rows]) if spec.features else {}
        _finish(batch, group, columns, features)
    batch.rejected.sort(key=lambda r: int(r["index"]))
    return batch


def _by_type(batch: Batch, records: list[Any]) -> dict[str, list[int]]:
    """Each known type's record positions; records without one are rejected."""
    try:
        types = [r.get("type") for r in records]
        distinct = set(types)
    except (AttributeError, TypeError):  # a record that is not an object, an odd type value
        distinct = set()
    if len(distinct) == 1 and next(iter(distinct)) in RECORD_TYPES:  # the usual batch
        return {str(next(iter(distinct))): list(range(len(records)))}
    positions: dict[str, list[int]] = {}
    for at, record in enumerate(records):
        type_ = record.get("type") if type(record) is dict else None
        if type(type_) is str and type_ in RECORD_TYPES:
            positions.setdefault(type_, []).append(at)
        else:
            batch.rejected.append(_rejection(at, record, _type_problem(record, type_)))
    return positions


def _type_problem(record: Any, type_: Any) -> str:
    if type(record) is not dict:
        return f"a record must be an object, not {_json_type(record)}"
    if type_ is None:
        return f"missing 'type'; give one of {', '.join(RECORD_TYPES)}"
    return f"unknown type {str(type_)[:40]!r}; give one of {', '.join(RECORD_TYPES)}"


def _unknown_field(type_: str, spec: Spec, name: str) -> str:
    hint = "; features go in 'features'" if spec.features else ""
    return f"unknown field {name[:40]!r} for a {type_}{hint}"


def _json_features(group: _Group, values: list[Any]) -> dict[str, pa.Array]:
    """One array per feature name; a record with a bad name or value is rejected."""
    try:  # the usual batch: objects of numbers, text or booleans, one type per name
        inferred = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        inferred = None
    if (
        inferred is not None
        and pa.types.is_struct(inferred.type)
        and all(_scalar_type(f.type) for f in inferred.type)
        and not any(_name_problem(n, {}) for n in inferred.type.names)
        and len({n.lower() for n in inferred.type.names}) == inferred.type.num_fields
    ):
        return dict(zip(inferred.type.names, inferred.flatten(), strict=True))
    if inferred is not None and pa.types.is_null(inferred.type):
        return {}
    names: dict[str, None] = {}
    for at, value in enumerate(values):
        if type(value) is dict:
            names.update(dict.fromkeys(value))
        elif value is not None:
            group.reject(at, f"'features' must be an object, not {_json_type(value)}")
    columns: dict[str, pa.Array] = {}
    for name in _good_names(group, names, values):
        column = [v.get(name) if type(v) is dict else None for v in values]
        columns[name] = _feature(group, name, column)
    return columns


def _good_names(group: _Group, names: dict[str, None], values: list[Any]) -> list[str]:
    """The usable feature names; records carrying another are rejected, naming it."""
    good: list[str] = []
    lowered: dict[str, str] = {}
    for name in names:
        problem = _name_problem(name, lowered)
        if problem is None:
            good.append(name)
            lowered[name.lower()] = name
            continue
        for at, value in enumerate(values):
            if type(value) is dict and name in value:
                group.reject(at, problem)
    return good


def _name_problem(name: str, lowered: dict[str, str]) -> str | None:
    if not _FEATURE.fullmatch(name):
        return (
            f"bad feature name {name[:40]!r}: use letters, digits and underscores, "
            "not starting with a digit, at most 63 characters"
        )
    if name.lower() in _RESERVED:
        return f"bad feature name {name!r}: it is reserved for the record's own field"
    if name.lower() in lowered:
        return f"bad feature name {name!r}: it differs from {lowered[name.lower()]!r} only in case"
    return None


# Columns from Python values -------------------------------------------------------------------


def _column(group: _Group, name: str, role: str, values: list[Any]) -> pa.Array:
    """The array of field ``name``; values of the wrong type are rejected and left null."""
    if role == "time":
        return _times(group, name, values)
    if role in ("text", "status"):
        return _typed(group, name, values, pa.string(), _as_text, "text")
    if role in ("number", "score"):
        return _typed(group, name, values, pa.float64(), _as_number, "a number")
    return _value(group, name, values)


def _typed(
    group: _Group,
    name: str,
    values: list[Any],
    type_: pa.DataType,
    convert: Callable[[Any], Any],
    noun: str,
) -> pa.Array:
    try:
        return pa.array(values, type_)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        pass
    fixed: list[Any] = []
    for at, value in enumerate(values):
        try:
            fixed.append(convert(value))
        except (TypeError, ValueError):
            group.reject(at, f"'{name}' must be {noun}, not {_json_type(value)}")
            fixed.append(None)
    return pa.array(fixed, type_)


def _as_text(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    if type(value) is int:  # ids and entity ids given as integers are kept as their text
        return str(value)
    raise TypeError


def _as_number(value: Any) -> float | None:
    if value is None:
        return None
    if type(value) in (int, float, bool):
        return float(value)
    raise TypeError


def _times(group: _Group, name: str, values: list[Any]) -> pa.Array:
    """ISO 8601 text as UTC timestamps; a time without a zone is UTC."""
    try:
        text = pa.array(values, pa.string())
        try:
            return text.cast(_UTC)
        except pa.ArrowInvalid:
            return text.cast(pa.timestamp("us")).cast(_UTC)  # all without a zone
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    parsed: list[datetime | None] = []
    for at, value in enumerate(values):
        parsed.append(_parse_time(value))
        if parsed[-1] is None and value is not None:
            group.reject(
                at,
                f"'{name}' is not an ISO 8601 time ({str(value)[:40]!r}); "
                "give e.g. 2026-03-01T09:30:00Z",
            )
    return pa.array(parsed, _UTC)


def _parse_time(value: Any) -> datetime | None:
    if type(value) is not str:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_EXACT_IN_DOUBLE = 2**53  # every integer up to this is a double exactly


def _value(group: _Group, name: str, values: list[Any]) -> pa.Array:
    """A prediction or label: numbers (and booleans) as float64, or text; not both in a batch."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None and (pa.types.is_string(array.type) or pa.types.is_null(array.type)):
        return array
    if array is not None and (_numeric(array.type) or pa.types.is_boolean(array.type)):
        try:
            return array.cast(pa.float64())
        except pa.ArrowInvalid:  # an integer beyond 2^53: each value checked below
            pass
    kinds = {str: "text", int: "number", float: "number", bool: "number"}
    wanted = next((kinds[type(v)] for v in values if type(v) in kinds), "number")
    fixed: list[Any] = []
    for at, value in enumerate(values):
        kind = kinds.get(type(value))
        too_big = type(value) is int and abs(value) > _EXACT_IN_DOUBLE
        if value is None or (kind == wanted and not too_big):
            fixed.append(value if kind != "number" else float(value))
            continue
        fixed.append(None)
        if too_big and kind == wanted:
            reason = f"'{name}' is an integer beyond 2^53, which a number here cannot hold"
        elif kind is None:
            found = _json_type(value)
            reason = f"'{name}' must be numbers or text (one of them in a batch), not {found}"
        else:
            reason = f"'{name}' is {kind} but earlier records of the batch give {wanted}"
        group.reject(at, reason)
    return pa.array(fixed, pa.string() if wanted == "text" else pa.float64())


def _feature(group: _Group, name: str, values: list[Any]) -> pa.Array:
    """A feature: numbers, text or booleans, one of them per batch (integers stay integers)."""
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None and _scalar_type(array.type):
        return array
    kinds = {bool: "boolean", int: "number", float: "number", str: "text"}
    first = next((kinds[type(v)] for v in values if type(v) in kinds), None)
    fixed: list[Any] = []
    for at, value in enumerate(values):
        kind = kinds.get(type(value))
        if value is None or (kind is not None and kind == first and not _too_big(value)):
            fixed.append(value)
            continue
        fixed.append(None)
        if kind is None:
            reason = f"feature {name!r} must be a number, text or boolean, not {_json_type(value)}"
        elif kind == first:
            reason = f"feature {name!r} is an integer beyond 64 bits"
        else:
            reason = f"feature {name!r} is {kind} but earlier records of the batch give {first}"
        group.reject(at, reason)
    if any(type(v) is float for v in fixed):  # stored as doubles: integers must fit exactly
        for at, value in enumerate(fixed):
            if type(value) is int and abs(value) > _EXACT_IN_DOUBLE:
                fixed[at] = None
                group.reject(at, f"feature {name!r} is an integer beyond 2^53 among decimals")
    return pa.array(fixed)


def _numeric(type_: pa.DataType) -> bool:
    return bool(pa.types.is_integer(type_) or pa.types.is_floating(type_))


def _scalar_type(type_: pa.DataType) -> bool:
    return bool(
        _numeric(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_null(type_)
    )


# Checks on whole columns ----------------------------------------------------------------------


def _finish(
    batch: Batch, group: _Group, columns: dict[str, pa.Array], features: dict[str, pa.Array]
) -> None:
    """Reject records with missing or out-of-range values, keep the good ones."""
    spec = group.spec
    for name in spec.required:
        group.reject_mask(pc.is_null(columns[name]), f"missing '{name}'")
    for name, role in spec.fields.items():
        array = columns[name]
        if role in ("number", "score") and array.null_count < len(array):
            group.reject_mask(pc.invert(pc.is_finite(array)), f"'{name}' is not a finite number")
        if role == "score":
            outside = pc.or_(pc.less(array, 0.0), pc.greater(array, 1.0))
            group.reject_mask(outside, "'score' is outside [0, 1]")
        if role == "status":
            bad = pc.invert(pc.is_in(array, pa.array(_STATUSES)))
            group.reject_mask(pc.and_(bad, pc.is_valid(array)), "'status' must be ok or error")
    if spec.kind == "predictions":
        neither = pc.and_(pc.is_null(columns["score"]), pc.is_null(columns["prediction"]))
        group.reject_mask(neither, "neither 'score' nor 'prediction'; give at least one")
    batch.rejected += [group.rejection(at) for at in group.reasons]
    data = {**columns, **{n: a for n, a in features.items() if n.lower() not in _RESERVED}}
    data["_index"] = group.index
    table = pa.table(data)
    if group.reasons:
        keep = [at for at in range(len(group.index)) if at not in group.reasons]
        table = table.take(pa.array(keep, pa.int64()))
    if table.num_rows:
        table = _drop_empty(table)
        batch.tables[spec.kind] = table


def _drop_empty(table: pa.Table) -> pa.Table:
    """Columns without any value are dropped, as from an import without them: the store adds a
    column once values arrive."""
    keep = [c for c in table.column_names if table[c].null_count < table.num_rows]
    return table if len(keep) == table.num_columns else table.select(keep)


def _rejection(at: int, record: Any, reason: str) -> dict[str, Any]:
    record_id = record.get("id") if type(record) is dict else None
    return {"index": at, "id": _id_text(record_id), "reason": reason}


def _id_text(value: Any) -> str | None:
    """A record's id as the reply names it: text or an integer, else None."""
    if type(value) is str:
        return value[:200]
    if type(value) is int:
        return str(value)
    return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "text", bool: "a boolean", int: "a number"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")


def _too_big(value: Any) -> bool:
    """An integer no 64-bit column holds."""
    return type(value) is int and not -(2**63) <= value < 2**63
