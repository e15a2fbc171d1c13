"""Values behave the same on SQLite and PostgreSQL.

SQLite stores a string of any length in a VARCHAR(200) column, and a NUL character in any text;
PostgreSQL refuses both. mlpilot refuses them up front, with a ValidationError, on every backend.
"""

from __future__ import annotations

import pytest

import mlpilot
from mlpilot import Ally, Member, Relation, Role, ValidationError
from tests.store.helpers import FULL_CHARTER

LONGEST_NAME = "é" * 200  # the person columns are VARCHAR(200): characters, not bytes
TOO_LONG_NAME = "Ana " + "x" * 197


def test_team_member_names_up_to_the_column_length(ws: mlpilot.Workspace) -> None:
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    churn.add_member(LONGEST_NAME, "data-scientist")
    with pytest.raises(ValidationError, match="at most 200"):
        churn.add_member(TOO_LONG_NAME, "data-scientist")

    assert churn.team() == [Member(LONGEST_NAME, Role.DATA_SCIENTIST, 1.0)]


def test_ally_names_up_to_the_column_length(ws: mlpilot.Workspace) -> None:
    ws.add_ally(LONGEST_NAME, relation="legal", expertise=["gdpr"])
    with pytest.raises(ValidationError, match="at most 200"):
        ws.add_ally(TOO_LONG_NAME, relation="legal", expertise=["gdpr"])

    assert ws.allies() == [Ally(LONGEST_NAME, Relation.LEGAL, ("gdpr",))]


def test_a_nul_character_in_text_is_refused(ws: mlpilot.Workspace) -> None:
    with pytest.raises(ValidationError, match="NUL"):
        ws.create_initiative("churn", **{**FULL_CHARTER, "name": "Churn\x00prediction"})
    assert ws.initiatives() == []

    churn = ws.create_initiative("churn", **FULL_CHARTER, started="2024-01-01")
    churn.move_to("modeling", at="2024-01-02")
    for attempt in (
        lambda: churn.move_to("data-preparation", reason="leak\x00", at="2024-01-03"),
        lambda: churn.learn("labels\x00lag"),
        lambda: churn.decide("stop", "no\x00signal"),
        lambda: churn.add_member("ana\x00", "data-scientist"),
    ):
        with pytest.raises(ValidationError, match="NUL"):
            attempt()

    assert len(churn.history()) == 2
    assert (churn.learnings(), churn.decisions(), churn.team()) == ([], [], [])


def test_a_nul_character_inside_a_list_round_trips(ws: mlpilot.Workspace) -> None:
    # Lists are stored as JSON text, which escapes the character, so every backend keeps it.
    churn = ws.create_initiative("churn", **FULL_CHARTER)

    churn.decide("continue", "fine", evidence=["report\x00v2"], at="2024-01-01")

    assert churn.decisions()[0].evidence == ("report\x00v2",)
