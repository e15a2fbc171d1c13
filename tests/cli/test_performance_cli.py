"""``mlpilot performance``, ``mlpilot drift --initiative`` and the model light of ``mlpilot
status``, through the real entry point; and the demo workspace end to end."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

import mlpilot
from mlpilot.cli.app import main
from tests.cli.helpers import Cli, assert_one_line_error, create_args, make_cli

T0 = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 3
WINDOW_KEYS = {
    "start",
    "end",
    "n",
    "labeled",
    "label_coverage",
    "label_delay_hours",
    "label_delay_mean_hours",
    "metrics",
    "calibration",
    "confusion",
    "ranking",
    "baseline",
    "verdicts",
    "breaches",
    "unscored",
}


def frames() -> tuple[pa.Table, pa.Table, pa.Table]:
    """Three days of predictions (v1 then v2; the model is poor on day 2 and its features
    shifted), outcomes for 80% of them, and a training reference."""
    rng = np.random.default_rng(17)
    per_day = 60
    rows: dict[str, list[Any]] = {k: [] for k in ("id", "time", "entity_id", "model_version")}
    scores, labels, usage, plan = [], [], [], []
    for day in range(DAYS):
        y = (np.arange(per_day) % 2).astype(float)
        quality = 0.3 if day == 2 else 0.9
        right = rng.uniform(size=per_day) < quality
        scores += (
            np.where(right == (y == 1), rng.uniform(0.5, 1, per_day), rng.uniform(0, 0.5, per_day))
            .round(3)
            .tolist()
        )
        labels += y.tolist()
        usage += rng.normal(3.0 if day == 2 else 0.0, 1, per_day).tolist()
        plan += rng.choice(["basic", "premium"], per_day).tolist()
        for i in range(per_day):
            rows["id"].append(f"p{day}-{i}")
            rows["time"].append(T0 + timedelta(days=day, minutes=20 * i))
            rows["entity_id"].append(f"c{day}-{i}")
            rows["model_version"].append("v1" if day == 0 else "v2")
    predictions = pa.table(
        {
            **{k: v for k, v in rows.items() if k != "time"},
            "time": pa.array(rows["time"], pa.timestamp("us", "UTC")),
            "score": scores,
            "usage": usage,
            "plan": plan,
        }
    )
    known = [i for i in range(len(labels)) if i % 5]
    outcomes = pa.table(
        {
            "entity_id": [rows["entity_id"][i] for i in known],
            "time": pa.array(
                [rows["time"][i] + timedelta(days=2) for i in known], pa.timestamp("us", "UTC")
            ),
            "label": [labels[i] for i in known],
        }
    )
    reference = pa.table(
        {
            "usage": rng.normal(0, 1, 300),
            "plan": rng.choice(["basic", "premium"], 300),
            "label": rng.integers(0, 2, 300),
        }
    )
    return predictions, outcomes, reference


def run(*argv: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(list(argv)) == 0, argv


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with ``churn`` (criteria, predictions, outcomes, a reference) and ``empty``
    (no data), built once through the CLI; each test works on a copy."""
    folder = tmp_path_factory.mktemp("performance")
    home = folder / "ws"
    for name, frame in zip(("predictions", "outcomes", "training"), frames(), strict=True):
        pq.write_table(frame, folder / f"{name}.parquet")
    steps = [
        ["init"],
        create_args("churn", "--baseline-value", "0.41", "--baseline-metric", "recall"),
        create_args("empty"),
        [
            "criteria",
            "add",
            "churn",
            "--kind",
            "model",
            "--metric",
            "roc_auc",
            "--op",
            ">=",
            "--target",
            "0.75",
            "--plan",
            "use the rule",
        ],
        ["log", "predictions", "churn", str(folder / "predictions.parquet")],
        ["log", "outcomes", "churn", str(folder / "outcomes.parquet")],
        ["reference", "add", "churn", "training", str(folder / "training.parquet")],
    ]
    for step in steps:
        run("--home", str(home), *step)
    return home


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    template: Path,
) -> Cli:
    cli = make_cli(capsys, tmp_path, monkeypatch)
    shutil.copytree(template, cli.home)
    return cli


