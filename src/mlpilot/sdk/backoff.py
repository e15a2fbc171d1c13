"""When to try again: exponential backoff with full jitter, and the server's Retry-After.

Full jitter (a uniform draw between 0 and the exponential ceiling) spreads the retries of many
services that lost the same server at the same moment, so they do not come back in lockstep.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["full_jitter", "parse_retry_after"]


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """A delay in ``[0, min(cap, base * 2**attempt)]`` seconds; ``attempt`` counts from 0."""
    ceiling = min(cap, base * 2.0 ** min(max(attempt, 0), 62))
    return (rng or random).uniform(0.0, ceiling)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None
    when it is absent or unreadable. Never negative."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
