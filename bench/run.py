"""Run every benchmark side by side, check the answers agree, print medians and ratios.

    python bench/run.py            # 3 runs of each measurement (Evidently within its budget)
    python bench/run.py --quick    # 1 run of each
    python bench/run.py --only drift1m perf --runs 5

Each run is a fresh subprocess (bench/workers/*.py) in its tool's own environment: mlpilot, plain
DuckDB and scikit-learn in the project's venv, Evidently and NannyML in bench/.venvs/ (made by
bench/setup.sh). The parent times the whole process (interpreter start and imports included) and
reads the child's peak RSS (``ru_maxrss``) with ``os.wait4``; the child times load + compute
itself. Results go to bench/data/last-run.json and bench/data/last-run.md (gitignored); the
curated record with the machine is bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
WORKERS = BENCH / "workers"
VENVS = BENCH / ".venvs"
MAIN_PYTHON = ROOT / ".venv" / "bin" / "python"
WORKLOADS = ("drift1m", "drift10m", "perf")
# A measurement stops repeating once its runs so far add up to this many seconds (the whole
# suite has to fit in about 15 minutes on 2 cores); a single run longer than 300 s is not repeated.
BUDGET_S = {"evidently": 400.0, "nannyml": 150.0}
DEFAULT_BUDGET_S = 150.0
SINGLE_RUN_LIMIT_S = 300.0


def python_for(tool: str) -> Path:
    if tool in ("evidently", "nannyml"):
        return VENVS / tool / "bin" / "python"
    return MAIN_PYTHON if MAIN_PYTHON.exists() else Path(sys.executable)


# --------------------------------------------------------------------------------------------
# Running one measurement


def cpu_busy(interval: float = 0.5) -> float:
    """Share of all CPUs busy over ``interval`` seconds (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle

    total0, idle0 = sample()
    time.sleep(interval)
    total1, idle1 = sample()
    return 1.0 - (idle1 - idle0) / max(total1 - total0, 1)


def wait_quiet(limit_s: float = 15.0, busy: float = 0.3) -> float:
    """Wait (at most ``limit_s``) until other processes leave the CPUs mostly idle."""
    deadline = time.monotonic() + limit_s
    share = cpu_busy()
    while share > busy and time.monotonic() < deadline:
        time.sleep(2.0)
        share = cpu_busy()
    return share


NICE = 0  # --nice: the children's scheduling priority (negative needs root)


def run_once(tool: str, worker: str, *args: str) -> dict[str, Any]:
    env = dict(os.environ)
    env["NML_DISABLE_USAGE_LOGGING"] = "1"
    env["DO_NOT_TRACK"] = "1"  # Evidently's telemetry
    env["PYTHONWARNINGS"] = "ignore"
    background = wait_quiet()
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    command = [str(python_for(tool)), str(WORKERS / worker), "--out", str(out), *args]
    if NICE:  # through nice(1), not preexec_fn: a forked child would start with the parent's
        command = ["nice", "-n", str(NICE), *command]  # RSS, which ru_maxrss then reports
    started = time.perf_counter()
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(command, stdout=log, stderr=log, env=env, cwd=BENCH)
        _, status, usage = os.wait4(child.pid, 0)
        process_s = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read().decode(errors="replace")
    try:
        if child.returncode != 0:
            return {"error": f"exit {child.returncode}: {text.strip()[-1500:]}"}
        result: dict[str, Any] = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    result["process_s"] = process_s
    result["peak_mb_wait4"] = usage.ru_maxrss / 1024
    result["cpu_s"] = usage.ru_utime + usage.ru_stime  # less sensitive to a busy machine
    result["background_busy"] = background
    return result


def measure(
    label: str, tool: str, worker: str, *args: str, runs: int, budget: float | None = None
) -> list[dict[str, Any]]:
    budget = budget if budget is not None else BUDGET_S.get(tool, DEFAULT_BUDGET_S)
    results: list[dict[str, Any]] = []
    spent = 0.0
    for k in range(runs):
        if not python_for(tool).exists():
            results.append({"error": f"no environment {python_for(tool)}: run bench/setup.sh"})
            break
        result = run_once(tool, worker, *args)
        results.append(result)
        if "error" in result:
            print(f"  {label:<34} run {k + 1}: FAILED {result['error'][-300:]}", flush=True)
            break
        spent += result["process_s"]
        print(
            f"  {label:<34} run {k + 1}: {result['seconds']:7.2f} s load+compute, "
            f"{result['process_s']:7.2f} s process, {result['peak_mb_wait4']:6.0f} MB peak "
            f"(background CPU {result['background_busy']:.0%})",
            flush=True,
        )
        if result["process_s"] > SINGLE_RUN_LIMIT_S:
            print(f"  {label}: one run took over {SINGLE_RUN_LIMIT_S:.0f} s; recorded once")
            break
        if k + 1 < runs and spent + result["process_s"] > budget:
            print(f"  {label}: {k + 1} run(s) within its {budget:.0f} s budget")
            break
    return results


def summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in results if "error" not in r]
    if not ok:
        return {"runs": 0, "error": results[0]["error"] if results else "not run"}

    def med(key: str) -> float:
        return float(statistics.median(r[key] for r in ok))

    return {
        "runs": len(ok),
        "seconds": med("seconds"),
        "compute_s": med("compute_s"),
        "load_s": med("load_s"),
        "import_s": med("import_s"),
        "process_s": med("process_s"),
        "cpu_s": med("cpu_s"),
        "peak_mb": med("peak_mb_wait4"),
        "peak_mb_child": med("peak_mb"),
        "all_seconds": [round(r["seconds"], 3) for r in ok],
        "background_busy_max": max(r["background_busy"] for r in ok),
        **({"queries": {k: statistics.median(r["queries"][k] for r in ok)
                        for k in ok[0]["queries"]}} if "queries" in ok[0] else {}),
    }  # fmt: skip


