"""``mlpilot report``: the stakeholder update, for a bare initiative, a hostile one and the demo."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mlpilot.demo import build_demo
from mlpilot.demo_forecast import add_demo_evaluations
from tests.cli.helpers import assert_one_line_error, create_args, make_cli

SCRIPT = '<script>alert("x")</script>'


@pytest.fixture
def cli(capsys, tmp_path, monkeypatch):
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.ok("init")
    return cli


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"\s(src|href)=", page)  # nothing fetched, nothing linked
    assert set(re.findall(r"https?://[^\"'\s<>]+", page)) <= {"http://www.w3.org/2000/svg"}
    assert "@media print" in page


def test_a_bare_initiative_says_what_is_missing(cli, tmp_path):
    cli.ok(*create_args("bare"))
    markdown = cli.ok("report", "bare").out
    assert "# Churn risk — stakeholder update" in markdown
    assert "## Missing evidence" in markdown
    assert "no offline evaluation recorded" in markdown
    assert "model uncertainty: never recorded" in markdown
    assert "impact uncertainty: never recorded" in markdown
    assert "monitors: no monitoring data yet" in markdown
    cli.ok("report", "bare", "--format", "html", "-o", str(tmp_path / "bare.html"))
    page = (tmp_path / "bare.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Missing evidence" in page
    assert page.count("<svg") == 2  # the timeline and the forecast distribution


def test_every_user_string_is_escaped(cli, tmp_path):
    cli.ok(
        "initiative", "create", "evil", "--name", SCRIPT, "--problem", SCRIPT,
        "--prediction-use", SCRIPT, "--task", "binary", "--shape", "batch",
        "--baseline", SCRIPT, "--baseline-value", "0.4", "--baseline-metric", "recall",
        "--started", (datetime.now(UTC) - timedelta(days=60)).date().isoformat(),
    )  # fmt: skip
    cli.ok("criteria", "add", "evil", "--kind", "model", "--metric", "recall", "--op", ">=",
           "--target", "0.6", "--plan", SCRIPT)  # fmt: skip
    cli.ok("phase", "evil", "modeling")
    cli.ok("phase", "evil", "data-preparation", "--reason", SCRIPT, "--cause", "data")
    cli.ok("decide", "evil", "continue", "--why", SCRIPT, "--evidence", SCRIPT)
    cli.ok("learn", "evil", SCRIPT, "--tag", "x", "--source", SCRIPT)
    cli.ok("evaluate", "evil", "--metric", "recall=0.7", "--n", "300", "--name", SCRIPT)
    cli.ok(
        "network", "add", SCRIPT, "--relation", "data-scientist", "--expertise", "product manager"
    )
    cli.ok("report", "evil", "--format", "html", "-o", str(tmp_path / "evil.html"))
    page = (tmp_path / "evil.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.count("&lt;script&gt;") >= 8  # name, problem, use, baseline, reason, ...
    markdown = cli.ok("report", "evil").out
    assert "<script" not in markdown.lower()
    assert "&lt;script&gt;" in markdown


def test_report_errors_are_one_line(cli):
    cli.ok(*create_args("bare"))
    assert_one_line_error(cli("report", "bare", "--format", "pdf"), "pdf")
    assert_one_line_error(cli("report", "bare", "--since", "yesterday"), "--since")
    assert_one_line_error(cli("report", "nope"), "nope")


def test_the_full_demo_renders(capsys, tmp_path, monkeypatch):
    now = datetime.now(UTC)
    with build_demo(tmp_path / "demo", now=now) as ws:
        add_demo_evaluations(ws, now - timedelta(days=210), now - timedelta(days=400))
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.home = Path(tmp_path / "demo")
    markdown = cli.ok("report", "churn", "--since", "2020-01-01", "--trials", "2000").out
    for heading in ("How we got here", "Delivery forecast", "The two uncertainties",
                    "Feasibility of the model", "Monitors", "Decisions since", "Learnings since",
                    "What we need from our network"):  # fmt: skip
        assert f"## {heading}" in markdown
    assert "↩ data-preparation" in markdown
    assert "model monitor:" in markdown  # the model uncertainty after deployment
    assert "gbm-40k" in markdown
    cli.ok(
        "report", "churn", "--format", "html", "--trials", "2000", "-o", str(tmp_path / "c.html")
    )
    page = (tmp_path / "c.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.count("<svg") == 2  # timeline and criteria (delivered: no forecast spread)
