"""The SDK runs in production services: the standard library only, and from mlpilot only the
errors and the domain layer (DESIGN.md: sdk may use domain)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import mlpilot.sdk

SDK = Path(mlpilot.sdk.__file__).parent
ALLOWED_MLPILOT = ("mlpilot.sdk", "mlpilot.errors", "mlpilot.domain")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_sdk_imports_only_the_standard_library_and_mlpilot_domain():
    files = sorted(SDK.glob("*.py"))
    assert len(files) >= 8
    outside = sorted(
        f"{path.name}: {name}"
        for path in files
        for name in imported_modules(path)
        if name.split(".")[0] not in sys.stdlib_module_names
        and not name.startswith(ALLOWED_MLPILOT)
    )
    assert outside == []
