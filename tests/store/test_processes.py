"""What one process stores, another reads; concurrent writers keep the lifecycle log consistent."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import mlpilot
from mlpilot import Cause, MlpilotError, Phase, Transition
from mlpilot.domain import lifecycle
from tests.store.helpers import FULL_CHARTER, raw_engine, reopen, utc

WRITER = """
import sys
import mlpilot

with mlpilot.Workspace.open(sys.argv[1]) as ws:
    churn = ws.create_initiative(
        "churn", name="Churn", problem="Customers leave", prediction_use="Offers",
        task="binary", shape="batch", baseline="Last month", started="2024-01-01")
    churn.move_to("data-understanding", at="2024-01-02")
    churn.move_to("modeling", at="2024-01-03", who="ana")
    churn.move_to("data-understanding", reason="labels are late", cause="data", at="2024-01-04")
    churn.add_member("ana", "data-scientist", 0.5)
"""

READER = """
import json, sys
from mlpilot.report.status import transition_dict
import mlpilot

with mlpilot.Workspace.open(sys.argv[1], create=False) as ws:
    churn = ws.initiative("churn")
    print(json.dumps({
        "history": [transition_dict(t) for t in churn.history()],
        "team": [[m.person, m.role.value, m.allocation] for m in churn.team()],
    }))
"""

# Each worker moves the same initiative forward and back, 20 times, catching every error.
MOVER = """
import json, sys
import mlpilot

location, name = sys.argv[1], sys.argv[2]
outcomes = []
with mlpilot.Workspace.open(location, create=False) as ws:
    churn = ws.initiative("race")
    for i in range(20):
        for phase, reason in (("modeling", None), ("data-preparation", f"{name} loop {i}")):
            try:
                churn.move_to(phase, reason=reason, cause="model", who=name)
                outcomes.append(["ok", ""])
            except Exception as exc:
                kind = "mlpilot" if isinstance(exc, mlpilot.MlpilotError) else "other"
                outcomes.append([kind, f"{type(exc).__module__}.{type(exc).__name__}: {exc}"])
