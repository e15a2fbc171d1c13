"""The dashboard's files ship with the package: every template and static file is package data,
and the vendored libraries are the ones recorded (with their licences)."""

from __future__ import annotations

import glob
import hashlib
import re
import tomllib
from pathlib import Path

import mlpilot

PACKAGE = Path(mlpilot.__file__).parent
ROOT = PACKAGE.parent.parent
VENDOR = PACKAGE / "server" / "static" / "vendor"


def _dashboard_files() -> set[str]:
    found = set()
    for folder in ("server/templates", "server/static"):
        for path in (PACKAGE / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                found.add(path.relative_to(PACKAGE).as_posix())
    return found


def test_every_template_and_static_file_is_declared_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["mlpilot"]
    shipped = {
        Path(match).as_posix()
        for pattern in patterns
        for match in glob.glob(pattern, root_dir=PACKAGE)  # as setuptools expands them
        if (PACKAGE / match).is_file()
    }
    files = _dashboard_files()
    assert {"server/templates/initiative.html", "server/static/vendor/vega.min.js"} <= files
    assert sorted(files - shipped) == []


def test_vendored_libraries_match_their_recorded_checksums_and_carry_licences() -> None:
    table = (VENDOR / "VENDORED.md").read_text()
    rows = re.findall(r"^\| (\S+\.js) \| (\S+) \| ([\d.]+) \| ([0-9a-f]{64}) \|$", table, re.M)
    assert {row[0] for row in rows} == {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"}
    for name, package, _version, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
        licence = (VENDOR / f"{package}.LICENSE").read_text()
        assert "Redistribution and use in source and binary forms" in licence
