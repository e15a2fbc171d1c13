"""Bad input: a non-zero exit, one ``error:`` line naming the bad thing, nothing stored changes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlpilot.cli.app import main
from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli

NOW_DEPENDENT = ("as_of", "time_in_phase")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A populated workspace, built once; each test works on a copy."""
    home = tmp_path_factory.mktemp("template") / "ws"
    steps = [
        ["init"],
        create_args("churn", "--started", "2024-01-01", "--baseline-value", "0.4"),
        ["phase", "churn", "data-understanding", "--at", "2024-01-10"],
        ["phase", "churn", "modeling", "--at", "2024-02-01"],
        ["phase", "churn", "data-preparation", "--reason", "Leak", "--at", "2024-02-10"],
        ["criteria", "add", "churn", "--kind", "model", "--metric", "recall", "--op", ">=",
         "--target", "0.6", "--at", "precision>=0.5", "--threshold", "0.5"],
        ["team", "add", "churn", "Ann", "--role", "data-scientist", "--allocation", "0.5"],
        ["network", "add", "Grace", "--expertise", "gdpr", "--relation", "legal"],
        ["network", "consult", "Grace", "--need", "consent", "--initiative", "churn"],
        ["learn", "churn", "Labels leak", "--tag", "data"],
        ["decide", "churn", "continue", "--why", "Promising"],
    ]  # fmt: skip
    for step in steps:
        assert main(["--home", str(home), *step]) == 0, step
    return home


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch, template) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    shutil.copytree(template, cli.home)
    return cli


def snapshot(cli: Cli) -> dict[str, Any]:
    """Everything stored, as the read commands show it (minus what depends on the clock)."""
    status = cli.json("status", "churn")
    for key in NOW_DEPENDENT:
        status.pop(key)
    return {
        "status": status,
        "initiatives": cli.json("initiative", "list"),
        "network": cli.json("network", "list"),
        "consultations": cli.json("network", "who", "gdpr"),
        "files": sorted(p.name for p in cli.home.iterdir()),
    }


def _criterion(*options: str) -> list[str]:
    return ["criteria", "add", "churn", "--kind", "model", *options]


