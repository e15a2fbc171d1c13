"""Turn user text into the domain's closed vocabularies, with errors that list the choices."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TypeVar

from mlpilot.errors import ValidationError

E = TypeVar("E", bound=StrEnum)

# Longest person name the store keeps (VARCHAR(200) in the schema).
NAME_LENGTH = 200
_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def parse_choice(enum_type: type[E], value: str | E, what: str) -> E:
    """Return the member of ``enum_type`` spelled ``value``; a clear error otherwise."""
    if isinstance(value, enum_type):
        return value
    text = str(value).strip().lower().replace("_", "-")
    for member in enum_type:
        if member.value == text:
            return member
    choices = ", ".join(member.value for member in enum_type)
    raise ValidationError(f"unknown {what} {value!r}; expected one of: {choices}")


def require_text(value: str | None, what: str, max_length: int | None = None) -> str:
    """Return ``value`` stripped; an error if it is blank, too long, or holds a NUL character."""
    text = optional_text(value, what)
    if text is None:
        raise ValidationError(f"{what} must not be empty")
    if max_length is not None and len(text) > max_length:
        raise ValidationError(f"{what} is {len(text)} characters long; at most {max_length}")
    return text


def optional_text(value: str | None, what: str = "text") -> str | None:
    """Return ``value`` stripped, or None when it is missing or blank.

    NUL characters are refused: PostgreSQL cannot store them, and no name or note needs one.
    """
    text = (value or "").strip()
    if "\x00" in text:
        raise ValidationError(f"{what} contains a NUL character")
    return text or None


def validate_slug(slug: str) -> str:
    """A slug is 1–64 lowercase letters, digits and inner hyphens, e.g. ``churn-2026``."""
    if not _SLUG.fullmatch(slug):
        raise ValidationError(
            f"invalid slug {slug!r}: use 1-64 lowercase letters, digits and inner hyphens"
        )
    return slug


def normalize_tags(tags: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Lowercase, strip, split on commas, drop blanks and repeats, keep the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        for part in tag.split(","):
            clean = part.strip().lower()
            if clean:
                seen.setdefault(clean, None)
    return tuple(seen)


def parse_time(
    value: str | datetime | None, now: datetime, what: str = "time", *, future: bool = False
) -> datetime:
    """An aware UTC time from ISO text or a datetime (naive means UTC); None means ``now``.

    A time in the future is refused unless ``future``: history is recorded, not planned (a
    forecast's target date is the exception).
    """
    if value is None:
        return now
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                f"invalid {what} {value!r}; use ISO 8601, e.g. 2026-03-01 or 2026-03-01T09:30"
            ) from None
    moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if not future and moment > now + timedelta(minutes=1):
        raise ValidationError(f"{what} {moment.isoformat()} is in the future")
    return moment
