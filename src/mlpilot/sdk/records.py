"""Turn what the host logged into the wire records of the ingest protocol, one JSON object each.

This runs on the sender thread, not in the host's call: the host's call only puts its arguments
on the queue, so a tracked call costs a few hundred nanoseconds. A record that cannot be sent
(a non-finite latency, a feature that is a list, a missing label) is refused here with a reason
and counted; it never raises into the host. Ids are generated here, once: the encoded body is
what is retried and spooled, so a record keeps its id through every retry.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["KINDS", "encode_record", "format_time"]

# Fields by how they are checked. Text fields take str (or int, stored as text).
_TEXT = frozenset(
    ("id", "entity_id", "model_version", "error_class", "unit_id", "experiment", "variant",
     "metric", "status")
)  # fmt: skip
_NUMBERS = frozenset(("score", "latency_ms", "value"))  # finite real numbers
_VALUES = frozenset(("prediction", "label"))  # a finite number, a boolean or text
# The fields each record type needs (a prediction also needs a score or a prediction).
KINDS: dict[str, tuple[str, ...]] = {
    "prediction": (),
    "outcome": ("entity_id", "label"),
    "request": ("latency_ms",),
    "exposure": ("unit_id", "experiment", "variant"),
    "metric_event": ("unit_id", "metric", "value"),
}


def encode_record(kind: str, fields: Mapping[str, Any]) -> tuple[bytes | None, str | None]:
    """The JSON of one record, or None and the reason it cannot be sent."""
    record: dict[str, Any] = {"type": kind}
    for name, value in fields.items():
        if value is None:
            continue
        if name == "time":
            text = format_time(value)
            if text is None:
                return None, f"time {value!r} is not a datetime, ISO-8601 text or POSIX seconds"
            record["time"] = text
        elif name == "features":
            features, problem = _features(value)
            if problem:
                return None, problem
            record["features"] = features
        elif name in _TEXT:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                return None, f"{name} must be text, not {type(value).__name__}"
            record[name] = str(value)
        elif name in _NUMBERS:
            number = _finite(value)
            if number is None:
                return None, f"{name} must be a finite number, not {value!r}"
            record[name] = number
        elif name in _VALUES:
            scalar = _scalar(value)
            if scalar is _BAD or scalar is None:
                return None, f"{name} must be a finite number, a boolean or text, not {value!r}"
            record[name] = scalar
        else:  # only the tracker's own methods build fields: a bug, not the host's input
            return None, f"unknown field {name!r}"
    missing = [name for name in KINDS[kind] if name not in record]
    if kind == "prediction" and "score" not in record and "prediction" not in record:
        missing.append("score or prediction")
    if missing:
        return None, f"a {kind} without {', '.join(missing)}"
    if "id" not in record:
        record["id"] = _uuid4_hex()
    return _JSON.encode(record).encode(), None


def format_time(value: Any) -> str | None:
    """ISO-8601 in UTC for a datetime (naive means UTC), a date, or POSIX seconds; text is sent
    as given (the server reads it); None for anything else."""
    if type(value) is float and 0 <= value < 253402300800:  # the tracker's own clock, year < 10000
        return _epoch_text(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        when = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return when.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    seconds = _finite(value)
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return None


_BAD = object()  # a value that cannot be sent
_JSON = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text


def _epoch_text(seconds: float) -> str:
    """POSIX seconds as ISO-8601 UTC with microseconds; the date part is cached per second."""
    global _second
    whole = int(seconds)
    micros = round((seconds - whole) * 1_000_000)
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    cached, text = _second
    if cached != whole:
        text = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = (whole, text)
    return f"{text}.{micros:06d}Z"


def _uuid4_hex() -> str:
    """A random (version 4) UUID as 32 hex digits; what uuid.uuid4().hex gives, faster."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return raw.hex()


def _features(value: Any) -> tuple[dict[str, Any], str | None]:
    if not isinstance(value, Mapping):
        return {}, f"features must be a mapping of names to values, not {type(value).__name__}"
    features: dict[str, Any] = {}
    for name, raw in value.items():
        if not isinstance(name, str) or not name:
            return {}, f"feature name {name!r} is not a non-empty text"
        scalar = _scalar(raw, nan_is_missing=True)
        if scalar is _BAD:
            return {}, (
                f"feature {name!r} is {type(raw).__name__} {_short(raw)}; give numbers, text, "
                "booleans, datetimes or None"
            )
        features[name] = scalar
    return features, None


def _scalar(value: Any, *, nan_is_missing: bool = False) -> Any:
    """A JSON scalar for ``value``, None for a missing one, or _BAD."""
    kind = type(value)
    if kind is str or kind is int or kind is bool:
        return value
    if kind is float:
        if math.isfinite(value):
            return value
        return None if nan_is_missing and math.isnan(value) else _BAD
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return None if nan_is_missing and math.isnan(value) else _BAD
    if isinstance(value, (datetime, date)):
        return format_time(value)
    item = getattr(value, "item", None)  # numpy and pandas scalars: np.int64, np.bool_ ...
    if callable(item) and getattr(value, "ndim", 0) == 0:
        try:
            plain = item()
        except Exception:
            return _BAD
        if isinstance(plain, (str, bool, int, float, datetime, date)) or plain is None:
            return _scalar(plain, nan_is_missing=nan_is_missing)
    return _BAD


def _finite(value: Any) -> float | None:
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
