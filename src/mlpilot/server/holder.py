"""The file that says a workspace is held by a running ``mlpilot serve``: ``DIR/server.json``.

The server writes it at start (``{"url": ..., "pid": ...}``) and removes it at exit. A local
command finding it with a live pid refuses to open the workspace (DuckDB admits one writing
process) and says how to work through the server instead. A file whose pid is dead is stale and
ignored. Standard library only: the CLI imports this on every command.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from mlpilot.errors import WorkspaceError

__all__ = ["HOLDER_FILE", "Holder", "check_not_held", "find", "release", "write"]

HOLDER_FILE = "server.json"


@dataclass(frozen=True)
class Holder:
    """The server holding a workspace."""

    url: str
    pid: int


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def find(home: Path) -> Holder | None:
    """The live server holding the workspace in ``home``; None when none (or a stale file)."""
    try:
        data = json.loads((home / HOLDER_FILE).read_text(encoding="utf-8"))
        holder = Holder(str(data["url"]), int(data["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # absent, or half-written / damaged: nothing reliable holds the workspace
    return holder if _alive(holder.pid) else None


def write(home: Path, url: str) -> Path:
    """Record that this process serves the workspace in ``home`` at ``url``."""
    path = home / HOLDER_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    temporary.replace(path)  # atomic: a reader never sees half a file
    return path


def release(home: Path) -> None:
    """Remove the file if this process wrote it."""
    path = home / HOLDER_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def check_not_held(home: Path) -> None:
    """Raise when a running server holds the workspace in ``home``."""
    holder = find(home)
    if holder is not None and holder.pid != os.getpid():
        raise WorkspaceError(
            f"the workspace {home} is held by `mlpilot serve` at {holder.url} "
            f"(pid {holder.pid}); set MLPILOT_URI={holder.url} (and MLPILOT_TOKEN) to work "
            "through it"
        )