# --------------------------------------------------------------------------------------------
# Correctness (not timing)


def check_drift(results: dict[str, list[dict[str, Any]]], size: str) -> dict[str, Any]:
    import numpy as np
    import pyarrow.parquet as pq

    from mlpilot.stats.drift import effect_sizes, js_distance

    def first(label: str) -> dict[str, Any] | None:
        ok = [r for r in results.get(label, []) if "error" not in r]
        return ok[0] if ok else None

    checks: dict[str, Any] = {}
    cold, warm = first("mlpilot cold"), first("mlpilot warm")
    profile = json.loads((DATA / f"profile_{size}.json").read_text())
    if cold and warm:
        checks["cold_equals_warm_max_abs_diff"] = max(
            abs(cold["columns"][n]["statistic"] - warm["columns"][n]["statistic"])
            for n in cold["columns"]
        )
    plain = first("duckdb warm (current histograms)")
    if plain and warm:
        # the plain query's counts (missing first) against the stored reference's: mlpilot's JS
        def plain_js(n: str) -> float:
            reference = [profile[n]["missing"], *profile[n]["bins"]]
            sizes = effect_sizes(reference, plain["bins"][n])
            return sizes["js"] if sizes else math.nan

        checks["plain_duckdb_js_vs_mlpilot_max_abs_diff"] = max(
            abs(plain_js(n) - warm["columns"][n]["effect_size"]["js"]) for n in profile
        )
        checks["mlpilot_warm_alarms"] = {
            n: {"p_value": c["p_value"], "drifted": c["drifted"], "js": c["effect_size"]["js"]}
            for n, c in warm["columns"].items()
        }
    if cold is None:
        return checks
    # Missing counts: the truth from pyarrow (NULL, and NaN in float columns), one column at a
    # time (the parent stays small: a forked child would start with its pages).
    reference = pq.ParquetFile(DATA / f"drift_{size}_reference.parquet")
    current = pq.ParquetFile(DATA / f"drift_{size}_current.parquet")

    def missing(source: Any, name: str) -> int:
        column = source.read(columns=[name]).column(name)
        if str(column.type) == "double":  # NULLs come back as NaN
            return int(np.isnan(column.to_numpy(zero_copy_only=False)).sum())
        return int(column.null_count)

    checks["missing_counts"] = {}
    for n, c in cold["columns"].items():
        truth_reference = missing(reference, n)
        if truth_reference or c["missing_reference"]:
            checks["missing_counts"][n] = {
                "truth_reference": truth_reference,
                "mlpilot_reference": c["missing_reference"],
                "truth_current": missing(current, n),
                "mlpilot_current": c["missing_current"],
            }
    nanny = first("nannyml")
    if nanny:
        rows = {}
        for n, c in cold["columns"].items():
            nml_value = nanny["columns"][n]["statistic"]
            ours = c["effect_size"]["js"]
            row = {"mlpilot_js": ours, "nannyml_js": nml_value, "diff": ours - nml_value}
            if c["type"] == "numeric":
                ref_col = reference.read(columns=[n]).column(n)
                cur_col = current.read(columns=[n]).column(n)
                # NannyML's binning: Doane edges over the reference range, outside values in one
                # extra bin; mlpilot's formula (js_distance) on those counts.
                r = ref_col.to_numpy(zero_copy_only=False)
                k = cur_col.to_numpy(zero_copy_only=False)
                r, k = r[~np.isnan(r)], k[~np.isnan(k)]
                edges = np.histogram_bin_edges(r, bins="doane")
                rc, kc = np.histogram(r, edges)[0], np.histogram(k, edges)[0]
                outside = len(k) - kc.sum()
                row["nannyml_bins"] = len(edges) - 1
                row["mlpilot_formula_on_nannyml_bins"] = js_distance(
                    [*rc, 0] if outside else rc, [*kc, outside] if outside else kc
                )
                row["formula_diff"] = row["mlpilot_formula_on_nannyml_bins"] - nml_value
                # The same without mlpilot's 1e-4 floor for empty bins: scipy's jensenshannon.
                from scipy.spatial.distance import jensenshannon

                row["scipy_js_on_nannyml_bins_diff"] = float(jensenshannon(
                    [*rc, 0] if outside else rc, [*kc, outside] if outside else kc, base=2
                )) - nml_value  # fmt: skip
                row["empty_reference_bins"] = int((rc == 0).sum()) + int(bool(outside))
            rows[n] = row
        checks["nannyml"] = rows
    evid = first("evidently")
    if evid:
        checks["evidently"] = {
            n: {
                "evidently_method": evid["columns"].get(n, {}).get("method"),
                "evidently_statistic": evid["columns"].get(n, {}).get("statistic"),
                "evidently_threshold": evid["columns"].get(n, {}).get("threshold"),
                "evidently_drifted": evid["columns"].get(n, {}).get("drifted"),
                "mlpilot_test": c["test"],
                "mlpilot_p_value": c["p_value"],
                "mlpilot_drifted": c["drifted"],
                # Evidently's Jensen-Shannon distance is in natural-log units (scipy's default
                # base): mlpilot's base-2 distance times sqrt(ln 2) should match it.
                **(
                    {
                        "mlpilot_js_in_natural_log_units": c["effect_size"]["js"]
                        * math.sqrt(math.log(2))
                    }
                    if c["type"] == "categorical"
                    else {}
                ),
            }
            for n, c in cold["columns"].items()
        }
        checks["evidently_dataset"] = evid.get("dataset")
        checks["mlpilot_dataset"] = {"share": cold["share_drifted"], "drift": cold["dataset_drift"]}
    return checks


