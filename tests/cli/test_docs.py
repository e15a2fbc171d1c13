"""docs/cli.md documents every command, and names no command that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from mlpilot.cli.app import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def command_paths(command, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command as its path of names, e.g. ('team', 'coverage')."""
    children = getattr(command, "commands", None)
    if children is None:
        return [prefix]
    paths: list[tuple[str, ...]] = []
    for name, child in sorted(children.items()):
        paths.extend(command_paths(child, (*prefix, name)))
    return paths


ROOT = typer.main.get_command(app)
PATHS = command_paths(ROOT)


def test_the_walk_finds_the_commands():
    assert ("init",) in PATHS
    assert ("team", "coverage") in PATHS
    assert ("status",) in PATHS
    assert len(PATHS) == len(set(PATHS)) >= 20


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_every_command_is_documented(path):
    text = DOC.read_text(encoding="utf-8")
    pattern = r"\bmlpilot " + re.escape(" ".join(path)) + r"(?![\w-])"
    assert re.search(pattern, text), f"'mlpilot {' '.join(path)}' is not in {DOC}"


def test_documented_commands_exist():
    text = DOC.read_text(encoding="utf-8")
    top = ROOT.commands
    for first, second in re.findall(r"`mlpilot ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?", text):
        assert first in top, f"docs/cli.md mentions 'mlpilot {first}', which does not exist"
        group = getattr(top[first], "commands", None)
        if group is not None and second:
            assert second in group, f"docs/cli.md mentions 'mlpilot {first} {second}'"
