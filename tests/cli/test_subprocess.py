"""The installed console script, one process per command: state persists across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import create_args

MLPILOT = Path(sys.executable).parent / "mlpilot"


def run(
    *args: str, home: Path | None, cwd: Path, executable: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MLPILOT_HOME", "MLPILOT_DB")}
    if home is not None:
        env["MLPILOT_HOME"] = str(home)
    env["COLUMNS"] = "100"
    return subprocess.run(
        [*(executable or [str(MLPILOT)]), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def cwd(tmp_path) -> Path:
    folder = tmp_path / "cwd"
    folder.mkdir()
    return folder


def test_console_script_persists_across_processes(tmp_path, cwd):
    home = tmp_path / "home"
    steps = [
        ["init"],
        create_args("churn", "--started", "2024-01-01"),
        ["phase", "churn", "modeling", "--at", "2024-02-01"],
        ["phase", "churn", "data-preparation", "--reason", "Leak", "--cause", "data",
         "--at", "2024-03-01"],
    ]  # fmt: skip
    for step in steps:
        done = run(*step, home=home, cwd=cwd)
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""
        assert "✓" in done.stdout
    assert (home / "mlpilot.db").is_file()

    status = run("status", "churn", "--json", home=home, cwd=cwd)
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["phase"] == "data-preparation"
    assert report["loops"] == 1
    assert [(t["from"], t["to"], t["cause"]) for t in report["history"]] == [
        (None, "business-understanding", None),
        ("business-understanding", "modeling", None),
        ("modeling", "data-preparation", "data"),
    ]
    assert report["started_at"] == "2024-01-01T00:00:00+00:00"

    failed = run("phase", "churn", "nowhere", home=home, cwd=cwd)
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert failed.stderr.count("\n") == 1
    assert failed.stderr.startswith("error: ")
    assert "'nowhere'" in failed.stderr
    assert failed.stdout == ""

    assert list(cwd.iterdir()) == []  # MLPILOT_HOME was used, not ./.mlpilot


def test_home_option_overrides_the_environment(tmp_path, cwd):
    env_home = tmp_path / "env-home"
    assert run("init", home=env_home, cwd=cwd).returncode == 0
    other = tmp_path / "other"
    result = run("--home", str(other), "initiative", "list", home=env_home, cwd=cwd)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert str(other) in result.stderr
    assert "mlpilot init" in result.stderr
    assert not other.exists()


def test_python_dash_m_help(cwd):
    result = run("--help", home=None, cwd=cwd, executable=[sys.executable, "-m", "mlpilot"])
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout
    for command in ("initiative", "criteria", "phase", "status", "demo"):
        assert command in result.stdout
    assert result.stderr == ""
