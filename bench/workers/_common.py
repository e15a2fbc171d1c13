"""Shared by the workers (standard library only: it runs in every venv).

A worker is started in a fresh process by ``bench/run.py`` with ``--out PATH``; it writes one
JSON object there: its timings (``import_s``, ``load_s``, ``compute_s``, ``seconds`` = load +
compute, ``peak_mb`` from ``ru_maxrss``) and whatever results the correctness checks need.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()
BENCH = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BENCH_DATA", BENCH / "data"))  # another data layout, see README


def arguments(*extra: tuple[str, dict[str, Any]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    for name, options in extra:
        parser.add_argument(name, **options)
    return parser.parse_args()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def finish(out: str, result: dict[str, Any]) -> None:
    result.setdefault("python", sys.version.split()[0])
    result["peak_mb"] = peak_mb()
    result["process_s_inside"] = time.perf_counter() - STARTED
    Path(out).write_text(json.dumps(result, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
