"""The public API: what ``import mlpilot`` loads and exports, and the one error hierarchy."""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import mlpilot
import mlpilot.errors
from mlpilot.errors import MlpilotError

SRC = Path(mlpilot.__file__).resolve().parent
HEAVY = (
    "fastapi", "starlette", "uvicorn", "flask", "sklearn", "pyspark", "matplotlib", "plotly",
    "altair", "typer", "rich", "duckdb", "ibis", "pandas", "polars", "pyarrow",
)  # fmt: skip


def test_import_loads_no_heavy_or_cli_dependency():
    code = "import json, sys, mlpilot; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert "mlpilot" in loaded
    assert sorted(loaded.intersection(HEAVY)) == []


def _ruff_order(name: str) -> tuple[int, str]:
    """Ruff's isort-style order for ``__all__``: CONSTANTS, then Classes, then the rest."""
    if len(name) > 1 and name.isupper():
        return (0, name)
    if name[0].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_unique_and_resolves():
    names = mlpilot.__all__
    assert len({name.lower() for name in names}) == len(names)
    assert names == sorted(names, key=_ruff_order)
    missing = [name for name in names if not hasattr(mlpilot, name)]
    assert missing == []


def test_every_public_class_and_function_is_in_all():
    exported = set(mlpilot.__all__)
    public = {
        name
        for name, value in vars(mlpilot).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__.split(".")[0] == "mlpilot"
    }
    assert len(public) >= 20
    assert sorted(public - exported) == []


ERROR_CLASSES = [
    value
    for value in vars(mlpilot.errors).values()
    if inspect.isclass(value)
    and issubclass(value, BaseException)
    and value.__module__ == "mlpilot.errors"
]


def test_errors_module_has_the_hierarchy():
    assert len(ERROR_CLASSES) >= 7


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_is_an_mlpilot_error_exported_and_documented(error):
    assert issubclass(error, MlpilotError)
    assert error.__name__ in mlpilot.errors.__all__
    assert getattr(mlpilot, error.__name__) is error
    assert error.__name__ in mlpilot.__all__
    doc = mlpilot.errors.__doc__ or ""
    assert f":class:`{error.__name__}`" in doc, f"{error.__name__} is not in the errors docstring"


def _exception_bases() -> set[str]:
    names = {name for name, value in vars(builtins).items()}
    return {
        name
        for name in names
        if inspect.isclass(getattr(builtins, name))
        and issubclass(getattr(builtins, name), BaseException)
    }


def test_exception_classes_live_only_in_errors_module():
    builtin_errors = _exception_bases()
    misplaced = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "errors.py" and path.parent == SRC:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {ast.unparse(base).split(".")[-1] for base in node.bases}
            if bases & builtin_errors or any(b.endswith(("Error", "Exception")) for b in bases):
                misplaced.append(f"{path.relative_to(SRC)}:{node.name}")
    assert misplaced == []


def test_tracker_is_public_and_from_the_sdk():
    assert "Tracker" in mlpilot.__all__
    assert mlpilot.Tracker.__module__ == "mlpilot.sdk.tracker"


def test_connect_is_public_and_from_the_client():
    assert "connect" in mlpilot.__all__
    assert mlpilot.connect.__module__ == "mlpilot.client"
