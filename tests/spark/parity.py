"""Compare two results, one from Spark and one from DuckDB, value by value.

Integers, strings, booleans and None must be equal; floats equal to ``REL`` relative (NaN equals
NaN), except under keys named in ``exact``, which must be equal bit for bit (quantiles, edges).
The first difference fails with its path, so a test says where the engines disagree.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

REL = 1e-9


def assert_same(
    spark: Any, duck: Any, *, exact: tuple[str, ...] = (), path: str = "$", key: str = ""
) -> None:
    if isinstance(duck, dict):
        assert isinstance(spark, dict), f"{path}: {type(spark).__name__} vs a dict"
        assert spark.keys() == duck.keys(), f"{path}: keys {sorted(spark)} vs {sorted(duck)}"
        for k in duck:
            assert_same(spark[k], duck[k], exact=exact, path=f"{path}.{k}", key=str(k))
        return
    if isinstance(duck, (list, tuple)):
        assert isinstance(spark, (list, tuple)), f"{path}: {spark!r} vs a sequence"
        assert len(spark) == len(duck), f"{path}: {len(spark)} items vs {len(duck)}"
        for i, (a, b) in enumerate(zip(spark, duck, strict=True)):
            assert_same(a, b, exact=exact, path=f"{path}[{i}]", key=key)
        return
    if isinstance(duck, float) and not isinstance(spark, bool) and isinstance(spark, (int, float)):
        a, b = float(spark), duck
        if math.isnan(b):
            assert math.isnan(a), f"{path}: {a!r} vs NaN"
        elif key in exact:
            assert a == b, f"{path}: {a!r} vs {b!r} (must be exact)"
        else:
            assert a == b or math.isclose(a, b, rel_tol=REL, abs_tol=0.0), f"{path}: {a!r} vs {b!r}"
        return
    if isinstance(duck, datetime) and isinstance(spark, datetime):
        assert _naive_utc(spark) == _naive_utc(duck), f"{path}: {spark!r} vs {duck!r}"
        return
    if isinstance(duck, date) and isinstance(spark, date):
        assert spark == duck, f"{path}: {spark!r} vs {duck!r}"
        return
    assert type(spark) is type(duck) or (spark is None and duck is None), (
        f"{path}: {spark!r} ({type(spark).__name__}) vs {duck!r} ({type(duck).__name__})"
    )
    assert spark == duck, f"{path}: {spark!r} vs {duck!r}"


def _naive_utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