def library(cli: Cli, **options: Any) -> Any:
    """The same report from the library, through JSON like the CLI's."""
    with mlpilot.Workspace.open(cli.home) as ws:
        return json.loads(json.dumps(ws.initiative("churn").performance(**options)))


def assert_close(got: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert got.keys() == expected.keys()
        for key in expected:
            assert_close(got[key], expected[key])
    elif isinstance(expected, list):
        assert len(got) == len(expected)
        for a, b in zip(got, expected, strict=True):
            assert_close(a, b)
    elif isinstance(expected, float):
        assert got == pytest.approx(expected, rel=1e-12)
    else:
        assert got == expected


# --- mlpilot performance ------------------------------------------------------------------------


def test_performance_json(cli: Cli) -> None:
    report = cli.json("performance", "churn")
    assert (report["slug"], report["task"], report["window"]) == ("churn", "binary", "1d")
    assert (report["threshold"], report["model_version"]) == (0.5, None)
    windows = report["windows"]
    assert [w["start"] for w in windows] == [
        (T0 + timedelta(days=d)).isoformat() for d in range(DAYS)
    ]
    assert [w["end"] for w in windows] == [
        (T0 + timedelta(days=d + 1)).isoformat() for d in range(DAYS)
    ]
    predictions, outcomes, _ = frames()
    for day, window in enumerate(windows):
        assert set(window) == WINDOW_KEYS
        assert (window["n"], window["labeled"], window["label_coverage"]) == (60, 48, 0.8)
        assert window["label_delay_hours"] == 48.0
        rows = predictions.slice(60 * day, 60)
        labeled = [i for i in range(60) if (60 * day + i) % 5]
        y = [float(i % 2) for i in labeled]
        p = [rows["score"][i].as_py() for i in labeled]
        assert window["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, p), rel=1e-12)
        (verdict,) = window["verdicts"]
        assert (verdict["metric"], verdict["target"], verdict["plan"]) == (
            "roc_auc",
            0.75,
            "use the rule",
        )
        assert verdict["met"] is (day != 2)
        assert window["breaches"] == ([verdict] if day == 2 else [])
        assert window["baseline"]["metric"] == "recall"
    assert outcomes.num_rows == 3 * 48
    assert_close(report, library(cli))


def test_performance_options(cli: Cli) -> None:
    report = cli.json(
        "performance", "churn", "--window", "6h", "--model-version", "v2", "--threshold", "0.3"
    )
    assert (report["window"], report["model_version"], report["threshold"]) == ("6h", "v2", 0.3)
    assert report["windows"][0]["start"] == (T0 + timedelta(days=1)).isoformat()  # v2: day 1 on
    assert report["windows"][0]["end"] == (T0 + timedelta(days=1, hours=6)).isoformat()
    assert sum(w["n"] for w in report["windows"]) == 120
    assert_close(report, library(cli, window="6h", model_version="v2", threshold=0.3))


def test_performance_table(cli: Cli) -> None:
    out = cli.ok("performance", "churn").out
    header = next(line for line in out.splitlines() if "window" in line)
    assert header.split() == [
        "window",
        "n",
        "labels",
        "delay",
        "roc_auc",
        "pr_auc",
        "recall",
        "fails",
    ]
    lines = [line for line in out.splitlines() if line.strip().startswith("2026-03-0")]
    assert [line.split()[0] for line in lines] == ["2026-03-02", "2026-03-03", "2026-03-04"]
    assert [line.split()[1:4] for line in lines] == [["60", "80%", "2.0d"]] * 3
    assert [line.split()[-1] for line in lines] == ["-", "-", "roc_auc"]


def test_performance_errors_are_one_line(cli: Cli) -> None:
    assert_one_line_error(cli("performance", "nope"), "nope")
    assert_one_line_error(cli("performance", "empty"), "no predictions for empty")
    assert_one_line_error(cli("performance", "churn", "--window", "3x"), "invalid window '3x'")
    for threshold in ("1.5", "-0.1"):
        assert_one_line_error(
            cli("performance", "churn", "--threshold", threshold), "threshold", threshold
        )


def test_text_labels_of_a_binary_model_are_a_one_line_error(cli: Cli, tmp_path: Path) -> None:
    times = pa.array([T0] * 2, pa.timestamp("us", "UTC"))
    predictions = pa.table(
        {"id": ["a", "b"], "time": times, "entity_id": ["a", "b"], "score": [0.2, 0.7]}
    )
    outcomes = pa.table({"entity_id": ["a", "b"], "time": times, "label": ["no", "yes"]})
    pq.write_table(predictions, tmp_path / "p.parquet")
    pq.write_table(outcomes, tmp_path / "o.parquet")
    cli.ok("log", "predictions", "empty", str(tmp_path / "p.parquet"))
    cli.ok("log", "outcomes", "empty", str(tmp_path / "o.parquet"))
    assert_one_line_error(cli("performance", "empty"), "label")


# --- mlpilot drift --initiative -----------------------------------------------------------------


def test_drift_per_window_of_an_initiative(cli: Cli) -> None:
    result = cli.json("drift", "training", "--initiative", "churn")
    assert (result["slug"], result["reference"], result["window"]) == ("churn", "training", "1d")
    windows = result["windows"]
    assert [w["start"] for w in windows] == [
        (T0 + timedelta(days=d)).isoformat() for d in range(DAYS)
    ]
    assert all({c["name"] for c in w["columns"]} == {"usage", "plan"} for w in windows)
    usage = [next(c for c in w["columns"] if c["name"] == "usage") for w in windows]
    assert [c["drifted"] for c in usage] == [False, False, True]
    assert [c["n_current"] for c in usage] == [60, 60, 60]
    with mlpilot.Workspace.open(cli.home) as ws:
        assert json.loads(json.dumps(ws.initiative("churn").drift("training"))) == result
    text = cli.ok("drift", "training", "--initiative", "churn").out
    assert "dataset drift" in text
    assert "usage" in text


def test_drift_initiative_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    assert_one_line_error(
        cli(
            "drift",
            str(tmp_path / "a.parquet"),
            str(tmp_path / "b.parquet"),
            "--initiative",
            "churn",
        ),
        "--initiative",
    )
    assert_one_line_error(cli("drift", "training", "--initiative", "nope"), "nope")
    assert_one_line_error(cli("drift", "holdout", "--initiative", "churn"), "'holdout'")
    assert_one_line_error(cli("drift", "training", "--initiative", "churn", "--method", "ks"), "ks")
    assert_one_line_error(cli("drift", "training", "--initiative", "churn", "--window", "3x"), "3x")


def test_status_shows_the_model_and_data_lights(cli: Cli) -> None:
    monitors = cli.json("status", "churn")["monitors"]
    model, data = monitors["model"], monitors["data"]
    assert model["status"] == "failing"  # day 2, 80% labeled, breaches roc_auc >= 0.75
    assert model["judged_window"] == (T0 + timedelta(days=2)).isoformat()
    assert model["windows_breached"] == 1
    assert data["status"] == "warning"
    assert data["drift"]["drifted_columns"] == ["usage"]
    out = cli.ok("status", "churn").out
    line = group_line(out, "model")
    assert line.startswith("● model: failing — 2026-03-04 (labels 80%): roc_auc ")
    assert line.endswith("(FAILS 0.75); 1 window(s) breached, last 2026-03-04")
    assert group_line(out, "data") == (
        "● data: warning — 2026-03-04: no criteria; drift vs training now: usage "
        "(1 window(s) with drift)"
    )
    empty = cli.json("status", "empty")["monitors"]
    assert empty["model"] == {"status": "no-data", "reason": "no predictions stored"}
    assert empty["data"] == {"status": "no-data", "reason": "no predictions stored"}


def group_line(out: str, group: str) -> str:
    """The status panel's line of a monitor group, whatever the width it was wrapped at."""
    lines = [line.strip().strip("│").strip() for line in out.splitlines()]
    starts = [k for k, line in enumerate(lines) if line.startswith(f"● {group}:")]
    assert len(starts) == 1, out
    taken = [lines[starts[0]]]
    for line in lines[starts[0] + 1 :]:  # the wrapped rest, up to the next group or the border
        if not line or line.startswith(("●", "╰")):
            break
        taken.append(line)
    return " ".join(taken)


# --- the demo -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mlpilot demo DIR``, built once for the module."""
    home = tmp_path_factory.mktemp("demo") / "demo"
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        assert main(["demo", str(home)]) == 0
    printed = output.getvalue()
    assert "● model:" in printed
    assert "● service:" in printed
    assert "● impact:" in printed
    assert "fraud-alerts (modeling): delivered by" in printed
    return home


@pytest.fixture
def demo_cli(capsys: pytest.CaptureFixture[str], demo: Path) -> Cli:
    return Cli(capsys, demo)


def test_demo_status_json_has_the_model_monitor(demo_cli: Cli) -> None:
    model = demo_cli.json("status", "churn")["monitors"]["model"]
    assert model["status"] in {"ok", "warning", "failing"}
    # Judged as the team uses the model: the 500 highest scores of each week are called.
    assert [v["measure"] for v in model["verdicts"]] == [
        "lift@500 per week",
        "precision@500 per week",
        "roc_auc",
    ]
    assert [v["operating_point"] for v in model["verdicts"]] == ["top 500 per week"] * 2 + [None]
    assert all(v["observed"] is not None and v["met"] in (True, False) for v in model["verdicts"])
    assert model["verdicts"][0]["plan"] == "Keep the usage-drop rule for the call list"
    assert model["windows_breached"] >= 1  # the drift episode: roc_auc dips below 0.75
    assert model["last_breach"] <= model["judged_window"]
    assert 0.5 <= model["label_coverage"] <= 1
    drift = demo_cli.json("status", "churn")["monitors"]["data"]["drift"]
    assert drift["reference"] == "training"
    assert drift["windows_with_drift"] >= 1
    assert isinstance(drift["drifted_columns"], list)


def test_demo_text_status_has_a_model_line(demo_cli: Cli) -> None:
    out = demo_cli.ok("status", "churn").out
    line = group_line(out, "model")
    assert line.split(" — ")[0] in {"● model: ok", "● model: failing"}
    assert "window(s) breached" in line
    assert "drift vs training now:" in group_line(out, "data")


def test_demo_performance_dips_during_the_drift_episode(demo_cli: Cli) -> None:
    report = demo_cli.json("performance", "churn", "--model-version", "v2")
    windows = report["windows"]
    assert len(windows) == 40  # v2 serves from day 20 of 60
    dipped = [w for w in windows if (w["metrics"].get("roc_auc") or 1) < 0.75]
    assert dipped
    assert all(any(b["metric"] == "roc_auc" for b in w["breaches"]) for w in dipped)
    assert all(w["label_coverage"] >= 0.5 for w in dipped)


def test_demo_latency_incident_paged_and_resolved(demo_cli: Cli) -> None:
    alerts = demo_cli.json("alerts", "churn")
    pages = [a for a in alerts if a["group"] == "service" and a["severity"] == "page"]
    assert pages
    assert all(a["resolved"] for a in pages)
    assert pages[0]["plan"] == "Serve the nightly batch scores from cache"
    assert pages[0]["details"]["rule"] == "burn-1h/5m"


def test_demo_status_has_four_lights_and_both_uncertainties(demo_cli: Cli) -> None:
    status = demo_cli.json("status", "churn")
    assert set(status["monitors"]) == {"model", "data", "service", "impact"}
    assert status["monitors"]["impact"]["experiment"] == "retention-offers"
    assert status["monitors"]["impact"]["verdict"] == "pass"
    for kind in ("model", "impact"):
        assert 0.0 <= status["uncertainty"][kind]["probability"] <= 1.0


def test_demo_writes_a_self_contained_stakeholder_update(demo: Path) -> None:
    html = (demo / "churn-update.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<svg" in html
    links = set(re.findall(r"https?://[^\"' )]+", html))
    assert links <= {"http://www.w3.org/2000/svg"}  # nothing fetched from the network