def check_perf(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    ours = next((r for r in results.get("mlpilot evaluate", []) if "error" not in r), None)
    theirs = next((r for r in results.get("scikit-learn (pandas)", []) if "error" not in r), None)
    if not ours or not theirs:
        return {}
    days = sorted(set(ours["days"]) | set(theirs["days"]))
    out: dict[str, Any] = {"days_mlpilot": len(ours["days"]), "days_sklearn": len(theirs["days"])}
    for key in ("n", "labeled", "roc_auc", "pr_auc", "log_loss", "brier"):
        diffs = [
            abs((ours["days"].get(d, {}).get(key) or 0) - (theirs["days"].get(d, {}).get(key) or 0))
            for d in days
        ]
        out[f"{key}_max_abs_diff"] = max(diffs)
    return out


# --------------------------------------------------------------------------------------------
# Report


def machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )  # fmt: skip
    versions = {}
    for tool, names in (
        ("main", "mlpilot duckdb ibis-framework pyarrow numpy pandas scikit-learn"),
        ("evidently", "evidently pandas numpy scipy"),
        ("nannyml", "nannyml pandas numpy scipy"),
    ):
        python = python_for(tool if tool != "main" else "mlpilot")
        if not python.exists():
            versions[tool] = "not installed"
            continue
        code = (
            "import sys, importlib.metadata as m\n"
            f"print(sys.version.split()[0], *[n + '=' + m.version(n) for n in {names.split()!r}])"
        )
        versions[tool] = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, check=False
        ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "versions": versions,
    }


