"""Every command through the real entry point ``main``: what it prints and what it stores."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from mlpilot.domain.lifecycle import Phase
from tests.cli.helpers import Cli, create_args, make_cli

STARTED = "2024-01-01T00:00:00+00:00"
PHASES = [phase.value for phase in Phase]


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch) -> Cli:
    return make_cli(capsys, tmp_path, monkeypatch)


@pytest.fixture
def churn(cli: Cli) -> Cli:
    """A workspace holding the initiative ``churn``, started on 2024-01-01."""
    cli.ok("init")
    cli.ok(*create_args("churn", "--started", "2024-01-01"))
    return cli


def seconds(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


# --- init -------------------------------------------------------------------------------------


def test_init_creates_the_workspace_and_is_idempotent(cli: Cli):
    result = cli.ok("init")
    assert "workspace ready" in result.out
    assert (cli.home / "mlpilot.db").is_file()
    cli.ok(*create_args("churn"))
    again = cli.ok("init")
    assert "workspace ready" in again.out
    assert [row["slug"] for row in cli.json("initiative", "list")] == ["churn"]


def test_home_option_selects_the_workspace(cli: Cli, tmp_path):
    cli.ok("init")
    cli.ok(*create_args("churn"))
    other = tmp_path / "other"
    assert cli.raw("--home", str(other), "init").code == 0
    listed = json.loads(cli.raw("--home", str(other), "initiative", "list", "--json").out)
    assert listed == []
    assert not (tmp_path / ".mlpilot").exists()


def test_db_option_accepts_a_sqlite_url(cli: Cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'team.db'}"
    assert cli.raw("--db", url, "init").code == 0
    assert (tmp_path / "team.db").is_file()
    assert not (tmp_path / ".mlpilot").exists()  # init must not create the default folder
    result = cli.raw("--db", url, "initiative", "list", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == []


# --- initiatives ------------------------------------------------------------------------------


def test_initiative_create_list_show_pause_resume(cli: Cli):
    cli.ok("init")
    created = cli.ok(
        *create_args(
            "churn",
            "--baseline-value",
            "0.41",
            "--baseline-metric",
            "recall",
            "--problem-owner",
            "Retention team",
            "--used-by",
            "Agents",
            "--used-when",
            "Mondays",
        )
    )
    assert "churn" in created.out
    assert "business-understanding" in created.out
    cli.ok(*create_args("ads", name="Ad ranking"))

    listed = cli.json("initiative", "list")
    assert [row["slug"] for row in listed] == ["ads", "churn"]
    row = listed[1]
    assert row["name"] == "Churn risk"
    assert row["status"] == "active"
    assert row["phase"] == "business-understanding"
    assert row["task"] == "binary"
    assert row["shape"] == "batch"

    text = cli.ok("initiative", "list").out
    assert "churn" in text
    assert "Ad ranking" in text
    assert "business-understanding" in text

    shown = cli.json("initiative", "show", "churn")
    assert shown["slug"] == "churn"
    assert shown["problem"] == "Subscribers leave"
    assert shown["prediction_use"] == "Retention calls"
    assert shown["problem_owner"] == "Retention team"
    assert shown["used_by"] == "Agents"
    assert shown["used_when"] == "Mondays"
    assert shown["baseline"] == {
        "description": "Usage drop rule",
        "value": 0.41,
        "metric": "recall",
    }
    datetime.fromisoformat(shown["created_at"])

    text = cli.ok("initiative", "show", "churn").out
    assert "Churn risk" in text
    assert "Subscribers leave" in text
    assert "Retention team" in text
    assert "binary / batch" in text
    assert "Usage drop rule = 0.41 recall" in text

    assert "paused" in cli.ok("initiative", "pause", "churn").out
    assert cli.json("initiative", "show", "churn")["status"] == "paused"
    assert cli.json("initiative", "show", "ads")["status"] == "active"
    assert "active" in cli.ok("initiative", "resume", "churn").out
    assert cli.json("initiative", "show", "churn")["status"] == "active"


def test_create_started_opens_the_lifecycle_then(churn: Cli):
    history = churn.json("history", "churn")
    assert history == [
        {
            "from": None,
            "to": "business-understanding",
            "at": STARTED,
            "backward": False,
            "reason": None,
            "cause": None,
            "who": None,
        }
    ]
    assert churn.json("status", "churn")["started_at"] == STARTED


# --- criteria ---------------------------------------------------------------------------------


def test_criteria_add_each_kind_list_remove(churn: Cli):
    model = churn.ok(
        "criteria", "add", "churn", "--kind", "model", "--metric", "recall", "--op", ">=",
        "--target", "0.6", "--at", "precision>=0.5", "--threshold", "0.42",
        "--plan", "Keep the rule",
    )  # fmt: skip
    assert "recall >= 0.6 and precision >= 0.5 at threshold 0.42" in model.out
    capacity = churn.ok(
        "criteria", "add", "churn", "--kind", "model", "--metric", "precision", "--op", ">=",
        "--target", "0.3", "--top", "500", "--per", "week",
    )  # fmt: skip
    assert "precision@500 per week >= 0.3" in capacity.out
    churn.ok("criteria", "remove", "churn", capacity.out.split("#")[1].split()[0])
    churn.ok(
        "criteria", "add", "churn", "--kind", "service", "--metric", "latency_p99", "--op", "<=",
        "--target", "300",
    )  # fmt: skip
    churn.ok(
        "criteria", "add", "churn", "--kind", "impact", "--metric", "retention_30d", "--op",
        ">=", "--target", "0.02", "--guardrail", "offer_cost:lower", "--guardrail",
        "call_minutes:lower", "--effect", "absolute", "--plan", "Stop the offers",
    )  # fmt: skip
    churn.ok(
        "criteria", "add", "churn", "--kind", "data", "--metric", "rows", "--op", ">=",
        "--target", "50000",
    )  # fmt: skip

    criteria = churn.json("criteria", "list", "churn")
    assert [c["kind"] for c in criteria] == ["model", "service", "impact", "data"]
    assert len({c["id"] for c in criteria}) == 4
    model_c, service_c, impact_c, data_c = criteria
    assert model_c["metric"] == "recall"
    assert model_c["op"] == ">="
    assert model_c["target"] == 0.6
    assert model_c["constraint"] == {"metric": "precision", "op": ">=", "target": 0.5}
    assert model_c["plan"] == "Keep the rule"
    assert service_c["metric"] == "latency_p99"
    assert service_c["op"] == "<="
    assert service_c["target"] == 300
    assert service_c["constraint"] is None
    assert impact_c["effect"] == "absolute"
    assert impact_c["guardrails"] == ["offer_cost:lower", "call_minutes:lower"]
    assert impact_c["target"] == 0.02
    assert data_c["metric"] == "rows"
    assert data_c["target"] == 50000

    text = churn.ok("criteria", "list", "churn").out
    for word in ("recall", "latency_p99", "retention_30d", "rows", "Keep the rule"):
        assert word in text

    removed = churn.ok("criteria", "remove", "churn", str(service_c["id"]))
    assert f"#{service_c['id']}" in removed.out
    after = churn.json("criteria", "list", "churn")
    assert after == [model_c, impact_c, data_c]
    assert churn.json("status", "churn")["criteria"] == after


def test_criteria_metrics_catalogue(cli: Cli):
    # the catalogue needs no workspace
    catalogue = cli.json("criteria", "metrics")
    by_name = {spec["name"]: spec for spec in catalogue}
    assert len(by_name) == len(catalogue)
    expected_keys = {
        "name", "kind", "description", "higher_is_better", "lower", "upper", "unit", "tasks",
    }  # fmt: skip
    assert all(set(spec) == expected_keys for spec in catalogue)
    assert by_name["recall"]["kind"] == "model"
    assert by_name["recall"]["higher_is_better"] is True
    assert by_name["latency_p99"]["kind"] == "service"
    assert by_name["latency_p99"]["higher_is_better"] is False
    assert by_name["rows"]["kind"] == "data"
    assert "binary" in by_name["recall"]["tasks"]
    text = cli.ok("criteria", "metrics").out
    assert "recall" in text
    assert "latency_p99" in text
    assert not cli.home.exists()


# --- lifecycle --------------------------------------------------------------------------------


def test_phase_forward_backward_and_history(churn: Cli):
    forward = churn.ok("phase", "churn", "data-understanding", "--at", "2024-01-10")
    assert "business-understanding → data-understanding" in forward.out
    churn.ok("phase", "churn", "modeling", "--at", "2024-02-01T12:00", "--who", "ana")
    back = churn.ok(
        "phase", "churn", "data-preparation", "--reason", "Label leak", "--cause", "data",
        "--at", "2024-02-15T09:30+02:00",
    )  # fmt: skip
    assert "loop back" in back.out
    assert "modeling → data-preparation" in back.out
    churn.ok("phase", "churn", "modeling", "--at", "2024-03-01")
    churn.ok("phase", "churn", "business-understanding", "--reason", "Scope", "--at", "2024-03-10")

    history = churn.json("history", "churn")
    assert [(t["from"], t["to"]) for t in history] == [
        (None, "business-understanding"),
        ("business-understanding", "data-understanding"),
        ("data-understanding", "modeling"),
        ("modeling", "data-preparation"),
        ("data-preparation", "modeling"),
        ("modeling", "business-understanding"),
    ]
    assert [t["at"] for t in history] == [
        STARTED,
        "2024-01-10T00:00:00+00:00",
        "2024-02-01T12:00:00+00:00",
        "2024-02-15T07:30:00+00:00",  # the offset is converted to UTC
        "2024-03-01T00:00:00+00:00",
        "2024-03-10T00:00:00+00:00",
    ]
    assert [t["backward"] for t in history] == [False, False, False, True, False, True]
    assert history[2]["who"] == "ana"
    assert (history[3]["reason"], history[3]["cause"]) == ("Label leak", "data")
    assert (history[5]["reason"], history[5]["cause"]) == ("Scope", "other")
    assert history[1]["reason"] is None
    assert history[1]["cause"] is None

    text = churn.ok("history", "churn").out
    assert "↩" in text
    assert "Label leak" in text
    assert "2024-02-15" in text


def test_decide_stop_changes_status(churn: Cli):
    result = churn.ok(
        "decide", "churn", "stop", "--why", "Labels too noisy", "--evidence", "label audit",
        "--evidence", "reorg plan", "--who", "ana",
    )  # fmt: skip
    assert "stop" in result.out
    assert "stopped" in result.out
    assert churn.json("initiative", "show", "churn")["status"] == "stopped"
    [decision] = churn.json("status", "churn")["decisions"]
    assert decision["verdict"] == "stop"
    assert decision["rationale"] == "Labels too noisy"
    assert decision["evidence"] == ["label audit", "reorg plan"]
    assert decision["who"] == "ana"
    churn.ok("decide", "churn", "ship", "--why", "A/B test won")
    assert churn.json("initiative", "show", "churn")["status"] == "shipped"


def test_stop_decision_stops_the_clock(churn: Cli):
    churn.ok("phase", "churn", "modeling", "--at", "2024-02-01")
    churn.ok("decide", "churn", "stop", "--why", "No signal", "--at", "2024-03-01")
    report = churn.json("status", "churn")
    assert report["status"] == "stopped"
    assert sum(report["time_in_phase"].values()) == pytest.approx(
        seconds(STARTED, "2024-03-01T00:00:00+00:00")
    )
    assert report["time_in_phase"]["modeling"] == pytest.approx(29 * 86400)


def test_learn_and_learnings(churn: Cli):
    churn.ok("phase", "churn", "data-understanding", "--at", "2024-01-10")
    result = churn.ok(
        "learn", "churn", "Agents trust reasons", "--tag", "Users", "--tag", "explainability",
        "--source", "interviews", "--at", "2024-01-20",
    )  # fmt: skip
    assert "data-understanding" in result.out
    churn.ok(
        "learn", "churn", "Warehouse lags a day", "--tag", "data,serving", "--phase", "modeling"
    )
    learnings = churn.json("learnings", "churn")
    assert learnings[0] == {
        "at": "2024-01-20T00:00:00+00:00",
        "text": "Agents trust reasons",
        "phase": "data-understanding",
        "tags": ["users", "explainability"],
        "source": "interviews",
    }
    assert learnings[1]["tags"] == ["data", "serving"]
    assert learnings[1]["phase"] == "modeling"
    assert learnings[1]["source"] is None
    text = churn.ok("learnings", "churn").out
    assert "Agents" in text  # rich wraps long cells
    assert "users" in text


# --- team and network -------------------------------------------------------------------------


def test_team_add_list_coverage_remove(churn: Cli):
    added = churn.ok(
        "team", "add", "churn", "Ann", "--role", "data-scientist", "--allocation", "0.5"
    )
    assert "added" in added.out
    assert "50%" in added.out
    churn.ok("team", "add", "churn", "Bob", "--role", "product-manager")
    assert churn.json("team", "list", "churn") == [
        {"person": "Ann", "role": "data-scientist", "allocation": 0.5},
        {"person": "Bob", "role": "product-manager", "allocation": 1.0},
    ]
    coverage = churn.json("team", "coverage", "churn")
    assert coverage["slug"] == "churn"
    assert coverage["phase"] == "business-understanding"
    assert coverage["missing_roles"] == []
    assert set(coverage["single_points"]) == {"data-scientist", "product-manager"}
    assert "domain-expert" in coverage["upcoming_roles"]

    churn.ok("team", "add", "churn", "Carl", "--role", "data-scientist", "--allocation", "0.25")
    updated = churn.ok(
        "team", "add", "churn", "Ann", "--role", "data-scientist", "--allocation", "1"
    )
    assert "updated" in updated.out
    coverage = churn.json("team", "coverage", "churn")
    assert coverage["single_points"] == ["product-manager"]
    assert coverage["allocation_by_role"]["data-scientist"] == pytest.approx(1.25)
    text = churn.ok("team", "coverage", "churn").out
    assert "product-manager" in text
    assert "single point" in text

    removed = churn.ok("team", "remove", "churn", "Bob")
    assert "Bob" in removed.out
    coverage = churn.json("team", "coverage", "churn")
    assert coverage["missing_roles"] == ["product-manager"]
    assert [m["person"] for m in churn.json("team", "list", "churn")] == ["Ann", "Carl"]
    text = churn.ok("team", "list", "churn").out
    assert "Carl" in text
    assert "25%" in text


def test_network_add_list_who_consult(churn: Cli):
    added = churn.ok(
        "network", "add", "Grace Liu", "--expertise", "gdpr", "--expertise", "consent",
        "--relation", "legal", "--team", "Legal",
    )  # fmt: skip
    assert "added" in added.out
    churn.ok(
        "network", "add", "Hiro", "--expertise", "kubernetes,latency", "--relation",
        "staff-engineer",
    )  # fmt: skip
    assert churn.json("network", "list") == [
        {"person": "Grace Liu", "relation": "legal", "expertise": ["gdpr", "consent"],
         "team": "Legal"},
        {"person": "Hiro", "relation": "staff-engineer", "expertise": ["kubernetes", "latency"],
         "team": None},
    ]  # fmt: skip
    assert "Grace Liu" in churn.ok("network", "list").out

    matches = churn.json("network", "who", "gdpr question")
    assert [m["person"] for m in matches] == ["Grace Liu"]
    assert "gdpr" in matches[0]["matched"]
    assert matches[0]["consultations"] == 0
    assert matches[0]["score"] > 0

    consulted = churn.ok(
        "network", "consult", "Grace Liu", "--need", "May we use recordings?",
        "--initiative", "churn", "--outcome", "Only with consent", "--at", "2024-02-01",
    )  # fmt: skip
    assert "Grace Liu" in consulted.out
    assert churn.json("network", "who", "gdpr question")[0]["consultations"] == 1
    assert "Grace Liu" in churn.ok("network", "who", "consent").out
    assert "nobody in the network" in churn.ok("network", "who", "astrophysics").out
    assert churn.json("network", "who", "astrophysics") == []


# --- status -----------------------------------------------------------------------------------

STATUS_KEYS = {"slug", "phase", "loops", "history", "time_in_phase", "criteria", "coverage"}


def test_status_json_reflects_what_was_done(churn: Cli):
    moves = [
        ("data-understanding", "2024-01-15", None, None),
        ("data-preparation", "2024-02-01", None, None),
        ("modeling", "2024-03-01", None, None),
        ("data-preparation", "2024-03-20", "Leakage", "data"),
        ("modeling", "2024-04-01", None, None),
        ("evaluation", "2024-05-01", None, None),
        ("business-understanding", "2024-05-10", "Capacity is 500 calls", "business"),
        ("modeling", "2024-06-01", None, None),
    ]
    for phase, at, reason, cause in moves:
        extra = [] if reason is None else ["--reason", reason]
        extra += [] if cause is None else ["--cause", cause]
        churn.ok("phase", "churn", phase, "--at", at, *extra)
    churn.ok(
        "criteria", "add", "churn", "--kind", "model", "--metric", "recall", "--op", ">=",
        "--target", "0.6",
    )  # fmt: skip
    churn.ok("team", "add", "churn", "Ann", "--role", "data-scientist")
    churn.ok("team", "add", "churn", "Ben", "--role", "data-scientist")
    churn.ok("team", "add", "churn", "Dev", "--role", "data-engineer", "--allocation", "0.5")

    report = churn.json("status", "churn")
    assert report.keys() >= STATUS_KEYS
    assert report["slug"] == "churn"
    assert report["phase"] == "modeling"
    assert report["loops"] == 2  # the two backward moves above
    assert report["loops_by_cause"] == {"data": 1, "business": 1}
    assert report["history"] == churn.json("history", "churn")
    assert len(report["history"]) == len(moves) + 1
    for item in report["history"]:
        assert item.keys() >= {"from", "to", "at", "reason", "cause"}
    assert report["history"][-1]["to"] == "modeling"
    assert report["history"][4]["reason"] == "Leakage"

    time_in_phase = report["time_in_phase"]
    assert list(time_in_phase) == PHASES
    assert all(isinstance(value, float) for value in time_in_phase.values())
    total = sum(time_in_phase.values())
    assert total == pytest.approx(seconds(STARTED, report["as_of"]))
    elapsed = (datetime.now(UTC) - datetime.fromisoformat(STARTED)).total_seconds()
    assert math.isclose(total, elapsed, abs_tol=120)
    day = 86400
    assert time_in_phase["data-understanding"] == pytest.approx(17 * day)
    assert time_in_phase["data-preparation"] == pytest.approx((29 + 12) * day)
    assert time_in_phase["evaluation"] == pytest.approx(9 * day)
    assert time_in_phase["business-understanding"] == pytest.approx((14 + 22) * day)
    assert time_in_phase["deployment"] == 0
    assert time_in_phase["monitoring"] == 0

    assert report["criteria"] == churn.json("criteria", "list", "churn")
    coverage = report["coverage"]
    assert coverage.keys() >= {"missing_roles", "single_points"}
    # modeling: product manager, data scientist, domain expert, data engineer are required
    assert set(coverage["missing_roles"]) == {"product-manager", "domain-expert"}
    assert coverage["single_points"] == ["data-engineer"]
    assert report["team"] == churn.json("team", "list", "churn")


def test_status_text_of_one_initiative(churn: Cli):
    churn.ok("phase", "churn", "modeling", "--at", "2024-02-01")
    churn.ok("phase", "churn", "data-preparation", "--reason", "Leak", "--at", "2024-02-10")
    churn.ok("decide", "churn", "continue", "--why", "Promising")
    text = churn.ok("status", "churn").out
    assert "status · churn" in text
    assert "Churn risk" in text
    assert "data-preparation" in text
    assert "1 loop(s)" in text
    assert "last decision: continue" in text


def test_status_overview(churn: Cli):
    churn.ok(*create_args("ads", name="Ads"))
    churn.ok("phase", "ads", "modeling")
    churn.ok("phase", "ads", "data-preparation", "--reason", "Leak")
    text = churn.ok("status").out
    assert "Initiatives" in text
    assert "churn" in text
    assert "ads" in text
    assert "data-preparation" in text
    overview = churn.json("status")
    assert [r["slug"] for r in overview] == ["ads", "churn"]
    assert [r["phase"] for r in overview] == ["data-preparation", "business-understanding"]
    assert [r["loops"] for r in overview] == [1, 0]
    now_dependent = {"as_of": None, "time_in_phase": None}
    assert overview[1] | now_dependent == churn.json("status", "churn") | now_dependent


# --- demo -------------------------------------------------------------------------------------


def test_demo_needs_replace_to_rebuild(cli: Cli, tmp_path):
    directory = tmp_path / "demo"
    first = cli.raw("demo", str(directory))
    assert first.code == 0, first.err
    assert "churn" in first.out
    assert "ticket-routing" in first.out
    assert "demand-forecast" in first.out
    (directory / "notes.txt").write_text("mine")

    again = cli.raw("demo", str(directory))
    assert again.code == 1
    [line] = again.err.splitlines()
    assert line.startswith("error: ")
    assert "--replace" in line

    replaced = cli.raw("demo", str(directory), "--replace")
    assert replaced.code == 0, replaced.err
    assert (directory / "notes.txt").read_text() == "mine"  # only the database is replaced

    status = json.loads(cli.raw("--home", str(directory), "status", "churn", "--json").out)
    assert status["loops"] == 3
    assert status["phase"] == "monitoring"
    assert status["status"] == "shipped"
    overview = json.loads(cli.raw("--home", str(directory), "status", "--json").out)
    slugs = ["churn", "demand-forecast", "fraud-alerts", "ticket-routing"]
    assert [r["slug"] for r in overview] == slugs
    assert [r["loops"] for r in overview] == [3, 1, 1, 2]  # replaced, not appended to


def test_status_text_prints_user_strings_literally(cli: Cli):
    """Names and reasons are user text, not rich markup: an unmatched closing tag would make
    rich raise, a matched one would vanish."""
    cli.ok("init")
    cli.ok(*create_args("odd", "--started", "2024-01-01", name="Odd [/bold] [red]x[/red]"))
    out = cli.ok("status", "odd").out
    assert "Odd [/bold] [red]x[/red]" in out