# (id, argv after --home, words the error line must contain, exit code)
CASES = [
    ("unknown-phase", ["phase", "churn", "nope"], ["'nope'", "phase"], 1),
    ("unknown-initiative", ["phase", "ghost", "modeling"], ["'ghost'"], 1),
    ("unknown-initiative-status", ["status", "ghost"], ["'ghost'"], 1),
    ("unknown-initiative-team", ["team", "add", "ghost", "Bo", "--role", "analyst"], ["'ghost'"],
     1),
    ("unknown-initiative-criteria", ["criteria", "list", "ghost"], ["'ghost'"], 1),
    ("unknown-initiative-history", ["history", "ghost"], ["'ghost'"], 1),
    ("unknown-initiative-learn", ["learn", "ghost", "text"], ["'ghost'"], 1),
    ("unknown-initiative-pause", ["initiative", "pause", "ghost"], ["'ghost'"], 1),
    ("duplicate-slug", create_args("churn", name="Another"), ["'churn'", "exists"], 1),
    ("invalid-slug", create_args("Bad Slug"), ["'Bad Slug'"], 1),
    ("backward-without-reason", ["phase", "churn", "data-understanding"], ["reason"], 1),
    ("same-phase", ["phase", "churn", "data-preparation"], ["'data-preparation'"], 1),
    ("unknown-cause", ["phase", "churn", "modeling", "--cause", "weather"], ["'weather'"], 1),
    ("unknown-metric", _criterion("--metric", "nope", "--op", ">=", "--target", "0.5"),
     ["'nope'"], 1),
    ("unknown-comparator", _criterion("--metric", "recall", "--op", "==", "--target", "0.5"),
     ["'=='"], 1),
    ("bad-constraint", _criterion("--metric", "recall", "--op", ">=", "--target", "0.5", "--at",
                                  "precision=0.5"), ["'precision=0.5'"], 1),
    ("constraint-without-operating-point",
     _criterion("--metric", "recall", "--op", ">=", "--target", "0.5", "--at", "precision>=0.5"),
     ["--threshold", "--top K --per PERIOD"], 1),
    ("top-without-per", _criterion("--metric", "precision", "--op", ">=", "--target", "0.3",
                                   "--top", "500"), ["--per PERIOD"], 1),
    ("unknown-period", _criterion("--metric", "precision", "--op", ">=", "--target", "0.3",
                                  "--top", "500", "--per", "fortnight"), ["'fortnight'"], 1),
    ("threshold-on-roc-auc", _criterion("--metric", "roc_auc", "--op", ">=", "--target", "0.7",
                                        "--threshold", "0.5"), ["roc_auc", "operating point"], 1),
    ("nan-target", _criterion("--metric", "recall", "--op", ">=", "--target", "nan"),
     ["target"], 1),
    ("target-out-of-range", _criterion("--metric", "recall", "--op", ">=", "--target", "1.5"),
     ["1.5", "recall"], 1),
    ("unknown-kind", ["criteria", "add", "churn", "--kind", "vibes", "--metric", "recall", "--op",
                      ">=", "--target", "0.5"], ["'vibes'"], 1),
    ("effect-on-model", _criterion("--metric", "recall", "--op", ">=", "--target", "0.5",
                                   "--effect", "absolute"), ["impact"], 1),
    ("constraint-on-impact", ["criteria", "add", "churn", "--kind", "impact", "--metric", "sales",
                              "--op", ">=", "--target", "0.1", "--at", "precision>=0.5"],
     ["--at"], 1),
    ("metric-for-another-task", _criterion("--metric", "rmse", "--op", "<=", "--target", "0.5"),
     ["'rmse'", "binary"], 1),
    ("no-such-criterion", ["criteria", "remove", "churn", "999"], ["#999"], 1),
    ("allocation-above-one", ["team", "add", "churn", "Bo", "--role", "analyst", "--allocation",
                              "1.5"], ["allocation", "1.5"], 1),
    ("allocation-zero", ["team", "add", "churn", "Bo", "--role", "analyst", "--allocation", "0"],
     ["allocation"], 1),
    ("allocation-nan", ["team", "add", "churn", "Bo", "--role", "analyst", "--allocation", "nan"],
     ["allocation"], 1),
    ("unknown-role", ["team", "add", "churn", "Bo", "--role", "wizard"], ["'wizard'"], 1),
    ("unknown-role-remove", ["team", "remove", "churn", "Ann", "--role", "wizard"],
     ["'wizard'"], 1),
    ("not-on-team", ["team", "remove", "churn", "Zed"], ["'Zed'"], 1),
    ("unknown-relation", ["network", "add", "Bo", "--expertise", "x", "--relation", "friend"],
     ["'friend'"], 1),
    ("unknown-ally", ["network", "consult", "Zed", "--need", "help"], ["'Zed'"], 1),
    ("consult-unknown-initiative", ["network", "consult", "Grace", "--need", "help",
                                    "--initiative", "ghost"], ["'ghost'"], 1),
    ("limit-zero", ["network", "who", "gdpr", "--limit", "0"], ["limit"], 1),
    ("unknown-verdict", ["decide", "churn", "maybe", "--why", "x"], ["'maybe'"], 1),
    ("blank-why", ["decide", "churn", "stop", "--why", " "], ["--why"], 1),
    ("blank-learning", ["learn", "churn", " "], ["learning"], 1),
    ("future-at", ["phase", "churn", "modeling", "--at", "2999-01-01"], ["2999", "future"], 1),
    ("future-decision", ["decide", "churn", "stop", "--why", "x", "--at", "2999-01-01"],
     ["future"], 1),
    ("future-started", create_args("ads", "--started", "2999-01-01"), ["future"], 1),
    ("malformed-at", ["phase", "churn", "modeling", "--at", "yesterday"], ["'yesterday'"], 1),
    ("malformed-started", create_args("ads", "--started", "1st of May"), ["'1st of May'"], 1),
    ("at-before-last-move", ["phase", "churn", "modeling", "--at", "2024-01-05"],
     ["2024-01-05", "append-only"], 1),
    ("missing-option", ["team", "add", "churn", "Bo"], ["--role"], 2),
    ("missing-argument", ["phase", "churn"], ["'phase'"], 2),
    ("bad-number", _criterion("--metric", "recall", "--op", ">=", "--target", "high"),
     ["'--target'"], 2),
    ("unknown-option", ["phase", "churn", "modeling", "--bogus"], ["--bogus"], 2),
    ("unknown-command", ["bogus"], ["'bogus'"], 2),
    ("unknown-subcommand", ["team", "bogus"], ["'bogus'"], 2),
]  # fmt: skip