def table(rows: list[tuple[str, dict[str, Any], str]], base: dict[str, Any] | None) -> str:
    lines = [
        "| measurement | runs | median s (load+compute) | median s (whole process) | "
        "CPU s (process) | peak MB | time ÷ mlpilot's |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, s, base_label in rows:
        if s.get("runs", 0) == 0:
            lines.append(f"| {label} | 0 | failed: {s.get('error', '')[:200]} | | | | |")
            continue
        reference = base.get(base_label) if base else None
        ratio = (
            f"{s['seconds'] / reference['seconds']:.2f}× ({base_label})"
            if reference and reference.get("runs") else ""
        )  # fmt: skip
        lines.append(
            f"| {label} | {s['runs']} | {s['seconds']:.2f} | {s['process_s']:.2f} | "
            f"{s['cpu_s']:.2f} | {s['peak_mb']:.0f} | {ratio} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------


def main() -> None:
    if MAIN_PYTHON.exists() and Path(sys.prefix).resolve() != MAIN_PYTHON.parent.parent.resolve():
        os.execv(MAIN_PYTHON, [str(MAIN_PYTHON), __file__, *sys.argv[1:]])  # the project's venv
    parser = argparse.ArgumentParser(description="mlpilot benchmarks, side by side")
    parser.add_argument("--quick", action="store_true", help="one run of each measurement")
    parser.add_argument("--runs", type=int, default=None, help="runs per measurement (3)")
    parser.add_argument("--only", nargs="*", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--clean", action="store_true", help="delete bench/data afterwards")
    parser.add_argument(
        "--nice", type=int, default=0,
        help="run the measured processes at this niceness, e.g. -10 on a machine shared with "
        "other work (negative values need root)",
    )  # fmt: skip
    args = parser.parse_args()
    global NICE
    NICE = args.nice
    runs = args.runs or (1 if args.quick else 3)
    began = time.perf_counter()
    info = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "command": " ".join(["python bench/run.py", *sys.argv[1:]]), "runs": runs}  # fmt: skip
    print(f"machine: {info['machine']}")
    sizes = [s for s, w in ((1_000_000, "drift1m"), (10_000_000, "drift10m")) if w in args.only]
    print("data: generating what is missing in bench/data ...", flush=True)
    subprocess.run(
        [str(python_for("mlpilot")), str(BENCH / "generate.py"), "--drift", *map(str, sizes),
         "--perf", "10000000" if "perf" in args.only else "0"],
        check=True,
    )  # fmt: skip
    out: dict[str, Any] = {**info, "workloads": {}}
    md: list[str] = []

    # Measure everything first: the checks below load numpy, scipy and the data into this
    # process, and a child starts with its parent's RSS high-water mark (ru_maxrss).
    measured: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for workload in args.only:
        print(f"\n== {workload}", flush=True)
        raw: dict[str, list[dict[str, Any]]] = {}
        if workload.startswith("drift"):
            size = "1m" if workload == "drift1m" else "10m"
            stored = run_once("mlpilot", "mlpilot_drift.py", "--size", size, "--mode", "profile")
            if "error" in stored:
                raise SystemExit(f"cannot profile the reference: {stored['error']}")
            print(f"  stored reference profile in {stored['seconds']:.2f} s", flush=True)
            plan: list[tuple[str, ...]] = [
                ("mlpilot cold", "mlpilot", "mlpilot_drift.py", "--mode", "cold"),
                ("mlpilot warm", "mlpilot", "mlpilot_drift.py", "--mode", "warm"),
                ("duckdb warm (current histograms)", "duckdb", "duckdb_drift.py", "--mode", "warm"),
            ]
            if workload == "drift1m":
                plan += [
                    ("duckdb cold (deciles + histograms)", "duckdb", "duckdb_drift.py", "--mode",
                     "cold"),
                    ("nannyml", "nannyml", "nannyml_drift.py"),
                    ("evidently", "evidently", "evidently_drift.py"),
                ]  # fmt: skip
            for label, tool, worker, *extra in plan:
                raw[label] = measure(label, tool, worker, "--size", size, *extra, runs=runs)
        else:
            for label, tool, worker in (
                ("mlpilot evaluate", "mlpilot", "mlpilot_perf.py"),
                ("scikit-learn (pandas)", "sklearn", "sklearn_perf.py"),
            ):
                raw[label] = measure(label, tool, worker, runs=runs)
        measured[workload] = raw

    for workload, raw in measured.items():
        summaries = {label: summary(r) for label, r in raw.items()}
        if workload.startswith("drift"):
            base = {"cold": summaries["mlpilot cold"], "warm": summaries["mlpilot warm"]}
            rows = [
                (label, summaries[label], "warm" if "warm" in label else "cold")
                for label in summaries
            ]
            checks = check_drift(raw, "1m" if workload == "drift1m" else "10m")
        else:
            base = {"mlpilot": summaries["mlpilot evaluate"]}
            rows = [(label, summaries[label], "mlpilot") for label in summaries]
            checks = check_perf(raw)
        text = table(rows, base)
        print(f"\n== {workload}\n{text}")
        print("checks:", json.dumps(checks, indent=1, default=str)[:3000])
        md += [f"## {workload}", "", text, "", "```json", json.dumps(checks, indent=1), "```", ""]
        light = {
            label: [{k: v for k, v in r.items() if k not in ("columns", "bins", "days")}
                    for r in results]
            for label, results in raw.items()
        }  # fmt: skip
        out["workloads"][workload] = {"summaries": summaries, "checks": checks, "runs": light}
    out["total_s"] = time.perf_counter() - began
    (DATA / "last-run.json").write_text(json.dumps(out, indent=1, default=str))
    header = [f"# Last run, {info['date']}", "", f"`{info['command']}`", "",
              f"machine: {json.dumps(info['machine'])}", "",
              f"total: {out['total_s']:.0f} s", ""]  # fmt: skip
    (DATA / "last-run.md").write_text("\n".join(header + md))
    print(f"\ntotal {out['total_s']:.0f} s; wrote bench/data/last-run.json and last-run.md")
    if args.clean:
        for path in DATA.glob("*"):
            if path.suffix in (".parquet", ".tmp") or path.name.startswith("profile_"):
                path.unlink()
        print("deleted the data files in bench/data (kept last-run.*)")


if __name__ == "__main__":
    main()