print(json.dumps(outcomes))
"""


def _python(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_what_a_child_process_writes_is_read_here_and_in_another_child(
    workspace_location: str,
) -> None:
    written = _python(WRITER, workspace_location)
    assert written.returncode == 0, written.stderr

    with reopen(workspace_location) as ws:
        churn = ws.initiative("churn")
        history = churn.history()
        assert history == [
            Transition(utc(2024, 1, 1), None, Phase.BUSINESS_UNDERSTANDING),
            Transition(utc(2024, 1, 2), Phase.BUSINESS_UNDERSTANDING, Phase.DATA_UNDERSTANDING),
            Transition(utc(2024, 1, 3), Phase.DATA_UNDERSTANDING, Phase.MODELING, who="ana"),
            Transition(
                utc(2024, 1, 4),
                Phase.MODELING,
                Phase.DATA_UNDERSTANDING,
                "labels are late",
                Cause.DATA,
            ),
        ]
        churn.move_to("data-preparation", at="2024-01-05")  # written here, read there

    read = _python(READER, workspace_location)
    assert read.returncode == 0, read.stderr
    seen = json.loads(read.stdout)
    assert [(t["from"], t["to"], t["at"]) for t in seen["history"]] == [
        (None, "business-understanding", "2024-01-01T00:00:00+00:00"),
        ("business-understanding", "data-understanding", "2024-01-02T00:00:00+00:00"),
        ("data-understanding", "modeling", "2024-01-03T00:00:00+00:00"),
        ("modeling", "data-understanding", "2024-01-04T00:00:00+00:00"),
        ("data-understanding", "data-preparation", "2024-01-05T00:00:00+00:00"),
    ]
    assert seen["history"][3]["reason"] == "labels are late"
    assert seen["team"] == [["ana", "data-scientist", 0.5]]


def _stored_log(location: str) -> list[tuple[int, str | None, str]]:
    engine = raw_engine(location)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT seq, from_phase, to_phase FROM transitions t "
                "JOIN initiatives i ON i.id = t.initiative_id WHERE i.slug = 'race' ORDER BY seq"
            )
        ).all()
    engine.dispose()
    return [(row.seq, row.from_phase, row.to_phase) for row in rows]


def test_concurrent_writers_keep_the_log_consistent(workspace_location: str) -> None:
    with mlpilot.Workspace.open(workspace_location) as ws:
        race = ws.create_initiative("race", **FULL_CHARTER, started="2024-01-01")
        race.move_to("data-preparation", at="2024-01-02")

    workers = [
        subprocess.Popen(
            [sys.executable, "-c", MOVER, workspace_location, name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("w1", "w2")
    ]
    outcomes: list[list[str]] = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        outcomes.extend(json.loads(out))

    log = _stored_log(workspace_location)
    seqs = [seq for seq, _, _ in log]
    assert seqs == list(range(1, len(log) + 1))  # unique and without gaps
    for (_, _, previous_to), (seq, from_phase, _) in itertools.pairwise(log):
        assert from_phase == previous_to, f"transition {seq} does not start where {seq - 1} ended"
    moved = sum(kind == "ok" for kind, _ in outcomes)
    assert len(log) == 2 + moved
    # Losing a race may be refused (already in that phase, a time before the last one), but
    # always as an MlpilotError, never as a database error.
    assert [message for kind, message in outcomes if kind == "other"] == []

    with reopen(workspace_location) as ws:
        history = ws.initiative("race").history()
    assert all(later.at >= earlier.at for earlier, later in itertools.pairwise(history))
    assert all(t.reason for t in history if t.is_backward)


def test_a_move_that_loses_a_race_is_validated_against_the_longer_log(
    workspace_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer appends between this move's read of the log and its insert."""
    with mlpilot.Workspace.open(workspace_location) as ws:
        ws.create_initiative("race", **FULL_CHARTER, started="2024-01-01")
    real_next_transition = lifecycle.next_transition
    rival: dict[str, Any] = {}

    def rival_moves_first() -> None:
        try:
            with reopen(workspace_location) as other:
                rival["result"] = other.initiative("race").move_to(
                    "data-understanding", at="2024-01-02", who="rival"
                )
        except Exception as exc:
            rival["result"] = exc

    def next_transition_with_a_rival(log: list[Transition], *args: Any, **kwargs: Any) -> Any:
        if "thread" not in rival:
            rival["thread"] = threading.Thread(target=rival_moves_first)
            rival["thread"].start()
            # SQLite: the rival commits now. PostgreSQL: it waits for this move's row lock.
            rival["thread"].join(timeout=1.0)
        return real_next_transition(log, *args, **kwargs)

    monkeypatch.setattr(lifecycle, "next_transition", next_transition_with_a_rival)
    with reopen(workspace_location) as ws:
        race = ws.initiative("race")
        try:
            mine: Transition | Exception = race.move_to("data-understanding", at="2024-01-02")
        except Exception as exc:
            mine = exc
        rival["thread"].join(timeout=30)
        history = race.history()

    results = [mine, rival["result"]]
    assert [type(r) for r in results if isinstance(r, Exception)] == [mlpilot.ValidationError]
    assert all(isinstance(r, Transition | MlpilotError) for r in results)
    assert [(t.from_phase, t.to_phase) for t in history] == [
        (None, Phase.BUSINESS_UNDERSTANDING),
        (Phase.BUSINESS_UNDERSTANDING, Phase.DATA_UNDERSTANDING),
    ]


def test_a_workspace_folder_can_be_opened_from_another_working_directory(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "shared"
    with mlpilot.Workspace.open(folder) as ws:
        ws.create_initiative("churn", **FULL_CHARTER)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mlpilot; print([c.slug for c in mlpilot.Workspace.open().initiatives()])",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**os.environ, "MLPILOT_HOME": str(folder)},  # MLPILOT_DB is unset (conftest)
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['churn']"
    assert not (elsewhere / ".mlpilot").exists()