@pytest.mark.parametrize(
    ("argv", "needles", "code"),
    [pytest.param(argv, needles, code, id=case_id) for case_id, argv, needles, code in CASES],
)
def test_bad_input_is_one_line_and_stores_nothing(cli: Cli, argv, needles, code):
    before = snapshot(cli)
    assert_one_line_error(cli(*argv), *needles, code=code)
    assert snapshot(cli) == before


def test_a_blank_reason_is_no_reason(cli: Cli):
    before = snapshot(cli)
    assert_one_line_error(
        cli("phase", "churn", "data-understanding", "--reason", "   "), "reason", code=1
    )
    assert snapshot(cli) == before


def test_duplicate_slug_leaves_the_first_initiative_unchanged(cli: Cli):
    before = cli.json("initiative", "show", "churn")
    assert_one_line_error(cli(*create_args("churn", name="Another")), "'churn'")
    assert cli.json("initiative", "show", "churn") == before
    assert before["name"] == "Churn risk"


def test_corrupt_workspace(cli: Cli):
    shutil.rmtree(cli.home)
    cli.home.mkdir()
    db_file = cli.home / "mlpilot.db"
    db_file.write_text("these are my notes, not a database\n" * 20)
    content = db_file.read_bytes()
    for argv in (["status", "churn"], ["initiative", "list"], ["init"]):
        line = assert_one_line_error(cli(*argv), "mlpilot.db")
        assert "not an mlpilot workspace" in line or "cannot be read" in line
        assert db_file.read_bytes() == content
        assert [p.name for p in cli.home.iterdir()] == ["mlpilot.db"]


def test_foreign_sqlite_database(cli: Cli):
    import sqlite3

    shutil.rmtree(cli.home)
    cli.home.mkdir()
    db_file = cli.home / "mlpilot.db"
    with sqlite3.connect(db_file) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    connection.close()
    content = db_file.read_bytes()
    assert_one_line_error(cli("init"), "not an mlpilot workspace")
    assert db_file.read_bytes() == content


@pytest.mark.parametrize("exists", [False, True], ids=["missing-folder", "empty-folder"])
def test_no_workspace_says_run_init_and_creates_nothing(cli: Cli, tmp_path, exists):
    folder = tmp_path / "nowhere"
    if exists:
        folder.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    for argv in (["status"], ["initiative", "list"], create_args("ads"), ["network", "list"]):
        result = cli.raw("--home", str(folder), *argv)
        assert_one_line_error(result, "run 'mlpilot init'", str(folder))
    assert folder.exists() is exists
    if exists:
        assert list(folder.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_unreachable_database_hides_the_password(cli: Cli, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    for argv in (["init"], ["status"]):
        line = assert_one_line_error(cli.raw("--db", url, *argv), "127.0.0.1")
        assert "secret" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_invalid_database_url(cli: Cli):
    assert_one_line_error(cli.raw("--db", "nosuchdialect://x/y", "status"), "nosuchdialect")


def test_demo_refuses_an_existing_workspace_without_replace(cli: Cli):
    before = snapshot(cli)
    assert_one_line_error(cli.raw("demo", str(cli.home)), "--replace")
    assert snapshot(cli) == before


@pytest.mark.parametrize("argv", [[], ["team"]], ids=["no-command", "group-alone"])
def test_no_arguments_show_help_without_an_empty_error(cli: Cli, argv):
    result = cli.raw(*argv)
    assert "Usage" in result.out
    assert all(line.removeprefix("error:").strip() for line in result.err.splitlines())


@pytest.mark.parametrize("argv", [["--help"], ["team", "--help"], ["phase", "--help"]])
def test_help_exits_zero(cli: Cli, argv):
    result = cli.raw(*argv)
    assert result.code == 0
    assert result.err == ""
    assert "Usage" in result.out


def test_the_same_commands_succeed_with_good_input(cli: Cli):
    # controls for the cases above: they fail for the bad value, not for the workspace
    assert json.loads(cli("status", "churn", "--json").out)["loops"] == 1
    cli.ok("team", "add", "churn", "Bo", "--role", "analyst", "--allocation", "1")
    cli.ok("phase", "churn", "modeling", "--at", "2024-03-01")
    cli.ok(*_criterion("--metric", "recall", "--op", ">", "--target", "0.5"))
