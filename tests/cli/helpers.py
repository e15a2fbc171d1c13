"""Shared helpers of the CLI tests: run ``mlpilot.cli.app.main`` in-process, capture its output.

``main`` is the real entry point (the console script calls it): it prints any error as one line
``error: …`` on stderr and returns the exit code, so the tests see exactly what a user sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlpilot.cli.app import main


@dataclass(frozen=True)
class Result:
    """What one command printed and returned."""

    code: int
    out: str
    err: str


class Cli:
    """Runs ``mlpilot --home HOME …`` through ``main`` and captures stdout and stderr."""

    def __init__(self, capsys: pytest.CaptureFixture[str], home: Path) -> None:
        self.capsys = capsys
        self.home = home

    def raw(self, *argv: str) -> Result:
        """Run ``mlpilot ARGV`` (no ``--home`` added)."""
        self.capsys.readouterr()  # drop whatever an earlier step printed
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def __call__(self, *args: str) -> Result:
        """Run ``mlpilot --home HOME ARGS``."""
        return self.raw("--home", str(self.home), *args)

    def ok(self, *args: str) -> Result:
        """Run a command that must succeed without printing anything on stderr."""
        result = self(*args)
        assert result.code == 0, f"mlpilot {' '.join(args)} failed: {result.err}"
        assert result.err == "", result.err
        return result

    def json(self, *args: str) -> Any:
        """Run a ``--json`` command that must succeed and return the parsed output."""
        return json.loads(self.ok(*args, "--json").out)


def make_cli(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """A Cli on ``tmp_path/ws``, run from ``tmp_path`` with no MLPILOT_* variables set."""
    monkeypatch.delenv("MLPILOT_HOME", raising=False)
    monkeypatch.delenv("MLPILOT_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    return Cli(capsys, tmp_path / "ws")


def create_args(slug: str, *extra: str, name: str = "Churn risk") -> list[str]:
    """``initiative create SLUG`` with every required option."""
    return [
        "initiative",
        "create",
        slug,
        "--name",
        name,
        "--problem",
        "Subscribers leave",
        "--prediction-use",
        "Retention calls",
        "--task",
        "binary",
        "--shape",
        "batch",
        "--baseline",
        "Usage drop rule",
        *extra,
    ]


def assert_one_line_error(result: Result, *needles: str, code: int = 1) -> str:
    """The command failed with ``code`` and printed one ``error:`` line naming ``needles``."""
    assert result.code == code, (result.code, result.out, result.err)
    assert "Traceback" not in result.err + result.out
    lines = result.err.splitlines()
    assert len(lines) == 1, result.err
    line = lines[0]
    assert line.startswith("error: "), line
    assert line[len("error: ") :].strip(), "the error message is empty"
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    assert result.out == "", result.out
    return line
