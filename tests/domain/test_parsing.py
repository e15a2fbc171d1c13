"""Turning user text into slugs, choices, tags and times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain.charter import Shape
from mlpilot.domain.lifecycle import Phase
from mlpilot.domain.parsing import (
    normalize_tags,
    optional_text,
    parse_choice,
    parse_time,
    require_text,
    validate_slug,
)
from mlpilot.errors import ValidationError

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

# --- slugs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "7", "churn", "churn-2026", "a-b-c", "x" * 64, "a--b"])
def test_valid_slugs(slug):
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    ["", "Churn", "CHURN", "x" * 65, "-churn", "churn-", "-", "churn_2026", "churn 2026",
     "churn.v2", "churn/2026", "é"],
)  # fmt: skip
def test_invalid_slugs(slug):
    with pytest.raises(ValidationError, match="invalid slug"):
        validate_slug(slug)


def test_slug_with_trailing_newline_is_refused():
    with pytest.raises(ValidationError, match="invalid slug"):
        validate_slug("churn\n")


@settings(deadline=None)
@given(st.from_regex(r"\A[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\Z"))
def test_every_slug_of_the_documented_form_is_accepted(slug):
    assert validate_slug(slug) == slug


# --- choices --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling", ["online-api", "online_api", "ONLINE_API", "  Online-Api ", Shape.ONLINE_API]
)
def test_parse_choice_accepts_any_case_and_underscores(spelling):
    assert parse_choice(Shape, spelling, "delivery shape") is Shape.ONLINE_API


def test_parse_choice_accepts_a_member_of_the_enum_itself():
    assert parse_choice(Phase, Phase.MODELING, "phase") is Phase.MODELING


def test_parse_choice_error_names_the_value_and_lists_the_choices():
    with pytest.raises(ValidationError) as info:
        parse_choice(Shape, "streaming", "delivery shape")
    assert str(info.value) == (
        "unknown delivery shape 'streaming'; expected one of: batch, online-api, embedded"
    )


# --- text and tags --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   ", "\n\t"])
def test_require_text_refuses_blank(value):
    with pytest.raises(ValidationError, match="problem must not be empty"):
        require_text(value, "problem")


def test_require_text_strips():
    assert require_text("  churn  ", "name") == "churn"


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("  ", None),
                                                 (" ann ", "ann")])  # fmt: skip
def test_optional_text(value, expected):
    assert optional_text(value) == expected


def test_normalize_tags_lowercases_splits_and_deduplicates_in_order():
    assert normalize_tags(["GDPR, privacy", " Privacy", "", " , ", "sql"]) == (
        "gdpr",
        "privacy",
        "sql",
    )
    assert normalize_tags(()) == ()


# --- times ----------------------------------------------------------------------------------


def test_parse_time_none_is_now():
    assert parse_time(None, NOW) == NOW


def test_parse_time_iso_date_is_midnight_utc():
    assert parse_time("2026-03-01", NOW) == datetime(2026, 3, 1, tzinfo=UTC)


def test_parse_time_naive_means_utc():
    moment = parse_time(" 2026-03-01T09:30 ", NOW)
    assert moment == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert moment.tzinfo is UTC


def test_parse_time_offset_is_converted_to_utc():
    moment = parse_time("2026-03-01T09:30+02:00", NOW)
    assert moment == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert moment.utcoffset() == timedelta(0)
    assert moment.tzinfo is UTC


def test_parse_time_accepts_datetimes():
    naive = datetime(2026, 3, 1, 9, 30)
    aware = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert parse_time(naive, NOW) == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert parse_time(aware, NOW) == datetime(2026, 3, 1, 14, 30, tzinfo=UTC)


def test_parse_time_allows_a_minute_of_clock_skew():
    assert parse_time(NOW + timedelta(minutes=1), NOW) == NOW + timedelta(minutes=1)


@pytest.mark.parametrize(
    "value",
    [
        NOW + timedelta(minutes=1, microseconds=1),
        "2026-03-11",
        "2026-03-10T12:01:01Z",
        "2026-03-10T13:30+01:00",
    ],
)
def test_parse_time_refuses_the_future(value):
    with pytest.raises(ValidationError, match="in the future"):
        parse_time(value, NOW, "decision time")


@pytest.mark.parametrize("value", ["yesterday", "", "2026-13-01", "01/03/2026", "2026-03-01T25:00"])
def test_parse_time_refuses_garbage(value):
    with pytest.raises(ValidationError, match="invalid time") as info:
        parse_time(value, NOW)
    assert "ISO 8601" in str(info.value)
